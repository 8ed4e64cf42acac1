package server

import (
	"hash/maphash"
	"net/http"
	"sync"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/ratelimit"
	"github.com/kakaoauth/kakaoauth/internal/statuswriter"
	"golang.org/x/time/rate"
)

// RateLimit is a per-client-IP token bucket: Burst requests at once, refilled at Per/Burst.
type RateLimit struct {
	Burst int
	Per   time.Duration // time to refill the whole burst
}

// limiter keeps one bucket per route and client IP, in shards, forgetting idle ones. It is per process:
// replicas behind a load balancer each count their own share.
type limiter struct {
	limit  rate.Limit
	burst  int
	seed   maphash.Seed
	shards [16]limiterShard
	now    func() time.Time
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(rl RateLimit, now func() time.Time) *limiter {
	if rl.Burst <= 0 || rl.Per <= 0 {
		return nil
	}
	l := &limiter{limit: rate.Every(rl.Per / time.Duration(rl.Burst)), burst: rl.Burst, seed: maphash.MakeSeed(), now: now}
	for i := range l.shards {
		l.shards[i].buckets = map[string]*bucket{}
	}
	return l
}

// allow takes a token for key and, when there is none, says how long until one is back.
func (l *limiter) allow(key string) (bool, time.Duration) { return l.allowN(key, 1) }

// allowN takes n tokens for key (at most the burst); when there are not enough it takes none.
func (l *limiter) allowN(key string, n int) (bool, time.Duration) {
	sh := &l.shards[maphash.String(l.seed, key)%uint64(len(l.shards))]
	now := l.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.Sub(sh.swept) > time.Minute {
		for k, b := range sh.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(sh.buckets, k)
			}
		}
		sh.swept = now
	}
	b := sh.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		sh.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, min(n, l.burst))
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimited wraps a handler with the per-client-address limit of its route; a refused
// request is a 429 with Retry-After, counted by onLimited. A request the client got wrong (400,
// 401, 403) costs FailureCost in all, so failed attempts run out of budget sooner than
// successes. The budgets are Config.Budgets (shared by replicas through Redis) when set.
func (s *Server) rateLimited(next http.HandlerFunc) http.HandlerFunc {
	if s.limiter == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		key := "ip|" + r.Pattern + "|" + s.clientIP(r)
		if ok, wait := s.takeBudget(r, key, 1); !ok {
			if s.cfg.OnRateLimited != nil {
				s.cfg.OnRateLimited(r.Pattern)
			}
			e := &auth.Error{Code: auth.ECodeRateLimited, RetryAfter: wait}
			if r.Method == http.MethodGet && s.wantsHTML(r) {
				s.renderError(w, r, e)
				return
			}
			s.writeError(w, r, e)
			return
		}
		sw := statuswriter.New(w)
		next(sw, r)
		switch sw.Status() {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			s.takeBudget(r, key, s.failureCost()-1)
		}
	}
}

// failureCost is what a failed attempt costs in all; default 3.
func (s *Server) failureCost() int {
	if s.cfg.FailureCost > 0 {
		return s.cfg.FailureCost
	}
	return 3
}

// takeBudget takes cost from key's budget: in Config.Budgets when set, else in this process.
func (s *Server) takeBudget(r *http.Request, key string, cost int) (bool, time.Duration) {
	if cost <= 0 {
		return true, 0
	}
	if s.cfg.Budgets != nil {
		return s.cfg.Budgets.Take(r.Context(), key, ratelimit.Limit(s.cfg.RateLimit), cost)
	}
	return s.limiter.allowN(key, cost)
}
