package server

import (
	"net/http"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// kakaoTokenJSON is the answer of GET /admin/users/{id}/kakao-token.
type kakaoTokenJSON struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresIn   int64     `json:"expires_in"`
	ExpiresAt   time.Time `json:"expires_at"`
	Scopes      []string  `json:"scopes"`
}

// handleAdminKakaoToken gives the service a fresh Kakao access token of a user (valid for at
// least the refresh margin, refreshed at Kakao when needed) to call Kakao APIs itself. 404 when
// no Kakao tokens are kept for the user; 400 login_required when Kakao no longer accepts the
// user's refresh token (the person must log in with Kakao again); 503/504 when Kakao is down.
func (s *Server) handleAdminKakaoToken(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminID(w, r)
	if !ok {
		return
	}
	tok, err := s.cfg.Service.FreshKakaoToken(r.Context(), id)
	if err != nil {
		if auth.ErrorCode(err) == auth.ECodeLoginRequired {
			err = &describedError{err: err, key: "err.kakao_relogin_required"}
		}
		s.writeError(w, r, err)
		return
	}
	scopes := tok.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	w.Header()["Cache-Control"] = hdrNoStore
	writeJSON(w, http.StatusOK, kakaoTokenJSON{AccessToken: tok.Access, TokenType: "bearer",
		ExpiresIn: int64(tok.AccessExpiry.Sub(s.cfg.Now()) / time.Second), ExpiresAt: tok.AccessExpiry.UTC(), Scopes: scopes})
}

// handleKakaoLogoutCallback is the logout_redirect_uri of Kakao's /oauth/logout
// (KAKAOAUTH_KAKAO_LOGOUT=redirect): our own logout is already done, so it only shows the
// signed-out page; Kakao's echoed state says which (signed-out or signed-out-all).
func (s *Server) handleKakaoLogoutCallback(w http.ResponseWriter, r *http.Request) {
	result := "signed-out"
	if r.URL.Query().Get("state") == "signed-out-all" {
		result = "signed-out-all"
	}
	w.Header()["Cache-Control"] = hdrNoStore
	http.Redirect(w, r, s.path("/?result="+result+"#page-heading"), http.StatusSeeOther)
}

// kakaoLogoutRedirect is where a browser goes after our logout with
// KAKAOAUTH_KAKAO_LOGOUT=redirect: Kakao's /oauth/logout, which comes back to
// /auth/kakao/logout/callback with result as its state. "" when that mode is off.
func (s *Server) kakaoLogoutRedirect(result string) string {
	if s.cfg.KakaoLogoutURL == nil {
		return ""
	}
	return s.cfg.KakaoLogoutURL(result)
}

// heldInfo is the signed-in page's "what we hold" for u; nil when nothing about the Kakao
// link is kept.
func (s *Server) heldInfo(r *http.Request, u auth.User) *web.HeldInfo {
	l, ok, err := s.cfg.Service.KakaoLinkOf(r.Context(), u.ID)
	if err != nil || !ok {
		return nil
	}
	return &web.HeldInfo{
		Nickname: u.Nickname, Email: u.Email, ProfileImageURL: u.ProfileImageURL, KakaoID: u.KakaoID,
		Agreed: l.Agreed, NeedsConsent: l.NeedsConsent, TokensKept: l.TokensSealed != nil,
		ConsentURL: s.path("/auth/kakao/consent"), ReturnTo: s.path("/"),
	}
}
