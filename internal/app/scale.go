package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/metrics"
	"github.com/kakaoauth/kakaoauth/internal/ratelimit"
)

// openBudgets returns where the rate-limit budgets are kept: in Redis when cfg.RedisURL is set
// (shared by every replica; per process while it cannot be reached), else in this process.
// close releases the Redis client.
func openBudgets(ctx context.Context, cfg Config, m *metrics.Metrics, log *slog.Logger) (b ratelimit.Budgets, close func() error, err error) {
	if cfg.RedisURL == "" {
		return ratelimit.NewLocal(cfg.Now), func() error { return nil }, nil
	}
	opt, err := ratelimit.ParseURL(cfg.RedisURL)
	if err != nil {
		// The URL may carry a password: it is not repeated.
		return nil, nil, fmt.Errorf("KAKAOAUTH_REDIS_URL: want redis://[user:password@]host:port[/db] or rediss://…")
	}
	rdb := redis.NewClient(opt)
	shared := ratelimit.NewShared(rdb, ratelimit.Options{
		Prefix: cfg.RedisPrefix, Now: cfg.Now, Logger: log,
		OnFallback: m.RateLimitFallback, OnRedisState: m.RedisUp,
	})
	if err := shared.Ping(ctx); err != nil {
		// Not fatal: the limits are per process until Redis answers.
		m.RedisUp(false)
		log.Warn("rate limits: Redis unreachable at start; limits are per process until it answers", "err", err)
	} else {
		m.RedisUp(true)
	}
	return shared, rdb.Close, nil
}

// accountBudgets gives the domain its per-account budgets, all of one limit.
type accountBudgets struct {
	b   ratelimit.Budgets
	lim ratelimit.Limit
}

func (a accountBudgets) Take(ctx context.Context, key string, cost int) (bool, time.Duration) {
	return a.b.Take(ctx, "acct|"+key, a.lim, cost)
}

var _ auth.AccountBudgets = accountBudgets{}
