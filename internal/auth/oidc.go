package auth

import (
	"context"
	"time"
)

// OIDCClient is an application registered to sign people in through our OpenID Provider.
type OIDCClient struct {
	ID                     string
	Name                   string
	SecretHash             []byte // SHA-256 of the client secret; nil for a public client
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool   // no secret: token requests authenticate with PKCE (S256) only
	FirstParty             bool   // our own application: no consent page
	IDTokenAlg             string // "RS256" (default) or "ES256"
	CreatedAt              time.Time
}

// OIDCAuthRequest is one authorization request of a client, from /oauth2/authorize until its
// code is redeemed (or it expires). Data is the provider's encoding of the request; the store
// keeps it as it is.
type OIDCAuthRequest struct {
	ID        string
	ClientID  string
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	// Set when the person has signed in and agreed.
	UserID         string
	BrowserSession string // our session (cookie) the person was signed in with
	AuthTime       time.Time
	CodeHash       []byte    // SHA-256 of the authorization code, once issued
	CodeUsedAt     time.Time // first redemption of the code
	GrantSessionID string    // the session (token family) the code's tokens belong to
}

// OIDCGrant ties a client's tokens to one of our sessions: revoking the session (logout, reuse,
// account deletion, Kakao unlink, disabling the user, deleting the client) ends the tokens.
type OIDCGrant struct {
	SessionID      string
	ClientID       string
	UserID         string
	Scopes         []string
	AuthTime       time.Time
	BrowserSession string // the session the person was signed in with when they authorized
}

// OIDCConsent is what a person agreed a third-party client may receive.
type OIDCConsent struct {
	UserID     string
	ClientID   string
	ClientName string // filled in by Consents
	Scopes     []string
	CreatedAt  time.Time
}

// OIDCStore is what the OpenID Provider keeps, beside Store. Implementations: internal/sqlite
// and internal/postgres, both passing storetest.RunOIDC. ErrNotFound for missing rows.
type OIDCStore interface {
	// CreateClient stores a new client; an error if the id exists.
	CreateClient(ctx context.Context, c OIDCClient) error
	// Client returns a client by id.
	Client(ctx context.Context, id string) (OIDCClient, error)
	// Clients lists every client, oldest first.
	Clients(ctx context.Context) ([]OIDCClient, error)
	// SetClientSecret replaces the secret hash of a confidential client.
	SetClientSecret(ctx context.Context, id string, hash []byte) error
	// DeleteClient deletes a client, its consents and auth requests, and revokes the sessions of
	// its grants, in one transaction.
	DeleteClient(ctx context.Context, id string, now time.Time) error

	// SaveAuthRequest stores a new auth request and purges expired ones.
	SaveAuthRequest(ctx context.Context, r OIDCAuthRequest, now time.Time) error
	// AuthRequest returns an auth request that has not expired at now.
	AuthRequest(ctx context.Context, id string, now time.Time) (OIDCAuthRequest, error)
	// CompleteAuthRequest records who signed in for an auth request (not yet completed or with a
	// code); ErrNotFound otherwise.
	CompleteAuthRequest(ctx context.Context, id, userID, browserSession string, authTime time.Time) error
	// SetAuthCode records the hash of the code issued for a completed auth request.
	SetAuthCode(ctx context.Context, id string, codeHash []byte) error
	// ClaimAuthCode finds the auth request of a code and marks the code used, atomically. A code
	// that was used before is returned with reused = true (and CodeUsedAt and GrantSessionID of
	// the first use); ErrNotFound when no unexpired request has that code.
	ClaimAuthCode(ctx context.Context, codeHash []byte, now time.Time) (r OIDCAuthRequest, reused bool, err error)
	// SetAuthRequestGrant records the session the tokens of a redeemed code belong to.
	SetAuthRequestGrant(ctx context.Context, id, grantSessionID string) error
	// DeleteAuthRequest removes an auth request; a missing one is not an error.
	DeleteAuthRequest(ctx context.Context, id string) error

	// CreateGrant stores sess (for the user g.UserID) with its first refresh token rt (nil: none)
	// and the grant g, in one transaction; ErrUserDisabled when the user is disabled, ErrNotFound
	// when the user or the client does not exist.
	CreateGrant(ctx context.Context, g OIDCGrant, sess Session, rt *RefreshToken) error
	// Grant returns the grant of a session and the session (in any state).
	Grant(ctx context.Context, sessionID string) (OIDCGrant, Session, error)
	// RevokeClientGrants revokes every session of the grants of (userID, clientID) and the
	// browser sessions they were authorized from; it returns how many grant sessions were
	// active at now.
	RevokeClientGrants(ctx context.Context, userID, clientID string, now time.Time) (int, error)
	// SessionByID returns one session in any state.
	SessionByID(ctx context.Context, id string) (Session, error)

	// Consent returns what userID agreed clientID may receive.
	Consent(ctx context.Context, userID, clientID string) (OIDCConsent, error)
	// SaveConsent stores (or replaces) a consent.
	SaveConsent(ctx context.Context, c OIDCConsent) error
	// Consents lists a user's consents with the clients' names, newest first.
	Consents(ctx context.Context, userID string) ([]OIDCConsent, error)
	// DeleteConsent withdraws a consent and revokes the client's grants of that user (as
	// RevokeClientGrants, but not the browser sessions); ErrNotFound if there was none.
	DeleteConsent(ctx context.Context, userID, clientID string, now time.Time) error
}
