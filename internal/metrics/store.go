package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// Store methods, indexes into the pre-resolved observers.
const (
	opLoginUser = iota
	opUser
	opUserBySession
	opRotate
	opSessionByRefresh
	opSessions
	opRevokeSession
	opRevokeUserSessions
	opConsumeOnce
	opSigningKeys
	opAddSigningKey
	opRetireSigningKey
	opDeleteSigningKey
	opDeleteUser
	opDeleteUserByIdentity
	opAudit
	opListUsers
	opUserRecord
	opSetUserDisabled
	opPing
	opClose
	numOps
)

var opNames = [numOps]string{
	"LoginUser", "User", "UserBySession", "Rotate", "SessionByRefresh", "Sessions", "RevokeSession",
	"RevokeUserSessions", "ConsumeOnce", "SigningKeys", "AddSigningKey", "RetireSigningKey",
	"DeleteSigningKey", "DeleteUser", "DeleteUserByIdentity", "Audit", "ListUsers", "UserRecord",
	"SetUserDisabled", "Ping", "Close",
}

// Outcomes of a store call.
const (
	dbOK = iota
	dbNotFound
	dbError
	numDBOutcomes
)

var dbOutcomeNames = [numDBOutcomes]string{"ok", "not_found", "error"}

// Store wraps s so that every method is timed into kakaoauth_db_duration_seconds by method and
// outcome (ok, not_found for auth.ErrNotFound, error). It also counts, from what the store
// reports, new users (LoginUser's created) and refresh outcomes (every Rotate, or "error"): a
// server that wraps its store need not call NewUser or Refresh for those. On a nil *Metrics it
// returns s unchanged.
func Store(s auth.Store, m *Metrics) auth.Store {
	if m == nil || s == nil {
		return s
	}
	ts := &timedStore{Store: s, m: m}
	for op := range ts.obs {
		for o := range ts.obs[op] {
			ts.obs[op][o] = lazyObserver{vec: m.db, a: opNames[op], b: dbOutcomeNames[o]}
		}
	}
	return ts
}

// timedStore embeds the store so that a method added to auth.Store later still works (untimed
// until it is added here; the package's tests catch that).
type timedStore struct {
	auth.Store
	m   *Metrics
	obs [numOps][numDBOutcomes]lazyObserver
}

func (s *timedStore) done(op int, start time.Time, err error) {
	o := dbOK
	switch {
	case err == nil:
	case errors.Is(err, auth.ErrNotFound):
		o = dbNotFound
	default:
		o = dbError
	}
	s.obs[op][o].Observe(time.Since(start).Seconds())
}

func (s *timedStore) LoginUser(ctx context.Context, p auth.Profile, sess auth.Session, rt auth.RefreshToken, now time.Time) (auth.User, bool, error) {
	start := time.Now()
	u, created, err := s.Store.LoginUser(ctx, p, sess, rt, now)
	s.done(opLoginUser, start, err)
	if err == nil && created {
		s.m.NewUser()
	}
	return u, created, err
}

func (s *timedStore) User(ctx context.Context, id string) (auth.User, error) {
	start := time.Now()
	u, err := s.Store.User(ctx, id)
	s.done(opUser, start, err)
	return u, err
}

func (s *timedStore) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (auth.User, error) {
	start := time.Now()
	u, err := s.Store.UserBySession(ctx, userID, sessionID, now)
	s.done(opUserBySession, start, err)
	return u, err
}

func (s *timedStore) Rotate(ctx context.Context, req auth.RotateRequest) (auth.RotateResult, error) {
	start := time.Now()
	res, err := s.Store.Rotate(ctx, req)
	s.done(opRotate, start, err)
	if err != nil {
		s.m.Refresh("error")
	} else {
		s.m.Refresh(res.Outcome.String())
	}
	return res, err
}

func (s *timedStore) SessionByRefresh(ctx context.Context, hash []byte) (auth.Session, error) {
	start := time.Now()
	sess, err := s.Store.SessionByRefresh(ctx, hash)
	s.done(opSessionByRefresh, start, err)
	return sess, err
}

func (s *timedStore) Sessions(ctx context.Context, userID string, now time.Time) ([]auth.Session, error) {
	start := time.Now()
	list, err := s.Store.Sessions(ctx, userID, now)
	s.done(opSessions, start, err)
	return list, err
}

func (s *timedStore) RevokeSession(ctx context.Context, userID, sessionID string, now time.Time) error {
	start := time.Now()
	err := s.Store.RevokeSession(ctx, userID, sessionID, now)
	s.done(opRevokeSession, start, err)
	return err
}

func (s *timedStore) RevokeUserSessions(ctx context.Context, userID string, now time.Time) (int, error) {
	start := time.Now()
	n, err := s.Store.RevokeUserSessions(ctx, userID, now)
	s.done(opRevokeUserSessions, start, err)
	return n, err
}

func (s *timedStore) ConsumeOnce(ctx context.Context, key []byte, expiresAt, now time.Time) (bool, error) {
	start := time.Now()
	first, err := s.Store.ConsumeOnce(ctx, key, expiresAt, now)
	s.done(opConsumeOnce, start, err)
	return first, err
}

func (s *timedStore) SigningKeys(ctx context.Context) ([]auth.SigningKey, error) {
	start := time.Now()
	keys, err := s.Store.SigningKeys(ctx)
	s.done(opSigningKeys, start, err)
	return keys, err
}

func (s *timedStore) AddSigningKey(ctx context.Context, k auth.SigningKey) error {
	start := time.Now()
	err := s.Store.AddSigningKey(ctx, k)
	s.done(opAddSigningKey, start, err)
	return err
}

func (s *timedStore) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	start := time.Now()
	err := s.Store.RetireSigningKey(ctx, id, at)
	s.done(opRetireSigningKey, start, err)
	return err
}

func (s *timedStore) DeleteSigningKey(ctx context.Context, id string) error {
	start := time.Now()
	err := s.Store.DeleteSigningKey(ctx, id)
	s.done(opDeleteSigningKey, start, err)
	return err
}

func (s *timedStore) DeleteUser(ctx context.Context, userID string) error {
	start := time.Now()
	err := s.Store.DeleteUser(ctx, userID)
	s.done(opDeleteUser, start, err)
	return err
}

func (s *timedStore) DeleteUserByIdentity(ctx context.Context, provider, subject string) (string, error) {
	start := time.Now()
	id, err := s.Store.DeleteUserByIdentity(ctx, provider, subject)
	s.done(opDeleteUserByIdentity, start, err)
	return id, err
}

func (s *timedStore) Audit(ctx context.Context, e auth.AuditEvent) error {
	start := time.Now()
	err := s.Store.Audit(ctx, e)
	s.done(opAudit, start, err)
	return err
}

func (s *timedStore) ListUsers(ctx context.Context, f auth.UserFilter, now time.Time) ([]auth.UserRecord, error) {
	start := time.Now()
	list, err := s.Store.ListUsers(ctx, f, now)
	s.done(opListUsers, start, err)
	return list, err
}

func (s *timedStore) UserRecord(ctx context.Context, id string, now time.Time) (auth.UserRecord, error) {
	start := time.Now()
	r, err := s.Store.UserRecord(ctx, id, now)
	s.done(opUserRecord, start, err)
	return r, err
}

func (s *timedStore) SetUserDisabled(ctx context.Context, id string, at time.Time) error {
	start := time.Now()
	err := s.Store.SetUserDisabled(ctx, id, at)
	s.done(opSetUserDisabled, start, err)
	return err
}

func (s *timedStore) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.Store.Ping(ctx)
	s.done(opPing, start, err)
	return err
}

func (s *timedStore) Close() error {
	start := time.Now()
	err := s.Store.Close()
	s.done(opClose, start, err)
	return err
}
