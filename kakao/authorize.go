package kakao

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"golang.org/x/oauth2"
)

// AuthorizeParams are the per-login values of the authorize URL.
type AuthorizeParams struct {
	RedirectURI  string
	State, Nonce string
	CodeVerifier string   // when set, code_challenge=S256(verifier) and code_challenge_method=S256 are sent
	Scopes       []string // comma-joined; "openid" added when OIDC is true and missing
	OIDC         bool
	Prompt       []string // login, none, create, select_account (comma-joined)
	LoginHint    string
}

// AuthCodeURL returns the kauth /oauth/authorize URL to redirect the browser
// to. Kakao separates scope and prompt values with commas.
func (c *Client) AuthCodeURL(p AuthorizeParams) string {
	opts := make([]oauth2.AuthCodeOption, 0, 6)
	opts = append(opts, oauth2.SetAuthURLParam("redirect_uri", p.RedirectURI))
	if p.CodeVerifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(p.CodeVerifier))
	}
	if p.Nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", p.Nonce))
	}
	if scope := joinScopes(p.Scopes, p.OIDC); scope != "" {
		opts = append(opts, oauth2.SetAuthURLParam("scope", scope))
	}
	if prompt := joinNonEmpty(p.Prompt); prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt))
	}
	if p.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", p.LoginHint))
	}
	return c.oauth.AuthCodeURL(p.State, opts...)
}

// joinScopes joins scope IDs with commas, dropping empty and duplicate ones,
// and appends "openid" when oidc is set and it is missing.
func joinScopes(scopes []string, oidc bool) string {
	out := make([]string, 0, len(scopes)+1)
	hasOpenID := false
	for _, s := range scopes {
		s = strings.TrimSpace(s)
		if s == "" || contains(out, s) {
			continue
		}
		if s == "openid" {
			hasOpenID = true
		}
		out = append(out, s)
	}
	if oidc && !hasOpenID {
		out = append(out, "openid")
	}
	return strings.Join(out, ",")
}

func joinNonEmpty(vals []string) string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if v != "" && !contains(out, v) {
			out = append(out, v)
		}
	}
	return strings.Join(out, ",")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// NewCodeVerifier returns a PKCE code verifier: 43 characters of base64url
// (256 bits from crypto/rand), all within [A-Za-z0-9-._~].
func NewCodeVerifier() string { return randomToken() }

// NewState returns a random state value: 256 bits from crypto/rand, base64url.
func NewState() string { return randomToken() }

// NewNonce returns a random OIDC nonce: 256 bits from crypto/rand, base64url.
func NewNonce() string { return randomToken() }

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
