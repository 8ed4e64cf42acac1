package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

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
			s.writeError(w, r, &auth.Error{Code: codeTooLarge})
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
		s.writeError(w, r, &auth.Error{Code: codeMethodNotAllowed})
	})
}

func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.wantsHTML(r) {
			s.renderError(w, r, &auth.Error{Code: auth.ECodeNotFound})
			return
		}
		s.writeError(w, r, &auth.Error{Code: auth.ECodeNotFound})
	})
}

func (s *Server) wantsHTML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "text/html") && !strings.HasPrefix(r.URL.Path, s.path("/auth/me"))
}

func retryAfterSeconds(d time.Duration) string {
	sec := int((d + time.Second - 1) / time.Second)
	if sec < 1 {
		sec = 1
	}
	return strconv.Itoa(sec)
}
