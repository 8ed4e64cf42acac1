package resource_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// testUser is an emulator user (servertest.UserWithEmail).
const testUser = 4217730412856391024

// front serves a kakaoauth (servertest) at the URL its tokens name, counting the requests by
// path; jwksDown makes its JWKS answer 503, Close makes the whole of it unreachable.
type front struct {
	*httptest.Server
	jwksDown atomic.Bool
	mu       sync.Mutex
	calls    map[string]int
}

// startKakaoauth runs kakaoauth with the emulator behind a front.
func startKakaoauth(t *testing.T) (*servertest.Server, *front) {
	t.Helper()
	f := &front{Server: httptest.NewUnstartedServer(nil), calls: map[string]int{}}
	public, _ := url.Parse("http://" + f.Listener.Addr().String())
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.PublicURL = public }))
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls[r.URL.Path]++
		f.mu.Unlock()
		if r.URL.Path == jwksPath && f.jwksDown.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		s.App.Server.ServeHTTP(w, r)
	})
	f.Start()
	t.Cleanup(f.Close)
	s.BaseURL = f.URL // servertest's own listener would bypass the front
	return s, f
}

// count is how many requests for path the front has seen.
func (f *front) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

// clock is a Verifier's clock: real time moved by a settable offset.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time                  { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration)         { c.offset.Add(int64(d)) }
func (c *clock) set(d time.Duration)             { c.offset.Store(int64(d)) }
func (c *clock) at(t time.Time) func() time.Time { return func() time.Time { return t } }

// testIssuer stands in for kakaoauth where its tokens cannot carry what a test needs (scopes,
// client_id, nbf, another iss): it serves a discovery document and a JWKS with one P-256 and
// one RSA key, and signs tokens with them.
type testIssuer struct {
	*httptest.Server
	ec    *ecdsa.PrivateKey
	rsa   *rsa.PrivateKey
	jwks  atomic.Int32 // JWKS requests
	empty atomic.Bool  // serve a JWKS without keys
	extra []json.RawMessage
}

const (
	ecKID  = "test-ec"
	rsaKID = "test-rsa"
)

// newTestIssuer starts a testIssuer; extra keys are appended to its JWKS as they are.
func newTestIssuer(extra ...string) *testIssuer {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ti := &testIssuer{ec: ec, rsa: rk}
	for _, e := range extra {
		ti.extra = append(ti.extra, json.RawMessage(e))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": ti.URL, "jwks_uri": ti.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		ti.jwks.Add(1)
		if ti.empty.Load() {
			_, _ = w.Write([]byte(`{"keys":[]}`))
			return
		}
		keys := []any{
			jose.JSONWebKey{Key: &ec.PublicKey, KeyID: ecKID, Algorithm: "ES256", Use: "sig"},
			jose.JSONWebKey{Key: &rk.PublicKey, KeyID: rsaKID, Algorithm: "RS256", Use: "sig"},
		}
		for _, e := range ti.extra {
			keys = append(keys, e)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	ti.Server = httptest.NewServer(mux)
	return ti
}

// claims are the claims of a good token of ti, valid for 15 minutes from now; set changes them.
func (ti *testIssuer) claims(set map[string]any) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{
		"iss": ti.URL, "aud": ti.URL, "sub": "user-1", "sid": "session-1", "jti": "jti-1",
		"iat": now, "exp": now + 900,
	}
	for k, v := range set {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// sign signs claims with ti's key of alg (ES256 or RS256) under kid, with typ (none if "") and
// the header fields of extra.
func (ti *testIssuer) sign(alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any, extra ...map[string]any) string {
	var key any = ti.ec
	if alg == jose.RS256 {
		key = ti.rsa
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	for _, e := range extra {
		for k, v := range e {
			opts = opts.WithHeader(jose.HeaderKey(k), v)
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		panic(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return tok
}

// token is a good ES256 access token of ti with claims changed by set.
func (ti *testIssuer) token(set map[string]any) string {
	return ti.sign(jose.ES256, ecKID, "at+jwt", ti.claims(set))
}

// forge returns a token with the given header and the payload of token, MACed with HS256 under
// secret (no signature when secret is nil).
func forge(token string, header map[string]any, secret []byte) string {
	payload := strings.Split(token, ".")[1]
	h, _ := json.Marshal(header)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + payload
	if secret == nil {
		return input + "."
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// kidOf is the kid in token's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}
