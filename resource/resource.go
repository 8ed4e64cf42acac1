// Package resource lets a Go service accept kakaoauth's access tokens: it protects an API
// (a "resource server" in OAuth's words) with the JWTs that kakaoauth issues after "카카오 로그인".
//
// New reads kakaoauth's discovery document (Issuer + "/.well-known/openid-configuration") and
// the JWKS it names, and returns a Verifier. Verifier.Middleware wraps an http.Handler: a request
// must carry an access token in "Authorization: Bearer …" (or, when Config.Cookie is set, in that
// cookie; never in the query string), and the handler reads the caller from the request's context
// with FromContext. A missing or bad token is answered 401 with a WWW-Authenticate challenge
// (RFC 6750 §3) and a JSON body; RequireScopes answers 403 insufficient_scope when a token lacks a
// scope.
//
// Each token is checked as RFC 9068 and RFC 8725 ask: the alg is ES256 or RS256 (never "none",
// never an HMAC), the signature verifies with the JWKS key named by the token's kid, typ is
// "at+jwt", iss is Config.Issuer exactly, aud contains Config.Audience, and exp, nbf and iat hold
// within Config.Leeway. A token without a kid is refused (kakaoauth always names its key), as is
// one whose header marks an extension critical ("crit"). The JWKS is cached: a token with a kid the cache does not know (kakaoauth
// rotated its key) fetches the JWKS again, at most once per Config.RefetchCooldown however many
// requests ask, and a JWKS that cannot be fetched leaves the cached keys working.
//
// # Offline or online
//
// By default a token is verified offline: no request to kakaoauth, about a tenth of a
// millisecond of CPU (one ES256 signature check), and the API keeps working while kakaoauth is
// down. But an offline check cannot see a logout: a token
// stays valid until it expires (15 minutes by default) even after its user signed out, revoked
// the device in their session list, deleted their account or unlinked the app at Kakao.
//
// With Config.CheckSession the Verifier also asks kakaoauth (POST Issuer + "/auth/token/verify")
// whether the token's session still lives, caching each answer for Config.SessionCacheTTL. A
// session that has ended is then refused within that TTL of the logout, at the price of one
// request to kakaoauth per token and TTL, and of answering 503 (not 401: the token may well be
// good) while kakaoauth cannot be reached.
//
// kakaoauth rate-limits /auth/token/verify per client address (KAKAOAUTH_RATE_LIMITS, 30 a
// minute by default): a service that checks more tokens than that from one address needs a
// higher limit there, or it answers 503 when kakaoauth answers 429.
//
// Choose offline for reading data, where a few minutes after a logout do no harm: most routes.
// Choose CheckSession for routes where acting for a person who has signed out would matter —
// payments, changing an account, anything a stolen device must stop doing at once. Both can
// serve one program: make two Verifiers and wrap each route with the one it needs.
package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Defaults of Config.
const (
	DefaultLeeway          = 60 * time.Second
	DefaultRefetchCooldown = 30 * time.Second
	DefaultKeysMaxAge      = 5 * time.Minute
	DefaultSessionCacheTTL = 5 * time.Second
	DefaultHTTPTimeout     = 10 * time.Second
	// MaxTokenSize is the longest token Verify reads; kakaoauth's tokens are about 500 bytes.
	MaxTokenSize = 8 << 10
)

// Config says which tokens a Verifier accepts and how it reaches kakaoauth.
type Config struct {
	// Issuer is kakaoauth's public URL, exactly as in its tokens' iss (e.g.
	// "https://auth.example.com"). The discovery document is read at
	// Issuer + "/.well-known/openid-configuration", and the keys at its jwks_uri.
	Issuer string
	// Audience is the aud a token must carry; the default is Issuer (kakaoauth's default).
	Audience string
	// Leeway is the clock skew allowed for exp, nbf and iat; the default is 60 s.
	Leeway time.Duration
	// Cookie, when set, is the name of a cookie the access token may also come in (kakaoauth's
	// is "accessToken"); "" accepts the Authorization header only. A cookie-authenticated API
	// that changes state needs its own CSRF defence: a browser sends cookies with cross-site
	// requests.
	Cookie string
	// HTTPClient reaches kakaoauth; the default is a client with a 10 s timeout.
	HTTPClient *http.Client
	// RefetchCooldown is how often, at most, a token with an unknown kid fetches the JWKS again;
	// the default is 30 s.
	RefetchCooldown time.Duration
	// KeysMaxAge is how long the fetched JWKS is used before it is fetched again, so that a key
	// kakaoauth withdrew stops verifying here too; the default is 5 minutes. A fetch that fails
	// keeps the cached keys.
	KeysMaxAge time.Duration
	// CheckSession also asks kakaoauth (POST Issuer + "/auth/token/verify") whether the token's
	// session still lives; see the package overview for when to choose it.
	CheckSession bool
	// SessionCacheTTL is how long an online answer is cached per token; the default is 5 s.
	SessionCacheTTL time.Duration
	// Now is the clock; the default is time.Now.
	Now func() time.Time
	// Logger receives a warning when the JWKS cannot be fetched again or the session check
	// fails (the causes that requests do not see); the default discards them.
	Logger *slog.Logger
}

// Verifier checks kakaoauth's access tokens. It is safe for concurrent use.
type Verifier struct {
	issuer, audience string
	leeway           time.Duration
	cookie           string
	client           *http.Client
	now              func() time.Time
	keys             *keySet
	sessions         *sessionCache // nil without CheckSession
	log              *slog.Logger
}

// Claims are what a verified access token says.
type Claims struct {
	UserID    string   // sub: kakaoauth's user id
	SessionID string   // sid: the sign-in (device) the token belongs to
	ClientID  string   // client_id, for tokens issued to OpenID clients ("" for kakaoauth's own)
	Scopes    []string // scope (space-separated in the token), for OpenID clients' tokens
	Issuer    string   // iss
	Audience  []string // aud
	ID        string   // jti
	IssuedAt  time.Time
	NotBefore time.Time // zero when the token has no nbf
	Expiry    time.Time
}

// HasScope reports whether the token was granted scope.
func (c Claims) HasScope(scope string) bool {
	return slices.Contains(c.Scopes, scope)
}

// Errors of Verify, for errors.Is. Every error of Verify is one of them.
var (
	// ErrInvalidToken means the token is missing, malformed, expired, not kakaoauth's, or
	// badly signed; the middleware answers 401 invalid_token.
	ErrInvalidToken = errors.New("invalid token")
	// ErrSessionEnded means that kakaoauth, asked because of CheckSession, says the token's
	// session has ended (logout, revoked device, deleted account). It also matches
	// ErrInvalidToken.
	ErrSessionEnded = errors.New("session ended")
	// ErrUnavailable means that kakaoauth could not be asked because of CheckSession, or gave
	// no usable answer; the token itself may be good, and the middleware answers 503.
	ErrUnavailable = errors.New("kakaoauth unavailable")
)

// verifyError is an error of Verify: kind is one of the Err values, desc says why in English
// words fit for a WWW-Authenticate error_description (ASCII), ko says it in Korean for the JSON
// body, cause (if any) is the underlying error.
type verifyError struct {
	kind     error
	desc, ko string
	cause    error
}

func (e *verifyError) Error() string {
	if e.cause != nil {
		return e.kind.Error() + ": " + e.desc + ": " + e.cause.Error()
	}
	return e.kind.Error() + ": " + e.desc
}

func (e *verifyError) Unwrap() error { return e.cause }

func (e *verifyError) Is(target error) bool {
	return target == e.kind || (e.kind == ErrSessionEnded && target == ErrInvalidToken)
}

func invalid(desc, ko string) error { return &verifyError{kind: ErrInvalidToken, desc: desc, ko: ko} }

// New returns a Verifier for cfg. It fetches the discovery document and the JWKS now, so that
// a wrong Issuer or an unreachable kakaoauth fails at start with a clear error.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("resource: Config.Issuer is required (kakaoauth's public URL)")
	}
	v := &Verifier{
		issuer: cfg.Issuer, audience: cfg.Audience, leeway: cfg.Leeway,
		cookie: cfg.Cookie, client: cfg.HTTPClient, now: cfg.Now, log: cfg.Logger,
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.audience == "" {
		v.audience = cfg.Issuer
	}
	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if v.now == nil {
		v.now = time.Now
	}
	cooldown := cfg.RefetchCooldown
	if cooldown == 0 {
		cooldown = DefaultRefetchCooldown
	}
	maxAge := cfg.KeysMaxAge
	if maxAge == 0 {
		maxAge = DefaultKeysMaxAge
	}
	if v.leeway < 0 || cooldown < 0 || maxAge < 0 || cfg.SessionCacheTTL < 0 {
		return nil, errors.New("resource: Leeway, RefetchCooldown, KeysMaxAge and SessionCacheTTL must not be negative")
	}
	jwksURI, err := v.discover(ctx)
	if err != nil {
		return nil, err
	}
	v.keys = &keySet{client: v.client, url: jwksURI, cooldown: cooldown, maxAge: maxAge, now: v.now, log: v.log}
	if err := v.keys.load(ctx); err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	if cfg.CheckSession {
		ttl := cfg.SessionCacheTTL
		if ttl == 0 {
			ttl = DefaultSessionCacheTTL
		}
		v.sessions = &sessionCache{
			client: v.client, url: strings.TrimSuffix(cfg.Issuer, "/") + "/auth/token/verify",
			ttl: ttl, now: v.now, answers: map[[32]byte]sessionAnswer{},
		}
	}
	return v, nil
}

// discover reads the discovery document and returns its jwks_uri. Its issuer must be
// Config.Issuer exactly (OpenID Connect Discovery §4.3), which catches a wrong Issuer at start
// rather than at every token.
func (v *Verifier) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(v.issuer, "/") + "/.well-known/openid-configuration"
	body, err := getJSON(ctx, v.client, u)
	if err != nil {
		return "", fmt.Errorf("resource: read kakaoauth's discovery document: %w", err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("resource: discovery document at %s is not JSON: %w", u, err)
	}
	if doc.Issuer != v.issuer {
		return "", fmt.Errorf("resource: the discovery document at %s names issuer %q, but Config.Issuer is %q", u, doc.Issuer, v.issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("resource: the discovery document at %s has no jwks_uri", u)
	}
	return doc.JWKSURI, nil
}

// getJSON GETs u and returns the body of a 200 answer (at most 1 MiB).
func getJSON(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return body, nil
}

// tokenClaims is the JSON of an access token's claims.
type tokenClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
	SessionID string           `json:"sid"`
	ClientID  string           `json:"client_id"`
	Scope     string           `json:"scope"`
}

var allowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// Verify checks token and returns its claims. Its errors match ErrInvalidToken (also
// ErrSessionEnded) or ErrUnavailable; their text says why, without the token.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	c, err := v.verifyOffline(ctx, token)
	if err != nil {
		return Claims{}, err
	}
	if v.sessions != nil {
		if err := v.sessions.check(ctx, token, c.Expiry); err != nil {
			return Claims{}, err
		}
	}
	return c, nil
}

// verifyOffline checks the token's form, signature and claims.
func (v *Verifier) verifyOffline(ctx context.Context, token string) (Claims, error) {
	if token == "" {
		return Claims{}, invalid("no token", "토큰이 없습니다")
	}
	if len(token) > MaxTokenSize {
		return Claims{}, invalid("token too long", "토큰이 너무 깁니다")
	}
	if strings.Count(token, ".") != 2 {
		return Claims{}, invalid("not a signed JWT (compact JWS)", "서명된 JWT가 아닙니다")
	}
	tok, err := jose.ParseSigned(token, allowedAlgs)
	if err != nil {
		return Claims{}, invalid("malformed token or alg not ES256/RS256", "토큰 형식이 잘못되었거나 알고리즘이 ES256/RS256이 아닙니다")
	}
	if len(tok.Signatures) != 1 {
		return Claims{}, invalid("token must have exactly one signature", "서명이 정확히 하나여야 합니다")
	}
	h := tok.Signatures[0].Protected
	if !isAccessTokenType(h.ExtraHeaders[jose.HeaderType]) {
		return Claims{}, invalid("typ is not at+jwt", "액세스 토큰(typ: at+jwt)이 아닙니다")
	}
	if _, ok := h.ExtraHeaders["crit"]; ok {
		// No extension is understood here, so none may be critical (RFC 7515 §4.1.11).
		return Claims{}, invalid("unsupported crit header", "지원하지 않는 crit 헤더입니다")
	}
	if h.KeyID == "" {
		return Claims{}, invalid("token has no kid", "서명 키(kid)가 지정되지 않았습니다")
	}
	key, err := v.keys.key(ctx, h.KeyID)
	if err != nil {
		return Claims{}, err
	}
	if !keyFits(key, jose.SignatureAlgorithm(h.Algorithm)) {
		return Claims{}, invalid("the key of kid does not fit alg", "서명 키가 알고리즘(alg)과 맞지 않습니다")
	}
	payload, err := tok.Verify(key.Key)
	if err != nil {
		return Claims{}, invalid("bad signature", "서명이 올바르지 않습니다")
	}
	var tc tokenClaims
	if err := json.Unmarshal(payload, &tc); err != nil {
		return Claims{}, invalid("malformed claims", "토큰 내용(클레임) 형식이 잘못되었습니다")
	}
	return v.checkClaims(tc)
}

// checkClaims checks iss, aud, sub and the times.
func (v *Verifier) checkClaims(tc tokenClaims) (Claims, error) {
	if tc.Issuer != v.issuer {
		return Claims{}, invalid("wrong issuer", "발급자(iss)가 다릅니다")
	}
	if !tc.Audience.Contains(v.audience) {
		return Claims{}, invalid("wrong audience", "대상(aud)이 이 서비스가 아닙니다")
	}
	if tc.Subject == "" {
		return Claims{}, invalid("token has no sub", "사용자(sub)가 없습니다")
	}
	if tc.Expiry == nil || tc.IssuedAt == nil {
		return Claims{}, invalid("token has no exp or iat", "만료 시각(exp) 또는 발급 시각(iat)이 없습니다")
	}
	now := v.now()
	c := Claims{
		UserID: tc.Subject, SessionID: tc.SessionID, ClientID: tc.ClientID,
		Scopes: scopeList(tc.Scope), Issuer: tc.Issuer, Audience: []string(tc.Audience), ID: tc.ID,
		IssuedAt: tc.IssuedAt.Time(), Expiry: tc.Expiry.Time(),
	}
	if tc.NotBefore != nil {
		c.NotBefore = tc.NotBefore.Time()
	}
	switch {
	case !now.Before(c.Expiry.Add(v.leeway)):
		return Claims{}, invalid("token expired", "토큰이 만료되었습니다")
	case now.Add(v.leeway).Before(c.IssuedAt):
		return Claims{}, invalid("token issued in the future", "발급 시각(iat)이 미래입니다")
	case !c.NotBefore.IsZero() && now.Add(v.leeway).Before(c.NotBefore):
		return Claims{}, invalid("token not valid yet", "아직 사용할 수 없는 토큰입니다(nbf)")
	}
	return c, nil
}

// isAccessTokenType reports whether a typ header names a JWT access token (RFC 9068 §2.1):
// "at+jwt" or "application/at+jwt", in any case.
func isAccessTokenType(typ any) bool {
	s, ok := typ.(string)
	if !ok {
		return false
	}
	s = strings.ToLower(s)
	return s == "at+jwt" || s == "application/at+jwt"
}

// scopeList splits a space-separated scope claim; nil when there is none.
func scopeList(scope string) []string {
	if f := strings.Fields(scope); len(f) > 0 {
		return f
	}
	return nil
}
