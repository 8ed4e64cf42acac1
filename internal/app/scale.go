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

// PruneEvery is how often Prune runs the pruning; pruneBatch and prunePause shape a round:
// batches of that many rows per kind, that pause apart, so no lock is held long.
const (
	PruneEvery = 10 * time.Minute
	pruneBatch = auth.DefaultPruneBatch
	prunePause = 20 * time.Millisecond
)

// auditRetention is cfg.AuditRetention with its default; negative: forever.
func (a *App) auditRetention() time.Duration {
	if a.cfg.AuditRetention == 0 {
		return 90 * 24 * time.Hour
	}
	return a.cfg.AuditRetention
}

// PruneOnce deletes, in small batches, what can no longer be used at the clock's now: expired
// refresh tokens and ended sessions, expired single-use keys, and audit events past the
// retention; the rows are counted in kakaoauth_pruned_rows_total. A store that cannot prune
// prunes nothing.
func (a *App) PruneOnce(ctx context.Context) (auth.PruneResult, error) {
	p, ok := a.Store.(auth.Pruner)
	if !ok {
		return auth.PruneResult{}, nil
	}
	var total auth.PruneResult
	for {
		now := a.cfg.Now().UTC()
		req := auth.PruneRequest{Now: now, Batch: pruneBatch}
		if r := a.auditRetention(); r > 0 {
			req.AuditBefore = now.Add(-r)
		}
		res, err := p.Prune(ctx, req)
		a.Metrics.Pruned("refresh_tokens", res.RefreshTokens)
		a.Metrics.Pruned("sessions", res.Sessions)
		a.Metrics.Pruned("consumed_keys", res.ConsumedKeys)
		a.Metrics.Pruned("audit_events", res.AuditEvents)
		total = total.Add(res)
		if err != nil || !res.More(pruneBatch) && res.RefreshTokens < pruneBatch {
			return total, err
		}
		t := time.NewTimer(prunePause)
		select {
		case <-ctx.Done():
			t.Stop()
			return total, ctx.Err()
		case <-t.C:
		}
	}
}

// Prune runs PruneOnce at once and then every interval until ctx ends; replicas may all run it
// (their batches skip each other's locked rows).
func (a *App) Prune(ctx context.Context, every time.Duration, log *slog.Logger) {
	round := func() {
		res, err := a.PruneOnce(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("prune", "err", err)
		}
		if res != (auth.PruneResult{}) {
			log.Info("pruned", "sessions", res.Sessions, "refresh_tokens", res.RefreshTokens,
				"consumed_keys", res.ConsumedKeys, "audit_events", res.AuditEvents)
		}
	}
	round()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			round()
		}
	}
}
