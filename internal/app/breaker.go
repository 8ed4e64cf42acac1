package app

import (
	"context"
	"log/slog"

	"github.com/kakaoauth/kakaoauth/internal/kakaoidp"
	"github.com/kakaoauth/kakaoauth/internal/metrics"
)

// newKakaoBreaker is the circuit breaker around the logins' Kakao calls: its state is the
// kakaoauth_kakao_breaker_state gauge, and every change of state is logged and counted.
func newKakaoBreaker(cfg kakaoidp.BreakerConfig, m *metrics.Metrics, log *slog.Logger) *kakaoidp.Breaker {
	var b *kakaoidp.Breaker
	counted := m.KakaoBreaker(func() float64 { return b.StateValue() })
	next := cfg.OnStateChange
	cfg.OnStateChange = func(from, to string) {
		level := slog.LevelInfo
		if to == "open" {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "Kakao circuit breaker changed state", slog.String("from", from), slog.String("to", to))
		counted(from, to)
		if next != nil {
			next(from, to)
		}
	}
	b = kakaoidp.NewBreaker(cfg)
	return b
}
