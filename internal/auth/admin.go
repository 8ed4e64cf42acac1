package auth

import (
	"context"
	"errors"
	"time"
)

// ErrUserDisabled is returned by Store.LoginUser when the identity's user has been disabled.
var ErrUserDisabled = errors.New("user disabled")

// Page sizes of ListUsers.
const (
	DefaultUserLimit = 50
	MaxUserLimit     = 500
)

// UserFilter selects users for an operator.
type UserFilter struct {
	// Query, when set, matches a user whose id, Kakao id or email (ignoring ASCII case) equals
	// it, or whose nickname contains it.
	Query string
	// After is the id of the last user of the previous page: the page holds the users whose ids
	// sort before it. "" starts at the newest.
	After string
	// Limit is the most users to return (DefaultUserLimit when 0, capped at MaxUserLimit).
	Limit int
}

// UserRecord is a user as an operator sees it.
type UserRecord struct {
	User
	DisabledAt     time.Time // zero while the user may log in
	Identities     int       // linked provider identities
	ActiveSessions int       // sessions neither revoked nor expired
}

// PageSize is f.Limit as a store applies it: DefaultUserLimit for 0 (or less), at most
// MaxUserLimit.
func (f UserFilter) PageSize() int {
	if f.Limit <= 0 {
		return DefaultUserLimit
	}
	return min(f.Limit, MaxUserLimit)
}

// Disabled reports whether the user is disabled.
func (r UserRecord) Disabled() bool { return !r.DisabledAt.IsZero() }

// ListUsers lists users for an operator, newest first; f.Limit is clamped to MaxUserLimit.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]UserRecord, error) {
	if f.Limit < 0 {
		return nil, Errorf(ECodeInvalidRequest, "limit must not be negative")
	}
	f.Limit = f.PageSize()
	list, err := s.cfg.Store.ListUsers(ctx, f, s.cfg.Now().UTC())
	if err != nil {
		return nil, storeErr("list users", err)
	}
	return list, nil
}

// UserRecord returns one user for an operator; not_found names the id.
func (s *Service) UserRecord(ctx context.Context, id string) (UserRecord, error) {
	r, err := s.cfg.Store.UserRecord(ctx, id, s.cfg.Now().UTC())
	if errors.Is(err, ErrNotFound) {
		return UserRecord{}, noSuchUser(id)
	}
	if err != nil {
		return UserRecord{}, storeErr("read user", err)
	}
	return r, nil
}

// DisableUser stops a user from logging in and ends every session of theirs; their data stays.
func (s *Service) DisableUser(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, s.cfg.Now().UTC(), "user_disable")
}

// EnableUser lets a disabled user log in again.
func (s *Service) EnableUser(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, time.Time{}, "user_enable")
}

func (s *Service) setDisabled(ctx context.Context, id string, at time.Time, event string) error {
	err := s.cfg.Store.SetUserDisabled(ctx, id, at)
	if errors.Is(err, ErrNotFound) {
		return noSuchUser(id)
	}
	if err != nil {
		return storeErr(event, err)
	}
	s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: event, UserID: id, Detail: "by=operator"})
	return nil
}

// DeleteUser deletes a user with their identities and sessions, for an operator. Unlike
// DeleteAccount it does not unlink the user at Kakao: the person can sign up again.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	err := s.cfg.Store.DeleteUser(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return noSuchUser(id)
	}
	if err != nil {
		return storeErr("delete user", err)
	}
	s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: "user_delete", UserID: id, Detail: "by=operator"})
	return nil
}

// UserSessions lists the active sessions of a user who exists, for an operator.
func (s *Service) UserSessions(ctx context.Context, id string) ([]Session, error) {
	if _, err := s.UserRecord(ctx, id); err != nil {
		return nil, err
	}
	return s.Sessions(ctx, id)
}

// RevokeAnySession signs out a session of any user, for an operator.
func (s *Service) RevokeAnySession(ctx context.Context, sessionID string) error {
	now := s.cfg.Now().UTC()
	err := s.cfg.Store.RevokeSession(ctx, "", sessionID, now)
	if errors.Is(err, ErrNotFound) {
		return Errorf(ECodeNotFound, "no session %q", sessionID)
	}
	if err != nil {
		return storeErr("revoke session", err)
	}
	s.audit(ctx, AuditEvent{Time: now, Type: "session_revoke", SessionID: sessionID, Detail: "by=operator"})
	return nil
}

func noSuchUser(id string) *Error { return Errorf(ECodeNotFound, "no user %q", id) }
