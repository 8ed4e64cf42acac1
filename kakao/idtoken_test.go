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
	"strconv"
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

// idTokenCase is one ID token and what VerifyIDToken must say of it.
type idTokenCase struct {
	name   string
	token  string
	nonce  string // the expected nonce passed to VerifyIDToken
	ok     bool   // accepted; otherwise refused as invalid_token
	userID int64  // when not 0, the UserID (and Subject) an accepted token must give
}

// signer returns a function that signs the env's valid claims changed by kv (see with) with
// the published key.
func (e *oidcEnv) signer(t testing.TB) func(kv ...any) string {
	return func(kv ...any) string { return e.key.sign(t, with(e.claims(), kv...)) }
}

// TestVerifyIDToken_Checks runs the checklist's ID-token cases: each group has its own fake
// kauth (cfg changes the client's config, setup the JWKS, client replaces the client) and
// verifies its tokens in order on it.
func TestVerifyIDToken_Checks(t *testing.T) {
	groups := []struct {
		name   string
		cfg    func(*kakao.Config)
		setup  func(t *testing.T, e *oidcEnv)
		client func(t *testing.T, e *oidcEnv) *kakao.Client
		cases  func(t *testing.T, e *oidcEnv) []idTokenCase
	}{
		{
			name: "14_BadSignature",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				tok := e.key.sign(t, e.claims())
				i := strings.LastIndexByte(tok, '.') + 5
				flipped := []byte(tok)
				if flipped[i] == 'A' {
					flipped[i] = 'B'
				} else {
					flipped[i] = 'A'
				}
				return []idTokenCase{
					{name: "flipped signature byte", token: string(flipped), nonce: "nonce-1"},
					// Signed by a key that is not in the JWKS under the published kid.
					{name: "other key under the published kid", token: newRSAKey("kid-1", 1).sign(t, e.claims()), nonce: "nonce-1"},
				}
			},
		},
		{
			name: "15_AlgNone",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				return []idTokenCase{
					{name: "none typ JWT", token: rawJWT(t, map[string]any{"alg": "none", "typ": "JWT"}, e.claims(), nil), nonce: "nonce-1"},
					{name: "none with kid", token: rawJWT(t, map[string]any{"alg": "none", "kid": "kid-1"}, e.claims(), nil), nonce: "nonce-1"},
					{name: "None with kid", token: rawJWT(t, map[string]any{"alg": "None", "kid": "kid-1"}, e.claims(), nil), nonce: "nonce-1"},
				}
			},
		},
		{
			name: "16_HS256Confusion",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				der, err := x509.MarshalPKIXPublicKey(&e.key.priv.PublicKey)
				if err != nil {
					t.Fatal(err)
				}
				hs256 := func(secret []byte) string {
					hdr := map[string]any{"alg": "HS256", "kid": "kid-1", "typ": "JWT"}
					unsigned := strings.TrimSuffix(rawJWT(t, hdr, e.claims(), nil), ".")
					mac := hmac.New(sha256.New, secret)
					mac.Write([]byte(unsigned))
					return rawJWT(t, hdr, e.claims(), mac.Sum(nil))
				}
				return []idTokenCase{
					{name: "rsa public key DER", token: hs256(der), nonce: "nonce-1"},
					{name: "rest api key", token: hs256([]byte(testClientID)), nonce: "nonce-1"},
					{name: "client secret", token: hs256([]byte("secret")), nonce: "nonce-1"},
					// RS384 or PS256 signed by the real key are refused too: only RS256.
					{name: "PS256", token: rawJWT(t, map[string]any{"alg": "PS256", "kid": "kid-1"}, e.claims(), []byte("x"))},
				}
			},
		},
		{
			name: "17_IssuerMismatch",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				sign := e.signer(t)
				var cs []idTokenCase
				for _, iss := range []string{
					e.issuer + "/",
					strings.Replace(e.issuer, "http://", "https://", 1),
					"https://kauth.kakao.com",
					"https://kapi.kakao.com",
					"",
				} {
					cs = append(cs, idTokenCase{name: iss, token: sign("iss", iss), nonce: "nonce-1"})
				}
				return cs
			},
		},
		{
			// With the default AuthURL the expected issuer is exactly https://kauth.kakao.com;
			// the JWKS is reached through a transport that maps kauth to the test server.
			name: "17_DefaultIssuer",
			client: func(t *testing.T, e *oidcEnv) *kakao.Client {
				c, err := kakao.New(kakao.Config{
					ClientID:   testClientID,
					HTTPClient: &http.Client{Transport: rewriteHost(e.srv.URL)},
					Now:        e.clock.Now,
				})
				if err != nil {
					t.Fatal(err)
				}
				return c
			},
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				sign := e.signer(t)
				cs := []idTokenCase{{name: "https://kauth.kakao.com", token: sign("iss", "https://kauth.kakao.com"), ok: true}}
				for _, iss := range []string{"https://kauth.kakao.com/", "http://kauth.kakao.com", "https://kapi.kakao.com", "https://KAUTH.kakao.com"} {
					cs = append(cs, idTokenCase{name: iss, token: sign("iss", iss)})
				}
				return cs
			},
		},
		{
			name: "18_AudienceMismatch",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				sign := e.signer(t)
				return []idTokenCase{
					{name: "other app key", token: sign("aud", "another-app-key"), nonce: "nonce-1"},
					{name: "ours plus unknown", token: sign("aud", []string{testClientID, "another-app-key"}, "azp", testClientID), nonce: "nonce-1"},
					{name: "array without azp", token: sign("aud", []string{testClientID, testClientID}), nonce: "nonce-1"},
					{name: "empty array", token: sign("aud", []string{}), nonce: "nonce-1"},
					{name: "missing", token: sign("aud", deleteClaim), nonce: "nonce-1"},
					{name: "empty string", token: sign("aud", ""), nonce: "nonce-1"},
					{name: "azp not ours", token: sign("azp", "another-app-key"), nonce: "nonce-1"},
					{name: "aud number", token: sign("aud", 12345), nonce: "nonce-1"},
				}
			},
		},
		{
			name: "19_AcceptedAudiences",
			cfg:  func(c *kakao.Config) { c.Audiences = []string{testClientID, "native-app-key"} },
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				const native, js = "native-app-key", "javascript-app-key"
				sign := e.signer(t)
				return []idTokenCase{
					{name: "REST API key", token: sign("aud", testClientID), nonce: "nonce-1", ok: true},
					{name: "native app key (SDK)", token: sign("aud", native), nonce: "nonce-1", ok: true},
					{name: "JavaScript key not configured", token: sign("aud", js), nonce: "nonce-1"},
					{name: "both configured keys with azp", token: sign("aud", []string{testClientID, native}, "azp", native), nonce: "nonce-1", ok: true},
					{name: "both configured keys without azp", token: sign("aud", []string{testClientID, native}), nonce: "nonce-1"},
				}
			},
		},
		{
			name: "20_MissingSub",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				sign := e.signer(t)
				var cs []idTokenCase
				for _, sub := range []any{deleteClaim, "", "abc", "-5", "0012", 1376016924429759228} {
					cs = append(cs, idTokenCase{name: fmt.Sprint(sub), token: sign("sub", sub), nonce: "nonce-1"})
				}
				return cs
			},
		},
		{
			name: "21_IatAbuse",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				sign := e.signer(t)
				now := e.clock.Now().Unix()
				return []idTokenCase{
					{name: "missing", token: sign("iat", deleteClaim), nonce: "nonce-1"},
					{name: "null", token: sign("iat", nil), nonce: "nonce-1"},
					{name: "1 h in the future", token: sign("iat", now+3600, "exp", now+7200), nonce: "nonce-1"},
					{name: "61 s in the future", token: sign("iat", now+61), nonce: "nonce-1"},
					{name: "59 s in the future", token: sign("iat", now+59), nonce: "nonce-1", ok: true},
					{name: "30 days old", token: sign("iat", now-30*86400), nonce: "nonce-1"},
					{name: "string", token: sign("iat", fmt.Sprint(now)), nonce: "nonce-1"},
				}
			},
		},
		{
			name: "22_ExpBoundary",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				sign := e.signer(t)
				now := e.clock.Now().Unix()
				iat := now - 3600
				// exp: 1e309 cannot be produced by json.Marshal; write the payload by hand.
				huge := strings.Replace(mustJSON(t, e.claims()), fmt.Sprintf(`"exp":%d`, now+21599), `"exp":1e309`, 1)
				return []idTokenCase{
					{name: "now-61s", token: sign("iat", iat, "exp", now-61), nonce: "nonce-1"},
					{name: "now-60s", token: sign("iat", iat, "exp", now-60), nonce: "nonce-1", ok: true},
					{name: "now-30s", token: sign("iat", iat, "exp", now-30), nonce: "nonce-1", ok: true},
					{name: "string", token: sign("iat", iat, "exp", fmt.Sprint(now+600)), nonce: "nonce-1"},
					{name: "missing", token: sign("iat", iat, "exp", deleteClaim), nonce: "nonce-1"},
					{name: "negative", token: sign("iat", iat, "exp", -1), nonce: "nonce-1"},
					{name: "1e309", token: signRaw(t, e.key, `{"alg":"RS256","kid":"kid-1"}`, huge), nonce: "nonce-1"},
				}
			},
		},
		{
			name: "23_NonceMismatch",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				sign := e.signer(t)
				return []idTokenCase{
					{name: "differs", token: sign("nonce", "nonce-2"), nonce: "nonce-1"},
					{name: "absent when sent", token: sign("nonce", deleteClaim), nonce: "nonce-1"},
					{name: "prefix", token: sign("nonce", "nonce-"), nonce: "nonce-1"},
					{name: "matches", token: sign(), nonce: "nonce-1", ok: true},
					{name: "not expected", token: sign(), nonce: "", ok: true},
				}
			},
		},
		{
			// One key in the JWKS: a token without kid is accepted.
			name: "24_MissingKid_OneKey",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				return []idTokenCase{{name: "no kid", token: newRSAKey("", 0).sign(t, e.claims()), nonce: "nonce-1", ok: true}}
			},
		},
		{
			// Two keys: go-oidc tries every cached key (documented choice: try-all), so a token
			// of either key verifies and a token of neither does not.
			name:  "24_MissingKid_TwoKeys",
			setup: func(t *testing.T, e *oidcEnv) { e.jwks.setKeys(t, e.key, newRSAKey("kid-2", 1)) },
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				return []idTokenCase{
					{name: "no kid, second key", token: newRSAKey("", 1).sign(t, e.claims()), nonce: "nonce-1", ok: true},
					{name: "no kid, neither key", token: newRSAKey("", 2).sign(t, e.claims()), nonce: "nonce-1"},
				}
			},
		},
		{
			name: "25_UnusableJWK",
			setup: func(t *testing.T, e *oidcEnv) {
				real, err := json.Marshal(e.key.jwk())
				if err != nil {
					t.Fatal(err)
				}
				body := `{"keys":[` +
					`{"kty":"AKP","alg":"ML-DSA-44","kid":"pq","pub":"AAAA"},` +
					`{"kty":"made-up","kid":"junk","x":"1"},` +
					`{"kty":"OKP","crv":"X448","kid":"x448","x":"AAAA"},` +
					string(real) + `]}`
				e.jwks.setRaw([]byte(body), http.StatusOK)
			},
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				return []idTokenCase{{name: "token of the real key", token: e.key.sign(t, e.claims()), nonce: "nonce-1", ok: true}}
			},
		},
		{
			name: "28_HostileHeader",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				attacker := newRSAKey("attacker", 3)
				attackerJWK, err := json.Marshal(attacker.jwk())
				if err != nil {
					t.Fatal(err)
				}
				claims := mustJSON(t, e.claims())
				var cs []idTokenCase
				for _, h := range []struct{ name, hdr string }{
					{"kid path", `{"alg":"RS256","kid":"../../etc/passwd"}`},
					{"kid sql", `{"alg":"RS256","kid":"' OR 1=1--"}`},
					{"kid 10KB", `{"alg":"RS256","kid":"` + strings.Repeat("k", 10240) + `"}`},
					{"jku", `{"alg":"RS256","kid":"attacker","jku":"http://127.0.0.1:1/jwks.json"}`},
					{"x5u", `{"alg":"RS256","kid":"attacker","x5u":"http://127.0.0.1:1/cert.pem"}`},
					{"embedded jwk", `{"alg":"RS256","kid":"attacker","jwk":` + string(attackerJWK) + `}`},
					{"crit b64", `{"alg":"RS256","kid":"attacker","crit":["b64"],"b64":true}`},
					{"crit unknown", `{"alg":"RS256","kid":"attacker","crit":["exp"],"exp":1}`},
					{"not json", `not json`},
					{"array", `["RS256"]`},
					{"duplicate alg", `{"alg":"none","alg":"RS256","kid":"attacker"}`},
				} {
					cs = append(cs, idTokenCase{name: h.name, token: signRaw(t, attacker, h.hdr, claims), nonce: "nonce-1"})
				}
				// crit with the real key is still refused.
				cs = append(cs, idTokenCase{name: "crit b64 real key", token: signRaw(t, e.key, `{"alg":"RS256","kid":"kid-1","crit":["b64"],"b64":true}`, claims), nonce: "nonce-1"})
				for _, bad := range []string{"", "a.b", "a.b.c.d", "...", strings.Repeat("a", 9000) + ".b.c"} {
					cs = append(cs, idTokenCase{name: "malformed " + bad[:min(len(bad), 12)], token: bad})
				}
				return cs
			},
		},
		{
			name: "33_LargeUserID",
			cases: func(t *testing.T, e *oidcEnv) []idTokenCase {
				return []idTokenCase{{name: "beyond 2^53", token: e.signer(t)("sub", "9007199254740993"), ok: true, userID: 9007199254740993}}
			},
		},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			env := newOIDCEnv(t, g.cfg)
			if g.setup != nil {
				g.setup(t, env)
			}
			client := env.client
			if g.client != nil {
				client = g.client(t, env)
			}
			for _, tc := range g.cases(t, env) {
				t.Run(tc.name, func(t *testing.T) {
					got, err := client.VerifyIDToken(context.Background(), tc.token, tc.nonce)
					if !tc.ok {
						wantInvalid(t, err)
						return
					}
					if err != nil {
						t.Fatalf("got %v, want accepted", err)
					}
					if tc.userID != 0 && (got.UserID != tc.userID || got.Subject != strconv.FormatInt(tc.userID, 10)) {
						t.Errorf("UserID = %d, Subject = %q, want %d", got.UserID, got.Subject, tc.userID)
					}
				})
			}
		})
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
