package kakaotest

import (
	"net/http/httptest"
	"testing"
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
