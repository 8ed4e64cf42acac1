// Package oidcop is kakaoauth's standard OpenID Provider: any OpenID Connect application signs
// people in with Kakao through it, knowing nothing of Kakao. The protocol is
// github.com/zitadel/oidc/v3's op package (OpenID-certified); this package gives it our store
// (clients, codes, grants tied to our sessions), our keys (RS256, ES256 per client), RFC 9068
// access tokens, the person's side (sign-in through the existing Kakao browser flow, consent)
// and a discovery document listing exactly what is implemented.
//
// Routes (under the server's base path): /oauth2/authorize, /oauth2/token, /oauth2/userinfo,
// /oauth2/revoke, /oauth2/introspect, /oauth2/end_session, /oauth2/keys (JWKS),
// /auth/oidc/continue and /auth/oidc/consent (the person's side), /auth/oidc/apps/revoke ("연결된 앱"),
// and the discovery documents at /.well-known/openid-configuration and
// /.well-known/oauth-authorization-server.
package oidcop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// Store is what the provider keeps its state in.
type Store interface {
	auth.Store
	auth.OIDCStore
}

// Sessions finds the person a browser request is signed in as (our session cookies).
type Sessions func(r *http.Request) (userID, sessionID string, ok bool, err error)

// Config configures a Provider.
type Config struct {
	Issuer   string // KAKAOAUTH_PUBLIC_URL without a trailing slash
	BasePath string // the server's base path ("" or "/login")
	Store    Store
	RSA      *tokens.RSAKeys
	ES256    *tokens.Issuer
	Secrets  *tokens.Secrets // refresh successors and CSRF tokens
	Pages    *web.Renderer

	AccessTTL       time.Duration // client access tokens; default 15 minutes
	IDTokenTTL      time.Duration // default AccessTTL
	RefreshTTL      time.Duration // a grant's absolute lifetime; default 30 days
	RefreshGrace    time.Duration
	RefreshGraceMax int
	RequestTTL      time.Duration // an authorization request, and so its code; default 10 minutes
	SecureCookies   bool          // https issuer
	Now             func() time.Time
	Logger          *slog.Logger
}

// Provider serves the OpenID Provider.
type Provider struct {
	cfg       Config
	log       *slog.Logger
	op        *op.Provider
	sessions  Sessions
	discovery []byte
	mux       *http.ServeMux
}

// New builds the provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Store == nil || cfg.RSA == nil || cfg.ES256 == nil || cfg.Secrets == nil || cfg.Pages == nil {
		return nil, errors.New("oidcop: Config needs a Store, RSA and ES256 keys, Secrets and Pages")
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.IDTokenTTL <= 0 {
		cfg.IDTokenTTL = cfg.AccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.RequestTTL <= 0 {
		cfg.RequestTTL = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Provider{cfg: cfg, log: cfg.Logger}
	p.sessions = func(*http.Request) (string, string, bool, error) { return "", "", false, nil }
	opts := []op.Option{
		op.WithCrypto(tokenCrypto{p}),
		op.WithCORSOptions(nil), // the server's CORS applies
		op.WithCustomEndpoints(op.NewEndpoint("oauth2/authorize"), op.NewEndpoint("oauth2/token"),
			op.NewEndpoint("oauth2/userinfo"), op.NewEndpoint("oauth2/revoke"),
			op.NewEndpoint("oauth2/end_session"), op.NewEndpoint("oauth2/keys")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("oauth2/introspect")),
	}
	if strings.HasPrefix(cfg.Issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(&op.Config{
		DefaultLogoutRedirectURI: cfg.BasePath + "/",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedScopes:          scopesSupported,
		SupportedClaims:          claimsSupported,
		SupportedUILocales:       []language.Tag{language.Korean, language.English},
	}, storage{p}, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, err
	}
	p.op = provider
	if p.discovery, err = json.Marshal(p.discoveryDocument()); err != nil {
		return nil, err
	}
	p.routes()
	return p, nil
}

// SetSessions tells the provider how to find the signed-in person (the server, made after it).
func (p *Provider) SetSessions(f Sessions) { p.sessions = f }

var scopesSupported = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}

var claimsSupported = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp",
	"name", "nickname", "picture", "email", "email_verified"}

// discoveryDocument lists exactly what is implemented (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
func (p *Provider) discoveryDocument() map[string]any {
	e := func(path string) string { return p.cfg.Issuer + "/oauth2/" + path }
	auths := []string{"client_secret_basic", "client_secret_post", "none"}
	return map[string]any{
		"issuer":                                        p.cfg.Issuer,
		"authorization_endpoint":                        e("authorize"),
		"token_endpoint":                                e("token"),
		"userinfo_endpoint":                             e("userinfo"),
		"jwks_uri":                                      e("keys"),
		"revocation_endpoint":                           e("revoke"),
		"introspection_endpoint":                        e("introspect"),
		"end_session_endpoint":                          e("end_session"),
		"scopes_supported":                              scopesSupported,
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                       []string{"public"},
		"id_token_signing_alg_values_supported":         []string{"RS256", "ES256"},
		"token_endpoint_auth_methods_supported":         auths,
		"revocation_endpoint_auth_methods_supported":    auths,
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"code_challenge_methods_supported":              []string{"S256"},
		"claims_supported":                              claimsSupported,
		"prompt_values_supported":                       []string{"none", "login", "consent"},
		"ui_locales_supported":                          []string{"ko", "en"},
		"claims_parameter_supported":                    false,
		"request_parameter_supported":                   false,
		"request_uri_parameter_supported":               false,
	}
}

// Discovery is the discovery document's JSON.
func (p *Provider) Discovery() []byte { return p.discovery }

func (p *Provider) routes() {
	mux := http.NewServeMux()
	base := p.cfg.BasePath
	opH := http.StripPrefix(base, p.op)
	page := func(h http.Handler) http.Handler { return p.guardPage(h) }
	api := func(h http.Handler) http.Handler { return p.guardAPI(h) }
	mux.Handle(base+"/oauth2/authorize", page(p.withRequestURI(opH)))
	mux.Handle(base+"/oauth2/end_session", page(p.withBrowser(opH)))
	mux.Handle("POST "+base+"/oauth2/token", api(p.withClientID(opH)))
	mux.Handle(base+"/oauth2/userinfo", api(opH))
	mux.Handle("POST "+base+"/oauth2/revoke", api(opH))
	mux.Handle("POST "+base+"/oauth2/introspect", api(opH))
	mux.Handle("GET "+base+"/oauth2/keys", api(opH))
	mux.HandleFunc("GET "+base+"/auth/oidc/continue", p.handleContinue)
	mux.HandleFunc("POST "+base+"/auth/oidc/consent", p.handleConsent)
	mux.HandleFunc("POST "+base+"/auth/oidc/apps/revoke", p.handleAppRevoke)
	mux.HandleFunc("GET "+base+"/.well-known/openid-configuration", p.handleDiscovery)
	mux.HandleFunc("GET "+base+"/.well-known/oauth-authorization-server", p.handleDiscovery)
	for _, path := range []string{"/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/auth/oidc/consent", "/auth/oidc/apps/revoke"} {
		mux.HandleFunc(base+path, methodNotAllowed("POST"))
	}
	for _, path := range []string{"/oauth2/keys", "/auth/oidc/continue", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		mux.HandleFunc(base+path, methodNotAllowed("GET"))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeOAuthError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	p.mux = mux
}

// ServeHTTP serves the provider's routes.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), p.cfg.Issuer)
	p.mux.ServeHTTP(w, r.WithContext(ctx))
}

func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Del("Access-Control-Allow-Credentials")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.discovery)
}

// withClientID puts the client_id of a token request in the context (for the ID-token key).
func (p *Provider) withClientID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ""
		if u, _, ok := r.BasicAuth(); ok {
			id, _ = url.QueryUnescape(u)
		} else if err := r.ParseForm(); err == nil {
			id = r.PostForm.Get("client_id")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxClientID, id)))
	})
}

// withRequestURI notes a request_uri parameter, which the op package would silently ignore:
// it is answered request_uri_not_supported (OIDC Core §6.2) once the redirect URI is validated.
func (p *Provider) withRequestURI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil && r.Form.Get("request_uri") != "" {
			r = r.WithContext(context.WithValue(r.Context(), ctxRequestURI, true))
		}
		next.ServeHTTP(w, r)
	})
}

// withBrowser puts the browser's signed-in session in the context (for RP-initiated logout).
func (p *Provider) withBrowser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if uid, sid, ok, err := p.sessions(r); err == nil && ok {
			r = r.WithContext(context.WithValue(r.Context(), ctxBrowser, browserSession{uid, sid}))
		}
		next.ServeHTTP(w, r)
	})
}

// capture holds back a response the op package writes, so that it can be replaced.
type capture struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.h }
func (c *capture) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}
func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

func (p *Provider) run(next http.Handler, r *http.Request) *capture {
	c := &capture{h: http.Header{}}
	ctx, f := withFault(r.Context())
	next.ServeHTTP(c, r.WithContext(ctx))
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if f.set.Load() && c.status >= 400 {
		c.status = http.StatusInternalServerError // a store fault, whatever the op package made of it
	}
	return c
}

func (c *capture) flush(w http.ResponseWriter) {
	for k, v := range c.h {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}

// guardPage serves an endpoint a browser visits: an error the op package answers as text (an
// unknown client, an unregistered redirect URI, a bad logout request) becomes our error page,
// and nothing is ever redirected to an unvalidated address.
func (p *Provider) guardPage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := p.run(next, r)
		w.Header().Set("Cache-Control", "no-store")
		if c.status < 400 {
			c.flush(w)
			return
		}
		code, status := "invalid_request", http.StatusBadRequest
		if c.status >= 500 {
			code, status = "server", http.StatusServiceUnavailable
		}
		p.log.LogAttrs(r.Context(), slog.LevelInfo, "oidc request refused", slog.String("path", r.URL.Path),
			slog.Int("status", c.status), slog.String("detail", clip(c.body.String(), 300)))
		p.cfg.Pages.Error(w, r, status, web.ErrorPage{Code: code})
	})
}

// guardAPI serves an endpoint a program calls: a server fault is 503 (never 500), a refused
// bearer token gets WWW-Authenticate (RFC 6750 §3), token responses are never cached, and the
// endpoints are readable from any origin without credentials.
func (p *Provider) guardAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := p.run(next, r)
		h := c.h
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		if strings.HasSuffix(r.URL.Path, "/oauth2/keys") {
			h.Set("Cache-Control", "public, max-age=300")
			h.Del("Pragma")
		}
		wh := w.Header()
		if wh.Get("Access-Control-Allow-Origin") != "" {
			wh.Del("Access-Control-Allow-Credentials")
			wh.Set("Access-Control-Allow-Origin", "*")
		}
		switch {
		case c.status >= 500:
			h.Set("Retry-After", "5")
			writeOAuthErrorTo(c, http.StatusServiceUnavailable, "temporarily_unavailable", "the service is temporarily unavailable")
		case (c.status == http.StatusUnauthorized || c.status == http.StatusForbidden) && strings.HasSuffix(r.URL.Path, "/oauth2/userinfo"):
			h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeOAuthErrorTo(c, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		case c.status == http.StatusUnauthorized:
			if _, _, ok := r.BasicAuth(); ok {
				h.Set("WWW-Authenticate", `Basic realm="kakaoauth"`)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				writeOAuthErrorTo(c, http.StatusUnauthorized, "invalid_client", "client authentication failed")
			}
		case c.status == http.StatusBadRequest && strings.Contains(c.body.String(), `"code_verifier required"`):
			// RFC 7636 §4.6: a missing verifier for a code with a challenge is invalid_grant.
			writeOAuthErrorTo(c, http.StatusBadRequest, "invalid_grant", "code_verifier required")
		}
		c.flush(w)
	})
}

func writeOAuthErrorTo(c *capture, status int, code, desc string) {
	c.status = status
	c.body.Reset()
	c.h.Set("Content-Type", "application/json")
	c.h.Del("X-Content-Type-Options")
	_ = json.NewEncoder(&c.body).Encode(map[string]string{"error": code, "error_description": desc})
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "use "+allow)
	}
}
