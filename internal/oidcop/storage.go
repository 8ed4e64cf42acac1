package oidcop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
)

// storage is op.Storage on our store and keys.
type storage struct{ p *Provider }

var (
	_ op.Storage                        = storage{}
	_ op.CanSetUserinfoFromRequest      = storage{}
	_ op.CanTerminateSessionFromRequest = storage{}
)

// errNotFound is an unknown client or request: a plain error, which the op package answers
// as the client's fault (never server_error).
var errNotFound = errors.New("not found")

// storeErr turns a store error into what the op package expects: not found stays a plain
// error, anything else is a server fault (answered 503 by the provider's handler).
func storeErr(ctx context.Context, err error) error {
	if errors.Is(err, auth.ErrNotFound) {
		return errNotFound
	}
	markFault(ctx)
	return oidc.ErrServerError().WithParent(err).WithDescription("temporarily unavailable")
}

// fault records, for the handler of a request, that the store failed: the op package answers
// some store errors as the client's (a code that cannot be read is invalid_grant), and the
// handler turns those answers into 503.
type fault struct{ set atomic.Bool }

func withFault(ctx context.Context) (context.Context, *fault) {
	f := new(fault)
	return context.WithValue(ctx, ctxFault, f), f
}

func markFault(ctx context.Context) {
	if f, ok := ctx.Value(ctxFault).(*fault); ok {
		f.set.Store(true)
	}
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s storage) now() time.Time { return s.p.cfg.Now().UTC() }

// --- clients ---

func (s storage) client(ctx context.Context, id string) (*client, error) {
	if id == "" || len(id) > 200 {
		return nil, errNotFound
	}
	c, err := s.p.cfg.Store.Client(ctx, id)
	if err != nil {
		return nil, storeErr(ctx, err)
	}
	return &client{c: c, loginURL: s.p.continueURL, idTTL: s.p.cfg.IDTokenTTL}, nil
}

func (s storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.client(ctx, id)
	if err != nil {
		return err
	}
	if c.c.Public || len(c.c.SecretHash) == 0 || secret == "" {
		return errors.New("client has no secret or none was sent")
	}
	if subtle.ConstantTimeCompare(hashSecret(secret), c.c.SecretHash) != 1 {
		return errors.New("wrong client secret")
	}
	return nil
}

// --- authorization requests and codes ---

func (s storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSub string) (op.AuthRequest, error) {
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	if ctx.Value(ctxRequestURI) != nil {
		e := &oidc.Error{Description: "request_uri is not supported"}
		e.ErrorType = "request_uri_not_supported"
		return nil, e
	}
	// PKCE: S256 only (plain is refused for everyone); required for public clients.
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if c.c.Public && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for this client")
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		// OAuth 2.0 without OpenID: allowed, the tokens just carry no ID token claims beyond sub.
	}
	now := s.now()
	a := &authRequest{
		ID: randomToken(), ClientID: c.c.ID, RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce,
		Scopes: dedupe(req.Scopes), ResponseType: req.ResponseType, // response_mode: query only (as advertised)
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: req.CodeChallengeMethod,
		Prompt: req.Prompt, MaxAge: req.MaxAge, HintSubject: hintSub, CreatedAt: now,
	}
	data, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	if err := s.p.cfg.Store.SaveAuthRequest(ctx, auth.OIDCAuthRequest{ID: a.ID, ClientID: a.ClientID, Data: data,
		CreatedAt: now, ExpiresAt: now.Add(s.p.cfg.RequestTTL)}, now); err != nil {
		return nil, storeErr(ctx, err)
	}
	return a, nil
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	if id == "" || len(id) > 100 {
		return nil, errNotFound
	}
	row, err := s.p.cfg.Store.AuthRequest(ctx, id, s.now())
	if err != nil {
		return nil, storeErr(ctx, err)
	}
	return decodeAuthRequest(row)
}

// AuthRequestByCode claims the code: of two redemptions only the first gets the request. A code
// presented again revokes the tokens issued for it (RFC 6749 §4.1.2).
func (s storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	if code == "" || len(code) > 100 {
		return nil, errNotFound
	}
	row, reused, err := s.p.cfg.Store.ClaimAuthCode(ctx, hashSecret(code), s.now())
	if err != nil {
		return nil, storeErr(ctx, err)
	}
	if reused {
		s.p.log.LogAttrs(ctx, slog.LevelWarn, "authorization code presented again; its tokens are revoked",
			slog.String("client_id", row.ClientID), slog.String("user_id", row.UserID))
		if row.GrantSessionID != "" {
			if err := s.p.cfg.Store.RevokeSession(ctx, "", row.GrantSessionID, s.now()); err != nil && !errors.Is(err, auth.ErrNotFound) {
				return nil, storeErr(ctx, err)
			}
		}
		_ = s.p.cfg.Store.Audit(ctx, auth.AuditEvent{Time: s.now(), Type: "oidc_code_reuse", UserID: row.UserID,
			SessionID: row.GrantSessionID, Detail: "client " + row.ClientID})
		return nil, errors.New("code already used")
	}
	if row.UserID == "" {
		return nil, errors.New("auth request not completed")
	}
	return decodeAuthRequest(row)
}

func (s storage) SaveAuthCode(ctx context.Context, id, code string) error {
	if err := s.p.cfg.Store.SetAuthCode(ctx, id, hashSecret(code)); err != nil {
		return storeErr(ctx, err)
	}
	return nil
}

// DeleteAuthRequest keeps the row: a redeemed code stays known until the request expires, so a
// second redemption is recognised (and revokes), not just refused. Expired rows are purged.
func (s storage) DeleteAuthRequest(ctx context.Context, id string) error { return nil }

// --- tokens ---

// newGrant stores the session and grant of a redeemed code, with a first refresh token when
// offline is set; it returns the session and the refresh token.
func (s storage) newGrant(ctx context.Context, a *authRequest, offline bool) (auth.Session, string, error) {
	now := s.now()
	ttl := s.p.cfg.AccessTTL
	if offline {
		ttl = s.p.cfg.RefreshTTL
	}
	sess := auth.Session{ID: auth.NewID(now), CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(ttl), Flow: "oidc:" + a.ClientID}
	var (
		rt  *auth.RefreshToken
		tok string
	)
	if offline {
		var err error
		if tok, err = tokens.NewRefreshToken(); err != nil {
			return auth.Session{}, "", err
		}
		rt = &auth.RefreshToken{Hash: tokens.HashRefresh(tok), CreatedAt: now, ExpiresAt: sess.ExpiresAt}
	}
	g := auth.OIDCGrant{ClientID: a.ClientID, UserID: a.UserID, Scopes: a.Scopes, AuthTime: a.AuthTime, BrowserSession: a.BrowserSession}
	switch err := s.p.cfg.Store.CreateGrant(ctx, g, sess, rt); {
	case errors.Is(err, auth.ErrUserDisabled), errors.Is(err, auth.ErrNotFound):
		return auth.Session{}, "", oidc.ErrInvalidGrant().WithDescription("the user can no longer sign in")
	case err != nil:
		return auth.Session{}, "", storeErr(ctx, err)
	}
	if err := s.p.cfg.Store.SetAuthRequestGrant(ctx, a.ID, sess.ID); err != nil && !errors.Is(err, auth.ErrNotFound) {
		return auth.Session{}, "", storeErr(ctx, err)
	}
	sess.UserID = a.UserID
	return sess, tok, nil
}

func (s storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	a, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	sess, _, err := s.newGrant(ctx, a, false)
	if err != nil {
		return "", time.Time{}, err
	}
	return s.p.signAccess(sess, a.ClientID, a.Scopes, a.AuthTime)
}

func (s storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	switch r := req.(type) {
	case *authRequest:
		sess, rt, err := s.newGrant(ctx, r, true)
		if err != nil {
			return "", "", time.Time{}, err
		}
		at, exp, err := s.p.signAccess(sess, r.ClientID, r.Scopes, r.AuthTime)
		return at, rt, exp, err
	case *refreshRequest:
		sess, next, err := s.rotate(ctx, r)
		if err != nil {
			return "", "", time.Time{}, err
		}
		at, exp, err := s.p.signAccess(sess, r.grant.ClientID, r.scopes, r.grant.AuthTime)
		return at, next, exp, err
	}
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

// rotate exchanges a client's refresh token as the first-party refresh does (auth.Service.Refresh):
// the same store transaction, grace period and reuse detection.
func (s storage) rotate(ctx context.Context, r *refreshRequest) (auth.Session, string, error) {
	now := s.now()
	sec := s.p.cfg.Secrets
	succ := sec.RefreshSuccessor(r.token)
	res, err := s.p.cfg.Store.Rotate(ctx, auth.RotateRequest{
		Hash: tokens.HashRefresh(r.token), SuccessorHash: tokens.HashRefresh(succ), Now: now,
		Grace: s.p.cfg.RefreshGrace, GraceMax: s.p.cfg.RefreshGraceMax, ExpiresAt: now.Add(s.p.cfg.RefreshTTL),
	})
	if err != nil {
		return auth.Session{}, "", storeErr(ctx, err)
	}
	switch res.Outcome {
	case auth.Rotated:
	case auth.GraceReplay:
		succ = r.token
		for g := res.Generation; g < res.CurrentGeneration; g++ {
			succ = sec.RefreshSuccessor(succ)
		}
	case auth.Reused:
		s.p.log.LogAttrs(ctx, slog.LevelWarn, "client refresh token reused after rotation; grant revoked",
			slog.String("client_id", r.grant.ClientID), slog.String("session_id", res.Session.ID))
		_ = s.p.cfg.Store.Audit(ctx, auth.AuditEvent{Time: now, Type: "refresh_reuse", UserID: res.Session.UserID,
			SessionID: res.Session.ID, Detail: "client " + r.grant.ClientID})
		return auth.Session{}, "", oidc.ErrInvalidGrant().WithDescription("refresh token was already used; the grant has been revoked")
	default:
		return auth.Session{}, "", oidc.ErrInvalidGrant().WithDescription("refresh token is not active")
	}
	return res.Session, succ, nil
}

func (s storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	if !tokens.ValidRefreshFormat(token) {
		return nil, errors.New("malformed refresh token")
	}
	sess, err := s.p.cfg.Store.SessionByRefresh(ctx, tokens.HashRefresh(token))
	if err != nil {
		return nil, storeErr(ctx, err)
	}
	g, _, err := s.p.cfg.Store.Grant(ctx, sess.ID)
	if err != nil {
		return nil, storeErr(ctx, err) // a first-party refresh token is not a client's
	}
	if !sess.Active(s.now()) {
		return nil, errors.New("grant revoked or expired")
	}
	return &refreshRequest{grant: g, token: token, scopes: slices.Clone(g.Scopes)}, nil
}

// TerminateSession ends the client's grants of the user and the browser sessions they came from.
func (s storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	if userID == "" || clientID == "" {
		return nil
	}
	if _, err := s.p.cfg.Store.RevokeClientGrants(ctx, userID, clientID, s.now()); err != nil {
		return storeErr(ctx, err)
	}
	return nil
}

// TerminateSessionFromRequest is RP-initiated logout. Only a valid id_token_hint of the person
// signed in here logs them out (their browser session and the client's grants of them): a
// request without one, which any page can make a browser send, changes nothing and lands on
// the signed-in page, whose logout buttons are the confirmation (checklist case 55).
func (s storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.UserID == "" {
		return req.RedirectURI, nil
	}
	if b, ok := browserFrom(ctx); ok && req.UserID == b.userID {
		if err := s.p.cfg.Store.RevokeSession(ctx, b.userID, b.sessionID, s.now()); err != nil && !errors.Is(err, auth.ErrNotFound) {
			return "", storeErr(ctx, err)
		}
	}
	if err := s.TerminateSession(ctx, req.UserID, req.ClientID); err != nil {
		return "", err
	}
	if home := s.p.cfg.BasePath + "/"; req.RedirectURI == home || strings.HasPrefix(req.RedirectURI, home+"?") {
		return home + "?result=signed-out", nil // our own page: say so (a client's state is not ours to show)
	}
	return req.RedirectURI, nil
}

// grantOf returns the active grant of an access-token id ("oat.<session id>", made by
// Crypto.Decrypt) of subject.
func (s storage) grantOf(ctx context.Context, tokenID, subject string) (auth.OIDCGrant, error) {
	sid, ok := strings.CutPrefix(tokenID, accessTokenIDPrefix)
	if !ok || sid == "" {
		return auth.OIDCGrant{}, errors.New("not one of our access tokens")
	}
	g, sess, err := s.p.cfg.Store.Grant(ctx, sid)
	if err != nil {
		return auth.OIDCGrant{}, storeErr(ctx, err)
	}
	if g.UserID != subject || !sess.Active(s.now()) {
		return auth.OIDCGrant{}, errors.New("grant revoked or expired")
	}
	return g, nil
}

func (s storage) RevokeToken(ctx context.Context, token, userID, clientID string) *oidc.Error {
	var sid string
	switch {
	case tokens.ValidRefreshFormat(token): // a refresh token (GetRefreshTokenInfo keeps it as its id)
		sess, err := s.p.cfg.Store.SessionByRefresh(ctx, tokens.HashRefresh(token))
		if err != nil {
			return revokeErr(storeErr(ctx, err))
		}
		g, _, err := s.p.cfg.Store.Grant(ctx, sess.ID)
		if err != nil {
			return revokeErr(storeErr(ctx, err))
		}
		if g.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
		}
		sid = sess.ID
	case strings.HasPrefix(token, accessTokenIDPrefix) && userID != "": // an access token, decrypted to its id
		g, err := s.grantOf(ctx, token, userID)
		if err != nil {
			return revokeErr(err)
		}
		if g.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
		}
		sid = g.SessionID
	default:
		return nil // RFC 7009 §2.2: an invalid or unknown token is not an error
	}
	// Revoking either token ends the grant: its refresh tokens and its access tokens.
	if err := s.p.cfg.Store.RevokeSession(ctx, "", sid, s.now()); err != nil && !errors.Is(err, auth.ErrNotFound) {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// revokeErr: an unknown or inactive token is revoked already (200); a store fault is a fault.
func revokeErr(err error) *oidc.Error {
	var oe *oidc.Error
	if errors.As(err, &oe) && oe.ErrorType == oidc.ServerError {
		return oe
	}
	return nil
}

func (s storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	if !tokens.ValidRefreshFormat(token) {
		return "", "", op.ErrInvalidRefreshToken
	}
	sess, err := s.p.cfg.Store.SessionByRefresh(ctx, tokens.HashRefresh(token))
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return sess.UserID, token, nil
}

// SigningKey is the ID-token key of the client of the request: ES256 for clients registered
// with it, RS256 otherwise.
func (s storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	if id := clientIDFrom(ctx); id != "" {
		if c, err := s.p.cfg.Store.Client(ctx, id); err == nil && c.IDTokenAlg == "ES256" {
			kid, priv := s.p.cfg.ES256.ES256Key()
			return signingKey{alg: jose.ES256, kid: kid, key: priv}, nil
		}
	}
	kid, priv := s.p.cfg.RSA.Signer()
	return signingKey{alg: jose.RS256, kid: kid, key: priv}, nil
}

func (s storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, nil
}

// KeySet is every key in use: the RSA keys and the ES256 keys (also in /.well-known/jwks.json).
func (s storage) KeySet(context.Context) ([]op.Key, error) {
	var keys []op.Key
	for _, k := range s.p.cfg.RSA.PublicKeys() {
		keys = append(keys, publicKey{k})
	}
	for _, k := range s.p.cfg.ES256.PublicKeys() {
		keys = append(keys, publicKey{k})
	}
	return keys, nil
}

// --- claims ---

func (s storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // deprecated by the op package; SetUserinfoFromRequest does it
}

func (s storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(ctx, info, req.GetSubject(), scopes)
}

func (s storage) setUserinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	u, err := s.p.cfg.Store.User(ctx, userID)
	if err != nil {
		return storeErr(ctx, err)
	}
	info.Subject = u.ID // our user id, never the Kakao id
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name, info.Nickname, info.Picture = u.Nickname, u.Nickname, u.ProfileImageURL
	}
	// Kakao's email only when Kakao said it is valid and verified (the store keeps no other).
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" && u.EmailVerified {
		info.Email, info.EmailVerified = u.Email, true
	}
	return nil
}

func (s storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	g, err := s.grantOf(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.setUserinfo(ctx, info, g.UserID, g.Scopes)
}

// SetIntrospectionFromToken answers active only for the caller's own tokens (RFC 7662 §2.2: a
// token the caller may not see is inactive).
func (s storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	g, err := s.grantOf(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if g.ClientID != clientID {
		return errors.New("token of another client")
	}
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(ctx, info, g.UserID, g.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope, resp.ClientID, resp.TokenType = g.Scopes, g.ClientID, oidc.BearerToken
	resp.Audience, resp.Issuer = oidc.Audience{g.ClientID}, s.p.cfg.Issuer
	resp.AuthTime = oidc.FromTime(g.AuthTime)
	resp.Active = true
	return nil
}

func (s storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT client authentication is not supported")
}

func (s storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s storage) Health(ctx context.Context) error {
	if err := s.p.cfg.Store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
