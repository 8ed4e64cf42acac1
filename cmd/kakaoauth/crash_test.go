package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to read the database after the crash

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// crashChildEnv marks the test binary started as the server by TestCrash_093_SIGKILLUnderLoad.
const crashChildEnv = "KAKAOAUTH_CRASHTEST_CHILD"

// TestCrashChild is the server process of the crash test: `kakaoauth serve` with the
// environment it was started with. It does nothing in a normal test run.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("the crash test's server process (started by TestCrash_093_SIGKILLUnderLoad)")
	}
	err := run(context.Background(), []string{"kakaoauth", "serve"}, os.Getenv, os.Stdout, os.Stderr)
	t.Fatalf("serve returned: %v", err)
}

// crashSession is what a client holds after a login answered 200, and its latest refresh.
type crashSession struct {
	kakaoID int64
	access  string
	refresh string // the newest refresh token answered with 200
}

// TestCrash_093_SIGKILLUnderLoad is checklist case 93: `kakaoauth serve` on SQLite is killed
// with SIGKILL (no shutdown, no flush) in the middle of first logins and refreshes, three times, and
// restarted on the same file. After each restart every login that was answered 200 still
// works — its access token on /auth/me and its newest refresh token — no user exists without
// its Kakao identity, and no session has two live refresh tokens.
func TestCrash_093_SIGKILLUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	// The Kakao emulator runs in this process, so it outlives the server's crashes.
	emuTS := httptest.NewUnstartedServer(nil)
	emuURL := "http://" + emuTS.Listener.Addr().String()
	app := kakaotest.DefaultApp()
	app.RedirectURIs = append(app.RedirectURIs, servertest.SPARedirect)
	emu := kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{Issuer: emuURL})
	emuTS.Config.Handler = emu
	emuTS.Start()
	t.Cleanup(func() { emuTS.Close(); emu.Close() })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	base := "http://" + addr
	dbPath := filepath.Join(t.TempDir(), "kakaoauth.db")
	env := append(os.Environ(),
		crashChildEnv+"=1",
		"KAKAOAUTH_ADDR="+addr,
		"KAKAOAUTH_PUBLIC_URL="+base,
		"KAKAOAUTH_DATABASE_URL=sqlite:"+dbPath,
		"KAKAOAUTH_SECRET=crash-test-secret-0123456789abcdefghijklmnop",
		"KAKAOAUTH_KAKAO_CLIENT_ID="+app.RESTKey,
		"KAKAOAUTH_KAKAO_CLIENT_SECRET="+app.ClientSecret,
		"KAKAOAUTH_KAKAO_ADMIN_KEY="+app.AdminKey,
		"KAKAOAUTH_KAKAO_APP_ID="+strconv.FormatInt(app.AppID, 10),
		"KAKAOAUTH_KAKAO_AUTH_URL="+emuURL,
		"KAKAOAUTH_KAKAO_API_URL="+emuURL,
		"KAKAOAUTH_REDIRECT_URIS="+servertest.SPARedirect,
		"KAKAOAUTH_RATE_LIMITS=off",
		"KAKAOAUTH_LOG_LEVEL=error",
		// A refresh whose answer the crash swallowed is presented again after the restart:
		// inside the grace period that is the same successor (case 47), not a reuse.
		"KAKAOAUTH_REFRESH_GRACE=1m",
	)
	start := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for deadline := time.Now().Add(30 * time.Second); ; {
			r, err := http.Get(base + "/healthz")
			if err == nil {
				r.Body.Close()
				if r.StatusCode == 200 {
					return cmd
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("server did not start: %v\n%s", err, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	var (
		mu       sync.Mutex
		sessions []*crashSession
		nextUser atomic.Int64
	)
	nextUser.Store(5930000000000000000)
	hc := &http.Client{Timeout: 10 * time.Second}
	post := func(path string, body any) (int, map[string]any, error) {
		b, _ := json.Marshal(body)
		r, err := hc.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			return 0, nil, err
		}
		defer r.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return r.StatusCode, nil, err
		}
		return r.StatusCode, m, nil
	}
	// load runs first logins of new users and refreshes of the sessions so far until the
	// server stops answering.
	load := func(worker int, stop *atomic.Bool) {
		for i := 0; !stop.Load(); i++ {
			if i%2 == 0 {
				id := nextUser.Add(1)
				emu.AddUser(kakaotest.User{ID: id, Nickname: "사용자" + strconv.Itoa(int(id%1000)), Agreed: []string{kakaotest.ScopeProfileNickname}})
				code, err := emu.IssueCode(id, servertest.SPARedirect, "", "")
				if err != nil {
					t.Error(err)
					return
				}
				st, m, err := post("/auth/kakao/token", map[string]string{"code": code, "redirect_uri": servertest.SPARedirect})
				if err != nil {
					return // the server is gone
				}
				if st != 200 {
					t.Errorf("login: %d %v", st, m)
					return
				}
				tok := m["token"].(map[string]any)
				mu.Lock()
				sessions = append(sessions, &crashSession{kakaoID: id, access: tok["access"].(string), refresh: tok["refresh"].(string)})
				mu.Unlock()
				continue
			}
			mu.Lock()
			if len(sessions) == 0 {
				mu.Unlock()
				continue
			}
			s := sessions[(worker+i)%len(sessions)]
			mu.Unlock()
			// One refresh per session at a time: the newest token is the one to present.
			mu.Lock()
			refresh := s.refresh
			mu.Unlock()
			st, m, err := post("/auth/token/refresh", map[string]string{"refresh": refresh})
			if err != nil {
				return
			}
			if st == 200 {
				mu.Lock()
				if s.refresh == refresh {
					s.refresh = m["token"].(map[string]any)["refresh"].(string)
				}
				mu.Unlock()
			}
		}
	}

	check := func(round int) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(sessions) < 10 {
			t.Fatalf("round %d: only %d logins before the kill", round, len(sessions))
		}
		for _, s := range sessions {
			req, _ := http.NewRequest("GET", base+"/auth/me", nil)
			req.Header.Set("Authorization", "Bearer "+s.access)
			r, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != 200 {
				t.Errorf("round %d: user %d's access token after the restart: /auth/me %d", round, s.kakaoID, r.StatusCode)
			}
			st, m, err := post("/auth/token/refresh", map[string]string{"refresh": s.refresh})
			if err != nil || st != 200 {
				t.Errorf("round %d: user %d's refresh after the restart: %d %v %v", round, s.kakaoID, st, m, err)
				continue
			}
			s.refresh = m["token"].(map[string]any)["refresh"].(string)
		}
		db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var orphans, doubles, users int
		if err := db.QueryRow(`SELECT COUNT(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id)`).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT session_id FROM refresh_tokens WHERE rotated_at IS NULL AND revoked_at IS NULL GROUP BY session_id HAVING COUNT(*) > 1)`).Scan(&doubles); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&users); err != nil {
			t.Fatal(err)
		}
		if orphans != 0 || doubles != 0 {
			t.Errorf("round %d: %d users without an identity, %d sessions with two live refresh tokens", round, orphans, doubles)
		}
		if users < len(sessions) {
			t.Errorf("round %d: %d users for %d answered first logins", round, users, len(sessions))
		}
		t.Logf("round %d: %d answered logins checked, %d users in the database", round, len(sessions), users)
	}

	cmd := start()
	for round := 1; round <= 3; round++ {
		var stop atomic.Bool
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func() { defer wg.Done(); load(w, &stop) }()
		}
		// Kill once the load is well under way.
		for deadline := time.Now().Add(20 * time.Second); ; {
			mu.Lock()
			n := len(sessions)
			mu.Unlock()
			if n >= 20*round || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		stop.Store(true)
		wg.Wait()
		cmd = start()
		check(round)
		if t.Failed() {
			t.FailNow()
		}
	}
}
