package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal_error","error_description":"internal error"}`)
	}
	h := w.Header()
	h["Content-Type"] = hdrJSON
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// isJSON reports whether the request declares a JSON body.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// hasBody reports whether the request carries a body at all.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// decodeJSON reads a JSON object into dst: 415 for another media type, 413 past the limit,
// 400 for bad syntax, unknown fields, wrong types or trailing data.
func decodeJSON(r *http.Request, dst any) error {
	if !isJSON(r) {
		return &auth.Error{Code: auth.ECodeUnsupportedMedia, Message: "expected application/json"}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &auth.Error{Code: auth.ECodeTooLarge}
		}
		return &auth.Error{Code: auth.ECodeInvalidRequest, Message: "cannot read body", Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return &auth.Error{Code: auth.ECodeInvalidRequest, Message: "invalid JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &auth.Error{Code: auth.ECodeInvalidRequest, Message: "trailing data after JSON object"}
	}
	if bytes.IndexByte(body, 0) >= 0 || bytes.Contains(body, []byte(`\u0000`)) {
		return &auth.Error{Code: auth.ECodeInvalidRequest, Message: "NUL in request"}
	}
	return nil
}

type userJSON struct {
	ID              string    `json:"id"`
	KakaoID         *string   `json:"kakao_id"`
	Nickname        *string   `json:"nickname"`
	Email           *string   `json:"email"`
	EmailVerified   *bool     `json:"email_verified"`
	ProfileImageURL *string   `json:"profile_image_url"`
	CreatedAt       time.Time `json:"created_at"`
	LastLoginAt     time.Time `json:"last_login_at"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func userOut(u auth.User) userJSON {
	out := userJSON{
		ID: u.ID, KakaoID: nullable(u.KakaoID), Nickname: nullable(u.Nickname), Email: nullable(u.Email),
		ProfileImageURL: nullable(u.ProfileImageURL),
		CreatedAt:       u.CreatedAt.UTC().Truncate(time.Second), LastLoginAt: u.LastLoginAt.UTC().Truncate(time.Second),
	}
	if u.Email != "" {
		v := u.EmailVerified
		out.EmailVerified = &v
	}
	return out
}

type tokenJSON struct {
	Access           string `json:"access"`
	Refresh          string `json:"refresh"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
}

func (s *Server) tokenOut(t auth.Tokens) tokenJSON {
	now := s.cfg.Now()
	rexp := int64(t.RefreshExpiry.Sub(now) / time.Second)
	if rexp < 0 {
		rexp = 0
	}
	return tokenJSON{
		Access: t.Access, Refresh: t.Refresh, TokenType: "Bearer",
		ExpiresIn: int64(s.cfg.AccessTTL / time.Second), RefreshExpiresIn: rexp,
	}
}

type loginJSON struct {
	User    userJSON  `json:"user"`
	Created bool      `json:"created"`
	Message string    `json:"message"`
	Token   tokenJSON `json:"token"`
}

// handleToken is the SPA flow: the frontend got a code from Kakao and posts it.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code         string `json:"code"`
		RedirectURI  string `json:"redirect_uri"`
		CodeVerifier string `json:"code_verifier"`
		Nonce        string `json:"nonce"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.Code == "" || len(req.Code) > 1024:
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "code is required"))
		return
	case req.RedirectURI == "":
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "redirect_uri is required"))
		return
	case !s.redirects[req.RedirectURI]:
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "redirect_uri is not on KAKAOAUTH_REDIRECT_URIS"))
		return
	case req.CodeVerifier != "" && !validVerifier(req.CodeVerifier):
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "code_verifier must be 43-128 unreserved characters"))
		return
	case len(req.Nonce) > 512:
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "nonce too long"))
		return
	}
	res, err := s.cfg.Service.LoginWithCode(r.Context(), auth.CodeExchange{
		Code: req.Code, RedirectURI: req.RedirectURI, CodeVerifier: req.CodeVerifier, Nonce: req.Nonce,
	}, auth.SessionMeta{UserAgent: r.UserAgent(), IP: clientIP(r), Flow: "spa"})
	s.cfg.Metrics.LoginResult("spa", err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerLogin(w, r, res)
}

// answerLogin answers a successful token or SDK login: cookies and the login response.
func (s *Server) answerLogin(w http.ResponseWriter, r *http.Request, res auth.LoginResult) {
	setLogUser(r, res.User.ID)
	s.setSessionCookies(w, res.Tokens, res.Session.ID)
	w.Header()["Cache-Control"] = hdrNoStore
	msg := "login success"
	if res.Created {
		msg = "register success"
	}
	writeJSON(w, http.StatusOK, loginJSON{User: userOut(res.User), Created: res.Created, Message: msg, Token: s.tokenOut(res.Tokens)})
}

func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// handleRefresh rotates a refresh token from the JSON body, or from the refresh cookie with a
// CSRF proof.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	cookieMode := false
	var token string
	if !hasBody(r) {
		c, err := r.Cookie(s.cfg.Cookies.RefreshName)
		if err != nil || c.Value == "" {
			s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "send {\"refresh\": …} or the refresh cookie"))
			return
		}
		if err := s.checkOrigin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		sess, err := s.cfg.Service.SessionOfRefresh(r.Context(), c.Value)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.checkCSRF(r, sess.ID, ""); err != nil {
			s.writeError(w, r, err)
			return
		}
		token, cookieMode = c.Value, true
	} else {
		var req struct {
			Refresh string `json:"refresh"`
		}
		if err := decodeJSON(r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if req.Refresh == "" {
			s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "refresh is required"))
			return
		}
		token = req.Refresh
	}
	res, err := s.cfg.Service.Refresh(r.Context(), token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	setLogUser(r, res.Session.UserID)
	if cookieMode {
		s.setSessionCookies(w, res.Tokens, res.Session.ID)
	}
	w.Header()["Cache-Control"] = hdrNoStore
	writeJSON(w, http.StatusOK, struct {
		Token tokenJSON `json:"token"`
	}{s.tokenOut(res.Tokens)})
}

type claimsJSON struct {
	Issuer    string   `json:"iss"`
	Audience  []string `json:"aud"`
	Subject   string   `json:"sub"`
	Expiry    int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	ID        string   `json:"jti"`
	SessionID string   `json:"sid"`
}

// handleVerify answers an access token's claims, or 401.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Token == "" {
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "token is required"))
		return
	}
	_, c, err := s.cfg.Service.Authenticate(r.Context(), req.Token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header()["Cache-Control"] = hdrNoStore
	writeJSON(w, http.StatusOK, claimsJSON{
		Issuer: c.Issuer, Audience: c.Audience, Subject: c.Subject, Expiry: c.Expiry.Unix(),
		IssuedAt: c.IssuedAt.Unix(), ID: c.ID, SessionID: c.SessionID,
	})
}

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

// handleMe answers the caller's user.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	u, _, _, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	setLogUser(r, u.ID)
	w.Header()["Cache-Control"] = hdrNoStore
	writeJSON(w, http.StatusOK, struct {
		User userJSON `json:"user"`
	}{userOut(u)})
}

// handleLogout revokes the caller's session (or all with ?all=true) and clears the cookies. A
// browser's form post gets 303 to a page that says so; scripts get 204.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("all") == "true"
	userID, sessionID, viaCookie, err := s.logoutTarget(r)
	if err != nil {
		s.failLogout(w, r, err)
		return
	}
	if viaCookie {
		if err := s.checkOrigin(r); err != nil {
			s.failLogout(w, r, err)
			return
		}
	}
	// Checked in the contract's order: origin (403) above, then media type (415), then body.
	form := false
	if hasBody(r) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case mt == "application/x-www-form-urlencoded":
			form = true
		case isJSON(r):
		default:
			s.failLogout(w, r, &auth.Error{Code: auth.ECodeUnsupportedMedia, Message: "expected JSON or a form"})
			return
		}
	}
	var formToken string
	if form {
		if err := r.ParseForm(); err != nil {
			s.failLogout(w, r, &auth.Error{Code: auth.ECodeInvalidRequest, Message: "bad form"})
			return
		}
		formToken = r.PostForm.Get("csrf")
	} else if hasBody(r) {
		var req struct {
			Refresh string `json:"refresh"`
		}
		if err := decodeJSON(r, &req); err != nil {
			s.failLogout(w, r, err)
			return
		}
		// A script without an access token or cookies ends the session of its refresh token;
		// knowing the token is the proof, so no CSRF token is needed.
		if _, hasBearer := bearer(r); req.Refresh != "" && !hasBearer {
			sess, err := s.cfg.Service.SessionOfRefresh(r.Context(), req.Refresh)
			switch {
			case err == nil:
				userID, sessionID, viaCookie = sess.UserID, sess.ID, false
			case auth.ErrorCode(err) != auth.ECodeInvalidGrant:
				s.failLogout(w, r, err)
				return
			}
		}
	}
	if viaCookie && sessionID != "" {
		if err := s.checkCSRF(r, sessionID, formToken); err != nil {
			s.failLogout(w, r, err)
			return
		}
	}
	if sessionID != "" {
		setLogUser(r, userID)
		if err := s.cfg.Service.Logout(r.Context(), userID, sessionID, all); err != nil {
			s.failLogout(w, r, err)
			return
		}
	}
	s.clearSessionCookies(w)
	w.Header()["Cache-Control"] = hdrNoStore
	if form || wantsHTML(r) {
		result := "signed-out"
		if all {
			result = "signed-out-all"
		}
		http.Redirect(w, r, "/?result="+result+"#page-heading", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) failLogout(w http.ResponseWriter, r *http.Request, err error) {
	if wantsHTML(r) {
		s.renderError(w, r, err)
		return
	}
	s.writeError(w, r, err)
}

// logoutTarget finds the session to end: from a Bearer token, the access cookie, or the refresh
// cookie. No credentials at all is not an error: logging out twice answers the same.
func (s *Server) logoutTarget(r *http.Request) (userID, sessionID string, viaCookie bool, err error) {
	if tok, ok := bearer(r); ok {
		_, c, err := s.cfg.Service.Authenticate(r.Context(), tok)
		if err != nil {
			return "", "", false, err
		}
		return c.Subject, c.SessionID, false, nil
	}
	if c, err := r.Cookie(s.cfg.Cookies.AccessName); err == nil && c.Value != "" {
		if _, cl, err := s.cfg.Service.Authenticate(r.Context(), c.Value); err == nil {
			return cl.Subject, cl.SessionID, true, nil
		} else if auth.ErrorCode(err) != auth.ECodeInvalidToken {
			return "", "", true, err
		}
	}
	if c, err := r.Cookie(s.cfg.Cookies.RefreshName); err == nil && c.Value != "" {
		sess, err := s.cfg.Service.SessionOfRefresh(r.Context(), c.Value)
		if err == nil {
			return sess.UserID, sess.ID, true, nil
		}
		if auth.ErrorCode(err) != auth.ECodeInvalidGrant {
			return "", "", true, err
		}
		return "", "", true, nil
	}
	// An expired access cookie alone still makes this a cookie request (origin checked).
	_, noCookie := r.Cookie(s.cfg.Cookies.AccessName)
	return "", "", noCookie == nil, nil
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

func (s *Server) setSessionCookies(w http.ResponseWriter, t auth.Tokens, sessionID string) {
	c := s.cfg.Cookies
	now := s.cfg.Now()
	refreshAge := int(t.RefreshExpiry.Sub(now) / time.Second)
	if refreshAge < 1 {
		refreshAge = 1
	}
	h := w.Header()
	s.setCookie(h, c.AccessName, t.Access, "/", int(s.cfg.AccessTTL/time.Second), true)
	s.setCookie(h, c.RefreshName, t.Refresh, "/auth", refreshAge, true)
	csrf := s.cfg.CSRF.CSRFToken(sessionID)
	s.setCookie(h, c.CSRFName, csrf, "/", refreshAge, false)
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
	for _, k := range []struct{ name, path string }{{c.AccessName, "/"}, {c.RefreshName, "/auth"}, {c.CSRFName, "/"}} {
		http.SetCookie(w, &http.Cookie{Name: k.name, Value: "", Path: k.path, MaxAge: -1,
			HttpOnly: k.name != c.CSRFName, Secure: c.Secure, SameSite: c.SameSite})
	}
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(s.cfg.JWKS())
}

func (s *Server) discoveryDocument() []byte {
	base := s.cfg.PublicURL.String()
	b, _ := json.Marshal(map[string]any{
		"issuer":                                base,
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"authorization_endpoint":                base + "/auth/kakao/login",
		"token_endpoint":                        base + "/auth/kakao/token",
		"userinfo_endpoint":                     base + "/auth/me",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"access_token_audience":                 s.cfg.Audience,
	})
	return b
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(s.discovery)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header()["Cache-Control"] = hdrNoStore
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header()["Cache-Control"] = hdrNoStore
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			s.writeError(w, r, &auth.Error{Code: auth.ECodeUnavailable, Message: "not ready", Err: err})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
