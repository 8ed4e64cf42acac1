package tokens

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestVerify_CacheMatchesFullPath checks that the verification cache answers what a full
// verification answers, at every moment of a token's life and across rotation.
func TestVerify_CacheMatchesFullPath(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	uncached := f.issuer(t, func(c *IssuerConfig) { c.VerifyCacheSize = -1 })
	if uncached.cache != nil || f.iss.cache == nil {
		t.Fatal("cache configuration not applied")
	}
	tok, exp, _ := f.iss.Sign(AccessClaims{Subject: "user-1", SessionID: "sess-1"})
	c := wantValid(t, f.iss, tok)
	c.Subject = "mutated"
	if c2 := wantValid(t, f.iss, tok); c2.Subject != "user-1" {
		t.Fatalf("caller's change reached the cache: sub %q", c2.Subject)
	}
	if len(f.iss.cache.m) != 1 {
		t.Fatalf("cache holds %d entries, want 1", len(f.iss.cache.m))
	}
	start := f.clock.Now()
	for _, step := range []struct {
		at     time.Time
		rotate bool
	}{
		{start.Add(time.Minute), false},
		{start.Add(2 * time.Minute), true},
		{exp.Add(Leeway - time.Second), false},
		{exp.Add(Leeway), false},
		{start.Add(time.Hour), true},
	} {
		f.clock.Set(step.at)
		if step.rotate {
			if err := f.iss.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := uncached.Reload(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got, gotErr := f.iss.Verify(tok)
		want, wantErr := uncached.Verify(tok)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !cmp.Equal(got, want) {
			t.Errorf("at %v: cached %+v, %v; full %+v, %v", step.at.Sub(start), got, gotErr, want, wantErr)
		}
	}
	if len(f.iss.cache.m) != 0 {
		t.Errorf("expired entry kept: %d entries", len(f.iss.cache.m))
	}
	// The cache is bounded.
	small := f.issuer(t, func(c *IssuerConfig) { c.VerifyCacheSize = 3 })
	for range 10 {
		tok, _, _ := small.Sign(AccessClaims{Subject: "u", SessionID: "s"})
		wantValid(t, small, tok)
	}
	if n := len(small.cache.m); n != 3 {
		t.Errorf("cache of 3 holds %d", n)
	}
}

// repeatedly with one access token.
func BenchmarkVerifyCached(b *testing.B) {
	f := newFixture(b)
	tok := f.sign(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.iss.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel measures full verifications on every core, the shape of the server's
