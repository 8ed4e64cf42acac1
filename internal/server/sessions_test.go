package server_test

// A user's sessions: GET /auth/sessions and DELETE /auth/sessions/{id}, with a Bearer token
// and in cookie mode.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

func TestSessions(t *testing.T) {
	s := servertest.Start(t)
	const alice, bob = 4217730412856391026, 4217730412856391027
	a1, _, _ := s.SDKSignIn(t, alice)
	a2, a2refresh, _ := s.SDKSignIn(t, alice)
	b1, _, _ := s.SDKSignIn(t, bob)

	list := func(access string) []map[string]any {
		t.Helper()
		r, m := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/sessions", access)
		if r.StatusCode != 200 {
			t.Fatalf("GET /auth/sessions: %d %v", r.StatusCode, m)
		}
		var out []map[string]any
		for _, sess := range m["sessions"].([]any) {
			out = append(out, sess.(map[string]any))
		}
		return out
	}
	ss := list(a1)
	if len(ss) != 2 {
		t.Fatalf("alice's sessions = %v, want 2", ss)
	}
	var current, other string
	for _, sess := range ss {
		if sess["current"] == true {
			current = sess["id"].(string)
		} else {
			other = sess["id"].(string)
		}
		if sess["flow"] != "sdk" || sess["ip"] != "127.0.0.1" {
			t.Errorf("session %v", sess)
		}
	}
	if current == "" || other == "" {
		t.Fatalf("current not marked exactly once: %v", ss)
	}
	bobSession := list(b1)[0]["id"].(string)

	del := func(access, id string) int {
		t.Helper()
		r := servertest.Do(t, http.DefaultClient, "DELETE", s.BaseURL+"/auth/sessions/"+url.PathEscape(id), map[string]string{"Authorization": "Bearer " + access}, "")
		servertest.ReadBody(t, r)
		return r.StatusCode
	}
	// Another user's session, or an unknown one: 404, and bob stays signed in.
	if got := del(a1, bobSession); got != 404 {
		t.Errorf("delete bob's session as alice: %d, want 404", got)
	}
	if got := del(a1, "no-such-session"); got != 404 {
		t.Errorf("delete unknown session: %d, want 404", got)
	}
	if got := s.MeStatus(t, b1); got != 200 {
		t.Errorf("bob after alice's attempt: %d", got)
	}
	// Alice signs her other device out.
	if got := del(a1, other); got != 204 {
		t.Fatalf("delete own other session: %d", got)
	}
	if got := s.MeStatus(t, a2); got != 401 {
		t.Errorf("signed-out device /auth/me: %d", got)
	}
	if st, _ := s.RefreshStatus(t, a2refresh); st != 400 {
		t.Errorf("signed-out device refresh: %d", st)
	}
	if ss := list(a1); len(ss) != 1 || ss[0]["id"] != current {
		t.Errorf("sessions after sign-out = %v", ss)
	}
	if r, _ := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/sessions", ""); r.StatusCode != 401 {
		t.Errorf("GET /auth/sessions without a token: %d", r.StatusCode)
	}

	// Cookie mode needs Origin and CSRF.
	c := servertest.NewBrowser(t)
	servertest.ReadBody(t, s.BrowserLogin(t, c, servertest.UserNoEmail, "profile_nickname"))
	r := servertest.Do(t, c, "GET", s.BaseURL+"/auth/sessions", nil, "")
	m := servertest.Decode(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("cookie GET /auth/sessions: %d %v", r.StatusCode, m)
	}
	own := m["sessions"].([]any)[0].(map[string]any)["id"].(string)
	r = servertest.Do(t, c, "DELETE", s.BaseURL+"/auth/sessions/"+own, map[string]string{"Origin": s.BaseURL}, "")
	if servertest.ReadBody(t, r); r.StatusCode != 403 {
		t.Errorf("cookie DELETE without CSRF: %d", r.StatusCode)
	}
	r = servertest.Do(t, c, "DELETE", s.BaseURL+"/auth/sessions/"+own, map[string]string{"Origin": s.BaseURL, "X-CSRF-Token": s.Cookie(c, "/", "csrfToken")}, "")
	servertest.ReadBody(t, r)
	if r.StatusCode != 204 || !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), "Max-Age=0") {
		t.Errorf("cookie DELETE of the current session: %d, cookies %v", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
}
