package oidcop

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// client is a stored client as the op package sees it.
type client struct {
	c        auth.OIDCClient
	loginURL func(id string) string
	idTTL    time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                       { return c.c.ID }
func (c *client) RedirectURIs() []string              { return slices.Clone(c.c.RedirectURIs) }
func (c *client) PostLogoutRedirectURIs() []string    { return slices.Clone(c.c.PostLogoutRedirectURIs) }
func (c *client) LoginURL(id string) string           { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer } // our Crypto makes RFC 9068 JWTs
func (c *client) IDTokenLifetime() time.Duration      { return c.idTTL }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool { return false } // only the standard scopes
// IDTokenUserinfoClaimsAssertion puts the claims of profile and email into the ID token too:
// many applications read the email from the ID token only.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeUserAgent // not Native: redirect URIs match exactly, port included
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic // client_secret_post is accepted too
}

// DevMode lets a public client use http redirect URIs, only when every one is on a loopback
// address (a developer's machine). The registered URI must still match exactly.
func (c *client) DevMode() bool {
	if !c.c.Public || len(c.c.RedirectURIs) == 0 {
		return false
	}
	for _, u := range c.c.RedirectURIs {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "http" {
			return false
		}
		h := p.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return true
}

// authRequest is an authorization request as stored (its Data) and as the op package uses it.
type authRequest struct {
	ID                  string                   `json:"id"`
	ClientID            string                   `json:"client_id"`
	RedirectURI         string                   `json:"redirect_uri"`
	State               string                   `json:"state,omitempty"`
	Nonce               string                   `json:"nonce,omitempty"`
	Scopes              []string                 `json:"scopes"`
	ResponseType        oidc.ResponseType        `json:"response_type"`
	ResponseMode        oidc.ResponseMode        `json:"response_mode,omitempty"`
	CodeChallenge       string                   `json:"code_challenge,omitempty"`
	CodeChallengeMethod oidc.CodeChallengeMethod `json:"code_challenge_method,omitempty"`
	Prompt              []string                 `json:"prompt,omitempty"`
	MaxAge              *uint                    `json:"max_age,omitempty"`
	HintSubject         string                   `json:"hint_sub,omitempty"` // sub of a valid id_token_hint
	CreatedAt           time.Time                `json:"created_at"`

	// From the row, not from Data.
	UserID         string    `json:"-"`
	BrowserSession string    `json:"-"`
	AuthTime       time.Time `json:"-"`
}

var _ op.AuthRequest = (*authRequest)(nil)

func decodeAuthRequest(row auth.OIDCAuthRequest) (*authRequest, error) {
	a := new(authRequest)
	if err := json.Unmarshal(row.Data, a); err != nil {
		return nil, err
	}
	a.ID, a.ClientID = row.ID, row.ClientID
	a.UserID, a.BrowserSession, a.AuthTime = row.UserID, row.BrowserSession, row.AuthTime
	return a, nil
}

func (a *authRequest) GetID() string                      { return a.ID }
func (a *authRequest) GetACR() string                     { return "" }
func (a *authRequest) GetAMR() []string                   { return nil }
func (a *authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.AuthTime }
func (a *authRequest) GetClientID() string                { return a.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.UserID }
func (a *authRequest) Done() bool                         { return a.UserID != "" }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: a.CodeChallengeMethod}
}

// refreshRequest is a refresh-token grant: the grant, the presented token and the scopes asked.
type refreshRequest struct {
	grant  auth.OIDCGrant
	token  string
	scopes []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return nil }
func (r *refreshRequest) GetAudience() []string       { return []string{r.grant.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.grant.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.grant.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.grant.UserID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// signingKey is a private key the op package signs ID tokens with.
type signingKey struct {
	alg jose.SignatureAlgorithm
	kid string
	key any
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.kid }

// publicKey is a published key.
type publicKey struct{ jose.JSONWebKey }

func (k publicKey) ID() string { return k.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.JSONWebKey.Algorithm)
}
func (k publicKey) Use() string { return k.JSONWebKey.Use }
func (k publicKey) Key() any    { return k.JSONWebKey.Key }

// ctxKey keys the request facts the middleware puts in the context.
type ctxKey int

const (
	ctxClientID   ctxKey = iota // the client_id of a token request
	ctxBrowser                  // the browser session of an end-session request
	ctxFault                    // *fault: the store failed during the request
	ctxRequestURI               // the authorization request names a request_uri (not supported)
)

func clientIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(ctxClientID).(string)
	return s
}

type browserSession struct{ userID, sessionID string }

func browserFrom(ctx context.Context) (browserSession, bool) {
	b, ok := ctx.Value(ctxBrowser).(browserSession)
	return b, ok
}
