package kakao_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/kakao"
)

func TestVerifyIDToken_Valid(t *testing.T) {
	env := newOIDCEnv(t, nil)
	now := env.clock.Now()
	got, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), "nonce-1")
	if err != nil {
		t.Fatal(err)
	}
	want := &kakao.IDTokenClaims{
		Issuer:   env.issuer,
		Subject:  "1376016924429759228",
		Audience: []string{testClientID},
		IssuedAt: now, Expiry: now.Add(21599 * time.Second), AuthTime: now,
		Nonce: "nonce-1", Nickname: "홍길동", Picture: "http://k.kakaocdn.net/img_110x110.jpg",
		Email: "hong@example.com", UserID: 1376016924429759228,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if n := env.jwks.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetches = %d, want 1", n)
	}
	// A second verification uses the cached keys.
	if _, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), ""); err != nil {
		t.Fatal(err)
	}
	if n := env.jwks.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetches after 2nd verify = %d, want 1", n)
	}
}

// wantInvalid asserts err is a KindInvalidToken *kakao.Error.
func wantInvalid(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("verified, want invalid_token")
	}
	if k := kindOf(err); k != kakao.KindInvalidToken {
		t.Fatalf("kind = %q (%v), want invalid_token", k, err)
	}
}

func TestVerifyIDToken_14_BadSignature(t *testing.T) {
	env := newOIDCEnv(t, nil)
	tok := env.key.sign(t, env.claims())
	i := strings.LastIndexByte(tok, '.') + 5
	flipped := []byte(tok)
	if flipped[i] == 'A' {
		flipped[i] = 'B'
	} else {
		flipped[i] = 'A'
	}
	_, err := env.client.VerifyIDToken(context.Background(), string(flipped), "nonce-1")
	wantInvalid(t, err)
	// Signed by a key that is not in the JWKS under the published kid.
	other := newRSAKey("kid-1", 1)
	_, err = env.client.VerifyIDToken(context.Background(), other.sign(t, env.claims()), "nonce-1")
	wantInvalid(t, err)
}

func TestVerifyIDToken_15_AlgNone(t *testing.T) {
	env := newOIDCEnv(t, nil)
	for _, hdr := range []map[string]any{
		{"alg": "none", "typ": "JWT"},
		{"alg": "none", "kid": "kid-1"},
		{"alg": "None", "kid": "kid-1"},
	} {
		_, err := env.client.VerifyIDToken(context.Background(), rawJWT(t, hdr, env.claims(), nil), "nonce-1")
		wantInvalid(t, err)
	}
}

func TestVerifyIDToken_16_HS256Confusion(t *testing.T) {
	env := newOIDCEnv(t, nil)
	der, err := x509.MarshalPKIXPublicKey(&env.key.priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string][]byte{
		"rsa public key DER": der,
		"rest api key":       []byte(testClientID),
		"client secret":      []byte("secret"),
	} {
		t.Run(name, func(t *testing.T) {
			hdr := map[string]any{"alg": "HS256", "kid": "kid-1", "typ": "JWT"}
			unsigned := strings.TrimSuffix(rawJWT(t, hdr, env.claims(), nil), ".")
			mac := hmac.New(sha256.New, secret)
			mac.Write([]byte(unsigned))
			tok := rawJWT(t, hdr, env.claims(), mac.Sum(nil))
			_, err := env.client.VerifyIDToken(context.Background(), tok, "nonce-1")
			wantInvalid(t, err)
		})
	}
	// RS384 or PS256 signed by the real key are refused too: only RS256.
	_, err = env.client.VerifyIDToken(context.Background(), rawJWT(t, map[string]any{"alg": "PS256", "kid": "kid-1"}, env.claims(), []byte("x")), "")
	wantInvalid(t, err)
}

func TestVerifyIDToken_17_IssuerMismatch(t *testing.T) {
	env := newOIDCEnv(t, nil)
	for _, iss := range []string{
		env.issuer + "/",
		strings.Replace(env.issuer, "http://", "https://", 1),
		"https://kauth.kakao.com",
		"https://kapi.kakao.com",
		"",
	} {
		t.Run(iss, func(t *testing.T) {
			_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), "iss", iss)), "nonce-1")
			wantInvalid(t, err)
		})
	}
}

func TestVerifyIDToken_17_DefaultIssuer(t *testing.T) {
	// With the default AuthURL the expected issuer is exactly https://kauth.kakao.com;
	// the JWKS is reached through a transport that maps kauth to the test server.
	env := newOIDCEnv(t, nil)
	c, err := kakao.New(kakao.Config{
		ClientID:   testClientID,
		HTTPClient: &http.Client{Transport: rewriteHost(env.srv.URL)},
		Now:        env.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), "iss", "https://kauth.kakao.com")), ""); err != nil {
		t.Fatalf("iss https://kauth.kakao.com: %v", err)
	}
	for _, iss := range []string{"https://kauth.kakao.com/", "http://kauth.kakao.com", "https://kapi.kakao.com", "https://KAUTH.kakao.com"} {
		_, err := c.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), "iss", iss)), "")
		wantInvalid(t, err)
	}
}

func TestVerifyIDToken_18_AudienceMismatch(t *testing.T) {
	env := newOIDCEnv(t, nil)
	tests := []struct {
		name string
		kv   []any
	}{
		{"other app key", []any{"aud", "another-app-key"}},
		{"ours plus unknown", []any{"aud", []string{testClientID, "another-app-key"}, "azp", testClientID}},
		{"array without azp", []any{"aud", []string{testClientID, testClientID}}},
		{"empty array", []any{"aud", []string{}}},
		{"missing", []any{"aud", deleteClaim}},
		{"empty string", []any{"aud", ""}},
		{"azp not ours", []any{"azp", "another-app-key"}},
		{"aud number", []any{"aud", 12345}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), tt.kv...)), "nonce-1")
			wantInvalid(t, err)
		})
	}
}

func TestVerifyIDToken_19_AcceptedAudiences(t *testing.T) {
	const native, js = "native-app-key", "javascript-app-key"
	env := newOIDCEnv(t, func(c *kakao.Config) { c.Audiences = []string{testClientID, native} })
	tests := []struct {
		name string
		kv   []any
		ok   bool
	}{
		{"REST API key", []any{"aud", testClientID}, true},
		{"native app key (SDK)", []any{"aud", native}, true},
		{"JavaScript key not configured", []any{"aud", js}, false},
		{"both configured keys with azp", []any{"aud", []string{testClientID, native}, "azp", native}, true},
		{"both configured keys without azp", []any{"aud", []string{testClientID, native}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), tt.kv...)), "nonce-1")
			if tt.ok && err != nil {
				t.Fatalf("got %v, want accepted", err)
			}
			if !tt.ok {
				wantInvalid(t, err)
			}
		})
	}
}

func TestVerifyIDToken_20_MissingSub(t *testing.T) {
	env := newOIDCEnv(t, nil)
	for _, kv := range [][]any{
		{"sub", deleteClaim}, {"sub", ""}, {"sub", "abc"}, {"sub", "-5"}, {"sub", "0012"}, {"sub", 1376016924429759228},
	} {
		t.Run(fmt.Sprint(kv[1]), func(t *testing.T) {
			_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), kv...)), "nonce-1")
			wantInvalid(t, err)
		})
	}
}

func TestVerifyIDToken_21_IatAbuse(t *testing.T) {
	env := newOIDCEnv(t, nil)
	now := env.clock.Now().Unix()
	tests := []struct {
		name string
		kv   []any
		ok   bool
	}{
		{"missing", []any{"iat", deleteClaim}, false},
		{"null", []any{"iat", nil}, false},
		{"1 h in the future", []any{"iat", now + 3600, "exp", now + 7200}, false},
		{"61 s in the future", []any{"iat", now + 61}, false},
		{"59 s in the future", []any{"iat", now + 59}, true},
		{"30 days old", []any{"iat", now - 30*86400}, false},
		{"string", []any{"iat", fmt.Sprint(now)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), tt.kv...)), "nonce-1")
			if tt.ok && err != nil {
				t.Fatalf("got %v, want accepted", err)
			}
			if !tt.ok {
				wantInvalid(t, err)
			}
		})
	}
}

func TestVerifyIDToken_22_ExpBoundary(t *testing.T) {
	env := newOIDCEnv(t, nil)
	now := env.clock.Now().Unix()
	iat := now - 3600
	tests := []struct {
		name string
		exp  any
		ok   bool
	}{
		{"now-61s", now - 61, false},
		{"now-60s", now - 60, true},
		{"now-30s", now - 30, true},
		{"string", fmt.Sprint(now + 600), false},
		{"missing", deleteClaim, false},
		{"negative", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), "iat", iat, "exp", tt.exp)), "nonce-1")
			if tt.ok && err != nil {
				t.Fatalf("got %v, want accepted", err)
			}
			if !tt.ok {
				wantInvalid(t, err)
			}
		})
	}
	// exp: 1e309 cannot be produced by json.Marshal; write the payload by hand.
	hdr := `{"alg":"RS256","kid":"kid-1"}`
	payload := strings.Replace(mustJSON(t, env.claims()), fmt.Sprintf(`"exp":%d`, now+21599), `"exp":1e309`, 1)
	_, err := env.client.VerifyIDToken(context.Background(), signRaw(t, env.key, hdr, payload), "nonce-1")
	wantInvalid(t, err)
}

func TestVerifyIDToken_23_NonceMismatch(t *testing.T) {
	env := newOIDCEnv(t, nil)
	tests := []struct {
		name     string
		kv       []any
		expected string
		ok       bool
	}{
		{"differs", []any{"nonce", "nonce-2"}, "nonce-1", false},
		{"absent when sent", []any{"nonce", deleteClaim}, "nonce-1", false},
		{"prefix", []any{"nonce", "nonce-"}, "nonce-1", false},
		{"matches", nil, "nonce-1", true},
		{"not expected", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), tt.kv...)), tt.expected)
			if tt.ok && err != nil {
				t.Fatalf("got %v, want accepted", err)
			}
			if !tt.ok {
				wantInvalid(t, err)
			}
		})
	}
}

func TestVerifyIDToken_24_MissingKid(t *testing.T) {
	env := newOIDCEnv(t, nil)
	noKid := newRSAKey("", 0)
	// One key in the JWKS: a token without kid is accepted.
	if _, err := env.client.VerifyIDToken(context.Background(), noKid.sign(t, env.claims()), "nonce-1"); err != nil {
		t.Fatalf("no kid, 1 key: %v", err)
	}
	// Two keys: go-oidc tries every cached key (documented choice: try-all),
	// so a token of either key verifies and a token of neither does not.
	env2 := newOIDCEnv(t, nil)
	second := newRSAKey("kid-2", 1)
	env2.jwks.setKeys(t, env2.key, second)
	if _, err := env2.client.VerifyIDToken(context.Background(), newRSAKey("", 1).sign(t, env2.claims()), "nonce-1"); err != nil {
		t.Fatalf("no kid, 2 keys, second key: %v", err)
	}
	_, err := env2.client.VerifyIDToken(context.Background(), newRSAKey("", 2).sign(t, env2.claims()), "nonce-1")
	wantInvalid(t, err)
}

func TestVerifyIDToken_25_UnusableJWK(t *testing.T) {
	env := newOIDCEnv(t, nil)
	real, err := json.Marshal(env.key.jwk())
	if err != nil {
		t.Fatal(err)
	}
	body := `{"keys":[` +
		`{"kty":"AKP","alg":"ML-DSA-44","kid":"pq","pub":"AAAA"},` +
		`{"kty":"made-up","kid":"junk","x":"1"},` +
		`{"kty":"OKP","crv":"X448","kid":"x448","x":"AAAA"},` +
		string(real) + `]}`
	env.jwks.setRaw([]byte(body), http.StatusOK)
	if _, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), "nonce-1"); err != nil {
		t.Fatalf("token of the real key: %v", err)
	}
}

func TestVerifyIDToken_26_KeyRotation(t *testing.T) {
	env := newOIDCEnv(t, nil)
	ctx := context.Background()
	if _, err := env.client.VerifyIDToken(ctx, env.key.sign(t, env.claims()), ""); err != nil {
		t.Fatal(err)
	}
	// Kakao rotates: the new key signs tokens with a kid we have not cached.
	env.clock.Add(31 * time.Second)
	newKey := newRSAKey("kid-2", 1)
	env.jwks.setKeys(t, env.key, newKey)
	before := env.jwks.fetches.Load()
	if _, err := env.client.VerifyIDToken(ctx, newKey.sign(t, env.claims()), ""); err != nil {
		t.Fatalf("token of the rotated-in key: %v", err)
	}
	if got := env.jwks.fetches.Load() - before; got != 1 {
		t.Errorf("refetches for a new kid = %d, want exactly 1", got)
	}
	// Old and new kids both verify without further fetches.
	for _, k := range []rsaKey{env.key, newKey} {
		if _, err := env.client.VerifyIDToken(ctx, k.sign(t, env.claims()), ""); err != nil {
			t.Fatalf("kid %s: %v", k.kid, err)
		}
	}
	if got := env.jwks.fetches.Load() - before; got != 1 {
		t.Errorf("fetches = %d, want 1", got)
	}
	// The old key is removed: after the next refetch its tokens are rejected.
	env.clock.Add(31 * time.Second)
	env.jwks.setKeys(t, newKey)
	thirdKey := newRSAKey("kid-3", 2)
	_, err := env.client.VerifyIDToken(ctx, thirdKey.sign(t, env.claims()), "") // unknown kid triggers the refetch
	wantInvalid(t, err)
	_, err = env.client.VerifyIDToken(ctx, env.key.sign(t, env.claims()), "")
	wantInvalid(t, err) // the keys are stored before the refetch's callers return
	if _, err := env.client.VerifyIDToken(ctx, newKey.sign(t, env.claims()), ""); err != nil {
		t.Fatalf("current key after removal of the old one: %v", err)
	}
}

// Many logins at the moment Kakao rotates: every caller waits for the one
// refetch and sees its keys; none verifies against the set of before.
func TestVerifyIDToken_26_RotationStampede(t *testing.T) {
	for round := range 20 {
		env := newOIDCEnv(t, nil)
		ctx := context.Background()
		if _, err := env.client.VerifyIDToken(ctx, env.key.sign(t, env.claims()), ""); err != nil {
			t.Fatal(err)
		}
		env.clock.Add(31 * time.Second)
		newKey := newRSAKey("kid-2", 1)
		env.jwks.setKeys(t, newKey) // the old key is withdrawn at once
		newTok, oldTok := newKey.sign(t, env.claims()), env.key.sign(t, env.claims())
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := env.client.VerifyIDToken(ctx, newTok, "")
				if err != nil {
					t.Errorf("round %d, caller %d: new key: %v", round, i, err)
				}
				if err == nil {
					// This caller has seen the new set: the withdrawn key must fail.
					if _, err := env.client.VerifyIDToken(ctx, oldTok, ""); err == nil {
						t.Errorf("round %d, caller %d: withdrawn key verified after the refetch", round, i)
					}
				}
			}()
		}
		wg.Wait()
		if n := env.jwks.fetches.Load(); n != 2 {
			t.Fatalf("round %d: JWKS fetches = %d, want 2 (initial + one refetch)", round, n)
		}
	}
}

func TestVerifyIDToken_26_RotationWithinCooldown(t *testing.T) {
	env := newOIDCEnv(t, nil)
	ctx := context.Background()
	if _, err := env.client.VerifyIDToken(ctx, env.key.sign(t, env.claims()), ""); err != nil {
		t.Fatal(err)
	}
	newKey := newRSAKey("kid-2", 1)
	env.jwks.setKeys(t, env.key, newKey)
	env.clock.Add(10 * time.Second)
	_, err := env.client.VerifyIDToken(ctx, newKey.sign(t, env.claims()), "")
	wantInvalid(t, err) // within the cooldown no refetch happens
	if n := env.jwks.fetches.Load(); n != 1 {
		t.Errorf("fetches = %d, want 1", n)
	}
	env.clock.Add(21 * time.Second)
	tok := newKey.sign(t, env.claims())
	eventually(t, func() error { _, err := env.client.VerifyIDToken(ctx, tok, ""); return err })
}

func TestVerifyIDToken_27_UnknownKidFlood(t *testing.T) {
	env := newOIDCEnv(t, nil)
	ctx := context.Background()
	if _, err := env.client.VerifyIDToken(ctx, env.key.sign(t, env.claims()), ""); err != nil {
		t.Fatal(err)
	}
	env.clock.Add(31 * time.Second) // one refetch is allowed now
	// 1,000 tokens with random kids; one RSA signature is reused (the kid is
	// unknown, so the signature is never the deciding check).
	signed := newRSAKey("", 3).sign(t, env.claims())
	body := signed[strings.IndexByte(signed, '.'):]
	toks := make([]string, 1000)
	for i := range toks {
		toks[i] = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"alg":"RS256","kid":"random-%d"}`, i))) + body
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(toks))
	start := time.Now()
	for _, tok := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := env.client.VerifyIDToken(ctx, tok, "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		wantInvalid(t, err)
	}
	if n := env.jwks.fetches.Load(); n > 2 {
		t.Errorf("JWKS fetches = %d, want ≤ 2 (initial + one per cooldown)", n)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("flood took %v", d)
	}
	// Cached keys were not evicted.
	if _, err := env.client.VerifyIDToken(ctx, env.key.sign(t, env.claims()), ""); err != nil {
		t.Fatalf("real token after the flood: %v", err)
	}
}

func TestVerifyIDToken_28_HostileHeader(t *testing.T) {
	env := newOIDCEnv(t, nil)
	attacker := newRSAKey("attacker", 3)
	attackerJWK, err := json.Marshal(attacker.jwk())
	if err != nil {
		t.Fatal(err)
	}
	claims := mustJSON(t, env.claims())
	for name, hdr := range map[string]string{
		"kid path":      `{"alg":"RS256","kid":"../../etc/passwd"}`,
		"kid sql":       `{"alg":"RS256","kid":"' OR 1=1--"}`,
		"kid 10KB":      `{"alg":"RS256","kid":"` + strings.Repeat("k", 10240) + `"}`,
		"jku":           `{"alg":"RS256","kid":"attacker","jku":"http://127.0.0.1:1/jwks.json"}`,
		"x5u":           `{"alg":"RS256","kid":"attacker","x5u":"http://127.0.0.1:1/cert.pem"}`,
		"embedded jwk":  `{"alg":"RS256","kid":"attacker","jwk":` + string(attackerJWK) + `}`,
		"crit b64":      `{"alg":"RS256","kid":"attacker","crit":["b64"],"b64":true}`,
		"crit unknown":  `{"alg":"RS256","kid":"attacker","crit":["exp"],"exp":1}`,
		"not json":      `not json`,
		"array":         `["RS256"]`,
		"duplicate alg": `{"alg":"none","alg":"RS256","kid":"attacker"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := env.client.VerifyIDToken(context.Background(), signRaw(t, attacker, hdr, claims), "nonce-1")
			wantInvalid(t, err)
		})
	}
	// crit with the real key is still refused.
	_, err = env.client.VerifyIDToken(context.Background(), signRaw(t, env.key, `{"alg":"RS256","kid":"kid-1","crit":["b64"],"b64":true}`, claims), "nonce-1")
	wantInvalid(t, err)
	for _, bad := range []string{"", "a.b", "a.b.c.d", "...", strings.Repeat("a", 9000) + ".b.c"} {
		_, err := env.client.VerifyIDToken(context.Background(), bad, "")
		wantInvalid(t, err)
	}
}

func TestVerifyIDToken_86_JWKSOutage(t *testing.T) {
	t.Run("cold cache", func(t *testing.T) {
		env := newOIDCEnv(t, nil)
		env.jwks.setRaw([]byte("<html>down</html>"), http.StatusInternalServerError)
		_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), "")
		if k := kindOf(err); k != kakao.KindUnavailable {
			t.Fatalf("kind = %q (%v), want unavailable", k, err)
		}
		// Within the short failure backoff: still unavailable, no new fetch.
		_, err = env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), "")
		if k := kindOf(err); k != kakao.KindUnavailable {
			t.Fatalf("2nd: kind = %q (%v), want unavailable", k, err)
		}
		if n := env.jwks.fetches.Load(); n != 1 {
			t.Errorf("fetches = %d, want 1", n)
		}
		// Kakao recovers: the failure was not cached for long.
		env.jwks.setKeys(t, env.key)
		env.clock.Add(6 * time.Second)
		tok := env.key.sign(t, env.claims())
		eventually(t, func() error { _, err := env.client.VerifyIDToken(context.Background(), tok, ""); return err })
	})
	t.Run("warm cache", func(t *testing.T) {
		env := newOIDCEnv(t, nil)
		if _, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), ""); err != nil {
			t.Fatal(err)
		}
		env.jwks.setRaw([]byte("oops"), http.StatusServiceUnavailable)
		env.clock.Add(time.Minute)
		if _, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), ""); err != nil {
			t.Fatalf("cached key during outage: %v", err)
		}
		// An unknown kid during the outage may be a rotation: unavailable.
		_, err := env.client.VerifyIDToken(context.Background(), newRSAKey("kid-9", 1).sign(t, env.claims()), "")
		if k := kindOf(err); k != kakao.KindUnavailable {
			t.Fatalf("kind = %q (%v), want unavailable", k, err)
		}
		// A bad signature under a cached kid is invalid even during the outage.
		env.clock.Add(time.Minute)
		_, err = env.client.VerifyIDToken(context.Background(), newRSAKey("kid-1", 1).sign(t, env.claims()), "")
		wantInvalid(t, err)
	})
	t.Run("empty or junk JWKS never replaces cached keys", func(t *testing.T) {
		env := newOIDCEnv(t, nil)
		if _, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), ""); err != nil {
			t.Fatal(err)
		}
		env.jwks.setRaw([]byte(`{"keys":[]}`), http.StatusOK)
		env.clock.Add(time.Minute)
		_, _ = env.client.VerifyIDToken(context.Background(), newRSAKey("kid-9", 1).sign(t, env.claims()), "")
		if _, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), ""); err != nil {
			t.Fatalf("cached key after an empty JWKS: %v", err)
		}
	})
	t.Run("cold cache hang", func(t *testing.T) {
		env := newOIDCEnv(t, func(c *kakao.Config) { c.Timeout = 300 * time.Millisecond })
		hang := make(chan struct{})
		defer close(hang)
		env.jwks.mu.Lock()
		env.jwks.hang = hang
		env.jwks.mu.Unlock()
		start := time.Now()
		_, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, env.claims()), "")
		if k := kindOf(err); k != kakao.KindUnavailable && k != kakao.KindTimeout {
			t.Fatalf("kind = %q (%v), want unavailable or timeout", k, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v, want about the 300ms timeout", d)
		}
	})
	t.Run("cold cache stampede makes one request", func(t *testing.T) {
		env := newOIDCEnv(t, nil)
		var wg sync.WaitGroup
		tok := env.key.sign(t, env.claims())
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := env.client.VerifyIDToken(context.Background(), tok, ""); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := env.jwks.fetches.Load(); n != 1 {
			t.Errorf("fetches = %d, want 1", n)
		}
	})
}

func TestVerifyIDToken_33_LargeUserID(t *testing.T) {
	env := newOIDCEnv(t, nil)
	got, err := env.client.VerifyIDToken(context.Background(), env.key.sign(t, with(env.claims(), "sub", "9007199254740993")), "")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != 9007199254740993 || got.Subject != "9007199254740993" {
		t.Errorf("UserID = %d, Subject = %q, want 9007199254740993", got.UserID, got.Subject)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// signRaw signs an arbitrary header and payload text with RS256.
func signRaw(t testing.TB, k rsaKey, header, payload string) string {
	t.Helper()
	return signCompact(t, k.priv, header, payload)
}

func BenchmarkVerifyIDToken(b *testing.B) {
	env := newOIDCEnv(b, nil)
	tok := env.key.sign(b, env.claims())
	ctx := context.Background()
	if _, err := env.client.VerifyIDToken(ctx, tok, "nonce-1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := env.client.VerifyIDToken(ctx, tok, "nonce-1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
