// Package ratelimit keeps kakaoauth's rate-limit budgets: in Redis when one is configured, so
// that every replica draws on one budget (GCRA, github.com/go-redis/redis_rate), and in the
// process otherwise, or while Redis cannot be reached. Without Redis each replica counts its
// own share: N replicas allow N times the budget.
package ratelimit

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limit is a budget: Burst at once, refilled over Per.
type Limit struct {
	Burst int
	Per   time.Duration
}

// Valid reports whether the limit limits anything.
func (l Limit) Valid() bool { return l.Burst > 0 && l.Per > 0 }

// Budgets takes from named budgets. Take never fails: ok is false, with the time until the
// cost is back, when the budget of key is spent.
type Budgets interface {
	Take(ctx context.Context, key string, lim Limit, cost int) (ok bool, retryAfter time.Duration)
}

// Local keeps budgets in this process: a token bucket per key, in shards, idle ones forgotten.
type Local struct {
	seed   maphash.Seed
	shards [16]localShard
	now    func() time.Time
}

type localShard struct {
	mu      sync.Mutex
	buckets map[string]*localBucket
	swept   time.Time
}

type localBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLocal returns per-process budgets on the clock now (nil: time.Now).
func NewLocal(now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	l := &Local{seed: maphash.MakeSeed(), now: now}
	for i := range l.shards {
		l.shards[i].buckets = map[string]*localBucket{}
	}
	return l
}

// Take takes cost from key's bucket of lim; a cost above what is left takes nothing.
func (l *Local) Take(_ context.Context, key string, lim Limit, cost int) (bool, time.Duration) {
	if !lim.Valid() || cost <= 0 {
		return true, 0
	}
	key = key + "|" + strconv.Itoa(lim.Burst) + "/" + lim.Per.String()
	sh := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	now := l.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.Sub(sh.swept) > time.Minute {
		for k, b := range sh.buckets {
			if now.Sub(b.seen) > 10*time.Minute+lim.Per {
				delete(sh.buckets, k)
			}
		}
		sh.swept = now
	}
	b := sh.buckets[key]
	if b == nil {
		b = &localBucket{lim: rate.NewLimiter(rate.Every(lim.Per/time.Duration(lim.Burst)), lim.Burst)}
		sh.buckets[key] = b
	}
	b.seen = now
	if cost > lim.Burst {
		cost = lim.Burst
	}
	r := b.lim.ReserveN(now, cost)
	if d := r.DelayFrom(now); d > 0 || !r.OK() {
		r.CancelAt(now)
		return false, max(d, time.Second)
	}
	return true, 0
}

// Options configure Shared.
type Options struct {
	// Prefix starts every Redis key (after redis_rate's own "rate:"); default "kakaoauth:".
	// Tests give each test its own.
	Prefix string
	// Now is the clock of the per-process fallback; Redis keeps time by its own clock.
	Now func() time.Time
	// Logger says when Redis is lost and found again (at most once per LogEvery).
	Logger   *slog.Logger
	LogEvery time.Duration // default 1 minute
	// RetryEvery is how long, after a failure, the budgets stay in the process before Redis is
	// tried again; default 1 second. Meanwhile no request waits for an unreachable Redis.
	RetryEvery time.Duration
	// Timeout bounds each Redis call; default 500 ms.
	Timeout time.Duration
	// OnFallback is told of every budget taken in the process because Redis failed (metrics).
	OnFallback func()
	// OnRedisState is told whether Redis answers, on every change (metrics).
	OnRedisState func(up bool)
}

// Shared keeps budgets in Redis, falling back to the process while Redis fails.
type Shared struct {
	rdb      *redis.Client
	lim      *redis_rate.Limiter
	local    *Local
	opt      Options
	downAt   atomic.Int64 // unix nanos of the last failure; 0 while Redis answers
	loggedAt atomic.Int64
}

// ParseURL reads a redis:// or rediss:// URL (KAKAOAUTH_REDIS_URL) into client options with
// short timeouts: a rate limit must not make a request wait.
func ParseURL(u string) (*redis.Options, error) {
	o, err := redis.ParseURL(u)
	if err != nil {
		return nil, err
	}
	o.DialTimeout = 500 * time.Millisecond
	o.ReadTimeout = 500 * time.Millisecond
	o.WriteTimeout = 500 * time.Millisecond
	o.MaxRetries = -1 // no retries: the fallback answers instead
	o.PoolTimeout = 500 * time.Millisecond
	return o, nil
}

// NewShared keeps budgets in the Redis of rdb.
func NewShared(rdb *redis.Client, opt Options) *Shared {
	if opt.Prefix == "" {
		opt.Prefix = "kakaoauth:"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.LogEvery <= 0 {
		opt.LogEvery = time.Minute
	}
	if opt.RetryEvery <= 0 {
		opt.RetryEvery = time.Second
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 500 * time.Millisecond
	}
	return &Shared{rdb: rdb, lim: redis_rate.NewLimiter(rdb), local: NewLocal(opt.Now), opt: opt}
}

// Take takes cost from key's budget in Redis or, while Redis fails, in the process.
func (s *Shared) Take(ctx context.Context, key string, lim Limit, cost int) (bool, time.Duration) {
	if !lim.Valid() || cost <= 0 {
		return true, 0
	}
	if down := s.downAt.Load(); down != 0 && time.Since(time.Unix(0, down)) < s.opt.RetryEvery {
		s.fallback()
		return s.local.Take(ctx, key, lim, cost)
	}
	ok, wait, err := s.takeRedis(ctx, key, lim, cost)
	if err != nil {
		if ctx.Err() != nil {
			// The client went away: not Redis's fault.
			return s.local.Take(ctx, key, lim, cost)
		}
		s.failed(err)
		return s.local.Take(ctx, key, lim, cost)
	}
	if s.downAt.Swap(0) != 0 {
		s.opt.Logger.Info("rate limits: Redis answers again; limits are shared by the replicas")
		if s.opt.OnRedisState != nil {
			s.opt.OnRedisState(true)
		}
	}
	return ok, wait
}

func (s *Shared) takeRedis(ctx context.Context, key string, lim Limit, cost int) (bool, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opt.Timeout)
	defer cancel()
	if cost > lim.Burst {
		cost = lim.Burst
	}
	res, err := s.lim.AllowN(ctx, s.opt.Prefix+key, redis_rate.Limit{Rate: lim.Burst, Burst: lim.Burst, Period: lim.Per}, cost)
	if err != nil {
		return false, 0, err
	}
	if res.Allowed >= cost {
		return true, 0, nil
	}
	wait := res.RetryAfter
	if wait <= 0 {
		wait = time.Second
	}
	return false, wait, nil
}

func (s *Shared) failed(err error) {
	now := time.Now().UnixNano()
	if s.downAt.Swap(now) == 0 && s.opt.OnRedisState != nil {
		s.opt.OnRedisState(false)
	}
	s.fallback()
	if last := s.loggedAt.Load(); now-last >= int64(s.opt.LogEvery) && s.loggedAt.CompareAndSwap(last, now) {
		s.opt.Logger.Warn("rate limits: Redis unreachable; limits are per process until it answers", "err", err)
	}
}

func (s *Shared) fallback() {
	if s.opt.OnFallback != nil {
		s.opt.OnFallback()
	}
}

// Ping reports whether Redis answers.
func (s *Shared) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return errors.Join(errors.New("redis: ping"), err)
	}
	return nil
}
