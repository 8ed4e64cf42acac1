// Package sessioncache keeps the answer of the session check of authenticated requests
// (auth.Store.UserBySession, the database read of every GET /auth/me) for a short time in the
// process, so that a burst of requests with one access token reads the database once.
//
// Bounds: a session revoked, a user deleted or disabled through this process is seen at once
// (every revoking call through the Store voids the user's entries); one revoked on another
// replica, and a session that ends, are seen within TTL (default 1 s) on the caller's clock.
package sessioncache

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// DefaultTTL is the cache's bound on how stale a session check may be.
const DefaultTTL = time.Second

// maxPerShard bounds memory: a full shard is emptied.
const maxPerShard = 4096

// Store is an auth.Store whose UserBySession answers from the cache within TTL.
type Store struct {
	auth.Store
	ttl    time.Duration
	seed   maphash.Seed
	gen    atomic.Uint64 // bumped by revoking calls of unknown users: older entries are void
	shards [32]shard
}

type shard struct {
	mu sync.Mutex
	n  int
	m  map[string]map[string]entry // user id → session id → entry
}

type entry struct {
	u   auth.User
	at  time.Time // the caller's now when it was read
	gen uint64
}

// New wraps st; ttl ≤ 0 means DefaultTTL.
func New(st auth.Store, ttl time.Duration) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	s := &Store{Store: st, ttl: ttl, seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = map[string]map[string]entry{}
	}
	return s
}

func (s *Store) shard(userID string) *shard {
	return &s.shards[maphash.String(s.seed, userID)%uint64(len(s.shards))]
}

// UserBySession answers from the cache when the same session was found active less than TTL
// ago (on the clock of now) and nothing of its user was revoked through this process since;
// otherwise it asks the store. Only found sessions are cached.
func (s *Store) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (auth.User, error) {
	sh := s.shard(userID)
	gen := s.gen.Load()
	sh.mu.Lock()
	e, ok := sh.m[userID][sessionID]
	sh.mu.Unlock()
	if ok && e.gen == gen {
		if age := now.Sub(e.at); age >= 0 && age < s.ttl {
			return e.u, nil
		}
	}
	u, err := s.Store.UserBySession(ctx, userID, sessionID, now)
	if err != nil {
		return u, err
	}
	sh.mu.Lock()
	if sh.n >= maxPerShard {
		clear(sh.m)
		sh.n = 0
	}
	sess := sh.m[userID]
	if sess == nil {
		sess = map[string]entry{}
		sh.m[userID] = sess
	}
	if _, ok := sess[sessionID]; !ok {
		sh.n++
	}
	sess[sessionID] = entry{u: u, at: now, gen: gen}
	sh.mu.Unlock()
	return u, nil
}

// forget voids the entries of one user, or of everyone for "".
func (s *Store) forget(userID string) {
	if userID == "" {
		s.gen.Add(1)
		return
	}
	sh := s.shard(userID)
	sh.mu.Lock()
	sh.n -= len(sh.m[userID])
	delete(sh.m, userID)
	sh.mu.Unlock()
}

// The calls that end sessions or change what a check answers void the entries of their user
// after the write. A check that read before the write and stores its answer after the void can
// keep the old answer at most TTL.

func (s *Store) Rotate(ctx context.Context, req auth.RotateRequest) (auth.RotateResult, error) {
	res, err := s.Store.Rotate(ctx, req)
	if err == nil && res.Outcome == auth.Reused {
		s.forget(res.Session.UserID)
	}
	return res, err
}

func (s *Store) RevokeSession(ctx context.Context, userID, sessionID string, now time.Time) error {
	err := s.Store.RevokeSession(ctx, userID, sessionID, now)
	s.forget(userID)
	return err
}

func (s *Store) RevokeUserSessions(ctx context.Context, userID string, now time.Time) (int, error) {
	n, err := s.Store.RevokeUserSessions(ctx, userID, now)
	s.forget(userID)
	return n, err
}

func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	err := s.Store.DeleteUser(ctx, userID)
	s.forget(userID)
	return err
}

func (s *Store) DeleteUserByIdentity(ctx context.Context, provider, subject string) (string, error) {
	id, err := s.Store.DeleteUserByIdentity(ctx, provider, subject)
	if err == nil {
		s.forget(id)
	}
	return id, err
}

func (s *Store) SetUserDisabled(ctx context.Context, id string, at time.Time) error {
	err := s.Store.SetUserDisabled(ctx, id, at)
	s.forget(id)
	return err
}

// LoginUser changes the profile that cached answers of the user show.
func (s *Store) LoginUser(ctx context.Context, p auth.Profile, sess auth.Session, rt auth.RefreshToken, now time.Time) (auth.User, bool, error) {
	u, created, err := s.Store.LoginUser(ctx, p, sess, rt, now)
	if err == nil && !created {
		s.forget(u.ID)
	}
	return u, created, err
}
