package server

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	auth.ECodeInvalidRequest:     http.StatusBadRequest,
	auth.ECodeInvalidGrant:       http.StatusBadRequest,
	auth.ECodeAccessDenied:       http.StatusBadRequest,
	auth.ECodeConsentRequired:    http.StatusBadRequest,
	auth.ECodeLoginRequired:      http.StatusBadRequest,
	auth.ECodeInvalidToken:       http.StatusUnauthorized,
	auth.ECodeUnauthorized:       http.StatusUnauthorized,
	auth.ECodeForbidden:          http.StatusForbidden,
	auth.ECodeNotFound:           http.StatusNotFound,
	auth.ECodeMethodNotAllowed:   http.StatusMethodNotAllowed,
	auth.ECodeConflict:           http.StatusConflict,
	auth.ECodeTooLarge:           http.StatusRequestEntityTooLarge,
	auth.ECodeUnsupportedMedia:   http.StatusUnsupportedMediaType,
	auth.ECodeRateLimited:        http.StatusTooManyRequests,
	auth.ECodeKakaoError:         http.StatusBadGateway,
	auth.ECodeKakaoMisconfigured: http.StatusBadGateway,
	auth.ECodeKakaoUnavailable:   http.StatusServiceUnavailable,
	auth.ECodeKakaoTimeout:       http.StatusGatewayTimeout,
	auth.ECodeUnavailable:        http.StatusServiceUnavailable,
	auth.ECodeInternal:           http.StatusInternalServerError,
}

// asError normalises any error to an *auth.Error; unknown errors are internal.
func asError(err error) *auth.Error {
	var e *auth.Error
	if errors.As(err, &e) {
		if _, ok := statusOf[e.Code]; ok {
			return e
		}
	}
	return &auth.Error{Code: auth.ECodeInternal, Err: err}
}

type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	KakaoErrorCode   string `json:"kakao_error_code,omitempty"`
}

// writeError answers an API error as JSON with the status of its code.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	status := statusOf[e.Code]
	s.logError(r, e, status)
	h := w.Header()
	switch status {
	case http.StatusUnauthorized:
		if h.Get("WWW-Authenticate") != "" {
			// The handler named its own scheme (the webhook's KakaoAK).
		} else if e.Code == auth.ECodeInvalidToken {
			h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		} else {
			h.Set("WWW-Authenticate", `Bearer`)
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		ra := e.RetryAfter
		if ra <= 0 {
			ra = 5 * time.Second
		}
		h.Set("Retry-After", retryAfterSeconds(ra))
	}
	h["Cache-Control"] = hdrNoStore
	lang := web.Lang(r)
	key := "err." + e.Code
	var de *describedError
	if errors.As(err, &de) {
		key = de.key
	}
	writeJSON(w, status, errorBody{
		Error:            e.Code,
		ErrorDescription: web.Message(lang, key),
		KakaoErrorCode:   e.KakaoCode,
	})
}

func (s *Server) logError(r *http.Request, e *auth.Error, status int) {
	msg := e.Error()
	setLogError(r, msg)
	if status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("code", e.Code), slog.String("error", msg))
	}
}

// pageCode is the error page for an error code.
func pageCode(code string) string {
	switch code {
	case auth.ECodeAccessDenied:
		return "cancelled"
	case auth.ECodeConsentRequired:
		return "consent_required"
	case auth.ECodeLoginRequired:
		return "login_required"
	case auth.ECodeInvalidGrant, auth.ECodeInvalidToken:
		return "expired"
	case auth.ECodeKakaoError, auth.ECodeKakaoMisconfigured, auth.ECodeKakaoUnavailable, auth.ECodeKakaoTimeout, auth.ECodeUnavailable:
		return "kakao_unavailable"
	case auth.ECodeRateLimited:
		return "rate_limited"
	case auth.ECodeInvalidRequest, auth.ECodeForbidden:
		return "invalid_request"
	case auth.ECodeNotFound:
		return "not_found"
	}
	return "server"
}

// pageStatus is the status an error page answers with.
var pageStatus = map[string]int{
	"cancelled":         http.StatusBadRequest,
	"consent_required":  http.StatusBadRequest,
	"login_required":    http.StatusBadRequest,
	"expired":           http.StatusBadRequest,
	"kakao_unavailable": http.StatusServiceUnavailable,
	"rate_limited":      http.StatusTooManyRequests,
	"invalid_request":   http.StatusBadRequest,
	"not_found":         http.StatusNotFound,
	"server":            http.StatusInternalServerError,
}

// renderError answers an error as an accessible page in place.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	code := pageCode(e.Code)
	status := statusOf[e.Code]
	s.logError(r, e, status)
	if e.RetryAfter > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		w.Header().Set("Retry-After", retryAfterSeconds(e.RetryAfter))
	}
	s.cfg.Pages.Error(w, r, status, web.ErrorPage{
		Lang: web.Lang(r), Code: code, KakaoCode: e.KakaoCode, RetryAfter: e.RetryAfter,
		RetryURL: "/auth/kakao/login",
	})
}

// describedError answers an error with the catalogue text of key instead of "err.<code>", when
// one code covers cases the client should tell apart by reading (a Kakao token that expired, or
// one we refuse).
type describedError struct {
	err error
	key string
}

func (d *describedError) Error() string { return d.err.Error() }

func (d *describedError) Unwrap() error { return d.err }
