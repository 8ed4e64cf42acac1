package server

import (
	"net/http"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

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
		sc := stateChange{viaCookie: true}
		if err := s.readStateChange(r, &sc, nil); err != nil {
			s.writeError(w, r, err)
			return
		}
		sess, err := s.cfg.Service.SessionOfRefresh(r.Context(), c.Value)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		sc.sessionID = sess.ID
		if err := s.proveStateChange(r, &sc); err != nil {
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
	sc := stateChange{viaCookie: viaCookie}
	var req struct {
		Refresh string `json:"refresh"`
	}
	if err := s.readStateChange(r, &sc, &req); err != nil {
		s.failLogout(w, r, err)
		return
	}
	// A script without an access token or cookies ends the session of its refresh token;
	// knowing the token is the proof, so no CSRF token is needed.
	if _, hasBearer := bearer(r); req.Refresh != "" && !hasBearer {
		sess, err := s.cfg.Service.SessionOfRefresh(r.Context(), req.Refresh)
		switch {
		case err == nil:
			userID, sessionID, sc.viaCookie = sess.UserID, sess.ID, false
		case auth.ErrorCode(err) != auth.ECodeInvalidGrant:
			s.failLogout(w, r, err)
			return
		}
	}
	sc.sessionID = sessionID
	if err := s.proveStateChange(r, &sc); err != nil {
		s.failLogout(w, r, err)
		return
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
	if sc.form || s.wantsHTML(r) {
		result := "signed-out"
		if all {
			result = "signed-out-all"
		}
		if target := s.kakaoLogoutRedirect(result); target != "" && sessionID != "" {
			// Also out of the Kakao Account; Kakao comes back to /auth/kakao/logout/callback.
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, s.path("/?result=")+result+"#page-heading", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) failLogout(w http.ResponseWriter, r *http.Request, err error) {
	if s.wantsHTML(r) {
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
