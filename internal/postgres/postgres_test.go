package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/postgres/pgtest"
	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

// testURL returns the database of the tests (pgtest.URL).
func testURL(t testing.TB) string { return pgtest.URL(t) }

// freshSchema creates an empty schema of its own for t, drops it when t ends, and returns a
// database URL whose search_path selects it.
func freshSchema(t testing.TB) string {
	u, _ := pgtest.Schema(t)
	return u
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(database URL)"
}

// open opens a store on dbURL and closes it when t ends.
func open(t testing.TB, dbURL string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dbURL, Options{MaxConns: 16})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) auth.Store {
		return open(t, freshSchema(t))
	})
}

func newHash() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	h := sha256.Sum256(b)
	return h[:]
}

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

func profile(subject string) auth.Profile {
	return auth.Profile{Provider: auth.ProviderKakao, Subject: subject, Nickname: "라이언", Email: subject + "@example.com",
		EmailVerified: true}
}

func login(t testing.TB, st auth.Store, p auth.Profile, now time.Time) (auth.User, auth.Session, []byte) {
	t.Helper()
	sess := auth.Session{ID: auth.NewID(now), ExpiresAt: now.Add(30 * 24 * time.Hour), UserAgent: "test", Flow: "browser"}
	rt := auth.RefreshToken{Hash: newHash(), ExpiresAt: now.Add(14 * 24 * time.Hour)}
	u, _, err := st.LoginUser(context.Background(), p, sess, rt, now)
	if err != nil {
		t.Fatalf("LoginUser: %v", err)
	}
	sess.UserID = u.ID
	return u, sess, rt.Hash
}

// Two stores on one database are two replicas: the guarantees of cases 89 and 48 hold across
// them.
func TestTwoReplicas_89_48(t *testing.T) {
	dbURL := freshSchema(t)
	replicas := []*DB{open(t, dbURL), open(t, dbURL)}
	ctx := t.Context()

	t.Run("89_FirstLoginRace", func(t *testing.T) {
		const n = 40
		p := profile("4200000089")
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created int
			ids     = map[string]bool{}
		)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				st := replicas[i%2]
				sess := auth.Session{ID: auth.NewID(t0), ExpiresAt: t0.Add(time.Hour)}
				u, c, err := st.LoginUser(ctx, p, sess, auth.RefreshToken{Hash: newHash()}, t0)
				if err != nil {
					t.Errorf("LoginUser on replica %d: %v", i%2, err)
					return
				}
				if _, err := replicas[(i+1)%2].UserBySession(ctx, u.ID, sess.ID, t0); err != nil {
					t.Errorf("session from replica %d unusable on the other: %v", i%2, err)
				}
				mu.Lock()
				defer mu.Unlock()
				ids[u.ID] = true
				if c {
					created++
				}
			})
		}
		close(start)
		wg.Wait()
		if created != 1 || len(ids) != 1 {
			t.Errorf("created = %d, distinct users = %d; want 1 and 1", created, len(ids))
		}
		var users int
		if err := replicas[0].pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil || users != 1 {
			t.Errorf("users rows = %d, %v; want 1 (no orphan left by the losers)", users, err)
		}
	})

	t.Run("48_ParallelGraceZero", func(t *testing.T) {
		const n = 40
		_, sess, rt := login(t, replicas[0], profile("4200000048"), t0)
		now := t0.Add(time.Minute)
		outcomes := make([]auth.RotateOutcome, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				res, err := replicas[i%2].Rotate(ctx, auth.RotateRequest{Hash: rt, SuccessorHash: newHash(), Now: now,
					ExpiresAt: now.Add(time.Hour)})
				if err != nil {
					t.Errorf("Rotate on replica %d: %v", i%2, err)
				}
				outcomes[i] = res.Outcome
			})
		}
		close(start)
		wg.Wait()
		count := map[auth.RotateOutcome]int{}
		for _, o := range outcomes {
			count[o]++
		}
		if count[auth.Rotated] != 1 || count[auth.Rotated]+count[auth.Reused]+count[auth.Revoked] != n {
			t.Errorf("outcomes = %v; want exactly one rotated, the rest reused or revoked", count)
		}
		var children int
		if err := replicas[1].pool.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE session_id = $1 AND generation = 1`,
			sess.ID).Scan(&children); err != nil || children != 1 {
			t.Errorf("child rows = %d, %v; want 1", children, err)
		}
	})
}

// Several replicas starting at once on an empty schema apply each migration once.
func TestMigrateConcurrent(t *testing.T) {
	dbURL := freshSchema(t)
	var wg sync.WaitGroup
	dbs := make([]*DB, 4)
	errs := make([]error, 4)
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), dbURL, Options{MaxConns: 2}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	if err := dbs[0].Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("embedded migrations: %v, %v", files, err)
	}
	var n int
	if err := dbs[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) {
		t.Errorf("schema_migrations rows = %d, %v; want %d (one per migration)", n, err, len(files))
	}
}

// Text with NUL bytes or invalid UTF-8, which PostgreSQL's text refuses, is cleaned, not refused.
func TestTextCleaned(t *testing.T) {
	db := open(t, freshSchema(t))
	ctx := t.Context()
	p := profile("4200000001")
	p.Nickname = "라이\x00언"
	sess := auth.Session{ID: auth.NewID(t0), ExpiresAt: t0.Add(time.Hour), UserAgent: "Mozilla\x00/5.0 \xff", IP: "192.0.2.1"}
	rt := auth.RefreshToken{Hash: newHash()}
	u, _, err := db.LoginUser(ctx, p, sess, rt, t0)
	if err != nil {
		t.Fatalf("LoginUser: %v", err)
	}
	s, err := db.SessionByRefresh(ctx, rt.Hash)
	if err != nil {
		t.Fatalf("SessionByRefresh: %v", err)
	}
	tests := []struct{ name, got, want string }{
		{"nickname", u.Nickname, "라이언"},
		{"user agent", s.UserAgent, "Mozilla/5.0 \uFFFD"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if err := db.Audit(ctx, auth.AuditEvent{Type: "login", Detail: "a\x00b"}); err != nil {
		t.Errorf("Audit with NUL: %v", err)
	}
	evs, err := db.AuditEvents(ctx, "", 10)
	if err != nil || len(evs) != 1 || evs[0].Detail != "ab" {
		t.Errorf("AuditEvents = %+v, %v; want one event with detail \"ab\"", evs, err)
	}
}

// Lookups by ids that PostgreSQL's text cannot hold (from a request path, say) find nothing
// instead of failing.
func TestUnstorableIDsNotFound(t *testing.T) {
	db := open(t, freshSchema(t))
	ctx := t.Context()
	u, sess, _ := login(t, db, profile("4200000002"), t0)
	for _, bad := range []string{"a\x00b", "a\xffb", sess.ID + "\x00"} {
		checks := []struct {
			name string
			err  error
		}{
			{"User", func() error { _, err := db.User(ctx, bad); return err }()},
			{"UserBySession", func() error { _, err := db.UserBySession(ctx, u.ID, bad, t0); return err }()},
			{"RevokeSession", db.RevokeSession(ctx, u.ID, bad, t0)},
			{"DeleteUser", db.DeleteUser(ctx, bad)},
			{"DeleteUserByIdentity", func() error { _, err := db.DeleteUserByIdentity(ctx, auth.ProviderKakao, bad); return err }()},
			{"RetireSigningKey", db.RetireSigningKey(ctx, bad, t0)},
			{"DeleteSigningKey", db.DeleteSigningKey(ctx, bad)},
		}
		for _, c := range checks {
			if !errors.Is(c.err, auth.ErrNotFound) {
				t.Errorf("%s(%q): err = %v, want ErrNotFound", c.name, bad, c.err)
			}
		}
		if ss, err := db.Sessions(ctx, bad, t0); err != nil || len(ss) != 0 {
			t.Errorf("Sessions(%q) = %v, %v; want none", bad, ss, err)
		}
		if n, err := db.RevokeUserSessions(ctx, bad, t0); err != nil || n != 0 {
			t.Errorf("RevokeUserSessions(%q) = %d, %v; want 0", bad, n, err)
		}
	}
	if _, err := db.UserBySession(ctx, u.ID, sess.ID, t0); err != nil {
		t.Errorf("session after the refused lookups: %v", err)
	}
}

// A transaction that meets a serialization failure or deadlock is retried, a bounded number of
// times; other errors are not retried.
func TestInTx_91_BoundedRetry(t *testing.T) {
	db := open(t, freshSchema(t))
	tests := []struct {
		name      string
		failFirst int
		err       error
		wantCalls int
		wantErr   bool
	}{
		{"serialization failure then success", 2, &pgconn.PgError{Code: "40001"}, 3, false},
		{"deadlock then success", 1, &pgconn.PgError{Code: "40P01"}, 2, false},
		{"serialization failure every time", 100, &pgconn.PgError{Code: "40001"}, maxAttempts, true},
		{"unique violation is not retried", 100, &pgconn.PgError{Code: "23505"}, 1, true},
		{"other error is not retried", 100, errors.New("boom"), 1, true},
	}
	for _, tc := range tests {
		calls := 0
		err := db.inTx(t.Context(), func(tx pgx.Tx) error {
			calls++
			if _, err := tx.Exec(t.Context(), `INSERT INTO consumed_keys (key, expires_at) VALUES ($1, $2)`,
				[]byte(fmt.Sprintf("%s-%d", tc.name, calls)), t0); err != nil {
				return err
			}
			if calls <= tc.failFirst {
				return tc.err
			}
			return nil
		})
		if calls != tc.wantCalls || (err != nil) != tc.wantErr {
			t.Errorf("%s: calls = %d, err = %v; want %d calls, error %v", tc.name, calls, err, tc.wantCalls, tc.wantErr)
		}
		if tc.wantErr && !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want it to wrap %v", tc.name, err, tc.err)
		}
		// Failed attempts left nothing behind.
		var n int
		prefix := []byte(tc.name + "-")
		if err := db.pool.QueryRow(t.Context(), `SELECT count(*) FROM consumed_keys WHERE substr(key, 1, $2) = $1`,
			prefix, len(prefix)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 0, false: 1}[tc.wantErr]; n != want {
			t.Errorf("%s: %d rows stored, want %d", tc.name, n, want)
		}
	}
}

// A real deadlock between two transactions is resolved by PostgreSQL and the retry: both finish.
func TestInTx_91_RealDeadlock(t *testing.T) {
	db := open(t, freshSchema(t))
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		if _, err := db.pool.Exec(ctx, `INSERT INTO consumed_keys (key, expires_at) VALUES ($1, $2)`, []byte(k), t0); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg      sync.WaitGroup
		barrier sync.WaitGroup
		calls   [2]int
		errs    [2]error
	)
	barrier.Add(2)
	for i, order := range [2][2]string{{"a", "b"}, {"b", "a"}} {
		wg.Go(func() {
			errs[i] = db.inTx(ctx, func(tx pgx.Tx) error {
				calls[i]++
				if _, err := tx.Exec(ctx, `UPDATE consumed_keys SET expires_at = $1 WHERE key = $2`, t0, []byte(order[0])); err != nil {
					return err
				}
				if calls[i] == 1 {
					barrier.Done()
					barrier.Wait() // both hold their first lock: the second updates deadlock
				}
				_, err := tx.Exec(ctx, `UPDATE consumed_keys SET expires_at = $1 WHERE key = $2`, t0, []byte(order[1]))
				return err
			})
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors = %v, %v; want both to finish", errs[0], errs[1])
	}
	if calls[0]+calls[1] != 3 {
		t.Errorf("attempts = %v; want one transaction retried once after the deadlock", calls)
	}
}

// An unreachable database fails Open without echoing the password.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://kakao:s3cretpw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", Options{})
	if err == nil {
		t.Fatal("Open on a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("error reveals the password: %v", err)
	}
	if _, err := Open(ctx, "mysql://x", Options{}); err == nil {
		t.Error("Open with a mysql URL succeeded")
	}
}

func BenchmarkLoginUser(b *testing.B) {
	db := open(b, freshSchema(b))
	ctx := context.Background()
	p := profile("4300000001")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sess := auth.Session{ID: auth.NewID(t0), ExpiresAt: t0.Add(time.Hour)}
		if _, _, err := db.LoginUser(ctx, p, sess, auth.RefreshToken{Hash: newHash()}, t0.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRotate(b *testing.B) {
	db := open(b, freshSchema(b))
	ctx := context.Background()
	_, _, rt := login(b, db, profile("4300000002"), t0)
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		succ := newHash()
		res, err := db.Rotate(ctx, auth.RotateRequest{Hash: rt, SuccessorHash: succ, Now: now, ExpiresAt: now.Add(time.Hour)})
		if err != nil || res.Outcome != auth.Rotated {
			b.Fatalf("Rotate = %v, %v", res.Outcome, err)
		}
		rt = succ
	}
}

func BenchmarkUserBySession(b *testing.B) {
	db := open(b, freshSchema(b))
	ctx := context.Background()
	u, sess, _ := login(b, db, profile("4300000003"), t0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.UserBySession(ctx, u.ID, sess.ID, t0.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}
