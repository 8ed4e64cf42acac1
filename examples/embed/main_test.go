package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// startProgram runs the program's handler on 127.0.0.1 with the Kakao emulator as Kakao, as
// README.md runs it with `kakaoauth emulator`.
func startProgram(t *testing.T) (base, emuURL string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base = "http://" + ts.Listener.Addr().String()
	emuURL, _ = servertest.StartEmulator(t, base+"/login/auth/kakao/callback")

	ctx := context.Background()
	store, err := kakaoauth.OpenStore(ctx, "sqlite:"+t.TempDir()+"/embed.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	env := map[string]string{"KAKAOAUTH_KAKAO_AUTH_URL": emuURL, "KAKAOAUTH_KAKAO_API_URL": emuURL}
	h, _, err := newHandler(ctx, func(k string) string { return env[k] }, base, store)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(ts.Close)
	return base, emuURL
}

func TestLoginGreetLogout(t *testing.T) {
	base, _ := startProgram(t)
	c := servertest.NewBrowser(t)

	r, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page := servertest.ReadBody(t, r)
	login := regexp.MustCompile(`href="(/login/auth/kakao/login[^"]*)"`).FindStringSubmatch(page)
	if login == nil || !strings.Contains(page, "로그인이 필요합니다") {
		t.Fatalf("the program's page before login has no Kakao login link: %.400s", page)
	}

	// The link goes to Kakao (the emulator); after consent the person is back on the
	// program's page, greeted by name.
	r, err = c.Get(base + login[1])
	if err != nil {
		t.Fatal(err)
	}
	r = servertest.Consent(t, c, r, servertest.UserWithEmail, "agree")
	page = servertest.ReadBody(t, r)
	if r.Request.URL.String() != base+"/" {
		t.Fatalf("after login the browser is at %s, want %s/", r.Request.URL, base)
	}
	if !strings.Contains(page, "안녕하세요, 김민준님") {
		t.Fatalf("the program's page does not greet the signed-in user: %.400s", page)
	}

	// Logout with the page's form: kakaoauth's signed-out page, and the program's page is
	// back to the login link.
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("the greeting page has no logout form with the CSRF token")
	}
	req, _ := http.NewRequest("POST", base+"/login/auth/logout", strings.NewReader(url.Values{"csrf": {csrf[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	r, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	if r.StatusCode != 200 || r.Request.URL.Path != "/login/" || r.Request.URL.Query().Get("result") != "signed-out" {
		t.Fatalf("logout ended at %d %s", r.StatusCode, r.Request.URL)
	}
	r, err = c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	if page := servertest.ReadBody(t, r); strings.Contains(page, "김민준") || !strings.Contains(page, `href="/login/auth/kakao/login`) {
		t.Errorf("after logout the program's page still knows the user: %.400s", page)
	}
}

// lineWriter hands each write to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

// TestRun starts the program as main does, on a free port, serves its page, and stops it with
// the context.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{
		"EMBED_ADDR":         "127.0.0.1:0",
		"EMBED_DATABASE_URL": "sqlite:" + t.TempDir() + "/embed.db",
	}
	out := make(lineWriter, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, out) }()
	var line string
	select {
	case line = <-out:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	m := regexp.MustCompile(`^listening: (http://127\.0\.0\.1:[0-9]+)/ `).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("run printed %q", line)
	}
	r := servertest.Do(t, http.DefaultClient, "GET", m[1]+"/", nil, "")
	if page := servertest.ReadBody(t, r); r.StatusCode != 200 || !strings.Contains(page, `href="/login/auth/kakao/login`) {
		t.Errorf("GET /: %d %.200s", r.StatusCode, page)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}
