package server_test

import (
	"net/http"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestCookies_54_Attributes: the session cookies are host-only, SameSite=Lax, HttpOnly but for
// the CSRF cookie, scoped to their paths, live no longer than their tokens, and fit in 4 KB.
func TestCookies_54_Attributes(t *testing.T) {
	s := servertest.Start(t)
	r := spaToken(t, s, s.MintCode(t, 4217730412856391024))
	servertest.ReadBody(t, r)
	got := map[string]*http.Cookie{}
	for _, c := range r.Cookies() {
		got[c.Name] = c
	}
	for name, want := range map[string]struct {
		path     string
		httpOnly bool
		maxAge   int
	}{"accessToken": {"/", true, 900}, "refreshToken": {"/auth", true, 2592000}, "csrfToken": {"/", false, 2592000}} {
		c := got[name]
		if c == nil {
			t.Fatalf("no %s cookie", name)
		}
		if c.Path != want.path || c.HttpOnly != want.httpOnly || c.MaxAge <= 0 || c.MaxAge > want.maxAge || c.SameSite != http.SameSiteLaxMode || c.Domain != "" {
			t.Errorf("%s: %+v", name, c)
		}
		if len(c.String()) > 4096 {
			t.Errorf("%s longer than 4096 bytes", name)
		}
	}
}
