package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
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

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status  int
	bytes   int
	pattern string // the matched route, from metrics.RouteHook
}

// SetPattern implements metrics.PatternSetter.
func (w *statusWriter) SetPattern(p string) { w.pattern = p }

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives every request an id (sent back as X-Request-Id) and logs one line for it.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		info := &logInfo{requestID: id}
		ctx := context.WithValue(r.Context(), ctxLogInfo, info)
		sw := &statusWriter{ResponseWriter: w}
		// The mux records the route pattern on the request it is given: keep that request.
		r = r.WithContext(ctx)
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		if !s.log.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("route", sw.pattern),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
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
