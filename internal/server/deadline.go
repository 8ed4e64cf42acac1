package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// Default deadlines.
const (
	defaultRequestTimeout = 30 * time.Second
	defaultReadyTimeout   = 2 * time.Second
)

// withDeadline gives every request a deadline (Config.RequestTimeout), so that a request
// waiting for a database connection while the pool is exhausted answers 503 at the deadline
// instead of waiting without end (checklist case 94).
func (s *Server) withDeadline(next http.Handler) http.Handler {
	d := s.cfg.RequestTimeout
	if d <= 0 {
		d = defaultRequestTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// readyCheck runs Config.Ready within a short deadline of its own; a database whose every
// connection is in use is reported as such (checklist case 94).
func (s *Server) readyCheck(r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), defaultReadyTimeout)
	defer cancel()
	err := s.cfg.Ready(ctx)
	if err == nil {
		return nil
	}
	e := &auth.Error{Code: auth.ECodeUnavailable, Message: "not ready", Err: err, RetryAfter: time.Second}
	if errors.Is(err, auth.ErrPoolExhausted) {
		return &describedError{err: e, key: "err.db_pool_exhausted"}
	}
	return e
}
