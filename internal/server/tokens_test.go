package server_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestRefresh: concurrent refreshes within the grace period get one successor; reuse past the
// grace (the server's clock moved on) revokes the whole family; garbage is a 400.
func TestRefresh(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.RefreshGrace = time.Second }))
	code := s.SPACode(t, servertest.UserWithEmail, "profile_nickname")
	rt0 := servertest.Decode(t, spaToken(t, s, code))["token"].(map[string]any)["refresh"].(string)

	// Two concurrent refreshes within grace both succeed with one successor.
	var wg sync.WaitGroup
	got := make([]string, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, b := s.Refresh(t, rt0)
			if st == 200 {
				got[i] = b["token"].(map[string]any)["refresh"].(string)
			}
		}()
	}
	wg.Wait()
	if got[0] == "" || got[0] != got[1] || got[0] == rt0 {
		t.Fatalf("concurrent refreshes within grace: %q and %q, want one and the same successor", got[0], got[1])
	}
	rt1 := got[0]
	st, b := s.Refresh(t, rt1)
	if st != 200 {
		t.Fatalf("rotate rt1: %d %v", st, b)
	}
	rt2 := b["token"].(map[string]any)["refresh"].(string)
	access := b["token"].(map[string]any)["access"].(string)

	// Past the grace, reusing rt0 revokes the whole family, and that stays revoked.
	s.Clock.Advance(1100 * time.Millisecond)
	st, b = s.Refresh(t, rt0)
	if st != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("reuse after grace: %d %v", st, b)
	}
	st, b = s.Refresh(t, rt2)
	if st != 400 {
		t.Fatalf("successor after family revocation: %d %v, want 400", st, b)
	}
	r, _ := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/me", access)
	if r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("access token of a revoked family: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	// Garbage is a 400, not a 500.
	st, b = s.Refresh(t, "not-a-token")
	if st != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("garbage refresh token: %d %v", st, b)
	}
}

// TestRefresh_46_GraceReplayLimit: within the grace period a rotated refresh token answers the
// same successor only RefreshGraceMax times; the next replay is 400 invalid_grant, and the
// session lives on (the holder of the successor is not logged out).
func TestRefresh_46_GraceReplayLimit(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.RefreshGraceMax, c.RefreshGrace = 2, time.Minute }))
	_, rt0, _ := s.SDKSignIn(t, 4217730412856391025)
	st, b := s.Refresh(t, rt0)
	if st != 200 {
		t.Fatalf("first refresh: %d %v", st, b)
	}
	rt1 := b["token"].(map[string]any)["refresh"].(string)
	for i := range 2 {
		st, b := s.Refresh(t, rt0)
		if st != 200 || b["token"].(map[string]any)["refresh"] != rt1 {
			t.Fatalf("grace replay %d: %d %v, want 200 with the same successor", i+1, st, b)
		}
	}
	st, b = s.Refresh(t, rt0)
	if st != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("third grace replay: %d %v, want 400 invalid_grant", st, b)
	}
	st, b = s.Refresh(t, rt1)
	if st != 200 {
		t.Fatalf("successor after the refused replay: %d %v, want 200 (the session is not revoked)", st, b)
	}
	metrics := servertest.ReadBody(t, servertest.Do(t, http.DefaultClient, "GET", s.BaseURL+"/metrics", nil, ""))
	if !strings.Contains(metrics, `kakaoauth_refreshes_total{outcome="grace_exceeded"} 1`) {
		t.Errorf("metrics do not count the refused replay:\n%s", grepLines(metrics, "kakaoauth_refreshes_total"))
	}
}

// grepLines is the lines of s that contain substr.
func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRefresh_58_LoserKeepsCookie: a late refresh with an old token does not clear cookies.
func TestRefresh_58_LoserKeepsCookie(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.RefreshGrace = 0 }))
	_, rt := s.SPASignIn(t, 4217730412856391024)
	r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/refresh", map[string]string{"refresh": rt}, nil)
	servertest.ReadBody(t, r)
	r = servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/refresh", map[string]string{"refresh": rt}, nil)
	servertest.ReadBody(t, r)
	if r.StatusCode != 400 || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("late refresh: %d, Set-Cookie %v", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
}

// logout posts to /auth/logout (everywhere when all) with a Bearer token when one is given.
func logout(t *testing.T, s *servertest.Server, bearer string, all bool) *http.Response {
	t.Helper()
	u := s.BaseURL + "/auth/logout"
	if all {
		u += "?all=true"
	}
	hdr := map[string]string{}
	if bearer != "" {
		hdr["Authorization"] = "Bearer " + bearer
	}
	r := servertest.Do(t, http.DefaultClient, "POST", u, hdr, "")
	servertest.ReadBody(t, r)
	return r
}

// TestLogout_53_Semantics: logout clears the cookies and ends the session (refresh afterwards is
// invalid_grant); a second logout is still 204; ?all=true ends every session of the user.
func TestLogout_53_Semantics(t *testing.T) {
	s := servertest.Start(t)
	access, refresh := s.SPASignIn(t, 4217730412856391024)
	r := logout(t, s, access, false)
	if r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	for _, sc := range r.Header.Values("Set-Cookie") {
		if !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("cookie not cleared: %s", sc)
		}
	}
	// Refresh afterwards fails; a second logout without credentials is still 204.
	if st, b := s.Refresh(t, refresh); st != 400 || b["error"] != "invalid_grant" {
		t.Fatalf("refresh after logout: %d %v", st, b)
	}
	if r := logout(t, s, "", false); r.StatusCode != 204 {
		t.Fatalf("second logout: %d", r.StatusCode)
	}

	// Log out everywhere ends every session of the user.
	var sessions []string
	for i := 0; i < 3; i++ {
		a, _ := s.SPASignIn(t, 4217730412856391024)
		sessions = append(sessions, a)
	}
	if r := logout(t, s, sessions[0], true); r.StatusCode != 204 {
		t.Fatalf("logout all: %d", r.StatusCode)
	}
	for i, a := range sessions {
		if st := s.MeStatus(t, a); st != 401 {
			t.Errorf("session %d after logout all: %d", i, st)
		}
	}
}

// TestLogout_53_WithRefreshBody: a script holding only its refresh token ends that session by
// posting it; afterwards the token is dead, and an unknown token still answers 204.
func TestLogout_53_WithRefreshBody(t *testing.T) {
	s := servertest.Start(t)
	access, refresh := s.SPASignIn(t, 4217730412856391024)
	r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/logout", map[string]string{"refresh": refresh}, nil)
	servertest.ReadBody(t, r)
	if r.StatusCode != 204 {
		t.Fatalf("logout with refresh body: %d", r.StatusCode)
	}
	if st := s.MeStatus(t, access); st != 401 {
		t.Fatalf("access token after logout: %d, want 401", st)
	}
	if st, m := s.Refresh(t, refresh); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("refresh after logout: %d %v", st, m)
	}
	r = servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/logout", map[string]string{"refresh": "kar_unknown"}, nil)
	servertest.ReadBody(t, r)
	if r.StatusCode != 204 {
		t.Fatalf("logout with an unknown refresh token: %d", r.StatusCode)
	}
}
