package server

import (
	"net/http"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Flow       string    `json:"flow"`
	Current    bool      `json:"current"`
}

// handleSessions lists the caller's signed-in devices, newest first.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	u, c, _, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	setLogUser(r, u.ID)
	list, err := s.cfg.Service.Sessions(r.Context(), u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, ss := range list {
		out = append(out, sessionJSON{
			ID: ss.ID, CreatedAt: ss.CreatedAt.UTC().Truncate(time.Second), LastUsedAt: ss.LastUsedAt.UTC().Truncate(time.Second),
			ExpiresAt: ss.ExpiresAt.UTC().Truncate(time.Second), UserAgent: ss.UserAgent, IP: ss.IP, Flow: ss.Flow,
			Current: ss.ID == c.SessionID,
		})
	}
	w.Header()["Cache-Control"] = hdrNoStore
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessionJSON `json:"sessions"`
	}{out})
}

// handleDeleteSession signs one of the caller's sessions out. Another user's session, or an
// unknown id, is 404. Signing the current session out through its cookie clears the cookies.
func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request) {
	u, c, viaCookie, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sc := stateChange{viaCookie: viaCookie, sessionID: c.SessionID}
	if err := s.checkStateChange(r, &sc, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	setLogUser(r, u.ID)
	id := r.PathValue("id")
	if id == "" || len(id) > 64 {
		s.writeError(w, r, &auth.Error{Code: auth.ECodeNotFound, Message: "no such session"})
		return
	}
	if err := s.cfg.Service.RevokeSession(r.Context(), u.ID, id, c.SessionID); err != nil {
		s.writeError(w, r, err)
		return
	}
	if viaCookie && id == c.SessionID {
		s.clearSessionCookies(w)
	}
	w.Header()["Cache-Control"] = hdrNoStore
	w.WriteHeader(http.StatusNoContent)
}
