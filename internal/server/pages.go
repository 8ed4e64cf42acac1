package server

import (
	"net/http"
	"strings"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// handleIndex is the login page, or the signed-in page for a browser with a valid session.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	lang := web.Lang(r)
	result := r.URL.Query().Get("result")
	if c, err := r.Cookie(s.cfg.Cookies.AccessName); err == nil && c.Value != "" {
		u, cl, err := s.cfg.Service.Authenticate(r.Context(), c.Value)
		if err == nil {
			setLogUser(r, u.ID)
			s.cfg.Pages.Account(w, r, http.StatusOK, web.AccountPage{
				Lang: lang, JustSignedIn: result == "signed-in", Nickname: u.Nickname, Email: u.Email,
				CSRF: s.cfg.CSRF.CSRFToken(cl.SessionID), LogoutURL: s.path("/auth/logout"), LogoutAllURL: s.path("/auth/logout?all=true"),
				DeleteURL: s.path("/account/delete"),
				Apps:      s.connectedApps(r, u.ID, cl.SessionID),
				Held:      s.heldInfo(r, u), ConsentOutcome: r.URL.Query().Get("consent"),
			})
			return
		}
		if auth.ErrorCode(err) != auth.ECodeInvalidToken {
			s.renderError(w, r, err)
			return
		}
	}
	outcome := ""
	if result == "signed-out" || result == "signed-out-all" {
		outcome = result
	}
	loginURL := s.path("/auth/kakao/login")
	if lang == "en" && strings.Contains(r.URL.RawQuery, "lang=en") {
		loginURL += "?lang=en"
	}
	s.cfg.Pages.Login(w, r, http.StatusOK, web.LoginPage{Lang: lang, LoginURL: loginURL, Outcome: outcome})
}

// canonical redirects a browser page request made under another host name to the public URL.
func (s *Server) canonical(next http.HandlerFunc) http.HandlerFunc {
	if !s.cfg.CanonicalHost {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Host != s.cfg.PublicURL.Host {
			http.Redirect(w, r, origin(s.cfg.PublicURL)+r.URL.RequestURI(), http.StatusFound)
			return
		}
		next(w, r)
	}
}
