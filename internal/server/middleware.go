package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
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

// recoverPanics turns a panic into a logged 500: a bug, never shown in detail.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.LogAttrs(r.Context(), slog.LevelError, "panic", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				s.writeError(w, r, &auth.Error{Code: auth.ECodeInternal})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

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

// Header values shared by every response; handlers never modify them in place.
var (
	hdrNosniff  = []string{"nosniff"}
	hdrReferrer = []string{"same-origin"}
	hdrFrame    = []string{"DENY"}
	hdrCSP      = []string{"default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}
	hdrHSTS     = []string{"max-age=31536000"}
	hdrNoStore  = []string{"no-store"}
	hdrJSON     = []string{"application/json; charset=utf-8"}
)

// securityHeaders sends the headers every answer carries. The keys are already canonical, so
// they are assigned directly instead of through Header.Set.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = hdrNosniff
		// same-origin, not no-referrer: with no-referrer a same-origin form POST carries
		// "Origin: null", and cookie-authenticated posts are checked by origin.
		h["Referrer-Policy"] = hdrReferrer
		h["X-Frame-Options"] = hdrFrame
		h["Content-Security-Policy"] = hdrCSP
		if s.cfg.Cookies.Secure {
			h["Strict-Transport-Security"] = hdrHSTS
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses a declared oversized body at once (413) and caps the rest.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			w.Header().Set("Connection", "close")
			s.writeError(w, r, &auth.Error{Code: auth.ECodeTooLarge})
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// cors answers preflights and adds credentialed CORS headers for allowed origins only.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := r.Header.Get("Origin")
		if o == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := s.origins[o]
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				s.writeError(w, r, &auth.Error{Code: auth.ECodeForbidden, Message: "origin not allowed"})
				return
			}
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-CSRF-Token, X-Request-Id")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, X-CSRF-Token, Retry-After, WWW-Authenticate")
		}
		next.ServeHTTP(w, r)
	})
}

// methodNotAllowed answers a known path with a method it does not serve.
func (s *Server) methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			// A preflight without an allowed origin, or a plain OPTIONS.
			w.Header().Set("Allow", allow)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Allow", allow)
		s.writeError(w, r, &auth.Error{Code: auth.ECodeMethodNotAllowed})
	})
}

func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsHTML(r) {
			s.renderError(w, r, &auth.Error{Code: auth.ECodeNotFound})
			return
		}
		s.writeError(w, r, &auth.Error{Code: auth.ECodeNotFound})
	})
}

func wantsHTML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "text/html") && !strings.HasPrefix(r.URL.Path, "/auth/me")
}

func retryAfterSeconds(d time.Duration) string {
	sec := int((d + time.Second - 1) / time.Second)
	if sec < 1 {
		sec = 1
	}
	return strconv.Itoa(sec)
}

// clientIP is the peer address; X-Forwarded-For is not trusted.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
