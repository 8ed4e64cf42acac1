package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// adminUserJSON is a user as the admin API shows it: the login response's user, and the
// operator's columns.
type adminUserJSON struct {
	userJSON
	DisabledAt     *time.Time `json:"disabled_at"`
	Identities     int        `json:"identities"`
	ActiveSessions int        `json:"active_sessions"`
}

func adminUserOut(r auth.UserRecord) adminUserJSON {
	out := adminUserJSON{userJSON: userOut(r.User), Identities: r.Identities, ActiveSessions: r.ActiveSessions}
	if r.Disabled() {
		t := r.DisabledAt.UTC().Truncate(time.Second)
		out.DisabledAt = &t
	}
	return out
}

// adminSessionOut is a session as the admin API shows it (current is always false).
func adminSessionOut(ss auth.Session) sessionJSON {
	return sessionJSON{
		ID: ss.ID, CreatedAt: ss.CreatedAt.UTC().Truncate(time.Second), LastUsedAt: ss.LastUsedAt.UTC().Truncate(time.Second),
		ExpiresAt: ss.ExpiresAt.UTC().Truncate(time.Second), UserAgent: ss.UserAgent, IP: ss.IP, Flow: ss.Flow,
	}
}

// AdminUserJSON is the admin API's JSON form of a user, so that `kakaoauth users -json` prints
// what GET /admin/users/{id} answers.
func AdminUserJSON(r auth.UserRecord) any { return adminUserOut(r) }

// AdminSessionJSON is the admin API's JSON form of a session.
func AdminSessionJSON(ss auth.Session) any { return adminSessionOut(ss) }

// Bounds of the admin API's parameters.
const (
	maxAdminID    = 64
	maxAdminQuery = 200
)

// adminAuth lets a request through to next only with "Authorization: Bearer <admin token>",
// whose SHA-256 is compared in constant time with KAKAOAUTH_ADMIN_TOKEN_SHA256; anything else is
// 401. The server never holds the token itself.
func (s *Server) adminAuth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := bearer(r)
		sum := sha256.Sum256([]byte(tok))
		if tok == "" || subtle.ConstantTimeCompare(sum[:], s.cfg.AdminTokenSHA256) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kakaoauth-admin"`)
			s.writeError(w, r, &auth.Error{Code: auth.ECodeUnauthorized, Message: "admin API without the admin token"})
			return
		}
		w.Header()["Cache-Control"] = hdrNoStore
		next(w, r)
	}
}

// adminID returns the path's {id}, or writes a 404 for one no store could hold.
func (s *Server) adminID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxAdminID {
		s.writeError(w, r, auth.Errorf(auth.ECodeNotFound, "no such id"))
		return "", false
	}
	return id, true
}

// handleAdminUsers lists users newest first: ?query= (id, Kakao id, email, or part of the
// nickname), ?limit= (default 50, at most 500), ?cursor= (next_cursor of the previous page).
func (s *Server) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := auth.UserFilter{Query: q.Get("query"), After: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "limit must be a positive integer, got %q", v))
			return
		}
		f.Limit = min(n, auth.MaxUserLimit)
	}
	if len(f.Query) > maxAdminQuery || len(f.After) > maxAdminID {
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "query or cursor too long"))
		return
	}
	list, err := s.cfg.Service.ListUsers(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Users      []adminUserJSON `json:"users"`
		NextCursor *string         `json:"next_cursor"`
	}{Users: make([]adminUserJSON, 0, len(list))}
	for _, u := range list {
		out.Users = append(out.Users, adminUserOut(u))
	}
	if len(list) == f.PageSize() {
		out.NextCursor = &list[len(list)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// writeAdminUser answers the user id as it is now.
func (s *Server) writeAdminUser(w http.ResponseWriter, r *http.Request, id string) {
	u, err := s.cfg.Service.UserRecord(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		User adminUserJSON `json:"user"`
	}{adminUserOut(u)})
}

func (s *Server) handleAdminUser(w http.ResponseWriter, r *http.Request) {
	if id, ok := s.adminID(w, r); ok {
		s.writeAdminUser(w, r, id)
	}
}

// handleAdminDisable returns a handler that disables (or enables) the user and answers it.
func (s *Server) handleAdminDisable(disable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.adminID(w, r)
		if !ok {
			return
		}
		set := s.cfg.Service.EnableUser
		if disable {
			set = s.cfg.Service.DisableUser
		}
		if err := set(r.Context(), id); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeAdminUser(w, r, id)
	}
}

func (s *Server) handleAdminDeleteUser(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminID(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Service.DeleteUser(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAdminUserSessions(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminID(w, r)
	if !ok {
		return
	}
	list, err := s.cfg.Service.UserSessions(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, ss := range list {
		out = append(out, adminSessionOut(ss))
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessionJSON `json:"sessions"`
	}{out})
}

func (s *Server) handleAdminRevokeSession(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminID(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Service.RevokeAnySession(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
