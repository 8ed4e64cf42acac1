package kakaotest

import (
	"net/http/httptest"
	"testing"

	"github.com/kakaoauth/kakaoauth/kakao"
)

// Server is an Emulator served by an httptest.Server on one origin for both Kakao hosts.
type Server struct {
	*httptest.Server
	*Emulator
}

// Close stops the server, releasing requests hanging on a fault first.
func (s *Server) Close() {
	s.Emulator.Close()
	s.Server.Close()
}

// NewServer starts an emulator for app and users on 127.0.0.1, with the issuer set to the
// server URL, and closes it when the test ends. Register the redirect URIs the test uses in
// app.RedirectURIs (or later with AddRedirectURI).
func NewServer(t testing.TB, app App, users []User) *Server {
	t.Helper()
	e := New(app, users, Options{})
	srv := httptest.NewServer(e)
	e.SetIssuer(srv.URL)
	s := &Server{Server: srv, Emulator: e}
	t.Cleanup(s.Close)
	return s
}

// ClientConfig returns a kakao.Config for the server's app with both Kakao hosts pointed at the
// server: the REST API key as client ID, the client secret, admin key and app ID, and the REST
// API and native app keys as ID-token audiences (a code login and an SDK login). Timeout and Now
// are left to the caller: set Now to the clock given to SetNow.
func (s *Server) ClientConfig() kakao.Config {
	app := s.App()
	return kakao.Config{
		ClientID:     app.RESTKey,
		ClientSecret: app.ClientSecret,
		AdminKey:     app.AdminKey,
		AppID:        app.AppID,
		AuthURL:      s.URL,
		APIURL:       s.URL,
		Audiences:    []string{app.RESTKey, app.NativeKey},
	}
}
