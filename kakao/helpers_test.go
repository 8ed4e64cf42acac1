package kakao_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// clock is a settable clock for Config.Now.
type clock = kakaotest.Clock

func newClock() *clock { return kakaotest.NewClock(time.Unix(1_750_000_000, 0)) }

// rsaKey is a signing key with its kid.
type rsaKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// testKeys are generated once per test binary: RSA key generation is slow.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 4)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// newRSAKey returns test key number i (0–3) under kid.
func newRSAKey(kid string, i int) rsaKey {
	return rsaKey{kid: kid, priv: testKeys()[i]}
}

func (k rsaKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"}
}

// sign makes an RS256 JWT of claims with kid in the header ("" = no kid).
func (k rsaKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	key := jose.JSONWebKey{Key: k.priv, KeyID: k.kid}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawJWT assembles a JWT from a header and claims with the given signature bytes.
func rawJWT(t testing.TB, header, claims map[string]any, sig []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "." + enc.EncodeToString(sig)
}

// fakeJWKS serves a JWKS that tests can change and counts fetches.
type fakeJWKS struct {
	mu      sync.Mutex
	body    []byte
	status  int
	hang    chan struct{}
	fetches atomic.Int64
}

func (f *fakeJWKS) setKeys(t testing.TB, keys ...rsaKey) {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	f.setRaw(b, http.StatusOK)
}

func (f *fakeJWKS) setRaw(body []byte, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.status = body, status
}

func (f *fakeJWKS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.fetches.Add(1)
	f.mu.Lock()
	body, status, hang := f.body, f.status, f.hang
	f.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// oidcEnv is a fake kauth serving only the JWKS, with a client pointing at it.
type oidcEnv struct {
	srv    *httptest.Server
	jwks   *fakeJWKS
	clock  *clock
	client *kakao.Client
	key    rsaKey
	issuer string
}

const testClientID = "test-rest-api-key"

func newOIDCEnv(t testing.TB, mod func(*kakao.Config)) *oidcEnv {
	t.Helper()
	env := &oidcEnv{jwks: &fakeJWKS{}, clock: newClock(), key: newRSAKey("kid-1", 0)}
	env.jwks.setKeys(t, env.key)
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", env.jwks)
	env.srv = httptest.NewServer(mux)
	t.Cleanup(env.srv.Close)
	env.issuer = env.srv.URL
	cfg := kakao.Config{
		ClientID: testClientID,
		AuthURL:  env.srv.URL,
		APIURL:   env.srv.URL,
		Timeout:  2 * time.Second,
		Now:      env.clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := kakao.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.client = c
	return env
}

// claims returns a valid claim set for the env at its current time.
func (e *oidcEnv) claims() map[string]any {
	now := e.clock.Now().Unix()
	return map[string]any{
		"iss":       e.issuer,
		"aud":       testClientID,
		"sub":       "1376016924429759228",
		"iat":       now,
		"exp":       now + 21599,
		"auth_time": now,
		"nonce":     "nonce-1",
		"nickname":  "홍길동",
		"picture":   "http://k.kakaocdn.net/img_110x110.jpg",
		"email":     "hong@example.com",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == deleteClaim {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

type deleteMarker struct{}

var deleteClaim = deleteMarker{}

// kindOf returns the Kind of err, or "" when err is not a *kakao.Error.
func kindOf(err error) kakao.Kind {
	var e *kakao.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// signCompact signs header and payload texts (not re-encoded) with RS256.
func signCompact(t testing.TB, priv *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

// rewriteHost sends every request to the test server at target, whatever
// its host, so a client with default Kakao URLs never leaves 127.0.0.1.
func rewriteHost(target string) http.RoundTripper {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
		return http.DefaultTransport.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// eventually retries f for up to 2 s of wall time. go-oidc hands a request
// that arrives just after a finished fetch that fetch's result, so the first
// call after a JWKS recovery may still see the old failure.
func eventually(t testing.TB, f func() error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after 2s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
