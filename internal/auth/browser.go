package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"time"
)

// BrowserFlow is one browser login attempt's secrets: the browser keeps them (sealed, in a
// cookie) between the start of the login and the identity provider's callback.
type BrowserFlow struct {
	State        string // binds the callback to this browser's attempt
	Nonce        string // the ID token must carry it
	CodeVerifier string // PKCE (S256)
}

// NewBrowserFlow returns fresh random values (256 bits each, base64url; the verifier is a valid
// 43-character PKCE verifier).
func NewBrowserFlow() BrowserFlow {
	return BrowserFlow{State: randomValue(), Nonce: randomValue(), CodeVerifier: randomValue()}
}

func randomValue() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// AuthorizeRequest is what a browser login asks the identity provider for.
type AuthorizeRequest struct {
	Flow        BrowserFlow
	RedirectURI string
	// Prompt values for the provider (login, none, select_account, create); empty: none.
	Prompt []string
	// Scopes, when set, are the consent items of an additional-consent request, asked for
	// instead of the configured ones.
	Scopes []string
}

// Authorizer is the identity provider's side of the browser flow (the Kakao adapter).
type Authorizer interface {
	// AuthorizeURL is where the browser goes to log in.
	AuthorizeURL(req AuthorizeRequest) string
	// CallbackError reads the provider's error redirect (its error parameters in q) as an
	// *Error with a code the boundary can show (access_denied, login_required, …).
	CallbackError(q url.Values) *Error
}

// AuthorizeURL is where a browser goes to log in for req (the configured Authorizer's URL).
func (s *Service) AuthorizeURL(req AuthorizeRequest) string {
	return s.cfg.Authorizer.AuthorizeURL(req)
}

// CallbackError reads the identity provider's error redirect; nil when q holds no error.
func (s *Service) CallbackError(q url.Values) *Error {
	if q.Get("error") == "" {
		return nil
	}
	return s.cfg.Authorizer.CallbackError(q)
}

// ConsumeState records a browser flow's state as used until expires and reports whether this
// was its first use: a callback replayed with the same state is refused. Only a hash of the
// state is stored.
func (s *Service) ConsumeState(ctx context.Context, state string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte("state\x00" + state))
	return s.ConsumeOnce(ctx, sum[:], expires)
}
