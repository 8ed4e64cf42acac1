package sessioncache_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/sessioncache"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// counting counts the session checks that reach the database.
type counting struct {
	auth.Store
	reads int
}

func (c *counting) UserBySession(ctx context.Context, u, s string, now time.Time) (auth.User, error) {
	c.reads++
	return c.Store.UserBySession(ctx, u, s, now)
}

func setup(t *testing.T) (*sqlite.DB, *counting, *sessioncache.Store) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &counting{Store: db}
	return db, c, sessioncache.New(c, time.Second)
}

func login(t *testing.T, st auth.Store, subject string) (auth.User, auth.Session) {
	t.Helper()
	h := make([]byte, 32)
	rand.Read(h)
	sess := auth.Session{ID: auth.NewID(t0), CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	u, _, err := st.LoginUser(context.Background(), auth.Profile{Provider: auth.ProviderKakao, Subject: subject},
		sess, auth.RefreshToken{Hash: h, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	sess.UserID = u.ID
	return u, sess
}

func check(t *testing.T, st auth.Store, s auth.Session, now time.Time) error {
	t.Helper()
	_, err := st.UserBySession(context.Background(), s.UserID, s.ID, now)
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		t.Fatal(err)
	}
	return err
}

// TestCache_052_RevokedHereIsSeenAtOnce: within the TTL the check reads the database once; a
// logout through this process is seen by the next check.
func TestCache_052_RevokedHereIsSeenAtOnce(t *testing.T) {
	_, c, cache := setup(t)
	_, s := login(t, cache, "1")
	for i := range 5 {
		if err := check(t, cache, s, t0.Add(time.Duration(i)*100*time.Millisecond)); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	if c.reads != 1 {
		t.Fatalf("5 checks within the TTL read the database %d times, want 1", c.reads)
	}
	if err := cache.RevokeSession(context.Background(), s.UserID, s.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := check(t, cache, s, t0.Add(500*time.Millisecond)); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("check after a logout through the cache: %v, want ErrNotFound at once", err)
	}
}

// TestCache_052_RevokedElsewhereIsSeenWithinTTL: a revocation the cache does not see (another
// replica) is seen once the TTL has passed on the caller's clock; so is a session's end, and
// other users' entries are untouched by one user's revocation.
func TestCache_052_RevokedElsewhereIsSeenWithinTTL(t *testing.T) {
	db, _, cache := setup(t)
	_, s := login(t, cache, "1")
	_, other := login(t, cache, "2")
	check(t, cache, s, t0)
	check(t, cache, other, t0)
	if err := db.RevokeSession(context.Background(), s.UserID, s.ID, t0); err != nil { // another replica
		t.Fatal(err)
	}
	if err := check(t, cache, s, t0.Add(900*time.Millisecond)); err != nil {
		t.Fatalf("within the TTL: %v, want the cached answer", err)
	}
	if err := check(t, cache, s, t0.Add(time.Second)); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("after the TTL: %v, want ErrNotFound", err)
	}
	if err := check(t, cache, other, t0.Add(2*time.Hour)); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("a session past its end: %v, want ErrNotFound (the clock moved past the TTL)", err)
	}
	if err := check(t, cache, s, t0.Add(-time.Minute)); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("a clock moved back: %v, want a fresh read", err)
	}
}

// TestCache_069_DeletedOrDisabledIsSeenAtOnce: deletion and disabling through the cache void the
// user's entries; an admin revocation by session id alone voids everything.
func TestCache_069_DeletedOrDisabledIsSeenAtOnce(t *testing.T) {
	_, _, cache := setup(t)
	ctx := context.Background()
	u1, s1 := login(t, cache, "1")
	_, s2 := login(t, cache, "2")
	_, s3 := login(t, cache, "3")
	for _, s := range []auth.Session{s1, s2, s3} {
		check(t, cache, s, t0)
	}
	if err := cache.SetUserDisabled(ctx, u1.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := check(t, cache, s1, t0); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("disabled user: %v", err)
	}
	if _, err := cache.DeleteUserByIdentity(ctx, auth.ProviderKakao, "2"); err != nil {
		t.Fatal(err)
	}
	if err := check(t, cache, s2, t0); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("deleted user: %v", err)
	}
	if err := cache.RevokeSession(ctx, "", s3.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := check(t, cache, s3, t0); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("session revoked by id alone: %v", err)
	}
}
