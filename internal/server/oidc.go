package server

import (
	"net/http"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// OIDCProvider is the standard OpenID Provider (internal/oidcop) the server mounts at /oauth2/,
// /auth/oidc/ and the two discovery paths.
type OIDCProvider interface {
	http.Handler
	// ValidReturnTo reports whether a return_to of the browser flow continues an authorization request.
	ValidReturnTo(returnTo string) bool
	// ConnectedApps lists the person's connected third-party apps for the signed-in page.
	ConnectedApps(r *http.Request, userID, sessionID string) ([]web.ConnectedApp, error)
}

// BrowserSession is the person a browser request is signed in as: the access cookie, or (when
// it has expired) the refresh cookie's session if still active. Cookies only, never a Bearer
// header. An error is a store fault; a missing or dead session is ok == false.
func (s *Server) BrowserSession(r *http.Request) (userID, sessionID string, ok bool, err error) {
	if c, cerr := r.Cookie(s.cfg.Cookies.AccessName); cerr == nil && c.Value != "" {
		u, cl, err := s.cfg.Service.Authenticate(r.Context(), c.Value)
		if err == nil {
			return u.ID, cl.SessionID, true, nil
		}
		if code := auth.ErrorCode(err); code != auth.ECodeInvalidToken {
			return "", "", false, err
		}
	}
	if c, cerr := r.Cookie(s.cfg.Cookies.RefreshName); cerr == nil && c.Value != "" {
		sess, err := s.cfg.Service.SessionOfRefresh(r.Context(), c.Value)
		if err == nil && sess.Active(s.cfg.Now()) {
			return sess.UserID, sess.ID, true, nil
		}
		if err != nil {
			if code := auth.ErrorCode(err); code != auth.ECodeInvalidGrant && code != auth.ECodeInvalidToken {
				return "", "", false, err
			}
		}
	}
	return "", "", false, nil
}

// oidcReturnTo reports whether return_to continues an OpenID authorization request.
func (s *Server) oidcReturnTo(returnTo string) bool {
	return s.cfg.OIDC != nil && s.cfg.OIDC.ValidReturnTo(returnTo)
}

// connectedApps lists the signed-in person's connected apps (none without a provider, or when
// the store fails: the page still shows the rest).
func (s *Server) connectedApps(r *http.Request, userID, sessionID string) []web.ConnectedApp {
	if s.cfg.OIDC == nil {
		return nil
	}
	apps, err := s.cfg.OIDC.ConnectedApps(r, userID, sessionID)
	if err != nil {
		s.log.WarnContext(r.Context(), "list connected apps", "err", err)
		return nil
	}
	return apps
}
