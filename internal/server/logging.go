package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/statuswriter"
)

type ctxKey int

// ctxLogInfo keys the request's *logInfo (its id, and what handlers add for the log line).
const ctxLogInfo ctxKey = 0

// logInfo is filled by handlers so the request log line can name the user.
type logInfo struct {
	requestID string
	userID    string
	errMsg    string
}

// logRequests gives every request an id (sent back as X-Request-Id), logs one line for it and
// observes it in the metrics (route pattern, status, duration). The route is the pattern the
// mux matched: the mux records it on the request it is given, so every handler between here
// and the mux passes that request on unchanged.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.cfg.Metrics.RequestStarted()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		info := &logInfo{requestID: id}
		ctx := context.WithValue(r.Context(), ctxLogInfo, info)
		sw := statuswriter.New(w)
		r = r.WithContext(ctx)
		defer func() {
			// Also for a panic that recoverPanics lets through (http.ErrAbortHandler).
			s.cfg.Metrics.RequestFinished(r.Pattern, sw.Status(), time.Since(start))
		}()
		next.ServeHTTP(sw, r)
		status := sw.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if !s.log.Enabled(ctx, level) {
			return
		}
		took := time.Since(start)
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.Int("status", status),
			slog.String("client_ip", s.clientIP(r)),
			// duration is Go's text ("1.2ms"), kept for what reads it; duration_ms is a number
			// that log tools can sum and compare.
			slog.Duration("duration", took),
			slog.Float64("duration_ms", durationMS(took)),
		}
		if info.userID != "" {
			attrs = append(attrs, slog.String("user_id", info.userID))
		}
		if info.errMsg != "" {
			attrs = append(attrs, slog.String("error", info.errMsg))
		}
		s.log.LogAttrs(ctx, level, "request", attrs...)
	})
}

// durationMS is d in milliseconds, to the microsecond.
func durationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func setLogUser(r *http.Request, userID string) {
	if info, ok := r.Context().Value(ctxLogInfo).(*logInfo); ok {
		info.userID = userID
	}
}

func setLogError(r *http.Request, msg string) {
	if info, ok := r.Context().Value(ctxLogInfo).(*logInfo); ok {
		info.errMsg = msg
	}
}
