package server

import (
	"net/http"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

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
	}, auth.SessionMeta{UserAgent: r.UserAgent(), IP: s.clientIP(r), Flow: "spa"})
	s.countLogin("spa", err)
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
	writeJSON(w, http.StatusOK, loginJSON{User: userOut(res.User), Created: res.Created, Message: msg, Token: s.tokenOut(res.Tokens),
		NeedsConsent: res.NeedsConsent})
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
