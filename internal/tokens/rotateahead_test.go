package tokens

import (
	"context"
	"testing"
	"time"
)

// TestRotateAhead_040_NoReplicaMeetsAnUnknownKey: a rotation that publishes ahead keeps the old
// key signing until every replica has reloaded; from then on each replica signs with the new
// key at its next reload, and every token of either verifies on both throughout.
func TestRotateAhead_040_NoReplicaMeetsAnUnknownKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a, b := f.iss, f.issuer(t)
	reload := time.Minute
	k0 := a.SigningKeyID()
	signBoth := func(step string) {
		t.Helper()
		for _, signer := range []*Issuer{a, b} {
			tok, _, err := signer.Sign(AccessClaims{Subject: "user-1", SessionID: "sess-1"})
			if err != nil {
				t.Fatal(err)
			}
			for _, verifier := range []*Issuer{a, b} {
				if _, err := verifier.Verify(tok); err != nil {
					t.Fatalf("%s: a token of kid %s does not verify on a replica: %v", step, kidOf(t, tok), err)
				}
			}
		}
	}
	f.clock.Add(time.Hour)
	k1, err := a.RotateAhead(ctx, 2*reload)
	if err != nil {
		t.Fatal(err)
	}
	if k1 == k0 || a.SigningKeyID() != k0 {
		t.Fatalf("after RotateAhead: new %s, signing %s; want the old %s still signing", k1, a.SigningKeyID(), k0)
	}
	if !a.RotationPending() || b.RotationPending() {
		t.Fatalf("RotationPending: a %v (rotated), b %v (not reloaded); want true, false", a.RotationPending(), b.RotationPending())
	}
	signBoth("right after the rotation, b not reloaded")
	f.clock.Add(reload)
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if b.SigningKeyID() != k0 {
		t.Fatalf("b signs with %s before the new key's start", b.SigningKeyID())
	}
	signBoth("b reloaded, before the start")
	f.clock.Add(reload)
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if a.SigningKeyID() != k1 {
		t.Fatalf("a signs with %s after the new key's start, want %s", a.SigningKeyID(), k1)
	}
	signBoth("a on the new key, b not reloaded")
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if b.SigningKeyID() != k1 {
		t.Fatalf("b signs with %s after its reload, want %s", b.SigningKeyID(), k1)
	}
	if a.RotationPending() || b.RotationPending() {
		t.Fatal("RotationPending once the new key signs")
	}
	signBoth("both on the new key")
}
