package kakaoidp

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// TestBreaker_088_OnlyOutagesCount: a client's bad input (invalid_grant, invalid_token) and a
// caller that went away never open the breaker; Kakao's outages (503, 504, 502) do, and then
// calls fail at once with kakao_unavailable and a Retry-After, without running.
func TestBreaker_088_OnlyOutagesCount(t *testing.T) {
	var changes []string
	b := NewBreaker(BreakerConfig{MinCalls: 4, FailureRatio: 0.5, Consecutive: 3, OpenFor: time.Hour,
		OnStateChange: func(from, to string) { changes = append(changes, from+"→"+to) }})
	fail := func(code string) func() (auth.Profile, error) {
		return func() (auth.Profile, error) { return auth.Profile{}, &auth.Error{Code: code} }
	}
	for i := 0; i < 20; i++ {
		b.do(fail(auth.ECodeInvalidGrant))
		b.do(fail(auth.ECodeInvalidToken))
		b.do(func() (auth.Profile, error) {
			return auth.Profile{}, &auth.Error{Code: auth.ECodeKakaoUnavailable, Err: fmt.Errorf("cancelled: %w", context.Canceled)}
		})
	}
	if b.State() != "closed" || b.StateValue() != 0 {
		t.Fatalf("client errors opened the breaker: %s", b.State())
	}
	for _, code := range []string{auth.ECodeKakaoUnavailable, auth.ECodeKakaoTimeout, auth.ECodeKakaoError} {
		b.do(fail(code))
	}
	if b.State() != "open" || b.StateValue() != 2 {
		t.Fatalf("three outages in a row: %s", b.State())
	}
	ran := false
	_, err := b.do(func() (auth.Profile, error) { ran = true; return auth.Profile{}, nil })
	var ae *auth.Error
	if ran || !errors.As(err, &ae) || ae.Code != auth.ECodeKakaoUnavailable || ae.RetryAfter < 59*time.Minute {
		t.Fatalf("open breaker: ran %v, err %v", ran, err)
	}
	if len(changes) != 1 || changes[0] != "closed→open" {
		t.Fatalf("state changes: %v", changes)
	}
	// A nil breaker runs the call.
	var nb *Breaker
	if _, err := nb.do(func() (auth.Profile, error) { ran = true; return auth.Profile{}, nil }); err != nil || !ran {
		t.Fatalf("nil breaker: %v %v", ran, err)
	}
}
