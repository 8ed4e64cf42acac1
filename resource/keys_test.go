package resource_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/kakaoauth/kakaoauth/resource"
)

const jwksPath = "/oauth2/keys" // the discovery document's jwks_uri (the OpenID Provider's, issue 9)

// TestKeyRotationRefetchesOnce: a token signed after kakaoauth rotated its key carries a kid
// the Verifier has not seen; it fetches the JWKS once and accepts it (cases 26, 40).
func TestKeyRotationRefetchesOnce(t *testing.T) {
	s, f := startKakaoauth(t)
	v := newVerifier(t, resource.Config{Issuer: s.BaseURL})
	old, _ := s.SPASignIn(t, testUser)
	if err := s.App.Issuer.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	rotated, _ := s.SPASignIn(t, testUser)
	if kidOf(t, rotated) == kidOf(t, old) {
		t.Fatal("rotation kept the kid")
	}
	before := f.count(jwksPath)
	// Concurrent callers with the new kid share the one fetch: all of them are accepted.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() { _, errs[i] = v.Verify(context.Background(), rotated) })
	}
	wg.Wait()
	for _, tok := range []string{old, rotated} {
		_, err := v.Verify(context.Background(), tok)
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err != nil {
			t.Errorf("Verify after rotation: %v", err)
		}
	}
	if got := f.count(jwksPath) - before; got != 1 {
		t.Errorf("JWKS fetches after rotation = %d, want 1", got)
	}
}

// TestUnknownKIDFloodFetchesOncePerCooldown: many tokens with kids nobody published, at once,
// fetch the JWKS once; more within the cooldown fetch nothing; after it, once more (case 27).
func TestUnknownKIDFloodFetchesOncePerCooldown(t *testing.T) {
	s, f := startKakaoauth(t)
	c := &clock{}
	v := newVerifier(t, resource.Config{Issuer: s.BaseURL, Now: c.now})
	ti := newTestIssuer() // a key kakaoauth never published
	defer ti.Close()
	forged := func(i int) string {
		return ti.sign(jose.ES256, "unknown-"+strconv.Itoa(i), "at+jwt", ti.claims(map[string]any{"iss": s.BaseURL, "aud": s.BaseURL}))
	}
	tokens := make([]string, 50)
	for i := range tokens {
		tokens[i] = forged(i)
	}
	before := f.count(jwksPath)
	var wg sync.WaitGroup
	errs := make([]error, len(tokens))
	for i, tok := range tokens {
		wg.Go(func() { _, errs[i] = v.Verify(context.Background(), tok) })
	}
	wg.Wait()
	for _, err := range errs {
		wantInvalid(t, err, "unknown kid")
	}
	if got := f.count(jwksPath) - before; got != 1 {
		t.Errorf("JWKS fetches for 50 concurrent unknown kids = %d, want 1", got)
	}
	c.advance(resource.DefaultRefetchCooldown - time.Second)
	_, err := v.Verify(context.Background(), forged(50))
	wantInvalid(t, err, "unknown kid")
	if got := f.count(jwksPath) - before; got != 1 {
		t.Errorf("JWKS fetches within the cooldown = %d, want still 1", got)
	}
	c.advance(2 * time.Second)
	_, err = v.Verify(context.Background(), forged(51))
	wantInvalid(t, err, "unknown kid")
	if got := f.count(jwksPath) - before; got != 2 {
		t.Errorf("JWKS fetches after the cooldown = %d, want 2", got)
	}
}

func TestNewFailsWhenKakaoauthUnreachable(t *testing.T) {
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	_, err = resource.New(context.Background(), resource.Config{Issuer: closed})
	if err == nil || !strings.Contains(err.Error(), "read kakaoauth's discovery document") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("New with nothing listening: %v, want a discovery error saying the connection was refused", err)
	}

	s, f := startKakaoauth(t)
	f.jwksDown.Store(true)
	_, err = resource.New(context.Background(), resource.Config{Issuer: s.BaseURL})
	if err == nil || !strings.Contains(err.Error(), "fetch kakaoauth's JWKS") || !strings.Contains(err.Error(), "status 503") {
		t.Errorf("New with the JWKS down: %v, want a JWKS error with its status", err)
	}
}

// TestCachedKeysOutliveTheJWKS: once the keys are fetched, tokens keep verifying when the JWKS
// answers 503 and when kakaoauth is gone altogether, past KeysMaxAge and the cooldown.
func TestCachedKeysOutliveTheJWKS(t *testing.T) {
	s, f := startKakaoauth(t)
	c := &clock{}
	v := newVerifier(t, resource.Config{Issuer: s.BaseURL, Now: c.now, KeysMaxAge: time.Minute})
	access, _ := s.SPASignIn(t, testUser)

	f.jwksDown.Store(true)
	before := f.count(jwksPath)
	c.advance(2 * time.Minute)
	if _, err := v.Verify(context.Background(), access); err != nil {
		t.Errorf("Verify with the JWKS answering 503: %v", err)
	}
	if got := f.count(jwksPath) - before; got != 1 {
		t.Errorf("JWKS fetches once the cache was stale = %d, want 1 (which failed)", got)
	}

	f.Close()
	c.advance(2 * time.Minute)
	if _, err := v.Verify(context.Background(), access); err != nil {
		t.Errorf("Verify with kakaoauth unreachable: %v", err)
	}
	ti := newTestIssuer()
	defer ti.Close()
	_, err := v.Verify(context.Background(), ti.sign(jose.ES256, "new-kid", "at+jwt", ti.claims(map[string]any{"iss": s.BaseURL, "aud": s.BaseURL})))
	if !errors.Is(err, resource.ErrInvalidToken) {
		t.Errorf("unknown kid with kakaoauth unreachable: %v, want ErrInvalidToken", err)
	}
}

// TestWithdrawnKeyStopsVerifying: a key kakaoauth dropped (a leaked key) stops verifying here
// once the cache is older than KeysMaxAge (case 26, second half).
func TestWithdrawnKeyStopsVerifying(t *testing.T) {
	s, _ := startKakaoauth(t)
	c := &clock{}
	v := newVerifier(t, resource.Config{Issuer: s.BaseURL, Now: c.now, KeysMaxAge: time.Minute})
	leaked, _ := s.SPASignIn(t, testUser)
	ctx := context.Background()
	if err := s.App.Issuer.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Issuer.DropOtherKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, leaked); err != nil {
		t.Fatalf("Verify within KeysMaxAge: %v (the cached key still verifies)", err)
	}
	c.advance(2 * time.Minute)
	_, err := v.Verify(ctx, leaked)
	wantInvalid(t, err, "unknown kid")
}

// TestEmptyJWKSKeepsTheCache: a JWKS without usable keys is a fault, at New and later; it does
// not withdraw the cached keys.
func TestEmptyJWKSKeepsTheCache(t *testing.T) {
	ti := newTestIssuer()
	defer ti.Close()
	v := newVerifier(t, resource.Config{Issuer: ti.URL})
	ti.empty.Store(true)
	_, err := resource.New(context.Background(), resource.Config{Issuer: ti.URL})
	if err == nil || !strings.Contains(err.Error(), "no usable signing key") {
		t.Errorf("New with an empty JWKS: %v, want an error saying so", err)
	}
	before := ti.jwks.Load()
	_, err = v.Verify(context.Background(), ti.sign(jose.ES256, "rotated", "at+jwt", ti.claims(nil)))
	wantInvalid(t, err, "unknown kid")
	if got := ti.jwks.Load() - before; got != 1 {
		t.Fatalf("JWKS fetches for an unknown kid = %d, want 1", got)
	}
	if _, err := v.Verify(context.Background(), ti.token(nil)); err != nil {
		t.Errorf("Verify after an empty JWKS: %v, want the cached key to verify", err)
	}
}
