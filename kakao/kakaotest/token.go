package kakaotest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// idTokenJob is an ID token to sign after the lock is released.
type idTokenJob struct {
	key      *signingKey
	issuer   string
	aud      string
	user     User
	authTime time.Time
	now      time.Time
	nonce    string
}

func (j *idTokenJob) sign() (string, error) {
	return signIDToken(j.key, j.issuer, j.aud, &j.user, j.authTime, j.now, j.nonce)
}

// tokenError is a kauth error answer decided under the lock.
type tokenError struct {
	status int
	body   kauthErr
}

func newTokenError(status int, errCode, desc, koe string) *tokenError {
	return &tokenError{status: status, body: kauthErr{Error: errCode, ErrorDescription: desc, ErrorCode: koe}}
}

// handleToken serves POST /oauth/token: authorization_code and refresh_token grants, client
// authentication by client_secret_post only.
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	// Emulator choice: Kakao reads the parameters from a form body only. A JSON (or any other)
	// body is answered 400 invalid_request KOE001 rather than 415, so that clients meet the
	// kauth error shape they already parse; Kakao's real answer is not documented.
	if !isForm(r) {
		kauthError(w, http.StatusBadRequest, "invalid_request",
			"Content-Type must be application/x-www-form-urlencoded", "KOE001")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		kauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body", "KOE001")
		return
	}
	f := r.PostForm
	issuer := e.baseURL(r)

	e.mu.Lock()
	now := e.nowLocked()
	e.sweepLocked(now)
	var (
		tok  *Token
		job  *idTokenJob
		terr *tokenError
	)
	if terr = e.checkClientLocked(f.Get("client_id"), f.Get("client_secret")); terr == nil {
		switch gt := f.Get("grant_type"); gt {
		case "authorization_code":
			tok, job, terr = e.exchangeCodeLocked(now, issuer, f.Get("client_id"), f.Get("code"),
				f.Get("redirect_uri"), f.Get("code_verifier"))
		case "refresh_token":
			tok, job, terr = e.refreshLocked(now, issuer, f.Get("client_id"), f.Get("refresh_token"))
		case "":
			terr = newTokenError(http.StatusBadRequest, "invalid_request", "grant_type is required", "KOE001")
		default:
			terr = newTokenError(http.StatusBadRequest, "invalid_request", "Unsupported grant type: "+gt, "KOE001")
		}
	}
	e.mu.Unlock()

	if terr != nil {
		writeJSON(w, terr.status, terr.body)
		return
	}
	if job != nil {
		idt, err := job.sign()
		if err != nil {
			kauthError(w, http.StatusInternalServerError, "server_error", err.Error(), "KOE003")
			return
		}
		tok.IDToken = idt
	}
	writeJSON(w, http.StatusOK, tok)
}

// checkClientLocked checks client_id and, for the REST API key with the client secret on,
// client_secret. Credentials are checked before the grant, as on Kakao (a dummy code answers
// 401 KOE010 when the secret is wrong, 400 KOE320 when it is right).
func (e *Emulator) checkClientLocked(clientID, secret string) *tokenError {
	if !e.isClientIDLocked(clientID) {
		return newTokenError(http.StatusUnauthorized, "invalid_client",
			fmt.Sprintf("Not exist client_id [%s]", clientID), "KOE101")
	}
	if clientID == e.app.RESTKey && e.app.ClientSecret != "" &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(e.app.ClientSecret)) != 1 {
		return newTokenError(http.StatusUnauthorized, "invalid_client", "Bad client credentials", "KOE010")
	}
	return nil
}

func (e *Emulator) isClientIDLocked(id string) bool {
	if id == "" {
		return false
	}
	return id == e.app.RESTKey || id == e.app.JavaScriptKey || id == e.app.NativeKey
}

func (e *Emulator) exchangeCodeLocked(now time.Time, issuer, clientID, code, redirectURI, verifier string) (*Token, *idTokenJob, *tokenError) {
	c, ok := e.codes[code]
	// Codes are single use: the first presentation burns the code even if a later check fails
	// (RFC 6749 §4.1.2; Kakao's answer to a second use is KOE320 either way).
	delete(e.codes, code)
	if !ok || !now.Before(c.expiry) || c.clientID != clientID {
		return nil, nil, newTokenError(http.StatusBadRequest, "invalid_grant",
			"authorization code not found for code="+code, "KOE320")
	}
	if redirectURI != c.redirectURI {
		return nil, nil, newTokenError(http.StatusBadRequest, "invalid_grant", "Redirect URI mismatch.", "KOE303")
	}
	// PKCE: when the code was bound to a code_challenge, the verifier is required and must match.
	// Kakao advertises S256 and its SDKs send the verifier, but whether Kakao itself rejects a
	// missing or wrong verifier is not confirmed; the emulator is strict, with a KOE320-like
	// invalid_grant answer.
	if c.challenge != "" && (verifier == "" || s256(verifier) != c.challenge) {
		return nil, nil, newTokenError(http.StatusBadRequest, "invalid_grant",
			"code_verifier does not match the code_challenge", "KOE320")
	}
	u, ok := e.users[c.userID]
	if !ok || len(u.Agreed) == 0 {
		return nil, nil, newTokenError(http.StatusBadRequest, "invalid_grant",
			"authorization code not found for code="+code, "KOE320")
	}
	if terr := e.rateLimitLocked(e.atIssued, c.userID, now, AccessTokenLimit, AccessTokenWindow); terr != nil {
		return nil, nil, terr
	}
	tok, job := e.issueLocked(now, issuer, clientID, u, c.openid, c.authTime, c.nonce)
	return tok, job, nil
}

// issueLocked issues an access and a refresh token (and an ID token job when openid).
func (e *Emulator) issueLocked(now time.Time, issuer, clientID string, u *userRec, openid bool, authTime time.Time, nonce string) (*Token, *idTokenJob) {
	at, rt := randomToken(40), randomToken(40)
	e.access[at] = &accessRec{userID: u.ID, clientID: clientID, openid: openid, expiry: now.Add(AccessTokenLifetime)}
	e.refresh[rt] = &refreshRec{userID: u.ID, clientID: clientID, openid: openid, authTime: authTime,
		expiry: now.Add(RefreshTokenLifetime)}
	scopes := slices.Clone(u.Agreed)
	var job *idTokenJob
	if openid {
		scopes = append(scopes, ScopeOpenID)
		job = &idTokenJob{key: e.keys[len(e.keys)-1], issuer: issuer, aud: clientID,
			user: copyUser(u.User), authTime: authTime, now: now, nonce: nonce}
	}
	return &Token{
		AccessToken: at, TokenType: "bearer", RefreshToken: rt,
		ExpiresIn: int64(AccessTokenLifetime / time.Second), Scope: strings.Join(scopes, " "),
		RefreshTokenExpiresIn: int64(RefreshTokenLifetime / time.Second),
	}, job
}

// refreshLocked serves the refresh_token grant: a new access token; a new refresh token only
// when the old one has less than a month left (the old one then stops working); a new ID token
// only when the refresh token came with one; no scope.
func (e *Emulator) refreshLocked(now time.Time, issuer, clientID, refreshToken string) (*Token, *idTokenJob, *tokenError) {
	if refreshToken == "" {
		// Emulator choice for the description; the code and error are as observed.
		return nil, nil, newTokenError(http.StatusBadRequest, "invalid_grant", "refresh_token is required", "KOE319")
	}
	rec, ok := e.refresh[refreshToken]
	if ok && !now.Before(rec.expiry) {
		delete(e.refresh, refreshToken)
		ok = false
	}
	if !ok || rec.clientID != clientID {
		return nil, nil, newTokenError(http.StatusBadRequest, "invalid_grant", "expired_or_invalid_refresh_token", "KOE322")
	}
	u, ok := e.users[rec.userID]
	if !ok || len(u.Agreed) == 0 {
		return nil, nil, newTokenError(http.StatusBadRequest, "invalid_grant", "expired_or_invalid_refresh_token", "KOE322")
	}
	if terr := e.rateLimitLocked(e.rtIssued, rec.userID, now, RefreshTokenLimit, RefreshTokenWindow); terr != nil {
		return nil, nil, terr
	}
	at := randomToken(40)
	e.access[at] = &accessRec{userID: u.ID, clientID: clientID, openid: rec.openid, expiry: now.Add(AccessTokenLifetime)}
	tok := &Token{AccessToken: at, TokenType: "bearer", ExpiresIn: int64(AccessTokenLifetime / time.Second)}
	if rec.expiry.Sub(now) < RefreshRotationWindow {
		delete(e.refresh, refreshToken)
		rt := randomToken(40)
		e.refresh[rt] = &refreshRec{userID: u.ID, clientID: clientID, openid: rec.openid,
			authTime: rec.authTime, expiry: now.Add(RefreshTokenLifetime)}
		tok.RefreshToken = rt
		tok.RefreshTokenExpiresIn = int64(RefreshTokenLifetime / time.Second)
	}
	var job *idTokenJob
	if rec.openid {
		job = &idTokenJob{key: e.keys[len(e.keys)-1], issuer: issuer, aud: clientID,
			user: copyUser(u.User), authTime: rec.authTime, now: now}
	}
	return tok, job, nil
}

// rateLimitLocked applies one of Kakao's per-user token quotas when rate limiting is on.
//
// Kakao's quota page says "access tokens 20 per 10 min, refresh tokens 30 per 60 min". The
// emulator reads it as: authorization_code grants count against the first, refresh_token grants
// against the second (the only reading in which both limits can be reached).
//
// Emulator choice: the answer to KOE237 is not documented; the emulator sends 400
// {"error":"invalid_request", ..., "error_code":"KOE237"}, the status and shape of Kakao's other
// request-level token errors. Clients should act on the code, not the status.
func (e *Emulator) rateLimitLocked(log map[int64][]time.Time, userID int64, now time.Time, limit int, window time.Duration) *tokenError {
	if !e.rateLimit {
		return nil
	}
	times := log[userID]
	i := 0
	for i < len(times) && !times[i].After(now.Add(-window)) {
		i++
	}
	times = times[i:]
	if len(times) >= limit {
		log[userID] = times
		return newTokenError(http.StatusBadRequest, "invalid_request",
			"token request rate limit exceeded", "KOE237")
	}
	log[userID] = append(times, now)
	return nil
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// issueCodeLocked stores a new authorization code.
func (e *Emulator) issueCodeLocked(now time.Time, userID int64, clientID, redirectURI, challenge, nonce string, openid bool, authTime time.Time) string {
	code := randomToken(64) // 86 characters, like the codes seen from Kakao.
	e.codes[code] = &codeRec{userID: userID, clientID: clientID, redirectURI: redirectURI,
		challenge: challenge, nonce: nonce, openid: openid, authTime: authTime,
		expiry: now.Add(CodeLifetime)}
	e.sweepLocked(now)
	return code
}

// linkAllLocked links u to the app, agreeing to every consent item of the app.
func (e *Emulator) linkAllLocked(u *userRec, now time.Time) {
	items := make([]string, 0, len(e.app.ConsentItems))
	for _, it := range e.app.ConsentItems {
		items = append(items, it.ID)
	}
	e.agreeLocked(u, items, now)
	e.agreeTermsLocked(u, e.allTermTagsLocked(), now)
}

// agreeLocked adds items to u's agreements, linking u if needed.
func (e *Emulator) agreeLocked(u *userRec, items []string, now time.Time) {
	for _, it := range items {
		if it == ScopeOpenID || it == "" || hasItem(u.Agreed, it) {
			continue
		}
		u.Agreed = append(u.Agreed, it)
	}
	if len(u.Agreed) > 0 && u.connectedAt.IsZero() {
		u.connectedAt = now.UTC()
	}
}

// ErrUnknownUser is returned for a user ID the emulator does not know.
var ErrUnknownUser = errors.New("kakaotest: unknown user")

// ErrNotLinked is returned when the user is not linked to the app.
var ErrNotLinked = errors.New("kakaotest: user not linked to the app")

// IssueCode mints an authorization code for userID without a browser, as if the user had agreed
// to every consent item. redirectURI must be registered; the code is bound to the REST API key,
// redirectURI, nonce and (when not empty) the S256 codeChallenge. It does no RSA work.
func (e *Emulator) IssueCode(userID int64, redirectURI, nonce, codeChallenge string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[userID]
	if !ok {
		return "", ErrUnknownUser
	}
	if !slices.Contains(e.app.RedirectURIs, redirectURI) {
		return "", fmt.Errorf("kakaotest: redirect URI %q is not registered (KOE006)", redirectURI)
	}
	now := e.nowLocked()
	e.linkAllLocked(u, now)
	return e.issueCodeLocked(now, userID, e.app.RESTKey, redirectURI, codeChallenge, nonce, e.app.OIDC, now), nil
}

// IssueAccessToken issues tokens for userID as Kakao's SDK login would (clientID "" means the
// native app key, or the REST API key when the app has none), linking the user with every
// consent item. The ID token is included when the app has OIDC on.
func (e *Emulator) IssueAccessToken(userID int64, clientID string) (*Token, error) {
	return e.issueAccessToken(userID, clientID, "")
}

// issueAccessToken is IssueAccessToken with the issuer to use when none is configured.
func (e *Emulator) issueAccessToken(userID int64, clientID, fallbackIssuer string) (*Token, error) {
	e.mu.Lock()
	if clientID == "" {
		clientID = e.app.NativeKey
		if clientID == "" {
			clientID = e.app.RESTKey
		}
	}
	if !e.isClientIDLocked(clientID) {
		e.mu.Unlock()
		return nil, fmt.Errorf("kakaotest: client_id %q is not a key of the app (KOE101)", clientID)
	}
	u, ok := e.users[userID]
	if !ok {
		e.mu.Unlock()
		return nil, ErrUnknownUser
	}
	now := e.nowLocked()
	e.linkAllLocked(u, now)
	issuer := e.issuer
	if issuer == "" {
		issuer = fallbackIssuer
	}
	tok, job := e.issueLocked(now, issuer, clientID, u, e.app.OIDC, now, "")
	e.mu.Unlock()
	if job != nil {
		if job.issuer == "" {
			return nil, errors.New("kakaotest: IssueAccessToken with OIDC needs an issuer (Options.Issuer or SetIssuer)")
		}
		idt, err := job.sign()
		if err != nil {
			return nil, err
		}
		tok.IDToken = idt
	}
	return tok, nil
}
