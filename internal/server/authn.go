package server

import (
	"mime"
	"net/http"
	"strings"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

// authenticate finds the caller from a Bearer token or the access cookie.
func (s *Server) authenticate(r *http.Request) (auth.User, auth.AccessClaims, bool, error) {
	if tok, ok := bearer(r); ok {
		u, c, err := s.cfg.Service.Authenticate(r.Context(), tok)
		return u, c, false, err
	}
	if r.Header.Get("Authorization") != "" {
		return auth.User{}, auth.AccessClaims{}, false, &auth.Error{Code: auth.ECodeInvalidToken, Message: "unsupported authorization scheme"}
	}
	if c, err := r.Cookie(s.cfg.Cookies.AccessName); err == nil && c.Value != "" {
		u, cl, err := s.cfg.Service.Authenticate(r.Context(), c.Value)
		return u, cl, true, err
	}
	return auth.User{}, auth.AccessClaims{}, false, &auth.Error{Code: auth.ECodeUnauthorized, Message: "no access token"}
}

// checkOrigin requires a cookie-authenticated state change to come from our origin or an allowed
// one (Origin header, else Referer).
func (s *Server) checkOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" {
		if ref := r.Header.Get("Referer"); ref != "" {
			if i := strings.Index(ref, "://"); i > 0 {
				rest := ref[i+3:]
				if j := strings.IndexByte(rest, '/'); j >= 0 {
					rest = rest[:j]
				}
				o = ref[:i+3] + rest
			}
		}
	}
	if o == "" || !s.origins[o] {
		return &auth.Error{Code: auth.ECodeForbidden, Message: "cross-site request refused (Origin)"}
	}
	return nil
}

// checkCSRF requires the signed double-submit token bound to the session, from the
// X-CSRF-Token header or a form's csrf field.
func (s *Server) checkCSRF(r *http.Request, sessionID, formToken string) error {
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = formToken
	}
	if tok == "" || !s.cfg.CSRF.CheckCSRF(sessionID, tok) {
		return &auth.Error{Code: auth.ECodeForbidden, Message: "missing or wrong CSRF token"}
	}
	return nil
}

// stateChangeBody reads the optional body of a cookie- or Bearer-authenticated state change
// (logout-like requests): none, an empty JSON object, or a form whose csrf field is returned.
// Other media types are 415.
func stateChangeBody(r *http.Request) (formToken string, form bool, err error) {
	if !hasBody(r) {
		return "", false, nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			if strings.Contains(err.Error(), "too large") {
				return "", true, &auth.Error{Code: auth.ECodeTooLarge}
			}
			return "", true, &auth.Error{Code: auth.ECodeInvalidRequest, Message: "bad form"}
		}
		return r.PostForm.Get("csrf"), true, nil
	case isJSON(r):
		var req struct{}
		return "", false, decodeJSON(r, &req)
	}
	return "", false, &auth.Error{Code: auth.ECodeUnsupportedMedia, Message: "expected JSON or a form"}
}
