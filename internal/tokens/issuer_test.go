package tokens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSignVerify_RoundTrip(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	tok, exp, err := f.iss.Sign(AccessClaims{Subject: "user-1", SessionID: "sess-1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(DefaultTTL); !exp.Equal(want) {
		t.Errorf("exp = %v, want %v", exp, want)
	}
	got := wantValid(t, f.iss, tok)
	want := &AccessClaims{
		Subject: "user-1", SessionID: "sess-1", Issuer: testIss, Audience: []string{testIss},
		Expiry: exp, IssuedAt: now,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(AccessClaims{}, "ID")); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if len(got.ID) != 22 {
		t.Errorf("jti %q: want 22 base64url characters (128 bits)", got.ID)
	}

	// The header is exactly {alg, kid, typ}.
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]any
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	wantH := map[string]any{"alg": "ES256", "kid": f.iss.SigningKeyID(), "typ": "at+jwt"}
	if diff := cmp.Diff(wantH, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}

	// A second token has another jti.
	tok2 := f.sign(t)
	if c2 := wantValid(t, f.iss, tok2); c2.ID == got.ID {
		t.Errorf("two tokens share jti %q", c2.ID)
	}
}

func TestSign_ExpiryCappedBySession(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	_, exp, err := f.iss.Sign(AccessClaims{Subject: "u", SessionID: "s", Expiry: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(time.Minute); !exp.Equal(want) {
		t.Errorf("exp = %v, want the session end %v", exp, want)
	}
	if _, _, err := f.iss.Sign(AccessClaims{Subject: "u", SessionID: "s", Expiry: now.Add(-time.Second)}); err == nil {
		t.Error("Sign with a past session end: want an error")
	}
	if _, _, err := f.iss.Sign(AccessClaims{Subject: "u"}); err == nil {
		t.Error("Sign without a session id: want an error")
	}
}

func TestNewIssuer_ConcurrentFirstStart(t *testing.T) {
	store := &memKeys{}
	clk := newClock()
	var wg sync.WaitGroup
	issuers := make([]*Issuer, 2)
	errs := make([]error, 2)
	// Both see an empty store before either adds: each replica's first read answers empty,
	// whatever the order in which the goroutines run.
	for n := range issuers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gate := &gatedStore{memKeys: store, emptyReads: 1}
			issuers[n], errs[n] = NewIssuer(context.Background(), IssuerConfig{Store: gate, Secrets: mustSecrets(t, testSecret), Issuer: testIss, Now: clk.Now})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(store.ids()); n != 2 {
		t.Fatalf("stored keys: %d, want 2 (both replicas generated one)", n)
	}
	for _, i := range issuers {
		if err := i.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := issuers[0].SigningKeyID(), issuers[1].SigningKeyID(); a != b {
		t.Errorf("replicas sign with %s and %s; want the same newest key", a, b)
	}
	if len(jwksKIDs(t, issuers[0].JWKS())) != 2 {
		t.Errorf("JWKS %s: want both keys", issuers[0].JWKS())
	}
	tok, _, _ := issuers[0].Sign(AccessClaims{Subject: "u", SessionID: "s"})
	wantValid(t, issuers[1], tok)
}

// gatedStore answers its first emptyReads SigningKeys calls with no keys, as if they had
// happened before any replica added one.
type gatedStore struct {
	*memKeys
	mu         sync.Mutex
	emptyReads int
}

func (g *gatedStore) SigningKeys(ctx context.Context) ([]authSigningKey, error) {
	g.mu.Lock()
	if g.emptyReads > 0 {
		g.emptyReads--
		g.mu.Unlock()
		return nil, nil
	}
	g.mu.Unlock()
	return g.memKeys.SigningKeys(ctx)
}

func TestNewIssuer_96_WrongSecret(t *testing.T) {
	f := newFixture(t)
	_, err := NewIssuer(context.Background(), IssuerConfig{
		Store: f.store, Secrets: mustSecrets(t, "a different secret of more than 32 characters"), Issuer: testIss, Now: f.clock.Now,
	})
	if !errors.Is(err, ErrSecretMismatch) {
		t.Fatalf("NewIssuer with another secret: %v, want ErrSecretMismatch", err)
	}
	if !strings.Contains(err.Error(), "KAKAOAUTH_SECRET") {
		t.Errorf("error %q does not name KAKAOAUTH_SECRET", err)
	}
	if n := len(f.store.ids()); n != 1 {
		t.Errorf("stored keys: %d; a wrong secret must not add a key", n)
	}
	// The same secret still loads, and a swapped sealed blob (row tampering) is refused.
	f.issuer(t)
	f.store.keys = append(f.store.keys, f.store.keys[0])
	f.store.keys[1].ID = "swapped"
	if _, err := NewIssuer(context.Background(), IssuerConfig{Store: f.store, Secrets: mustSecrets(t, testSecret), Issuer: testIss, Now: f.clock.Now}); err == nil {
		t.Error("a sealed key under another kid was accepted")
	}
}

func TestNewIssuer_Config(t *testing.T) {
	s := mustSecrets(t, testSecret)
	for name, cfg := range map[string]IssuerConfig{
		"no store":        {Secrets: s, Issuer: testIss},
		"no secrets":      {Store: &memKeys{}, Issuer: testIss},
		"no issuer":       {Store: &memKeys{}, Secrets: s},
		"empty audience":  {Store: &memKeys{}, Secrets: s, Issuer: testIss, Audience: []string{""}},
		"negative ttl":    {Store: &memKeys{}, Secrets: s, Issuer: testIss, TTL: -time.Minute},
		"overlap too low": {Store: &memKeys{}, Secrets: s, Issuer: testIss, TTL: 15 * time.Minute, Overlap: 15 * time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewIssuer(context.Background(), cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
	i, err := NewIssuer(context.Background(), IssuerConfig{Store: &memKeys{}, Secrets: s, Issuer: testIss})
	if err != nil {
		t.Fatal(err)
	}
	if i.TTL() != DefaultTTL || i.Overlap() != DefaultTTL+DefaultOverlapExtra {
		t.Errorf("defaults: TTL %v, Overlap %v", i.TTL(), i.Overlap())
	}
}

func BenchmarkSign(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.iss.Sign(AccessClaims{Subject: "01JMXK6Q8V5WZ3", SessionID: "01JMXK6Q8V5WZ4"}); err != nil {
			b.Fatal(err)
		}
	}
}

// tokens of the dropped keys stop verifying on the other replica at its next Reload (also when
// they sit in its verify cache), and the JWKS publishes only the new key.
func TestIssuer_96_DropOtherKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	leaked := f.sign(t)
	wantValid(t, f.iss, leaked) // now in f.iss's verify cache
	oldKID := f.iss.SigningKeyID()

	admin := f.issuer(t)
	if err := admin.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	dropped, err := admin.DropOtherKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, []string{oldKID}) {
		t.Fatalf("dropped %v, want [%s]", dropped, oldKID)
	}
	wantInvalid(t, admin, leaked)

	wantValid(t, f.iss, leaked) // the replica has not reloaded yet
	if err := f.iss.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, f.iss, leaked)
	if got := f.iss.KeyIDs(); len(got) != 1 || got[0] != admin.SigningKeyID() {
		t.Fatalf("published keys %v, want only %s", got, admin.SigningKeyID())
	}
	if strings.Contains(string(f.iss.JWKS()), oldKID) {
		t.Fatal("dropped key still in the JWKS")
	}
	wantValid(t, f.iss, f.sign(t))

	// An issuer whose signing key was deleted underneath it refuses to drop the others.
	stale := f.issuer(t)
	if err := admin.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DropOtherKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := stale.DropOtherKeys(ctx); err == nil {
		t.Fatal("a stale issuer dropped keys")
	}
	if keys, _ := f.store.SigningKeys(ctx); len(keys) != 1 || keys[0].ID != admin.SigningKeyID() {
		t.Fatalf("stored keys after the stale attempt: %d", len(keys))
	}
}
