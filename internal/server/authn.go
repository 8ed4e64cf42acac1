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

// stateChange is a state-changing request (logout, deletion, signing a device out, a cookie
// refresh) on its way through the checks of the contract's order: Origin (403), the body's media
// type (415) and syntax (400), then the CSRF proof (403). Requests authenticated by a Bearer token
// or by a token in the body carry their own proof and skip Origin and CSRF.
type stateChange struct {
	viaCookie bool   // authenticated by a cookie: Origin and CSRF are checked
	sessionID string // the session the CSRF token must be bound to ("": nothing to prove)
	form      bool   // the body was a form: a browser's post
	formToken string // a form's csrf field
}

// checkStateChange runs every check of sc in order, reading a JSON body into body.
func (s *Server) checkStateChange(r *http.Request, sc *stateChange, body any) error {
	if err := s.readStateChange(r, sc, body); err != nil {
		return err
	}
	return s.proveStateChange(r, sc)
}

// readStateChange checks the Origin of a cookie-authenticated request, then reads the optional
// body: none, a form (its csrf field kept), or JSON decoded into body (nil: an empty object).
func (s *Server) readStateChange(r *http.Request, sc *stateChange, body any) error {
	if sc.viaCookie {
		if err := s.checkOrigin(r); err != nil {
			return err
		}
	}
	if !hasBody(r) {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/x-www-form-urlencoded":
		sc.form = true
		if err := parseForm(r); err != nil {
			return err
		}
		sc.formToken = r.PostForm.Get("csrf")
		return nil
	case isJSON(r):
		if body == nil {
			body = &struct{}{}
		}
		return decodeJSON(r, body)
	}
	return &auth.Error{Code: codeUnsupportedMedia, Message: "expected JSON or a form"}
}

// proveStateChange requires, for a cookie-authenticated request, the CSRF token bound to
// sc.sessionID.
func (s *Server) proveStateChange(r *http.Request, sc *stateChange) error {
	if sc.viaCookie && sc.sessionID != "" {
		return s.checkCSRF(r, sc.sessionID, sc.formToken)
	}
	return nil
}

// User is the person r is signed in as (a Bearer token, else the access cookie), with the
// session checked as GET /auth/me checks it: for a program that mounts the server in its own
// mux and wants to know who is calling its other routes.
func (s *Server) User(r *http.Request) (auth.User, error) {
	u, _, _, err := s.authenticate(r)
	return u, err
}
