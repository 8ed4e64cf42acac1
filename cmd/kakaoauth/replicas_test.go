package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/tcpproxy"
)

// replicaEnv is what two replicas share: a PostgreSQL schema of this test and Redis, each
// reached through a TCP proxy of the test that can be cut (the machine's own PostgreSQL and
// Redis are never stopped), and a Redis key prefix of this test.
type replicaEnv struct {
	pg, redis *tcpproxy.Proxy
	vars      map[string]string
}

func newReplicaEnv(t *testing.T) *replicaEnv {
	t.Helper()
	pgBase, redisBase := os.Getenv("KAKAOAUTH_TEST_POSTGRES_URL"), os.Getenv("KAKAOAUTH_TEST_REDIS_URL")
	if pgBase == "" || redisBase == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KAKAOAUTH_TEST_POSTGRES_URL and KAKAOAUTH_TEST_REDIS_URL must be set in CI")
		}
		t.Skip("KAKAOAUTH_TEST_POSTGRES_URL or KAKAOAUTH_TEST_REDIS_URL not set")
	}
	var b [8]byte
	rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	schema := "kakaoauth_replicas_" + suffix
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgBase)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), pgBase)
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	pgURL, _ := url.Parse(pgBase)
	redisURL, _ := url.Parse(redisBase)
	e := &replicaEnv{}
	if e.pg, err = tcpproxy.Start(pgURL.Host); err != nil {
		t.Fatal(err)
	}
	if e.redis, err = tcpproxy.Start(redisURL.Host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.pg.Close(); e.redis.Close() })
	pgURL.Host = e.pg.Addr()
	q := pgURL.Query()
	q.Set("search_path", schema)
	pgURL.RawQuery = q.Encode()
	redisURL.Host = e.redis.Addr()
	e.vars = map[string]string{
		"KAKAOAUTH_DATABASE_URL":  pgURL.String(),
		"KAKAOAUTH_REDIS_URL":     redisURL.String(),
		"KAKAOAUTH_REDIS_PREFIX":  "kakaoauth-test:" + suffix + ":",
		"KAKAOAUTH_KEY_RELOAD":    "1s",
		"KAKAOAUTH_RATE_LIMITS":   "1000/1h",
		"KAKAOAUTH_REFRESH_GRACE": "0s", // a replayed token is reuse at once
	}
	return e
}

// start runs one replica (`kakaoauth dev` through run(), its own built-in Kakao emulator) on
// the shared database and Redis, with extra settings on top. Replicas share one public URL
// (the load balancer's: the iss and aud of their tokens); each listens on a port of its own.
func (e *replicaEnv) start(t *testing.T, extra map[string]string) *devServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	vars := map[string]string{"KAKAOAUTH_ADDR": addr, "KAKAOAUTH_PUBLIC_URL": "http://127.0.0.1:1"}
	for k, v := range e.vars {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	d := startDev(t, vars)
	d.BaseURL = "http://" + addr
	return d
}

const replicaUser = int64(4217730412856391024)

// TestReplicas_044_053_040_069_TwoServersOnePostgres runs two whole servers (two run()) on one
// PostgreSQL and one Redis: a refresh family is one across them (reuse on A after a rotation on
// B revokes it on both: 44, 53), `keys rotate` while both serve never makes a token of either
// fail on the other (40), the unlink webhook on A ends the sessions B made (69), and PostgreSQL
// stopped mid-run answers 503 (never 401 or 500) until it is back, when the same tokens work.
// Redis stopped: the limits are per process and every request is still served.
func TestReplicas_044_053_040_069_TwoServersOnePostgres(t *testing.T) {
	e := newReplicaEnv(t)
	a := e.start(t, nil)
	b := e.start(t, nil) // after A: B loads the signing key A created

	t.Run("044_053_reuse_on_A_after_refresh_on_B_revokes_on_both", func(t *testing.T) {
		access0, refresh0, _ := a.SDKSignIn(t, replicaUser)
		if st := b.MeStatus(t, access0); st != 200 {
			t.Fatalf("A's access token on B: %d", st)
		}
		st, body := b.Refresh(t, refresh0)
		if st != 200 {
			t.Fatalf("refresh on B of A's token: %d %v", st, body)
		}
		refresh1 := body["token"].(map[string]any)["refresh"].(string)
		access1 := body["token"].(map[string]any)["access"].(string)
		if st := a.MeStatus(t, access1); st != 200 {
			t.Fatalf("B's access token on A: %d", st)
		}
		if st, code := a.RefreshStatus(t, refresh0); st != 400 || code != "invalid_grant" {
			t.Fatalf("reuse of the rotated token on A: %d %v, want 400 invalid_grant", st, code)
		}
		for name, d := range map[string]*devServer{"A": a, "B": b} {
			if st, _ := d.RefreshStatus(t, refresh1); st != 400 {
				t.Fatalf("the family's newest token on %s after the reuse: %d, want 400 (revoked)", name, st)
			}
		}
		if st := a.MeStatus(t, access1); st != 401 {
			t.Fatalf("the family's access token on A, where the reuse was seen: %d, want 401 at once", st)
		}
		// B checked the session less than 1 s ago: its cached check ends within 1 s.
		waitFor(t, func() bool { return b.MeStatus(t, access1) == 401 })
	})

	t.Run("040_keys_rotate_while_both_serve", func(t *testing.T) {
		aTok, _, _ := a.SDKSignIn(t, replicaUser)
		kid0 := tokenKID(t, aTok)
		var tokens []string
		check := func() (newKIDs int) {
			t.Helper()
			for _, d := range []*devServer{a, b} {
				at, _, _ := d.SDKSignIn(t, replicaUser)
				tokens = append(tokens, at)
				if tokenKID(t, at) != kid0 {
					newKIDs++
				}
			}
			for _, tok := range tokens {
				for name, d := range map[string]*devServer{"A": a, "B": b} {
					if st := d.MeStatus(t, tok); st != 200 {
						t.Fatalf("a token of kid %s on %s during the rotation: %d, want 200", tokenKID(t, tok), name, st)
					}
				}
			}
			return newKIDs
		}
		check()
		out := runKeysCmd(t, e.vars["KAKAOAUTH_DATABASE_URL"], "rotate")
		if !strings.Contains(out, "(was "+kid0+")") {
			t.Fatalf("keys rotate:\n%s", out)
		}
		deadline := time.Now().Add(20 * time.Second)
		for check() < 2 {
			if time.Now().After(deadline) {
				t.Fatal("both replicas do not sign with the new key within 20 s")
			}
			time.Sleep(300 * time.Millisecond) // the replicas reload every second
			if len(tokens) > 16 {
				tokens = tokens[len(tokens)-16:]
			}
		}
	})

	t.Run("069_unlink_webhook_on_A_ends_sessions_of_B", func(t *testing.T) {
		user := int64(7300000001)
		a.AddUser(t, user, "웹훅")
		b.AddUser(t, user, "웹훅")
		access, refresh, _ := b.SDKSignIn(t, user)
		if st := b.MeStatus(t, access); st != 200 {
			t.Fatalf("me on B: %d", st)
		}
		if r := a.Webhook(t, "POST", "KakaoAK "+servertest.DevAdminKey, servertest.HookParams(user, "UNLINK_FROM_APPS")); r.StatusCode != 200 {
			t.Fatalf("webhook on A: %d", r.StatusCode)
		}
		// B may answer its cached session check for up to 1 s (internal/sessioncache).
		waitFor(t, func() bool { return b.MeStatus(t, access) == 401 })
		if st, _ := b.RefreshStatus(t, refresh); st != 400 {
			t.Fatalf("B's refresh token after the webhook on A: %d, want 400", st)
		}
	})

	t.Run("postgres_stopped_mid_run_503_then_back", func(t *testing.T) {
		access, refresh, _ := a.SDKSignIn(t, replicaUser)
		e.pg.Cut()
		for name, d := range map[string]*devServer{"A": a, "B": b} {
			if st := d.MeStatus(t, access); st != http.StatusServiceUnavailable {
				t.Fatalf("me on %s with PostgreSQL stopped: %d, want 503", name, st)
			}
			if st, code := d.RefreshStatus(t, refresh); st != http.StatusServiceUnavailable {
				t.Fatalf("refresh on %s with PostgreSQL stopped: %d %v, want 503", name, st, code)
			}
			at, idt := d.SDKToken(t, replicaUser, nil)
			if r, body := d.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt}); r.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("login on %s with PostgreSQL stopped: %d %v, want 503", name, r.StatusCode, body)
			}
			if r, _ := servertest.GetJSON(t, http.DefaultClient, d.BaseURL+"/readyz", ""); r.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("/readyz on %s with PostgreSQL stopped: %d", name, r.StatusCode)
			}
		}
		e.pg.Restore()
		if st := b.MeStatus(t, access); st != 200 {
			t.Fatalf("me on B once PostgreSQL is back: %d", st)
		}
		if st, body := b.Refresh(t, refresh); st != 200 {
			t.Fatalf("the same refresh token once PostgreSQL is back: %d %v", st, body)
		}
		if st := a.MeStatus(t, access); st != 200 {
			t.Fatalf("me on A once PostgreSQL is back: %d", st)
		}
	})

	t.Run("redis_stopped_limits_per_process_requests_served", func(t *testing.T) {
		access, refresh, _ := a.SDKSignIn(t, replicaUser)
		e.redis.Cut()
		for name, d := range map[string]*devServer{"A": a, "B": b} {
			if st := d.MeStatus(t, access); st != 200 {
				t.Fatalf("me on %s with Redis stopped: %d", name, st)
			}
			st, body := d.Refresh(t, refresh)
			if st != 200 {
				t.Fatalf("refresh on %s with Redis stopped: %d %v", name, st, body)
			}
			refresh = body["token"].(map[string]any)["refresh"].(string)
			m := servertest.ReadBody(t, servertest.Do(t, http.DefaultClient, "GET", d.BaseURL+"/metrics", nil, ""))
			if !strings.Contains(m, "kakaoauth_rate_limit_redis_up 0") || strings.Contains(m, "kakaoauth_rate_limit_fallback_total 0\n") {
				t.Fatalf("metrics on %s with Redis stopped do not say so:\n%s", name, grepLines(m, "kakaoauth_rate_limit"))
			}
		}
		e.redis.Restore()
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestReplicas_079_SharedRateLimit: two whole servers on one Redis allow a client the budget
// of a route once, not twice, concurrently too.
func TestReplicas_079_SharedRateLimit(t *testing.T) {
	e := newReplicaEnv(t)
	// Each on its own public URL: dev sends a login under another host to the public URL first.
	limited6 := map[string]string{"KAKAOAUTH_RATE_LIMITS": "6/1h", "KAKAOAUTH_PUBLIC_URL": ""}
	a, b := e.start(t, limited6), e.start(t, limited6)
	var allowed, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		d := a
		if i%2 == 1 {
			d = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := servertest.NoRedirects(http.DefaultClient).Get(d.BaseURL + "/auth/kakao/login")
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			switch r.StatusCode {
			case http.StatusFound:
				allowed.Add(1)
			case http.StatusTooManyRequests:
				if r.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
				limited.Add(1)
			default:
				t.Errorf("login: %d", r.StatusCode)
			}
		}()
	}
	wg.Wait()
	// A budget taken while Redis was too slow (a loaded machine) falls back to the process and
	// is counted: only those may exceed the shared budget.
	fallbacks := 0
	for _, d := range []*devServer{a, b} {
		m := servertest.ReadBody(t, servertest.Do(t, http.DefaultClient, "GET", d.BaseURL+"/metrics", nil, ""))
		for _, l := range strings.Split(m, "\n") {
			if v, ok := strings.CutPrefix(l, "kakaoauth_rate_limit_fallback_total "); ok {
				n, _ := strconv.Atoi(v)
				fallbacks += n
			}
		}
	}
	if got := int(allowed.Load()); got < 6 || got > 6+fallbacks || got+int(limited.Load()) != 16 {
		t.Fatalf("two replicas allowed %d and refused %d of 16 logins with a budget of 6 (%d budgets taken in the process while Redis was slow); want 6", got, limited.Load(), fallbacks)
	}
}
