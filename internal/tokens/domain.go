package tokens

import (
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// AccessAdapter is an Issuer as the domain's auth.AccessTokens.
type AccessAdapter struct{ Issuer *Issuer }

// SignAccess issues an access token for a user's session.
func (a AccessAdapter) SignAccess(userID, sessionID string) (string, time.Time, error) {
	return a.Issuer.Sign(AccessClaims{Subject: userID, SessionID: sessionID})
}

// VerifyAccess checks a token and returns the claims the domain uses.
func (a AccessAdapter) VerifyAccess(token string) (auth.AccessClaims, error) {
	c, err := a.Issuer.Verify(token)
	if err != nil {
		return auth.AccessClaims{}, err
	}
	return auth.AccessClaims{
		Issuer: c.Issuer, Audience: c.Audience, Subject: c.Subject, SessionID: c.SessionID,
		ID: c.ID, IssuedAt: c.IssuedAt, Expiry: c.Expiry,
	}, nil
}

// RefreshAdapter is this package's refresh tokens as the domain's auth.RefreshTokens.
type RefreshAdapter struct{ Secrets *Secrets }

// NewRefresh returns a new random refresh token.
func (RefreshAdapter) NewRefresh() (string, error) { return NewRefreshToken() }

// HashRefresh is the stored form of a refresh token.
func (RefreshAdapter) HashRefresh(t string) []byte { return HashRefresh(t) }

// RefreshSuccessor derives a token's successor.
func (r RefreshAdapter) RefreshSuccessor(t string) string { return r.Secrets.RefreshSuccessor(t) }

// ValidRefreshFormat reports whether t looks like one of our refresh tokens.
func (RefreshAdapter) ValidRefreshFormat(t string) bool { return ValidRefreshFormat(t) }
