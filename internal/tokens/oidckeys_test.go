package tokens

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func rsaKIDs(k *RSAKeys) []string {
	var out []string
	for _, j := range k.PublicKeys() {
		out = append(out, j.KeyID)
	}
	return out
}

// TestRSAKeys: the RS256 ring beside the ES256 issuer in one key store — generated once and
// shared by replicas, rotated with the old key published for the overlap, never touched by the
// ES256 issuer's rotations, sealed with the secret.
func TestRSAKeys(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	overlap := 25 * time.Minute
	k, err := NewRSAKeys(ctx, f.store, mustSecrets(t, testSecret), overlap, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	kid, priv := k.Signer()
	if kid == "" || priv == nil || priv.N.BitLen() < 2048 {
		t.Fatalf("signer %q %v", kid, priv)
	}
	if pub := k.PublicKeys(); len(pub) != 1 || pub[0].Algorithm != "RS256" || pub[0].Use != "sig" || !pub[0].IsPublic() {
		t.Fatalf("published %+v", pub)
	}
	// A replica loads the same key; the ES256 issuer neither signs with nor publishes it.
	k2, err := NewRSAKeys(ctx, f.store, mustSecrets(t, testSecret), overlap, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if kid2, _ := k2.Signer(); kid2 != kid {
		t.Errorf("replica signs with %s, want %s", kid2, kid)
	}
	if err := f.iss.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(f.iss.KeyIDs(), kid) || f.iss.SigningKeyID() == kid {
		t.Errorf("the ES256 issuer took the RSA key: %v", f.iss.KeyIDs())
	}
	// ES256 rotation (and dropping the others) leaves the RSA key signing.
	if err := f.iss.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.iss.DropOtherKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if now, _ := k.Signer(); now != kid {
		t.Errorf("after an ES256 rotation the RSA signer is %s, want %s", now, kid)
	}
	// RSA rotation: a new signer, the old key still published until the overlap has passed.
	f.clock.Add(time.Hour)
	if err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	newKID, _ := k.Signer()
	if newKID == kid || !slices.Equal(rsaKIDs(k), []string{newKID, kid}) {
		t.Fatalf("after rotation: signer %s, published %v", newKID, rsaKIDs(k))
	}
	if k.SigningKeyAge() != 0 {
		t.Errorf("age of the new key = %v", k.SigningKeyAge())
	}
	f.clock.Add(overlap)
	if err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(rsaKIDs(k), kid) || slices.Contains(f.store.ids(), kid) {
		t.Errorf("a key retired longer than the overlap ago is still there: %v / %v", rsaKIDs(k), f.store.ids())
	}
	// Another secret cannot open the keys.
	if _, err := NewRSAKeys(ctx, f.store, mustSecrets(t, "another secret entirely, 0123456789"), overlap, f.clock.Now); !errors.Is(err, ErrSecretMismatch) {
		t.Errorf("wrong secret: %v, want ErrSecretMismatch", err)
	}
}

// A rotation ahead publishes the new RS256 key at once (every replica's next reload serves it in
// the JWKS) and signs with it only from ahead, so no replica hands out an ID token whose kid
// another replica's JWKS lacks.
func TestRSAKeys_040_RotateAheadPublishesFirst(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, err := NewRSAKeys(ctx, f.store, mustSecrets(t, testSecret), 25*time.Minute, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	replica, err := NewRSAKeys(ctx, f.store, mustSecrets(t, testSecret), 25*time.Minute, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := k.Signer()
	if err := k.RotateAhead(ctx, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if now, _ := k.Signer(); now != old || !k.Pending() {
		t.Fatalf("right after a rotation ahead: signer %s (want the old %s), pending %v", now, old, k.Pending())
	}
	if err := replica.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	published := rsaKIDs(replica)
	if len(published) != 2 || !slices.Contains(published, old) {
		t.Fatalf("the replica publishes %v, want the new key and %s", published, old)
	}
	f.clock.Add(2 * time.Minute)
	for _, r := range []*RSAKeys{k, replica} {
		if err := r.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if now, _ := r.Signer(); now == old || r.Pending() {
			t.Errorf("after ahead: signer %s (the old one is %s), pending %v", now, old, r.Pending())
		}
	}
	if !slices.Contains(rsaKIDs(k), old) {
		t.Errorf("the old key left the JWKS before its overlap: %v", rsaKIDs(k))
	}
}

// After a leak, DropOtherKeys deletes every RS256 key but the signing one (and no ES256 key).
func TestRSAKeys_096_DropOtherKeys(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, err := NewRSAKeys(ctx, f.store, mustSecrets(t, testSecret), 25*time.Minute, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	leaked, _ := k.Signer()
	if err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	keep, _ := k.Signer()
	es := f.iss.SigningKeyID()
	dropped, err := k.DropOtherKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, []string{leaked}) || !slices.Equal(rsaKIDs(k), []string{keep}) {
		t.Errorf("dropped %v, published %v; want %s dropped and only %s published", dropped, rsaKIDs(k), leaked, keep)
	}
	if ids := f.store.ids(); slices.Contains(ids, leaked) || !slices.Contains(ids, es) {
		t.Errorf("stored keys %v: want %s gone and the ES256 key %s kept", ids, leaked, es)
	}
}
