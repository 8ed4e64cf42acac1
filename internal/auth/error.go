package auth

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned by a Store when a row does not exist.
var ErrNotFound = errors.New("not found")

// Error codes: stable strings that clients can rely on (the "error" member of JSON errors).
const (
	ECodeInvalidRequest     = "invalid_request"         // 400 malformed input
	ECodeInvalidGrant       = "invalid_grant"           // 400 bad code, refresh token, state
	ECodeInvalidToken       = "invalid_token"           // 401 bad or expired access token
	ECodeUnauthorized       = "unauthorized"            // 401 no credentials
	ECodeForbidden          = "forbidden"               // 403 CSRF, origin, app mismatch
	ECodeAccountDisabled    = "account_disabled"        // 403 an operator disabled the account
	ECodeNotFound           = "not_found"               // 404
	ECodeConflict           = "conflict"                // 409 retryable
	ECodeRateLimited        = "rate_limited"            // 429
	ECodeAccessDenied       = "access_denied"           // 400 user cancelled at Kakao
	ECodeConsentRequired    = "consent_required"        // 400 consent needed at Kakao
	ECodeLoginRequired      = "login_required"          // 400 prompt=none and no Kakao session
	ECodeKakaoError         = "kakao_error"             // 502 Kakao answered something unusable
	ECodeKakaoUnavailable   = "kakao_unavailable"       // 503 Kakao down
	ECodeKakaoTimeout       = "kakao_timeout"           // 504 Kakao too slow
	ECodeKakaoMisconfigured = "kakao_misconfigured"     // 502 our Kakao app settings are wrong
	ECodeUnavailable        = "temporarily_unavailable" // 503 database or other dependency down
	ECodeInternal           = "internal_error"          // 500 a bug: never for client input
	// ECodeReauthRequired: 401, the session signed in too long ago for this (account deletion).
	ECodeReauthRequired = "reauthentication_required"
)

// Error is a failure with a stable code that the boundary translates to a status and a message.
type Error struct {
	Code       string        // one of the ECode constants
	Message    string        // developer-facing detail (English); pages and JSON translate by Code
	KakaoCode  string        // Kakao's KOE or API code when Kakao caused it
	RetryAfter time.Duration // for rate limits and outages
	Err        error         // the cause, logged but never shown
}

func (e *Error) Error() string {
	s := e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.KakaoCode != "" {
		s += " (" + e.KakaoCode + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, or ECodeInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ECodeInternal
}
