// Package auth is the domain of kakaoauth: users, their Kakao identities, sessions and refresh
// tokens, and the Service that logs people in. It imports only the standard library; storage,
// Kakao and HTTP live in packages of their own that depend on this one.
package auth

import (
	"context"
	"time"
)

// ProviderKakao is the provider name of identities that come from Kakao.
const ProviderKakao = "kakao"

// User is a person known to the service.
type User struct {
	ID              string
	KakaoID         string // decimal Kakao user id (up to 19 digits); "" if the user has no Kakao identity
	Nickname        string // "" when Kakao gave none
	Email           string // "" when Kakao gave none or it was not valid and verified
	EmailVerified   bool
	ProfileImageURL string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	LastLoginAt     time.Time
}

// Profile is what an identity provider says about a person at login.
type Profile struct {
	Provider        string // ProviderKakao
	Subject         string // the provider's user id, as a decimal string for Kakao
	Nickname        string
	Email           string // only set when the provider says it is valid and verified
	EmailVerified   bool
	ProfileImageURL string
	// Link is what the login says about the Kakao link (kakaolink.go); nil: nothing. A
	// pointer keeps Profile comparable. Not stored by LoginUser.
	Link *LinkInfo
}

// Session is one signed-in device: a refresh-token family.
type Session struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time // absolute end of the session; rotation never extends it past this
	RevokedAt  time.Time // zero while active
	UserAgent  string
	IP         string
	Flow       string // "browser", "spa", "sdk"
}

// Active reports whether the session can still be used at now.
func (s Session) Active(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// RefreshToken is the stored form of a refresh token: only its hash is kept.
type RefreshToken struct {
	Hash       []byte // SHA-256 of the token
	SessionID  string
	ParentHash []byte // nil for the first token of a session
	Generation int    // 0 for the first token, +1 on every rotation
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RotatedAt  time.Time // zero until it is exchanged for its successor
	RevokedAt  time.Time // zero while not revoked
}

// SigningKey is one of our token-signing keys as stored: the private part sealed.
type SigningKey struct {
	ID            string // kid
	Algorithm     string // "ES256"
	PrivateSealed []byte // private key, encrypted with a key derived from KAKAOAUTH_SECRET
	PublicJWK     []byte // public JWK JSON
	CreatedAt     time.Time
	NotBefore     time.Time // first moment it signs
	RetiredAt     time.Time // zero while signing; after it, verifies only until RetiredAt+overlap
}

// AuditEvent records something security-relevant that happened.
type AuditEvent struct {
	Time      time.Time
	Type      string // "login", "register", "refresh_reuse", "logout", "logout_all", ...
	UserID    string
	SessionID string
	IP        string
	Detail    string
}

// RotateOutcome says what a refresh-token exchange did.
type RotateOutcome int

const (
	// Rotated means the token was active and has been exchanged for its successor.
	Rotated RotateOutcome = iota + 1
	// GraceReplay means the token had been rotated within the grace period: the existing
	// successor chain is answered again (see RotateResult.CurrentGeneration).
	GraceReplay
	// Reused means a rotated token was presented after the grace period; the whole session
	// (family) has been revoked, and that revocation is committed.
	Reused
	// Expired means the token or its session is past its end.
	Expired
	// Revoked means the token's session has been revoked (logout, reuse, deletion).
	Revoked
	// NotFound means no such token is stored.
	NotFound
	// GraceExceeded means a rotated token was replayed within the grace period more often than
	// RotateRequest.GraceMax allows: refused, and nothing else changes (the family stays
	// alive, so the client that holds the successor is not logged out).
	GraceExceeded
)

func (o RotateOutcome) String() string {
	switch o {
	case Rotated:
		return "rotated"
	case GraceReplay:
		return "grace_replay"
	case Reused:
		return "reused"
	case Expired:
		return "expired"
	case Revoked:
		return "revoked"
	case NotFound:
		return "not_found"
	case GraceExceeded:
		return "grace_exceeded"
	}
	return "unknown"
}

// RotateRequest asks the store to exchange a refresh token for its successor in one transaction.
type RotateRequest struct {
	Hash          []byte        // hash of the presented token
	SuccessorHash []byte        // hash of the successor the presented token derives
	Now           time.Time     //
	Grace         time.Duration // a rotated token presented within Grace of its rotation is a GraceReplay
	GraceMax      int           // > 0: at most this many grace replays per token, then GraceExceeded
	ExpiresAt     time.Time     // expiry of the successor (the store caps it at the session's ExpiresAt)
}

// RotateResult is what a rotation found and did.
type RotateResult struct {
	Outcome RotateOutcome
	Session Session // set unless NotFound
	// Generation is the generation of the presented token.
	Generation int
	// CurrentGeneration is the generation of the family's active token after the call: for Rotated
	// it is Generation+1; for GraceReplay it is the newest active descendant, which the caller
	// derives again from the presented token.
	CurrentGeneration int
	// SuccessorExpiresAt is the expiry of the token at CurrentGeneration.
	SuccessorExpiresAt time.Time
}

// Store is everything the domain keeps. Implementations: internal/sqlite (and internal/postgres),
// all passing internal/storetest. Every method is safe for concurrent use, and every method that
// writes does so in one transaction: no half-written user, session or rotation survives an error.
//
// Errors: ErrNotFound for missing rows; anything else is an internal fault (the server answers 503).
type Store interface {
	// LoginUser finds the user of p's identity (provider, subject) or creates it, updates the
	// profile fields, sets LastLoginAt to now, and creates sess with its first refresh token rt,
	// all in one transaction; ErrUserDisabled (and nothing written) when the user is disabled.
	// Concurrent first logins of one identity yield one user.
	// The caller sets sess.ID (and rt.SessionID to the same value); the store must keep that id
	// and fills in sess.UserID. created reports a new user, whose id the store makes with
	// NewID(now), so that every id comes from one scheme and one (the caller's) clock. Ids are
	// opaque: rows stored earlier may have ids of another form, and no one parses them.
	LoginUser(ctx context.Context, p Profile, sess Session, rt RefreshToken, now time.Time) (u User, created bool, err error)
	// User returns a user by id.
	User(ctx context.Context, id string) (User, error)
	// UserBySession returns the user of an active session (not revoked, not expired at now);
	// ErrNotFound otherwise. It is on the hot path of every authenticated request.
	UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (User, error)
	// Rotate exchanges a refresh token, as RotateRequest and RotateOutcome describe, in one
	// transaction that reads the token's state, applies DecideRotation and performs the steps it
	// names.
	Rotate(ctx context.Context, req RotateRequest) (RotateResult, error)
	// SessionByRefresh returns the session of a stored refresh-token hash (any state).
	SessionByRefresh(ctx context.Context, hash []byte) (Session, error)
	// Sessions lists a user's active sessions, newest first.
	Sessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// RevokeSession revokes one session and its tokens; revoking a revoked one is not an error.
	// ErrNotFound if no such session belongs to userID (userID "" matches any).
	RevokeSession(ctx context.Context, userID, sessionID string, now time.Time) error
	// RevokeUserSessions revokes every session of a user and returns how many were active.
	RevokeUserSessions(ctx context.Context, userID string, now time.Time) (int, error)
	// ConsumeOnce records key (e.g. a state or nonce hash) as used until expiresAt and reports
	// whether this was its first use. Expired keys are purged.
	ConsumeOnce(ctx context.Context, key []byte, expiresAt, now time.Time) (first bool, err error)
	// SigningKeys returns every stored signing key, oldest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey stores a new signing key.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// RetireSigningKey marks a key as no longer signing from at.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	// DeleteSigningKey removes a key (after its overlap has passed).
	DeleteSigningKey(ctx context.Context, id string) error
	// DeleteUser deletes a user with everything that hangs off it (identities, sessions, refresh
	// tokens) in one transaction; audit events stay. ErrNotFound if there is no such user.
	DeleteUser(ctx context.Context, userID string) error
	// DeleteUserByIdentity deletes the user of identity (provider, subject) as DeleteUser does and
	// returns its id; ErrNotFound if no user has that identity. Of concurrent calls for one
	// identity exactly one deletes; the others get ErrNotFound.
	DeleteUserByIdentity(ctx context.Context, provider, subject string) (userID string, err error)
	// ListUsers lists users as f selects them, newest (greatest id) first, at most f.Limit.
	// Sessions counts are of sessions active at now.
	ListUsers(ctx context.Context, f UserFilter, now time.Time) ([]UserRecord, error)
	// UserRecord returns one user as ListUsers does; ErrNotFound if there is no such user.
	UserRecord(ctx context.Context, id string, now time.Time) (UserRecord, error)
	// SetUserDisabled disables a user from at (revoking every session and refresh token of theirs in
	// the same transaction), or enables it again when at is zero; nothing else changes.
	// ErrNotFound if there is no such user.
	SetUserDisabled(ctx context.Context, id string, at time.Time) error
	// Audit appends an audit event.
	Audit(ctx context.Context, e AuditEvent) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
