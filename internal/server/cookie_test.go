package server

import (
	"net/http"
	"testing"
)

// TestSetCookieMatchesNetHTTP: the direct Set-Cookie lines are what http.Cookie writes, for every
// SameSite and Secure setting, and a value outside the token alphabet goes through http.Cookie's
// sanitizing (and so is written exactly as net/http would).
func TestSetCookieMatchesNetHTTP(t *testing.T) {
	values := []string{
		"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
		"kar_AbC-_x~9",
		"",
		`has space`,
		`quote"d`,
		"comma,semi;colon",
		"한글",
	}
	for _, same := range []http.SameSite{0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode} {
		for _, secure := range []bool{false, true} {
			for _, httpOnly := range []bool{false, true} {
				s := &Server{cfg: Config{Cookies: CookieConfig{SameSite: same, Secure: secure}}}
				for _, v := range values {
					h := http.Header{}
					s.setCookie(h, "accessToken", v, "/auth", 900, httpOnly)
					want := (&http.Cookie{Name: "accessToken", Value: v, Path: "/auth", MaxAge: 900,
						HttpOnly: httpOnly, Secure: secure, SameSite: same}).String()
					if got := h.Get("Set-Cookie"); got != want {
						t.Errorf("SameSite=%v Secure=%v HttpOnly=%v value %q:\n got %s\nwant %s", same, secure, httpOnly, v, got, want)
					}
				}
			}
		}
	}
}
