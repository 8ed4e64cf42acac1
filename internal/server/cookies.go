package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

func (s *Server) setSessionCookies(w http.ResponseWriter, t auth.Tokens, sessionID string) {
	c := s.cfg.Cookies
	now := s.cfg.Now()
	refreshAge := int(t.RefreshExpiry.Sub(now) / time.Second)
	if refreshAge < 1 {
		refreshAge = 1
	}
	h := w.Header()
	s.setCookie(h, c.AccessName, t.Access, c.Path, int(s.cfg.AccessTTL/time.Second), true)
	s.setCookie(h, c.RefreshName, t.Refresh, s.path("/auth"), refreshAge, true)
	csrf := s.cfg.CSRF.CSRFToken(sessionID)
	s.setCookie(h, c.CSRFName, csrf, c.Path, refreshAge, false)
	// A frontend on another origin cannot read our cookie, so the proof is also a header.
	w.Header().Set("X-CSRF-Token", csrf)
}

// setCookie adds a Set-Cookie line as http.SetCookie would write it for a cookie with a
// positive Max-Age. The values are tokens this server made (base64url, '.', '~'), which need no
// quoting; it appends the line directly instead of going through http.Cookie's per-byte
// sanitizing, which showed in the login profile. Any other value goes the usual way.
func (s *Server) setCookie(h http.Header, name, value, path string, maxAge int, httpOnly bool) {
	c := s.cfg.Cookies
	for i := 0; i < len(value); i++ {
		if b := value[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '-' || b == '_' || b == '.' || b == '~') {
			hc := &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
				HttpOnly: httpOnly, Secure: c.Secure, SameSite: c.SameSite}
			h.Add("Set-Cookie", hc.String())
			return
		}
	}
	b := make([]byte, 0, len(name)+len(value)+80)
	b = append(b, name...)
	b = append(b, '=')
	b = append(b, value...)
	b = append(b, "; Path="...)
	b = append(b, path...)
	b = append(b, "; Max-Age="...)
	b = strconv.AppendInt(b, int64(maxAge), 10)
	if httpOnly {
		b = append(b, "; HttpOnly"...)
	}
	if c.Secure {
		b = append(b, "; Secure"...)
	}
	switch c.SameSite {
	case http.SameSiteLaxMode:
		b = append(b, "; SameSite=Lax"...)
	case http.SameSiteStrictMode:
		b = append(b, "; SameSite=Strict"...)
	case http.SameSiteNoneMode:
		b = append(b, "; SameSite=None"...)
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], string(b))
}

func (s *Server) clearSessionCookies(w http.ResponseWriter) {
	c := s.cfg.Cookies
	for _, k := range []struct{ name, path string }{{c.AccessName, c.Path}, {c.RefreshName, s.path("/auth")}, {c.CSRFName, c.Path}} {
		http.SetCookie(w, &http.Cookie{Name: k.name, Value: "", Path: k.path, MaxAge: -1,
			HttpOnly: k.name != c.CSRFName, Secure: c.Secure, SameSite: c.SameSite})
	}
}

// flowState is what the sealed flow cookie carries between login and callback.
type flowState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
	// Auto marks an attempt that asked Kakao with prompt=none on its own: if Kakao needs the
	// person, the server starts an interactive attempt instead of showing an error.
	Auto bool `json:"a,omitempty"`
	// Consent marks an additional-consent attempt of the signed-in user UserID (session
	// SessionID) for Scopes (consent.go).
	Consent   bool     `json:"c,omitempty"`
	UserID    string   `json:"u,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	Scopes    []string `json:"sc,omitempty"`
}

const (
	flowPurpose     = "kakaoauth-flow"
	returningCookie = "kakaoauth_returning"
)

func (s *Server) flowCookieName() string {
	if s.cfg.Cookies.Secure {
		return "__Host-kakaoauth-flow"
	}
	return "kakaoauth-flow"
}

func (s *Server) clearFlowCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.flowCookieName(), Value: "", Path: s.path("/"), MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.Cookies.Secure, SameSite: http.SameSiteLaxMode})
}
