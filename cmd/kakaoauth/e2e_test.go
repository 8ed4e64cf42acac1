package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// devServer is a running `kakaoauth dev` with its built-in emulator; the HTTP helpers come from
// servertest.Target.
type devServer struct {
	*servertest.Target
	Stdout *servertest.SyncBuffer
	Stderr *servertest.SyncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startDev runs `kakaoauth dev` through run() on free ports with a temporary database; env
// overrides the defaults. It stops when the test ends.
func startDev(t testing.TB, env map[string]string) *devServer {
	t.Helper()
	vars := map[string]string{
		"KAKAOAUTH_ADDR":          "127.0.0.1:0",
		"KAKAOAUTH_EMULATOR_ADDR": "127.0.0.1:0",
		"KAKAOAUTH_DATABASE_URL":  "sqlite:" + filepath.Join(t.TempDir(), "kakaoauth.db"),
		"KAKAOAUTH_LOG_LEVEL":     "warn",
		"KAKAOAUTH_RATE_LIMITS":   "off",
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	d := &devServer{Target: &servertest.Target{}, Stdout: &servertest.SyncBuffer{}, Stderr: &servertest.SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, []string{"kakaoauth", "dev"}, func(k string) string { return vars[k] }, pw, d.Stderr)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		d.done <- err
	}()
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			d.Stdout.Write([]byte(line + "\n"))
			if v, ok := strings.CutPrefix(line, "emulator: "); ok && d.EmulatorURL == "" {
				d.EmulatorURL = v
			}
			if v, ok := strings.CutPrefix(line, "listening: "); ok {
				d.BaseURL = v
				close(found)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-found:
	case err := <-d.done:
		t.Fatalf("kakaoauth dev exited: %v\nstderr: %s", err, d.Stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("kakaoauth dev did not start\nstdout: %s\nstderr: %s", d.Stdout.String(), d.Stderr.String())
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-d.done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("kakaoauth dev did not stop")
		}
	})
	return d
}

// TestE2E_Walk is one walk through run(): the login page → Kakao's consent at the built-in
// emulator → callback → /auth/me → cookie refresh → form logout, after which /auth/me is 401.
// The HTTP behaviour in detail is tested in internal/server.
func TestE2E_Walk(t *testing.T) {
	d := startDev(t, nil)
	c := servertest.NewBrowser(t)
	r := d.BrowserLogin(t, c, servertest.UserWithEmail, "profile_nickname", "account_email")
	page := servertest.ReadBody(t, r)
	if r.StatusCode != 200 || r.Request.URL.Path != "/" || r.Request.URL.Query().Get("result") != "signed-in" || !strings.Contains(page, "김민준") {
		t.Fatalf("after consent: %d at %s, want 200 at /?result=signed-in naming the user", r.StatusCode, r.Request.URL)
	}
	if _, me := servertest.GetJSON(t, c, d.BaseURL+"/auth/me", ""); me["user"].(map[string]any)["kakao_id"] != servertest.UserWithEmail {
		t.Fatalf("/auth/me = %v", me)
	}
	oldRefresh := d.Cookie(c, "/auth", "refreshToken")
	r = servertest.PostJSON(t, c, d.BaseURL+"/auth/token/refresh", nil, map[string]string{"Origin": d.BaseURL, "X-CSRF-Token": d.Cookie(c, "/", "csrfToken")})
	if b := servertest.Decode(t, r); r.StatusCode != 200 || d.Cookie(c, "/auth", "refreshToken") == oldRefresh {
		t.Fatalf("cookie refresh: %d %v, refresh cookie rotated: %v", r.StatusCode, b, d.Cookie(c, "/auth", "refreshToken") != oldRefresh)
	}
	r = servertest.Do(t, servertest.NoRedirects(c), "POST", d.BaseURL+"/auth/logout", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": d.BaseURL, "Accept": "text/html",
	}, url.Values{"csrf": {d.Cookie(c, "/", "csrfToken")}}.Encode())
	servertest.ReadBody(t, r)
	if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/?result=signed-out") {
		t.Fatalf("form logout: %d Location %q, want 303 to /?result=signed-out", r.StatusCode, r.Header.Get("Location"))
	}
	if r, _ := servertest.GetJSON(t, c, d.BaseURL+"/auth/me", ""); r.StatusCode != 401 {
		t.Fatalf("/auth/me after logout: %d, want 401", r.StatusCode)
	}
}

// TestE2E_DevCanonicalHost: in dev, a page opened as localhost goes to the public URL's host
// first, so the flow cookie and Kakao's redirect meet on one host.
func TestE2E_DevCanonicalHost(t *testing.T) {
	d := startDev(t, nil)
	u, _ := url.Parse(d.BaseURL)
	other := "http://localhost:" + u.Port()
	r, err := servertest.NoRedirects(servertest.NewBrowser(t)).Get(other + "/auth/kakao/login")
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	if r.StatusCode != 302 || r.Header.Get("Location") != d.BaseURL+"/auth/kakao/login" {
		t.Fatalf("localhost login: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestE2E_76_HugeHeaders: the server run() builds caps request headers (MaxHeaderBytes): a
// 100 KB Authorization header is 431 before any token parsing.
func TestE2E_76_HugeHeaders(t *testing.T) {
	d := startDev(t, nil)
	r := servertest.Do(t, http.DefaultClient, "GET", d.BaseURL+"/auth/me", map[string]string{"Authorization": "Bearer " + strings.Repeat("a", 100<<10)}, "")
	servertest.ReadBody(t, r)
	if r.StatusCode != 431 {
		t.Fatalf("100 KB Authorization: %d, want 431", r.StatusCode)
	}
	// A 40 KB Cookie header is refused before any token parsing (it used to be parsed: 401).
	r = servertest.Do(t, http.DefaultClient, "GET", d.BaseURL+"/auth/me", map[string]string{"Cookie": "accessToken=" + strings.Repeat("a", 40<<10)}, "")
	servertest.ReadBody(t, r)
	if r.StatusCode != 431 {
		t.Errorf("40 KB Cookie: %d, want 431", r.StatusCode)
	}
	// What a signed-in browser sends still fits: 8 KB of cookies reach the handler.
	r = servertest.Do(t, http.DefaultClient, "GET", d.BaseURL+"/auth/me", map[string]string{"Cookie": "accessToken=" + strings.Repeat("a", 8<<10)}, "")
	servertest.ReadBody(t, r)
	if r.StatusCode != 401 {
		t.Errorf("8 KB Cookie: %d, want 401 (reached the handler)", r.StatusCode)
	}
}

// TestE2E_GracefulShutdown: on SIGINT/SIGTERM (the context ends) the server stops accepting,
// finishes the request in flight, closes the database and run returns nil.
func TestE2E_GracefulShutdown(t *testing.T) {
	d := startDev(t, nil)
	d.SetFault(t, "/oauth/token", map[string]any{"latency_ms": 700})
	code := d.MintCode(t, 4217730412856391024)
	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		b, _ := json.Marshal(map[string]string{"code": code, "redirect_uri": servertest.SPARedirect})
		r, err := http.Post(d.BaseURL+"/auth/kakao/token", "application/json", bytes.NewReader(b))
		if err != nil {
			got <- result{err: err}
			return
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		got <- result{status: r.StatusCode}
	}()
	time.Sleep(250 * time.Millisecond)
	d.cancel()
	res := <-got
	if res.err != nil || res.status != 200 {
		t.Fatalf("request in flight during shutdown: %d %v, want 200", res.status, res.err)
	}
	var err error
	select {
	case err = <-d.done:
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
	d.done <- err // for the cleanup
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get(d.BaseURL + "/healthz"); err == nil {
		t.Fatal("server still accepting after shutdown")
	}
}
