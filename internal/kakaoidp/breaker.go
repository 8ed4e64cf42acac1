package kakaoidp

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// Breaker defaults (checklist case 88: a partial Kakao outage answers fast 503s instead of
// every login waiting for Kakao's timeout, while refresh and token checks, which never call
// Kakao, go on as before).
const (
	DefaultBreakerWindow       = 60 * time.Second // failures are counted over this rolling window
	DefaultBreakerMinCalls     = 20               // calls in the window before the ratio counts
	DefaultBreakerFailureRatio = 0.5              // share of outage failures that opens the breaker
	DefaultBreakerConsecutive  = 20               // consecutive outage failures open it at once
	DefaultBreakerOpenFor      = 10 * time.Second // how long it stays open before one trial call
)

// BreakerConfig configures a Breaker; zero fields take the defaults above.
type BreakerConfig struct {
	Window       time.Duration
	MinCalls     uint32
	FailureRatio float64
	Consecutive  uint32
	OpenFor      time.Duration
	// OnStateChange is called on every change of state (closed, half-open, open), e.g. to log.
	OnStateChange func(from, to string)
}

// Breaker is a circuit breaker (github.com/sony/gobreaker/v2) around the calls to Kakao that
// a login makes. Only Kakao's outages count as failures (503, 5xx, timeouts, malformed
// answers: the 502/503/504 codes); a client's bad code or token is Kakao working. While it is
// open, logins fail at once with kakao_unavailable (503) and a Retry-After of the time left.
type Breaker struct {
	cb      *gobreaker.CircuitBreaker[auth.Profile]
	openFor time.Duration

	mu       sync.Mutex
	openedAt time.Time
}

// NewBreaker returns a closed breaker.
func NewBreaker(cfg BreakerConfig) *Breaker {
	if cfg.Window <= 0 {
		cfg.Window = DefaultBreakerWindow
	}
	if cfg.MinCalls == 0 {
		cfg.MinCalls = DefaultBreakerMinCalls
	}
	if cfg.FailureRatio <= 0 || cfg.FailureRatio > 1 {
		cfg.FailureRatio = DefaultBreakerFailureRatio
	}
	if cfg.Consecutive == 0 {
		cfg.Consecutive = DefaultBreakerConsecutive
	}
	if cfg.OpenFor <= 0 {
		cfg.OpenFor = DefaultBreakerOpenFor
	}
	b := &Breaker{openFor: cfg.OpenFor}
	bucket := cfg.Window / 10
	if bucket <= 0 {
		bucket = cfg.Window
	}
	b.cb = gobreaker.NewCircuitBreaker[auth.Profile](gobreaker.Settings{
		Name:         "kakao",
		MaxRequests:  1,
		Interval:     cfg.Window,
		BucketPeriod: bucket,
		Timeout:      cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			if c.ConsecutiveFailures >= cfg.Consecutive {
				return true
			}
			return c.Requests >= cfg.MinCalls && float64(c.TotalFailures) >= cfg.FailureRatio*float64(c.Requests)
		},
		IsSuccessful: func(err error) bool { return !isOutage(err) },
		// A caller that went away says nothing about Kakao.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.mu.Lock()
				b.openedAt = time.Now()
				b.mu.Unlock()
			}
			if cfg.OnStateChange != nil {
				cfg.OnStateChange(from.String(), to.String())
			}
		},
	})
	return b
}

// State is "closed", "half-open" or "open".
func (b *Breaker) State() string { return b.cb.State().String() }

// StateValue is the state as a number for a gauge: 0 closed, 1 half-open, 2 open.
func (b *Breaker) StateValue() float64 {
	switch b.cb.State() {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}

// isOutage reports whether err is Kakao failing (as opposed to Kakao refusing a client's input).
func isOutage(err error) bool {
	if err == nil {
		return false
	}
	var ae *auth.Error
	if !errors.As(err, &ae) {
		return true
	}
	switch ae.Code {
	case auth.ECodeKakaoUnavailable, auth.ECodeKakaoTimeout, auth.ECodeKakaoError:
		return !errors.Is(err, context.Canceled)
	}
	return false
}

// do runs fn through the breaker; a nil breaker runs it directly.
func (b *Breaker) do(fn func() (auth.Profile, error)) (auth.Profile, error) {
	if b == nil {
		return fn()
	}
	p, err := b.cb.Execute(fn)
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return auth.Profile{}, &auth.Error{
			Code:       auth.ECodeKakaoUnavailable,
			Message:    "Kakao is failing: not calling it for a while (circuit breaker " + b.State() + ")",
			RetryAfter: b.retryAfter(),
			Err:        err,
		}
	}
	return p, err
}

// retryAfter is the time left until the breaker lets a trial call through (at least 1 s).
func (b *Breaker) retryAfter() time.Duration {
	b.mu.Lock()
	left := b.openFor - time.Since(b.openedAt)
	b.mu.Unlock()
	if left < time.Second {
		left = time.Second
	}
	return left.Round(time.Second)
}

// ExchangeCode is exchangeCode (kakaoidp.go) through the breaker.
func (p *Provider) ExchangeCode(ctx context.Context, ex auth.CodeExchange) (auth.Profile, error) {
	return p.Breaker.do(func() (auth.Profile, error) { return p.exchangeCode(ctx, ex) })
}

// SDKLogin is sdkLogin (kakaoidp.go) through the breaker. A token refused as invalid_token is
// refused again from memory for a minute without asking Kakao (rejectcache.go).
func (p *Provider) SDKLogin(ctx context.Context, accessToken, idToken, nonce string) (auth.Profile, error) {
	key, now := rejectKey(accessToken, idToken, nonce), time.Now()
	if e, ok := p.rejects.get(key, now); ok {
		c := *e
		return auth.Profile{}, &c
	}
	prof, err := p.Breaker.do(func() (auth.Profile, error) { return p.sdkLogin(ctx, accessToken, idToken, nonce) })
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Code == auth.ECodeInvalidToken {
		p.rejects.put(key, ae, now)
	}
	return prof, err
}

// Unlink is unlink (kakaoidp.go) through the breaker: while Kakao is failing, an unlink fails
// at once and is retried later like any failed unlink.
func (p *Provider) Unlink(ctx context.Context, subject string) error {
	_, err := p.Breaker.do(func() (auth.Profile, error) { return auth.Profile{}, p.unlink(ctx, subject) })
	return err
}
