package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// reauthMaxAge is how recently a session must have signed in to delete the account.
func (s *Server) reauthMaxAge() time.Duration {
	if s.cfg.ReauthMaxAge > 0 {
		return s.cfg.ReauthMaxAge
	}
	return auth.DefaultReauthMaxAge
}

// requireRecentLogin is checklist case 73: deleting the account needs a session that signed
// in with Kakao within reauthMaxAge. An older one gets 401 reauthentication_required with the
// step-up challenge of RFC 9470 (WWW-Authenticate: Bearer
// error="insufficient_user_authentication", max_age=…), set on w here.
func (s *Server) requireRecentLogin(w http.ResponseWriter, r *http.Request, userID, sessionID string) error {
	maxAge := s.reauthMaxAge()
	err := s.cfg.Service.RequireRecentLogin(r.Context(), userID, sessionID, maxAge)
	if auth.ErrorCode(err) == auth.ECodeReauthRequired {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_user_authentication", error_description="sign in again to delete the account", max_age="`+
			strconv.Itoa(int(maxAge/time.Second))+`"`)
	}
	return err
}

// reauthURL is where a browser goes to sign in again before deleting the account: a Kakao
// login that asks for the Kakao credentials again (prompt=login) and comes back to the
// confirmation page.
func (s *Server) reauthURL() string {
	return s.path("/auth/kakao/login") + "?" + url.Values{"prompt": {"login"}, "return_to": {s.path("/account/delete")}}.Encode()
}
