package server_test

import (
	"net/http"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestCookieAuth_55_CSRF: cookie-driven refresh and logout need our origin and the CSRF token,
// and nothing rotates or ends when they are refused; GET logout is 405.
func TestCookieAuth_55_CSRF(t *testing.T) {
	s := servertest.Start(t)
	c := servertest.NewBrowser(t)
	servertest.ReadBody(t, s.BrowserLogin(t, c, servertest.UserNoEmail, "profile_nickname"))
	csrf := s.Cookie(c, "/", "csrfToken")
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"no origin", map[string]string{"X-CSRF-Token": csrf}},
		{"evil origin", map[string]string{"Origin": "https://evil.example", "X-CSRF-Token": csrf}},
		{"null origin", map[string]string{"Origin": "null", "X-CSRF-Token": csrf}},
		{"no token", map[string]string{"Origin": s.BaseURL}},
		{"wrong token", map[string]string{"Origin": s.BaseURL, "X-CSRF-Token": "x" + csrf}},
	} {
		for _, path := range []string{"/auth/token/refresh", "/auth/logout"} {
			r := servertest.PostJSON(t, c, s.BaseURL+path, nil, tc.hdr)
			servertest.ReadBody(t, r)
			if r.StatusCode != 403 {
				t.Errorf("%s %s: %d, want 403", tc.name, path, r.StatusCode)
			}
		}
	}
	// Still signed in: nothing rotated or revoked.
	if r, _ := servertest.GetJSON(t, c, s.BaseURL+"/auth/me", ""); r.StatusCode != 200 {
		t.Fatalf("after refused requests /auth/me = %d", r.StatusCode)
	}
	r, err := c.Get(s.BaseURL + "/auth/logout")
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") == "" {
		t.Errorf("GET /auth/logout: %d Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
}
