package storetest

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// ScaleSizes are the stored-user counts of the scale benchmarks: a thousand, and
// KAKAOAUTH_BENCH_USERS when it is set (say 1000000).
func ScaleSizes() []int {
	sizes := []int{1000}
	if n, err := strconv.Atoi(os.Getenv("KAKAOAUTH_BENCH_USERS")); err == nil && n > 1000 {
		sizes = append(sizes, n)
	}
	return sizes
}

// BenchScale measures a returning user's login and the rotation of its refresh token on a store
// holding users seeded users (which it seeds), and reports the p50 and p99 of each in µs.
func BenchScale(b *testing.B, st auth.Store, users int) {
	seeder, ok := st.(auth.Seeder)
	if !ok {
		b.Fatalf("%T cannot seed", st)
	}
	ctx := context.Background()
	const first = 8_000_000_000
	now := time.Now().UTC().Truncate(time.Microsecond)
	for done := 0; done < users; done += 100_000 {
		if err := seeder.SeedUsers(ctx, first+int64(done), min(100_000, users-done), now); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var logins, rotations []time.Duration
	for i := 0; b.Loop(); i++ {
		sub := auth.SeedSubject(first, rand.IntN(users))
		at := now.Add(time.Duration(i) * time.Millisecond)
		sess := auth.Session{ID: auth.NewID(at), CreatedAt: at, LastUsedAt: at, ExpiresAt: at.Add(sessionTTL), Flow: "spa"}
		h := newHash()
		t0 := time.Now()
		if _, _, err := st.LoginUser(ctx, auth.Profile{Provider: auth.ProviderKakao, Subject: sub, Nickname: auth.SeedNickname(sub)},
			sess, auth.RefreshToken{Hash: h, CreatedAt: at, ExpiresAt: at.Add(tokenTTL)}, at); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		res, err := st.Rotate(ctx, auth.RotateRequest{Hash: h, SuccessorHash: newHash(), Now: at.Add(time.Second), ExpiresAt: at.Add(tokenTTL)})
		if err != nil || res.Outcome != auth.Rotated {
			b.Fatalf("rotate: %v %v", res.Outcome, err)
		}
		t2 := time.Now()
		logins = append(logins, t1.Sub(t0))
		rotations = append(rotations, t2.Sub(t1))
	}
	b.StopTimer()
	pct := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Microseconds())
	}
	b.ReportMetric(pct(logins, 0.50), "login-p50-µs")
	b.ReportMetric(pct(logins, 0.99), "login-p99-µs")
	b.ReportMetric(pct(rotations, 0.50), "refresh-p50-µs")
	b.ReportMetric(pct(rotations, 0.99), "refresh-p99-µs")
}
