package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func fixedClock() time.Time { return t0 }

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kakaoauth.db")
	db, err := Open(context.Background(), path, Options{Now: fixedClock})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, path
}

func TestConformance(t *testing.T) {
	t.Run("File", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) auth.Store {
			db, _ := openTemp(t)
			return db
		})
	})
	t.Run("Memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) auth.Store {
			db, err := Open(t.Context(), ":memory:", Options{Now: fixedClock})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func session(now time.Time) auth.Session {
	return auth.Session{ID: auth.NewID(now), ExpiresAt: now.Add(30 * 24 * time.Hour), Flow: "spa"}
}

func profile(subject string) auth.Profile {
	return auth.Profile{Provider: auth.ProviderKakao, Subject: subject, Nickname: "n" + subject}
}

// TestStore_90_LockContention runs logins, rotations and logouts from 16 goroutines against one
// file: no "database is locked" (or any other error) reaches the caller.
func TestStore_90_LockContention(t *testing.T) {
	db, path := openTemp(t)
	ctx := t.Context()
	// A second process-like handle on the same file competes for the write lock too.
	other, err := Open(ctx, path, Options{Now: fixedClock, ReadConns: 2})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer other.Close()

	const workers, rounds = 16, 40
	var wg sync.WaitGroup
	var failures atomic.Int64
	for w := range workers {
		store := auth.Store(db)
		if w%4 == 3 {
			store = other
		}
		wg.Go(func() {
			for r := range rounds {
				now := t0.Add(time.Duration(r) * time.Second)
				sess := session(now)
				rt := hashOf(fmt.Sprintf("rt-%d-%d", w, r))
				// Workers share a few identities, so first logins race as well.
				u, _, err := store.LoginUser(ctx, profile(fmt.Sprint(9000+r%5)), sess,
					auth.RefreshToken{Hash: rt, ExpiresAt: sess.ExpiresAt}, now)
				if err != nil {
					failures.Add(1)
					t.Errorf("worker %d: LoginUser: %v", w, err)
					return
				}
				res, err := store.Rotate(ctx, auth.RotateRequest{Hash: rt, SuccessorHash: hashOf(fmt.Sprintf("rt1-%d-%d", w, r)),
					Now: now, Grace: time.Second, ExpiresAt: sess.ExpiresAt})
				if err != nil || res.Outcome != auth.Rotated {
					failures.Add(1)
					t.Errorf("worker %d: Rotate = %v, %v", w, res.Outcome, err)
					return
				}
				if _, err := store.UserBySession(ctx, u.ID, sess.ID, now); err != nil {
					failures.Add(1)
					t.Errorf("worker %d: UserBySession: %v", w, err)
				}
				if r%3 == 0 {
					if err := store.RevokeSession(ctx, u.ID, sess.ID, now); err != nil {
						failures.Add(1)
						t.Errorf("worker %d: RevokeSession: %v", w, err)
					}
				}
				if _, err := store.ConsumeOnce(ctx, rt, now.Add(time.Minute), now); err != nil {
					failures.Add(1)
					t.Errorf("worker %d: ConsumeOnce: %v", w, err)
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d operations failed under contention", n)
	}
	// Five identities, five users, whatever the interleaving.
	users := map[string]bool{}
	for i := range 5 {
		sess := session(t0)
		u, created, err := db.LoginUser(ctx, profile(fmt.Sprint(9000+i)), sess,
			auth.RefreshToken{Hash: hashOf("final" + fmt.Sprint(i)), ExpiresAt: sess.ExpiresAt}, t0)
		if err != nil || created {
			t.Fatalf("LoginUser after contention: created %v, %v", created, err)
		}
		users[u.ID] = true
	}
	if len(users) != 5 {
		t.Errorf("%d users for 5 identities", len(users))
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	ctx := t.Context()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess := session(t0)
	u, _, err := db.LoginUser(ctx, profile("1"), sess, auth.RefreshToken{Hash: hashOf("a"), ExpiresAt: sess.ExpiresAt}, t0)
	if err != nil {
		t.Fatal(err)
	}
	key := auth.SigningKey{ID: "k", Algorithm: "ES256", PrivateSealed: []byte("sealed"), PublicJWK: []byte("{}"), CreatedAt: t0, NotBefore: t0}
	if err := db.AddSigningKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got, err := db.UserBySession(ctx, u.ID, sess.ID, t0)
	if err != nil {
		t.Fatalf("UserBySession after reopen: %v", err)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("user after reopen (-want +got):\n%s", diff)
	}
	keys, err := db.SigningKeys(ctx)
	if err != nil || len(keys) != 1 || !cmp.Equal(keys[0], key) {
		t.Errorf("SigningKeys after reopen = %+v, %v; want [%+v]", keys, err, key)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	db, path := openTemp(t)
	ctx := t.Context()
	count := func() int {
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	files, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if got := count(); got != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d", got, len(files))
	}
	for range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	again, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open of a migrated file: %v", err)
	}
	again.Close()
	if got := count(); got != len(files) {
		t.Errorf("schema_migrations has %d rows after re-running, want %d", got, len(files))
	}
}

// TestPragmas checks the connection settings that the safety of the store rests on.
func TestPragmas(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	tests := []struct {
		pool   string
		pragma string
		want   string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "1"},
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "query_only", "1"},
		{"read", "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
	}
	for _, tc := range tests {
		pool := db.write
		if tc.pool == "read" {
			pool = db.read
		}
		var got string
		if err := pool.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("%s PRAGMA %s: %v", tc.pool, tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("%s PRAGMA %s = %q, want %q", tc.pool, tc.pragma, got, tc.want)
		}
	}
	if _, err := db.read.ExecContext(ctx, `DELETE FROM users`); err == nil {
		t.Errorf("a reader connection could write")
	}
}

// TestConstraintCodes checks that constraint failures are recognised by extended result code.
func TestConstraintCodes(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	k := auth.SigningKey{ID: "dup", Algorithm: "ES256", PrivateSealed: []byte{1}, PublicJWK: []byte("{}"), CreatedAt: t0}
	if err := db.AddSigningKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	err := db.AddSigningKey(ctx, k)
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || !isUniqueViolation(err) {
		t.Errorf("duplicate key error = %v, want SQLITE_CONSTRAINT_PRIMARYKEY", err)
	}
	// A session of a user that does not exist violates the foreign key, not a unique constraint.
	_, err = db.write.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at)
		VALUES ('s', 'nobody', 1, 1, 2)`)
	if errCode(err) != sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY || isUniqueViolation(err) {
		t.Errorf("foreign-key error = %v (code %d), want SQLITE_CONSTRAINT_FOREIGNKEY", err, errCode(err))
	}
}

func TestAuditEvents(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	want := []auth.AuditEvent{
		{Time: t0, Type: "login", UserID: "u1", SessionID: "s1", IP: "192.0.2.1", Detail: "d"},
		{Time: t0.Add(time.Second), Type: "logout", UserID: "u1", SessionID: "s1"},
		{Time: t0.Add(2 * time.Second), Type: "login", UserID: "u2"},
		{Type: "register", UserID: "u1"}, // zero time: the store's clock
	}
	for _, e := range want {
		if err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	want[3].Time = t0 // fixedClock
	got, err := db.AuditEvents(ctx, "u1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]auth.AuditEvent{want[0], want[3], want[1]}, got); diff != "" {
		t.Errorf("AuditEvents(u1) (-want +got):\n%s", diff)
	}
	got, err = db.AuditEvents(ctx, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]auth.AuditEvent{want[1], want[2]}, got); diff != "" {
		t.Errorf("AuditEvents(all, 2) (-want +got):\n%s", diff)
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", "a.db?mode=ro", filepath.Join(t.TempDir(), "missing-dir", "x.db")} {
		if db, err := Open(t.Context(), p, Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func benchHash(i uint64) []byte {
	b := make([]byte, 32)
	binary.BigEndian.PutUint64(b, i)
	h := sha256.Sum256(b)
	return h[:]
}

// BenchmarkLoginUser measures the login of a returning user: find, update and a new session.
func BenchmarkLoginUser(b *testing.B) {
	db, _ := openTemp(b)
	ctx := context.Background()
	p := profile("4242")
	var i uint64
	b.ReportAllocs()
	for b.Loop() {
		i++
		sess := session(t0)
		if _, _, err := db.LoginUser(ctx, p, sess, auth.RefreshToken{Hash: benchHash(i), ExpiresAt: sess.ExpiresAt}, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginUserFirst measures first logins (a new user each time).
func BenchmarkLoginUserFirst(b *testing.B) {
	db, _ := openTemp(b)
	ctx := context.Background()
	var i uint64
	b.ReportAllocs()
	for b.Loop() {
		i++
		sess := session(t0)
		if _, _, err := db.LoginUser(ctx, profile(fmt.Sprint(i)), sess, auth.RefreshToken{Hash: benchHash(i), ExpiresAt: sess.ExpiresAt}, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRotate measures one refresh-token rotation.
func BenchmarkRotate(b *testing.B) {
	db, _ := openTemp(b)
	ctx := context.Background()
	sess := session(t0)
	if _, _, err := db.LoginUser(ctx, profile("4242"), sess, auth.RefreshToken{Hash: benchHash(0), ExpiresAt: sess.ExpiresAt}, t0); err != nil {
		b.Fatal(err)
	}
	var i uint64
	b.ReportAllocs()
	for b.Loop() {
		res, err := db.Rotate(ctx, auth.RotateRequest{Hash: benchHash(i), SuccessorHash: benchHash(i + 1),
			Now: t0, Grace: 10 * time.Second, ExpiresAt: sess.ExpiresAt})
		if err != nil || res.Outcome != auth.Rotated {
			b.Fatalf("Rotate = %v, %v", res.Outcome, err)
		}
		i++
	}
}

func benchSessions(b *testing.B, n int) (*DB, []auth.Session) {
	db, _ := openTemp(b)
	ctx := context.Background()
	ss := make([]auth.Session, n)
	for i := range ss {
		ss[i] = session(t0)
		u, _, err := db.LoginUser(ctx, profile(fmt.Sprint(i)), ss[i], auth.RefreshToken{Hash: benchHash(uint64(i)), ExpiresAt: ss[i].ExpiresAt}, t0)
		if err != nil {
			b.Fatal(err)
		}
		ss[i].UserID = u.ID
	}
	return db, ss
}

// BenchmarkUserBySession measures the session check of an authenticated request.
func BenchmarkUserBySession(b *testing.B) {
	db, ss := benchSessions(b, 1000)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		s := ss[i%len(ss)]
		i++
		if _, err := db.UserBySession(ctx, s.UserID, s.ID, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUserBySessionParallel measures session checks from many goroutines (reader pool).
func BenchmarkUserBySessionParallel(b *testing.B) {
	db, ss := benchSessions(b, 1000)
	ctx := context.Background()
	var n atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := ss[n.Add(1)%uint64(len(ss))]
			if _, err := db.UserBySession(ctx, s.UserID, s.ID, t0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
