package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// AccessClaims are the claims of one of our access tokens that the domain needs.
type AccessClaims struct {
	Issuer    string
	Audience  []string
	Subject   string // user id
	SessionID string
	ID        string // jti
	IssuedAt  time.Time
	Expiry    time.Time
}

// AccessTokens signs and verifies our access tokens (internal/tokens).
type AccessTokens interface {
	// SignAccess issues an access token for a user's session.
	SignAccess(userID, sessionID string) (token string, expiry time.Time, err error)
	// VerifyAccess checks a token's signature and claims. Any failure means an invalid token.
	VerifyAccess(token string) (AccessClaims, error)
}

// RefreshTokens makes and derives refresh tokens (internal/tokens).
type RefreshTokens interface {
	NewRefresh() (string, error)
	HashRefresh(token string) []byte
	// RefreshSuccessor derives the successor of a token deterministically, so a replay within
	// the grace period answers the same successor without any plaintext being stored.
	RefreshSuccessor(token string) string
	ValidRefreshFormat(token string) bool
}

// CodeExchange is an authorization code to trade at the identity provider.
type CodeExchange struct {
	Code         string
	RedirectURI  string
	CodeVerifier string
	Nonce        string // expected ID-token nonce; "" when the client sent none
}

// Identities resolves proof of a Kakao login into a Profile. Its errors are *Error with codes the
// boundary can show (invalid_grant, kakao_unavailable, …).
type Identities interface {
	ExchangeCode(ctx context.Context, ex CodeExchange) (Profile, error)
}

// Config configures a Service.
type Config struct {
	Store      Store
	Access     AccessTokens
	Refresh    RefreshTokens
	Identities Identities
	// SDK checks Kakao SDK tokens (the mobile flow); nil turns that flow off.
	SDK SDKIdentities
	// Unlinker unlinks deleted accounts at Kakao; nil skips the unlink.
	Unlinker Unlinker
	// Authorizer starts and ends the browser flow at Kakao; nil turns that flow off.
	Authorizer Authorizer
	// Outbox, when set, takes the work that must survive a failure: the retried Kakao unlink of
	// a deleted account and the unlink webhook's deletion (internal/events does it).
	Outbox Outbox
	// OnOutbox, when set, is called after work was queued (it wakes the worker).
	OnOutbox func()
	// Kakao holds the Kakao link extras (kakaolink.go); the zero value keeps none.
	Kakao KakaoConfig
	// RefreshTTL is a session's absolute lifetime; rotation never extends it.
	RefreshTTL time.Duration
	// RefreshGrace is how long a rotated refresh token still answers its successor.
	RefreshGrace time.Duration
	// RefreshGraceMax caps how many times one rotated token is answered within the grace
	// period (two tabs, retries); the next replay is refused. 0: no cap.
	RefreshGraceMax int
	Now             func() time.Time
	Logger          *slog.Logger
	// Budgets limit logins per provider account and refreshes per user (limits.go); nil: none.
	Budgets AccountBudgets
}

// Service is the domain's use cases: log in, refresh, authenticate, log out.
type Service struct {
	cfg Config
	log *slog.Logger
	// kakaoRefreshMu serialises Kakao token refreshes per user (kakaolink.go): a user's
	// refreshes take the stripe of its id's hash, so the locks stay few however many users.
	kakaoRefreshMu [64]sync.Mutex
}

// NewService returns a Service; a zero RefreshTTL means 30 days.
func NewService(cfg Config) *Service {
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.RefreshGrace < 0 {
		cfg.RefreshGrace = 0
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: log}
}

// RefreshTTL is the absolute lifetime of a new session.
func (s *Service) RefreshTTL() time.Duration { return s.cfg.RefreshTTL }

// SessionMeta describes the client that starts or uses a session.
type SessionMeta struct {
	UserAgent string
	IP        string
	Flow      string // "browser", "spa", "sdk"
}

// Tokens is a pair of our tokens.
type Tokens struct {
	Access        string
	AccessExpiry  time.Time
	Refresh       string
	RefreshExpiry time.Time
}

// LoginResult is the outcome of a successful login.
type LoginResult struct {
	User    User
	Created bool
	Session Session
	Tokens  Tokens
	// NeedsConsent are the consent items the service asks for that the person has not agreed
	// to (kakaolink.go).
	NeedsConsent []string
	// Agreed are the consent items the person has agreed to at Kakao, as the login says.
	Agreed []string
}

// LoginWithCode trades a Kakao authorization code and signs the person in.
func (s *Service) LoginWithCode(ctx context.Context, ex CodeExchange, meta SessionMeta) (LoginResult, error) {
	p, err := s.cfg.Identities.ExchangeCode(ctx, ex)
	if err != nil {
		return LoginResult{}, err
	}
	return s.LoginWithProfile(ctx, p, meta)
}

// LoginWithProfile signs in the owner of an already verified profile: it finds or creates the
// user, updates the profile and starts a session.
func (s *Service) LoginWithProfile(ctx context.Context, p Profile, meta SessionMeta) (LoginResult, error) {
	p = CleanProfile(p)
	if p.Provider == "" || p.Subject == "" {
		return LoginResult{}, &Error{Code: ECodeKakaoError, Message: "identity provider returned no subject"}
	}
	now := s.cfg.Now().UTC()
	rt, err := s.cfg.Refresh.NewRefresh()
	if err != nil {
		return LoginResult{}, fmt.Errorf("new refresh token: %w", err)
	}
	sid := NewID(now)
	exp := now.Add(s.cfg.RefreshTTL)
	sess := Session{
		ID: sid, CreatedAt: now, LastUsedAt: now, ExpiresAt: exp,
		UserAgent: clip(meta.UserAgent, 256), IP: clip(meta.IP, 64), Flow: meta.Flow,
	}
	row := RefreshToken{Hash: s.cfg.Refresh.HashRefresh(rt), SessionID: sid, CreatedAt: now, ExpiresAt: exp}
	if err := s.takeLogin(ctx, p); err != nil {
		return LoginResult{}, err
	}
	u, created, err := s.cfg.Store.LoginUser(ctx, p, sess, row, now)
	if errors.Is(err, ErrUserDisabled) {
		s.chargeLoginFailure(ctx, p)
		s.audit(ctx, AuditEvent{Time: now, Type: "login_disabled", IP: sess.IP, Detail: p.Provider + "_id=" + p.Subject})
		return LoginResult{}, &Error{Code: ECodeAccountDisabled, Message: "this account has been disabled", Err: err}
	}
	if err != nil {
		return LoginResult{}, storeErr("log in user", err)
	}
	sess.UserID = u.ID
	access, aexp, err := s.cfg.Access.SignAccess(u.ID, sid)
	if err != nil {
		return LoginResult{}, fmt.Errorf("sign access token: %w", err)
	}
	s.recordKakaoLink(ctx, u.ID, p, now)
	return LoginResult{
		User: u, Created: created, Session: sess,
		Tokens:       Tokens{Access: access, AccessExpiry: aexp, Refresh: rt, RefreshExpiry: exp},
		NeedsConsent: p.Link.NeedsConsentOrNil(),
		Agreed:       p.Link.AgreedOrNil(),
	}, nil
}

// RefreshResult is the outcome of a successful refresh.
type RefreshResult struct {
	Session Session
	Tokens  Tokens
	Outcome RotateOutcome // Rotated or GraceReplay
}

// Refresh exchanges a refresh token for a new pair. A token rotated less than the grace period
// ago answers the same successor; one rotated longer ago revokes its whole session.
func (s *Service) Refresh(ctx context.Context, token string) (RefreshResult, error) {
	if !s.cfg.Refresh.ValidRefreshFormat(token) {
		return RefreshResult{}, &Error{Code: ECodeInvalidGrant, Message: "malformed refresh token"}
	}
	now := s.cfg.Now().UTC()
	succ := s.cfg.Refresh.RefreshSuccessor(token)
	res, err := s.cfg.Store.Rotate(ctx, RotateRequest{
		Hash: s.cfg.Refresh.HashRefresh(token), SuccessorHash: s.cfg.Refresh.HashRefresh(succ),
		Now: now, Grace: s.cfg.RefreshGrace, GraceMax: s.cfg.RefreshGraceMax, ExpiresAt: now.Add(s.cfg.RefreshTTL),
	})
	if err != nil {
		return RefreshResult{}, storeErr("rotate refresh token", err)
	}
	switch res.Outcome {
	case Rotated:
	case GraceReplay:
		// Walk from the presented token to the family's current one.
		succ = token
		for g := res.Generation; g < res.CurrentGeneration; g++ {
			succ = s.cfg.Refresh.RefreshSuccessor(succ)
		}
	case Reused:
		s.log.LogAttrs(ctx, slog.LevelWarn, "refresh token reused after rotation; session revoked",
			slog.String("user_id", res.Session.UserID), slog.String("session_id", res.Session.ID))
		s.audit(ctx, AuditEvent{Time: now, Type: "refresh_reuse", UserID: res.Session.UserID, SessionID: res.Session.ID})
		return s.refreshFailed(ctx, res, &Error{Code: ECodeInvalidGrant, Message: "refresh token was already used; the session has been revoked"})
	case GraceExceeded:
		s.log.LogAttrs(ctx, slog.LevelWarn, "rotated refresh token replayed too often within the grace period; refused",
			slog.String("user_id", res.Session.UserID), slog.String("session_id", res.Session.ID))
		s.audit(ctx, AuditEvent{Time: now, Type: "refresh_grace_exceeded", UserID: res.Session.UserID, SessionID: res.Session.ID})
		return s.refreshFailed(ctx, res, &Error{Code: ECodeInvalidGrant, Message: "refresh token was already used; use the newest one"})
	case Expired:
		return s.refreshFailed(ctx, res, &Error{Code: ECodeInvalidGrant, Message: "refresh token expired"})
	case Revoked:
		return s.refreshFailed(ctx, res, &Error{Code: ECodeInvalidGrant, Message: "session revoked"})
	default:
		return s.refreshFailed(ctx, res, &Error{Code: ECodeInvalidGrant, Message: "unknown refresh token"})
	}
	s.chargeRefresh(ctx, res.Session.UserID, false)
	access, aexp, err := s.cfg.Access.SignAccess(res.Session.UserID, res.Session.ID)
	if err != nil {
		return RefreshResult{}, fmt.Errorf("sign access token: %w", err)
	}
	rexp := res.SuccessorExpiresAt
	if rexp.IsZero() {
		rexp = res.Session.ExpiresAt
	}
	return RefreshResult{
		Session: res.Session, Outcome: res.Outcome,
		Tokens: Tokens{Access: access, AccessExpiry: aexp, Refresh: succ, RefreshExpiry: rexp},
	}, nil
}

// Authenticate checks an access token and that its session is still active, and returns the
// user. Every failure that is the token's fault is invalid_token.
func (s *Service) Authenticate(ctx context.Context, token string) (User, AccessClaims, error) {
	c, err := s.cfg.Access.VerifyAccess(token)
	if err != nil {
		return User{}, AccessClaims{}, &Error{Code: ECodeInvalidToken, Message: "invalid access token", Err: err}
	}
	u, err := s.cfg.Store.UserBySession(ctx, c.Subject, c.SessionID, s.cfg.Now())
	if errors.Is(err, ErrNotFound) {
		return User{}, AccessClaims{}, &Error{Code: ECodeInvalidToken, Message: "session ended"}
	}
	if err != nil {
		return User{}, AccessClaims{}, storeErr("read user", err)
	}
	return u, c, nil
}

// SessionOfRefresh returns the session a refresh token belongs to, in any state.
func (s *Service) SessionOfRefresh(ctx context.Context, token string) (Session, error) {
	if !s.cfg.Refresh.ValidRefreshFormat(token) {
		return Session{}, &Error{Code: ECodeInvalidGrant, Message: "malformed refresh token"}
	}
	sess, err := s.cfg.Store.SessionByRefresh(ctx, s.cfg.Refresh.HashRefresh(token))
	if errors.Is(err, ErrNotFound) {
		return Session{}, &Error{Code: ECodeInvalidGrant, Message: "unknown refresh token"}
	}
	if err != nil {
		return Session{}, storeErr("read session", err)
	}
	return sess, nil
}

// Logout revokes one session, or with all every session of its user.
func (s *Service) Logout(ctx context.Context, userID, sessionID string, all bool) error {
	now := s.cfg.Now().UTC()
	if all {
		if _, err := s.cfg.Store.RevokeUserSessions(ctx, userID, now); err != nil {
			return storeErr("revoke sessions", err)
		}
		s.audit(ctx, AuditEvent{Time: now, Type: "logout_all", UserID: userID, SessionID: sessionID})
		s.logoutAtKakao(ctx, userID)
		return nil
	}
	err := s.cfg.Store.RevokeSession(ctx, userID, sessionID, now)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return storeErr("revoke session", err)
	}
	s.audit(ctx, AuditEvent{Time: now, Type: "logout", UserID: userID, SessionID: sessionID})
	s.logoutAtKakao(ctx, userID)
	return nil
}

// User returns a user by id.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	u, err := s.cfg.Store.User(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, &Error{Code: ECodeNotFound, Message: "no such user"}
	}
	if err != nil {
		return User{}, storeErr("read user", err)
	}
	return u, nil
}

// ConsumeOnce marks key used and reports whether it was unused before (state, nonce replay).
func (s *Service) ConsumeOnce(ctx context.Context, key []byte, expiresAt time.Time) (bool, error) {
	first, err := s.cfg.Store.ConsumeOnce(ctx, key, expiresAt, s.cfg.Now().UTC())
	if err != nil {
		return false, storeErr("consume key", err)
	}
	return first, nil
}

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error {
	return s.cfg.Store.Ping(ctx)
}

func (s *Service) audit(ctx context.Context, e AuditEvent) {
	if err := s.cfg.Store.Audit(ctx, e); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "audit event not saved", slog.String("type", e.Type), slog.Any("err", err))
	}
}

// storeErr turns a store failure into a 503: a database fault is never the client's.
func storeErr(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, ErrConflict) {
		return &Error{Code: ECodeConflict, Message: op + ": concurrent change; retry", RetryAfter: time.Second, Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: ECodeUnavailable, Message: op + ": timed out", Err: err}
	}
	return &Error{Code: ECodeUnavailable, Message: op, Err: err}
}

// Field limits for profile data from Kakao.
const (
	maxNickname = 100
	maxEmail    = 320
	maxURL      = 2048
)

// CleanProfile makes provider data safe to store and show: valid UTF-8, no control or
// bidirectional-override characters, bounded lengths cut on rune boundaries, http(s) URLs only.
func CleanProfile(p Profile) Profile {
	p.Nickname = cleanText(p.Nickname, maxNickname)
	p.Email = cleanText(p.Email, maxEmail)
	if p.Email != "" && !strings.Contains(p.Email, "@") {
		p.Email = ""
	}
	if p.Email == "" {
		p.EmailVerified = false
	}
	u := cleanText(p.ProfileImageURL, maxURL)
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		u = ""
	}
	p.ProfileImageURL = u
	return p
}

func cleanText(s string, max int) string {
	if s == "" || isClean(s, max) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			if r == '\n' || r == '\t' || r == '\r' {
				r = ' '
			} else {
				continue
			}
		}
		if n == max {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// isClean reports whether cleanText would return s unchanged, without building a copy: valid
// UTF-8, no control or bidirectional-override characters, at most max runes, no outer spaces.
func isClean(s string, max int) bool {
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	n := 0
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || isBidiControl(r) || unicode.IsSpace(r) && r != ' ' {
			return false
		}
		n++
	}
	return n <= max
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}

func clip(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
