package resource_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/resource"
)

// newVerifier is a Verifier for cfg, failing the test if New fails.
func newVerifier(t *testing.T, cfg resource.Config) *resource.Verifier {
	t.Helper()
	v, err := resource.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantInvalid checks that err is an ErrInvalidToken saying desc.
func wantInvalid(t *testing.T, err error, desc string) {
	t.Helper()
	if !errors.Is(err, resource.ErrInvalidToken) || !strings.Contains(err.Error(), desc) {
		t.Errorf("Verify error = %v, want ErrInvalidToken saying %q", err, desc)
	}
}

func TestVerifyKakaoauthToken(t *testing.T) {
	s, _ := startKakaoauth(t)
	v := newVerifier(t, resource.Config{Issuer: s.BaseURL})
	access, _ := s.SPASignIn(t, testUser)
	_, me := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/me", access)

	got, err := v.Verify(context.Background(), access)
	if err != nil {
		t.Fatal(err)
	}
	want := resource.Claims{
		UserID: me["user"].(map[string]any)["id"].(string), Issuer: s.BaseURL, Audience: []string{s.BaseURL},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(resource.Claims{}, "SessionID", "ID", "IssuedAt", "Expiry")); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if got.SessionID == "" || got.ID == "" {
		t.Errorf("SessionID %q, ID %q: want both set", got.SessionID, got.ID)
	}
	if d := got.Expiry.Sub(got.IssuedAt); d != 15*time.Minute {
		t.Errorf("Expiry - IssuedAt = %v, want the server's 15m", d)
	}
}

// TestVerifyRefusesKakaoauthTokens changes or replays real tokens of a running kakaoauth.
func TestVerifyRefusesKakaoauthTokens(t *testing.T) {
	s, _ := startKakaoauth(t)
	access, refresh := s.SPASignIn(t, testUser)
	kid := kidOf(t, access)
	parts := strings.Split(access, ".")
	exp := time.Now().Add(15 * time.Minute).Truncate(time.Second) // within a second of the token's

	// The JWKS entry of the signing key, as bytes an attacker can read (case 35).
	r, err := http.Get(s.BaseURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal([]byte(servertest.ReadBody(t, r)), &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWKS: %v, %d keys", err, len(set.Keys))
	}
	publicKey := []byte(set.Keys[0])

	tampered, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered = []byte(strings.Replace(string(tampered), `"sub":"`, `"sub":"x`, 1))

	offset := func(d time.Duration) func() time.Time { return func() time.Time { return exp.Add(d) } }
	tests := []struct {
		name  string
		cfg   resource.Config
		token string
		desc  string // "" accepted
	}{
		{"37 expired past the leeway", resource.Config{Now: offset(62 * time.Second)}, access, "token expired"},
		{"22 expired within the leeway", resource.Config{Now: offset(30 * time.Second)}, access, ""},
		{"22 expired with a shorter leeway", resource.Config{Now: offset(30 * time.Second), Leeway: 10 * time.Second}, access, "token expired"},
		{"38 wrong audience", resource.Config{Audience: "https://api.other.example"}, access, "wrong audience"},
		{"34 alg none", resource.Config{}, forge(access, map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid}, nil), "alg not ES256/RS256"},
		{"35 HS256 with the public key", resource.Config{}, forge(access, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": kid}, publicKey), "alg not ES256/RS256"},
		{"35 the ES256 key under alg RS256", resource.Config{}, forge(access, map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": kid}, nil) + parts[2], "does not fit alg"},
		{"36 tampered sub", resource.Config{}, parts[0] + "." + base64.RawURLEncoding.EncodeToString(tampered) + "." + parts[2], "bad signature"},
		{"36 four segments", resource.Config{}, access + ".x", "not a signed JWT"},
		{"39 refresh token as access token", resource.Config{}, refresh, "not a signed JWT"},
		{"oversized token", resource.Config{}, access + strings.Repeat("A", resource.MaxTokenSize), "too long"},
		{"empty token", resource.Config{}, "", "no token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Issuer = s.BaseURL
			_, err := newVerifier(t, tt.cfg).Verify(context.Background(), tt.token)
			if tt.desc == "" {
				if err != nil {
					t.Errorf("Verify: %v, want accepted", err)
				}
				return
			}
			wantInvalid(t, err, tt.desc)
		})
	}
}

func TestNewChecksIssuer(t *testing.T) {
	s, _ := startKakaoauth(t)
	_, err := resource.New(context.Background(), resource.Config{Issuer: s.BaseURL + "/"})
	if err == nil || !strings.Contains(err.Error(), "names issuer") {
		t.Errorf("New with a trailing slash: %v, want the discovery issuer mismatch", err)
	}
	if _, err := resource.New(context.Background(), resource.Config{}); err == nil {
		t.Error("New without Issuer: no error")
	}
}

// TestVerifyClaims checks claims that kakaoauth always sets right, with tokens of a stand-in
// issuer.
func TestVerifyClaims(t *testing.T) {
	ti := newTestIssuer()
	defer ti.Close()
	now := time.Now().Unix()
	tests := []struct {
		name  string
		token string
		desc  string // "" accepted
	}{
		{"good", ti.token(nil), ""},
		{"RS256", ti.sign(jose.RS256, rsaKID, "at+jwt", ti.claims(nil)), ""},
		{"aud array with ours", ti.token(map[string]any{"aud": []string{"https://other.example", ti.URL}}), ""},
		{"typ application/AT+JWT", ti.sign(jose.ES256, ecKID, "application/AT+JWT", ti.claims(nil)), ""},
		{"nbf within the leeway", ti.token(map[string]any{"nbf": now + 30}), ""},
		{"17 wrong issuer", ti.token(map[string]any{"iss": "https://evil.example"}), "wrong issuer"},
		{"17 issuer with a trailing slash", ti.token(map[string]any{"iss": ti.URL + "/"}), "wrong issuer"},
		{"38 aud of another service", ti.token(map[string]any{"aud": "https://other.example"}), "wrong audience"},
		{"38 aud empty array", ti.token(map[string]any{"aud": []string{}}), "wrong audience"},
		{"38 aud missing", ti.token(map[string]any{"aud": nil}), "wrong audience"},
		{"20 sub missing", ti.token(map[string]any{"sub": nil}), "no sub"},
		{"37 exp missing", ti.token(map[string]any{"exp": nil}), "no exp"},
		{"21 iat missing", ti.token(map[string]any{"iat": nil}), "no exp or iat"},
		{"21 iat an hour ahead", ti.token(map[string]any{"iat": now + 3600}), "issued in the future"},
		{"37 nbf ahead", ti.token(map[string]any{"nbf": now + 600}), "not valid yet"},
		{"22 exp not a number", ti.token(map[string]any{"exp": "123"}), "malformed claims"},
		{"22 exp out of range", ti.sign(jose.ES256, ecKID, "at+jwt", ti.claims(map[string]any{"exp": json.RawMessage("1e309")})), "malformed claims"},
		{"39 typ JWT", ti.sign(jose.ES256, ecKID, "JWT", ti.claims(nil)), "typ is not at+jwt"},
		{"39 no typ", ti.sign(jose.ES256, ecKID, "", ti.claims(nil)), "typ is not at+jwt"},
		{"24 no kid", ti.sign(jose.ES256, "", "at+jwt", ti.claims(nil)), "no kid"},
		{"35 RSA kid under ES256", ti.sign(jose.ES256, rsaKID, "at+jwt", ti.claims(nil)), "does not fit alg"},
		{"28 unknown crit", ti.sign(jose.ES256, ecKID, "at+jwt", ti.claims(nil), map[string]any{"crit": []string{"exp"}, "exp": 1}), "unsupported crit"},
		{"28 jku ignored", ti.sign(jose.ES256, ecKID, "at+jwt", ti.claims(nil), map[string]any{"jku": "https://evil.example/jwks"}), ""},
		{"28 hostile kid", ti.sign(jose.ES256, "../../etc/passwd", "at+jwt", ti.claims(nil)), "unknown kid"},
	}
	v := newVerifier(t, resource.Config{Issuer: ti.URL})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.token)
			if tt.desc == "" {
				if err != nil {
					t.Errorf("Verify: %v, want accepted", err)
				}
				return
			}
			wantInvalid(t, err, tt.desc)
		})
	}
}

func TestVerifyClientToken(t *testing.T) {
	ti := newTestIssuer()
	defer ti.Close()
	v := newVerifier(t, resource.Config{Issuer: ti.URL, Audience: "https://charts.example"})
	tok := ti.sign(jose.RS256, rsaKID, "at+jwt", ti.claims(map[string]any{
		"aud": "https://charts.example", "client_id": "chart-audio", "scope": "chart:read  chart:listen",
	}))
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "chart-audio" || !cmp.Equal(got.Scopes, []string{"chart:read", "chart:listen"}) {
		t.Errorf("ClientID %q Scopes %q, want chart-audio [chart:read chart:listen]", got.ClientID, got.Scopes)
	}
	if !got.HasScope("chart:listen") || got.HasScope("chart") {
		t.Errorf("HasScope: chart:listen %v, chart %v; want true, false", got.HasScope("chart:listen"), got.HasScope("chart"))
	}
}

// TestJWKSIgnoresUnusableKeys: keys of unknown or secret types beside ours are skipped (case 25).
func TestJWKSIgnoresUnusableKeys(t *testing.T) {
	ti := newTestIssuer(`{"kty":"AKP","kid":"pq","alg":"ML-DSA-44","pub":"AAAA"}`, `{"kty":"made-up","kid":"x"}`,
		`{"kty":"oct","kid":"secret","k":"c2VjcmV0"}`)
	defer ti.Close()
	v := newVerifier(t, resource.Config{Issuer: ti.URL})
	if _, err := v.Verify(context.Background(), ti.token(nil)); err != nil {
		t.Errorf("Verify beside junk keys: %v", err)
	}
	forged := forge(ti.token(nil), map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": "secret"}, []byte("secret"))
	wantInvalid(t, func() error { _, err := v.Verify(context.Background(), forged); return err }(), "alg not ES256/RS256")
}

func BenchmarkVerify(b *testing.B) {
	ti := newTestIssuer()
	defer ti.Close()
	v, err := resource.New(context.Background(), resource.Config{Issuer: ti.URL})
	if err != nil {
		b.Fatal(err)
	}
	tok := ti.token(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
