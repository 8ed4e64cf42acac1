package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestError_Error(t *testing.T) {
	cause := errors.New("connection refused")
	cases := []struct {
		name string
		err  *Error
		want string
	}{
		{"code only", &Error{Code: ECodeInvalidGrant}, "invalid_grant"},
		{"with message", &Error{Code: ECodeInvalidGrant, Message: "refresh token expired"}, "invalid_grant: refresh token expired"},
		{"with Kakao code", &Error{Code: ECodeKakaoError, Message: "bad code", KakaoCode: "KOE320"}, "kakao_error: bad code (KOE320)"},
		{"with cause", &Error{Code: ECodeUnavailable, Message: "read user", Err: cause}, "temporarily_unavailable: read user: connection refused"},
		{"everything", &Error{Code: ECodeKakaoUnavailable, Message: "token", KakaoCode: "-1", Err: cause},
			"kakao_unavailable: token (-1): connection refused"},
		{"cause without message", &Error{Code: ECodeInternal, Err: cause}, "internal_error: connection refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestError_Unwrap(t *testing.T) {
	err := fmt.Errorf("log in: %w", &Error{Code: ECodeUnavailable, Err: context.DeadlineExceeded})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, DeadlineExceeded) = false, want the cause found through *Error", err)
	}
	if (&Error{Code: ECodeInternal}).Unwrap() != nil {
		t.Error("Unwrap of an *Error without cause is not nil")
	}
}

func TestErrorf(t *testing.T) {
	e := Errorf(ECodeInvalidRequest, "missing %s (%d)", "code", 1)
	if e.Code != ECodeInvalidRequest || e.Message != "missing code (1)" || e.Err != nil || e.KakaoCode != "" {
		t.Errorf("Errorf = %+v, want code %q and message %q", e, ECodeInvalidRequest, "missing code (1)")
	}
}

func TestErrorCode(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"*Error", &Error{Code: ECodeRateLimited}, ECodeRateLimited},
		{"wrapped *Error", fmt.Errorf("refresh: %w", &Error{Code: ECodeInvalidGrant}), ECodeInvalidGrant},
		{"joined", errors.Join(errors.New("x"), &Error{Code: ECodeConflict}), ECodeConflict},
		{"plain error", errors.New("boom"), ECodeInternal},
		{"ErrNotFound", ErrNotFound, ECodeInternal},
		{"nil", nil, ECodeInternal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.want {
				t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// TestStoreErr: a store failure is never the client's: a 503 whose message names the operation,
// "timed out" for a context that ended, and an *Error the store chose is kept as it is.
func TestStoreErr(t *testing.T) {
	own := &Error{Code: ECodeConflict, Message: "retry"}
	cases := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"plain fault", errors.New("disk I/O error"), ECodeUnavailable, "rotate refresh token"},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), ECodeUnavailable, "rotate refresh token: timed out"},
		{"canceled", context.Canceled, ECodeUnavailable, "rotate refresh token: timed out"},
		{"store's own *Error", fmt.Errorf("wrapped: %w", own), ECodeConflict, "retry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := storeErr("rotate refresh token", tc.err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("storeErr = %v, not an *Error", err)
			}
			if e.Code != tc.wantCode || e.Message != tc.wantMsg {
				t.Errorf("storeErr = {%q, %q}, want {%q, %q}", e.Code, e.Message, tc.wantCode, tc.wantMsg)
			}
			if !errors.Is(err, tc.err) && e != own {
				t.Errorf("storeErr(%v) lost its cause", tc.err)
			}
		})
	}
}

func TestSession_Active(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	s := Session{ID: "s1", ExpiresAt: t0.Add(time.Hour)}
	revoked := s
	revoked.RevokedAt = t0.Add(time.Minute)
	cases := []struct {
		name string
		s    Session
		now  time.Time
		want bool
	}{
		{"before its end", s, t0, true},
		{"one nanosecond before its end", s, t0.Add(time.Hour - 1), true},
		{"exactly at its end", s, t0.Add(time.Hour), false},
		{"after its end", s, t0.Add(2 * time.Hour), false},
		{"revoked, before its end", revoked, t0.Add(30 * time.Minute), false},
		{"revoked in the future still counts as revoked", revoked, t0, false},
		{"zero session", Session{}, t0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Active(tc.now); got != tc.want {
				t.Errorf("Active(%v) = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
}

// TestRotateOutcome_String: the names are the metrics' outcome labels and must not change.
func TestRotateOutcome_String(t *testing.T) {
	cases := []struct {
		o    RotateOutcome
		want string
	}{
		{Rotated, "rotated"},
		{GraceReplay, "grace_replay"},
		{Reused, "reused"},
		{Expired, "expired"},
		{Revoked, "revoked"},
		{NotFound, "not_found"},
		{GraceExceeded, "grace_exceeded"},
		{0, "unknown"},
		{GraceExceeded + 1, "unknown"},
	}
	for _, tc := range cases {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("RotateOutcome(%d).String() = %q, want %q", int(tc.o), got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "Mozilla/5.0", 64, "Mozilla/5.0"},
		{"exactly max", "abcd", 4, "abcd"},
		{"cut", "abcdef", 4, "abcd"},
		{"cut on a rune boundary", "가나다", 4, "가"}, // 3 bytes a rune
		{"invalid UTF-8 dropped", "a\xffb", 64, "ab"},
		{"empty", "", 4, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := clip(tc.in, tc.max); got != tc.want {
				t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}
