package server

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// Error codes that only the HTTP layer gives: the domain never sees these requests.
const (
	codeMethodNotAllowed = "method_not_allowed" // 405
	codeTooLarge         = "request_too_large"  // 413
	codeUnsupportedMedia = "unsupported_media"  // 415
)

// errorRow is one error code's answer: its HTTP status, and the error page a person sees.
type errorRow struct {
	code   string
	status int
	page   string // a web.KnownErrorPage
}

// errorTable is the one table from error code to status and page; JSON answers, pages and the
// login metric (ErrorCodes) all read it. The first row of a page gives that page's status when
// it is shown by name (GET /auth/error?code=<page>, the target of a failed browser login).
var errorTable = []errorRow{
	{auth.ECodeInvalidRequest, http.StatusBadRequest, "invalid_request"},
	{auth.ECodeInvalidGrant, http.StatusBadRequest, "expired"},
	{auth.ECodeAccessDenied, http.StatusBadRequest, "cancelled"},
	{auth.ECodeConsentRequired, http.StatusBadRequest, "consent_required"},
	{auth.ECodeLoginRequired, http.StatusBadRequest, "login_required"},
	{auth.ECodeInvalidToken, http.StatusUnauthorized, "expired"},
	{auth.ECodeUnauthorized, http.StatusUnauthorized, "expired"},
	{auth.ECodeForbidden, http.StatusForbidden, "invalid_request"},
	{auth.ECodeAccountDisabled, http.StatusForbidden, "disabled"},
	{auth.ECodeNotFound, http.StatusNotFound, "not_found"},
	{codeMethodNotAllowed, http.StatusMethodNotAllowed, "invalid_request"},
	{codeTooLarge, http.StatusRequestEntityTooLarge, "invalid_request"},
	{codeUnsupportedMedia, http.StatusUnsupportedMediaType, "invalid_request"},
	{auth.ECodeRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{auth.ECodeKakaoUnavailable, http.StatusServiceUnavailable, "kakao_unavailable"},
	{auth.ECodeKakaoError, http.StatusBadGateway, "kakao_unavailable"},
	{auth.ECodeKakaoMisconfigured, http.StatusBadGateway, "kakao_unavailable"},
	{auth.ECodeKakaoTimeout, http.StatusGatewayTimeout, "kakao_unavailable"},
	{auth.ECodeUnavailable, http.StatusServiceUnavailable, "kakao_unavailable"},
	{auth.ECodeInternal, http.StatusInternalServerError, "server"},
	{auth.ECodeConflict, http.StatusConflict, "server"},
	{auth.ECodeReauthRequired, http.StatusUnauthorized, "expired"},
}

// byCode and pageStatus index errorTable.
var (
	byCode     = map[string]errorRow{}
	pageStatus = map[string]int{}
)

func init() {
	for _, row := range errorTable {
		byCode[row.code] = row
		if _, ok := pageStatus[row.page]; !ok {
			pageStatus[row.page] = row.status
		}
	}
}

// ErrorCodes lists every error code the server answers, for the login metric's label set.
func ErrorCodes() []string {
	out := make([]string, len(errorTable))
	for i, row := range errorTable {
		out[i] = row.code
	}
	return out
}

// asError normalises any error to an *auth.Error; unknown errors are internal.
func asError(err error) *auth.Error {
	var e *auth.Error
	if errors.As(err, &e) {
		if _, ok := byCode[e.Code]; ok {
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
	status := byCode[e.Code].status
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
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusConflict:
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

// renderError answers an error as an accessible page in place.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	row := byCode[e.Code]
	code, status := row.page, row.status
	s.logError(r, e, status)
	if e.RetryAfter > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		w.Header().Set("Retry-After", retryAfterSeconds(e.RetryAfter))
	}
	s.cfg.Pages.Error(w, r, status, web.ErrorPage{
		Lang: web.Lang(r), Code: code, KakaoCode: e.KakaoCode, RetryAfter: e.RetryAfter,
		RetryURL: s.path("/auth/kakao/login"),
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

// countLogin counts a login of flow by its outcome: "success", or its error's code.
func (s *Server) countLogin(flow string, err error) {
	result := "success"
	if err != nil {
		result = asError(err).Code
	}
	s.cfg.Metrics.Login(flow, result)
}
