package server

import (
	"net/http"
	"strings"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// handleDeleteMe is DELETE /auth/me: the API's account deletion.
func (s *Server) handleDeleteMe(w http.ResponseWriter, r *http.Request) {
	s.deleteAccount(w, r, false)
}

// handleAccountDeletePost is POST /account/delete: the confirmation page's form.
func (s *Server) handleAccountDeletePost(w http.ResponseWriter, r *http.Request) {
	s.deleteAccount(w, r, true)
}

// deleteAccount deletes the caller's account: authenticated by a Bearer token, or by the access
// cookie with an allowed Origin and the CSRF token. The account is deleted here first, then
// unlinked at Kakao; a failed unlink does not undo the deletion. Scripts get 204; a browser
// (the page's form, any form post, or Accept: text/html) gets 303 to a page that says what
// happened.
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, fromPage bool) {
	fail := func(err error) {
		if fromPage {
			if auth.ErrorCode(err) == auth.ECodeUnauthorized {
				err = &auth.Error{Code: auth.ECodeInvalidToken, Message: "not signed in"}
			}
			s.renderError(w, r, err)
			return
		}
		s.writeError(w, r, err)
	}
	u, c, viaCookie, err := s.authenticate(r)
	if err != nil {
		fail(err)
		return
	}
	if fromPage && !viaCookie {
		fail(&auth.Error{Code: auth.ECodeForbidden, Message: "the page's form is cookie-authenticated"})
		return
	}
	sc := stateChange{viaCookie: viaCookie, sessionID: c.SessionID}
	if err := s.checkStateChange(r, &sc, nil); err != nil {
		fail(err)
		return
	}
	setLogUser(r, u.ID)
	if err := s.requireRecentLogin(w, r, u.ID, c.SessionID); err != nil {
		if auth.ErrorCode(err) == auth.ECodeReauthRequired && (fromPage || sc.form || strings.Contains(r.Header.Get("Accept"), "text/html")) {
			http.Redirect(w, r, s.reauthURL(), http.StatusSeeOther)
			return
		}
		fail(err)
		return
	}
	res, err := s.cfg.Service.DeleteAccount(r.Context(), u.ID, c.SessionID, s.clientIP(r))
	if err != nil {
		fail(err)
		return
	}
	if !res.Unlinked {
		setLogError(r, "account deleted here; Kakao unlink failed: "+errText(res.UnlinkErr))
	}
	s.clearSessionCookies(w)
	http.SetCookie(w, &http.Cookie{Name: returningCookie, Value: "", Path: s.path("/auth/kakao"), MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.Cookies.Secure, SameSite: http.SameSiteLaxMode})
	w.Header()["Cache-Control"] = hdrNoStore
	if fromPage || sc.form || strings.Contains(r.Header.Get("Accept"), "text/html") {
		target := s.path("/account/deleted")
		if !res.Unlinked {
			target += "?unlink=failed"
		}
		http.Redirect(w, r, target+"#page-heading", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// handleAccountDelete is GET /account/delete: the confirmation page. Without a session it sends
// the browser to the login page.
func (s *Server) handleAccountDelete(w http.ResponseWriter, r *http.Request) {
	var claims auth.AccessClaims
	if ck, err := r.Cookie(s.cfg.Cookies.AccessName); err == nil && ck.Value != "" {
		u, cl, err := s.cfg.Service.Authenticate(r.Context(), ck.Value)
		switch {
		case err == nil:
			setLogUser(r, u.ID)
			claims = cl
		case auth.ErrorCode(err) != auth.ECodeInvalidToken:
			s.renderError(w, r, err)
			return
		}
	}
	if claims.SessionID == "" {
		http.Redirect(w, r, s.path("/"), http.StatusSeeOther)
		return
	}
	if err := s.requireRecentLogin(w, r, claims.Subject, claims.SessionID); err != nil {
		if auth.ErrorCode(err) == auth.ECodeReauthRequired {
			http.Redirect(w, r, s.reauthURL(), http.StatusSeeOther)
			return
		}
		s.renderError(w, r, err)
		return
	}
	s.cfg.Pages.Delete(w, r, http.StatusOK, web.DeletePage{
		Lang: web.Lang(r), CSRF: s.cfg.CSRF.CSRFToken(claims.SessionID), ActionURL: s.path("/account/delete"), CancelURL: s.path("/"),
	})
}

// handleAccountDeleted is GET /account/deleted: the page after a deletion; it needs no session.
func (s *Server) handleAccountDeleted(w http.ResponseWriter, r *http.Request) {
	s.cfg.Pages.Deleted(w, r, http.StatusOK, web.DeletedPage{
		Lang: web.Lang(r), UnlinkFailed: r.URL.Query().Get("unlink") == "failed", LoginURL: s.path("/auth/kakao/login"),
	})
}
