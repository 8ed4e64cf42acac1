package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kakaoauth/kakaoauth/internal/ratelimit"
	"github.com/kakaoauth/kakaoauth/internal/tcpproxy"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLocalBudget(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := ratelimit.NewLocal(c.Now)
	lim := ratelimit.Limit{Burst: 3, Per: 3 * time.Second}
	ctx := context.Background()
	for i := range 3 {
		if ok, _ := l.Take(ctx, "k", lim, 1); !ok {
			t.Fatalf("take %d refused within the burst", i+1)
		}
	}
	ok, wait := l.Take(ctx, "k", lim, 1)
	if ok || wait <= 0 {
		t.Fatalf("4th take = %v, %v; want refused with a wait", ok, wait)
	}
	if ok, _ := l.Take(ctx, "other", lim, 1); !ok {
		t.Fatal("another key shares the budget")
	}
	c.Advance(time.Second)
	if ok, _ := l.Take(ctx, "k", lim, 1); !ok {
		t.Fatal("not refilled after Per/Burst")
	}
	// A cost of 3 (a failure) empties a fresh budget at once.
	if ok, _ := l.Take(ctx, "f", lim, 3); !ok {
		t.Fatal("a cost of the burst refused on a fresh budget")
	}
	if ok, _ := l.Take(ctx, "f", lim, 1); ok {
		t.Fatal("budget not spent by a cost of the burst")
	}
	if ok, _ := l.Take(ctx, "z", ratelimit.Limit{}, 1); !ok {
		t.Fatal("the zero limit limits")
	}
}

// redisURL is the test Redis (KAKAOAUTH_TEST_REDIS_URL), or a skip.
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("KAKAOAUTH_TEST_REDIS_URL")
	if u == "" {
		t.Skip("KAKAOAUTH_TEST_REDIS_URL not set")
	}
	return u
}

// prefix is a key prefix of this test alone.
func prefix(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	return "kakaoauth-test:" + strings.ReplaceAll(t.Name(), "/", ":") + ":" + hex.EncodeToString(b[:]) + ":"
}

func client(t *testing.T, url string) *redis.Client {
	t.Helper()
	o, err := ratelimit.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// Two replicas on one Redis allow the budget once, not twice.
func TestSharedBudgetAcrossReplicas(t *testing.T) {
	url := redisURL(t)
	p := prefix(t)
	a := ratelimit.NewShared(client(t, url), ratelimit.Options{Prefix: p})
	b := ratelimit.NewShared(client(t, url), ratelimit.Options{Prefix: p})
	lim := ratelimit.Limit{Burst: 6, Per: time.Hour}
	ctx := context.Background()
	allowed := 0
	for i := range 20 {
		r := a
		if i%2 == 1 {
			r = b
		}
		if ok, wait := r.Take(ctx, "ip|/auth/token/refresh|192.0.2.1", lim, 1); ok {
			allowed++
		} else if wait <= 0 {
			t.Fatalf("refused without a wait")
		}
	}
	if allowed != 6 {
		t.Fatalf("two replicas allowed %d of a budget of 6", allowed)
	}
	// A failure's cost of 3 counts 3 times.
	if ok, _ := a.Take(ctx, "fail", lim, 3); !ok {
		t.Fatal("first failure refused")
	}
	if ok, _ := b.Take(ctx, "fail", lim, 3); !ok {
		t.Fatal("second failure refused")
	}
	if ok, _ := a.Take(ctx, "fail", lim, 1); ok {
		t.Fatal("two failures of cost 3 did not spend a budget of 6")
	}
}

// Redis cut: budgets are taken in the process (every request still answered), the fallback is
// counted and the state reported; Redis back: shared again.
func TestSharedFallsBackWhileRedisIsDown(t *testing.T) {
	url := redisURL(t)
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	px, err := tcpproxy.Start(o.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	po, _ := ratelimit.ParseURL(url)
	po.Addr = px.Addr()
	rdb := redis.NewClient(po)
	defer rdb.Close()
	var fallbacks atomic.Int32
	var states []bool
	var mu sync.Mutex
	s := ratelimit.NewShared(rdb, ratelimit.Options{
		Prefix: prefix(t), RetryEvery: time.Nanosecond,
		OnFallback:   func() { fallbacks.Add(1) },
		OnRedisState: func(up bool) { mu.Lock(); states = append(states, up); mu.Unlock() },
	})
	lim := ratelimit.Limit{Burst: 2, Per: time.Hour}
	ctx := context.Background()
	if ok, _ := s.Take(ctx, "k", lim, 1); !ok {
		t.Fatal("first take refused")
	}
	px.Cut()
	// Per process now: a fresh local budget of 2.
	for i := range 2 {
		if ok, _ := s.Take(ctx, "k", lim, 1); !ok {
			t.Fatalf("take %d refused while Redis is down: the local budget should answer", i+1)
		}
	}
	if ok, _ := s.Take(ctx, "k", lim, 1); ok {
		t.Fatal("the local fallback does not limit")
	}
	if fallbacks.Load() < 3 {
		t.Fatalf("fallbacks counted = %d, want ≥ 3", fallbacks.Load())
	}
	px.Restore()
	// Back in Redis, where one of the 2 is left.
	if ok, _ := s.Take(ctx, "k", lim, 1); !ok {
		t.Fatal("Redis back: the shared budget's last token refused")
	}
	if ok, _ := s.Take(ctx, "k", lim, 1); ok {
		t.Fatal("Redis back: the shared budget not used")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 2 || states[0] || !states[1] {
		t.Fatalf("state changes = %v, want [false true]", states)
	}
}
