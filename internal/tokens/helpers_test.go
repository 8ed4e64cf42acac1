package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

const (
	testSecret = "correct horse battery staple 0123456789"
	testIss    = "https://auth.example.com"
)

// memKeys is an in-memory KeyStore: a test double of the four signing-key methods of auth.Store.
type memKeys struct {
	mu   sync.Mutex
	keys []auth.SigningKey
}

func (m *memKeys) SigningKeys(context.Context) ([]auth.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys), nil
}

func (m *memKeys) AddSigningKey(_ context.Context, k auth.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.ID == k.ID {
			return errors.New("duplicate key id")
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].ID == id {
			m.keys[i].RetiredAt = at
			return nil
		}
	}
	return auth.ErrNotFound
}

func (m *memKeys) DeleteSigningKey(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].ID == id {
			m.keys = slices.Delete(m.keys, i, i+1)
			return nil
		}
	}
	return auth.ErrNotFound
}

func (m *memKeys) ids() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, k := range m.keys {
		out = append(out, k.ID)
	}
	return out
}

// clock is a settable fake clock.
type clock = kakaotest.Clock

func newClock() *clock { return kakaotest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

func mustSecrets(t testing.TB, secret string) *Secrets {
	t.Helper()
	s, err := DeriveSecrets(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type fixture struct {
	store *memKeys
	clock *clock
	iss   *Issuer
}

func newFixture(t testing.TB, mod ...func(*IssuerConfig)) *fixture {
	t.Helper()
	f := &fixture{store: &memKeys{}, clock: newClock()}
	f.iss = f.issuer(t, mod...)
	return f
}

// issuer starts another Issuer (a replica) on the fixture's store and clock.
func (f *fixture) issuer(t testing.TB, mod ...func(*IssuerConfig)) *Issuer {
	t.Helper()
	cfg := IssuerConfig{Store: f.store, Secrets: mustSecrets(t, testSecret), Issuer: testIss, Now: f.clock.Now}
	for _, m := range mod {
		m(&cfg)
	}
	i, err := NewIssuer(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func (f *fixture) sign(t testing.TB) string {
	t.Helper()
	tok, _, err := f.iss.Sign(AccessClaims{Subject: "user-1", SessionID: "sess-1"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// privateKey returns the private key of the current signing key (unsealed from the store).
func (f *fixture) privateKey(t testing.TB) (string, *ecdsa.PrivateKey) {
	t.Helper()
	kid := f.iss.SigningKeyID()
	keys, _ := f.store.SigningKeys(context.Background())
	for _, k := range keys {
		if k.ID == kid {
			priv, err := f.iss.openKey(k)
			if err != nil {
				t.Fatal(err)
			}
			return kid, priv
		}
	}
	t.Fatalf("signing key %s not in store", kid)
	return "", nil
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signES256 builds a compact JWS over arbitrary header and payload JSON with priv, bypassing
// Sign, to present Verify with tokens our key really signed.
func signES256(t testing.TB, priv *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	input := b64(header) + "." + b64(payload)
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, priv, d[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

type (
	ecdsaPriv      = ecdsa.PrivateKey
	authSigningKey = auth.SigningKey
	hashFunc       = hash.Hash
)

func sha512_384() hash.Hash { return sha512.New384() }
func sha512_512() hash.Hash { return sha512.New() }
