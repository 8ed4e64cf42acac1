package verify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

const user = 4217730412856391024 // servertest.UserWithEmail

// snippet is one language's verify program, ready to run.
type snippet struct {
	name string
	argv []string // the command; the token is appended
}

// check is one token given to every snippet, with the configuration the snippet runs with.
type check struct {
	name             string
	token            string
	issuer, audience string
	jwksURL          string // "" for the snippet's default, <issuer>/.well-known/jwks.json
	wantSub          string // "" when the token must be refused
	wantReason       string // for a refused token: a word the snippet's reason contains
	wantReasonPython string // the same for Python, when its library words it otherwise
}

// TestSnippets runs each snippet against tokens from a running kakaoauth: a valid one is
// accepted and its claims printed; a forged, misdirected or old one is refused with a reason.
func TestSnippets(t *testing.T) {
	snippets := findSnippets(t)
	s := servertest.Start(t)
	iss, aud := s.BaseURL, s.BaseURL // KAKAOAUTH_TOKEN_AUDIENCE defaults to the public URL

	access, _ := s.SPASignIn(t, user)
	_, me := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/me", access)
	userID, _ := me["user"].(map[string]any)["id"].(string)
	if userID == "" {
		t.Fatalf("GET /auth/me: no user id in %v", me)
	}

	// A token signed with the server's clock set back by the token lifetime and two minutes: it
	// expired two minutes ago, past the snippets' 60 s of leeway.
	back := s.Config.AccessTTL + 2*time.Minute
	s.Clock.Advance(-back)
	expired, _ := s.SPASignIn(t, user)
	s.Clock.Advance(back)

	// A token whose session has ended: the snippets still accept it (they check offline, until
	// it expires); POST /auth/token/verify refuses it.
	loggedOut, _ := s.SPASignIn(t, user)
	r := servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+"/auth/logout", map[string]string{"Authorization": "Bearer " + loggedOut}, "")
	if body := servertest.ReadBody(t, r); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.StatusCode, body)
	}
	r = servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/verify", map[string]string{"token": loggedOut}, nil)
	if body := servertest.ReadBody(t, r); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /auth/token/verify after logout: %d %s, want 401", r.StatusCode, body)
	}

	header, payload, sig := split(t, access)
	var h map[string]any
	decodeSegment(t, header, &h)
	tamperedSig := base64.RawURLEncoding.AppendEncode(nil, flipBit(decodeRaw(t, sig)))
	otherSub := strings.Replace(string(decodeRaw(t, payload)), `"sub":"`+userID+`"`, `"sub":"1`+userID+`"`, 1)
	if !strings.Contains(otherSub, `"sub":"1`) {
		t.Fatalf("the access token's payload has no sub %q", userID)
	}
	none := encodeSegment(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": h["kid"]}) + "." + payload + "."
	hs256 := hmacWithPublicKey(t, s.BaseURL, h["kid"].(string), payload)

	// Tokens from an issuer of the test's own (its key, its JWKS), each differing from a valid
	// one in one header or claim only: what kakaoauth would never sign.
	fake := newFakeIssuer(t)
	claims := map[string]any{"iss": fake.URL, "aud": fake.URL, "sub": userID, "sid": "s1", "iat": time.Now().Unix(), "exp": time.Now().Add(10 * time.Minute).Unix()}

	checks := []check{
		{name: "valid", token: access, issuer: iss, audience: aud, wantSub: userID},
		{name: "logged_out_still_valid_offline", token: loggedOut, issuer: iss, audience: aud, wantSub: userID},
		{name: "valid_with_jwks_url", token: access, issuer: iss, audience: aud, jwksURL: s.BaseURL + "/.well-known/jwks.json", wantSub: userID},
		{name: "36_tampered_signature", token: header + "." + payload + "." + string(tamperedSig), issuer: iss, audience: aud, wantReason: "signature", wantReasonPython: "Signature"},
		{name: "36_tampered_sub", token: header + "." + base64.RawURLEncoding.EncodeToString([]byte(otherSub)) + "." + sig, issuer: iss, audience: aud, wantReason: "signature", wantReasonPython: "Signature"},
		{name: "38_wrong_audience", token: access, issuer: iss, audience: "https://api.other.example", wantReason: "aud", wantReasonPython: "Audience"},
		// The key set stays the real one, so only the iss check can refuse the token.
		{name: "38_wrong_issuer", token: access, issuer: iss + "/other", audience: aud, jwksURL: s.BaseURL + "/.well-known/jwks.json", wantReason: "iss", wantReasonPython: "Issuer"},
		{name: "37_expired", token: expired, issuer: iss, audience: aud, wantReason: "exp", wantReasonPython: "Expired"},
		{name: "34_alg_none", token: none, issuer: iss, audience: aud, wantReason: "alg", wantReasonPython: "Algorithm"},
		{name: "35_hs256_with_public_key", token: hs256, issuer: iss, audience: aud, wantReason: "alg", wantReasonPython: "Algorithm"},
		{name: "fake_issuer_at_jwt", token: fake.sign(t, "at+jwt", claims), issuer: fake.URL, audience: fake.URL, wantSub: userID},
		{name: "39_typ_jwt", token: fake.sign(t, "JWT", claims), issuer: fake.URL, audience: fake.URL, wantReason: "typ"},
		{name: "39_typ_missing", token: fake.sign(t, "", claims), issuer: fake.URL, audience: fake.URL, wantReason: "typ"},
		{name: "37_exp_missing", token: fake.sign(t, "at+jwt", without(claims, "exp")), issuer: fake.URL, audience: fake.URL, wantReason: `"exp"`},
		{name: "sub_missing", token: fake.sign(t, "at+jwt", without(claims, "sub")), issuer: fake.URL, audience: fake.URL, wantReason: `"sub"`},
		{name: "malformed", token: "not-a-jwt", issuer: iss, audience: aud, wantReason: "invalid token"},
	}
	for _, sn := range snippets {
		t.Run(sn.name, func(t *testing.T) {
			for _, c := range checks {
				t.Run(c.name, func(t *testing.T) { run(t, sn, c) })
			}
		})
	}
}

// run runs one snippet on one token and checks its output contract: claims as JSON on stdout
// and exit 0, or a reason on stderr and a non-zero exit.
func run(t *testing.T, sn snippet, c check) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sn.argv[0], append(sn.argv[1:], c.token)...)
	cmd.Env = append(withoutJWKSURL(os.Environ()), "KAKAOAUTH_ISSUER="+c.issuer, "KAKAOAUTH_AUDIENCE="+c.audience)
	if c.jwksURL != "" {
		cmd.Env = append(cmd.Env, "KAKAOAUTH_JWKS_URL="+c.jwksURL)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if c.wantSub != "" {
		if err != nil {
			t.Fatalf("refused a valid token: %v\n%s", err, stderr.String())
		}
		var got map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("stdout is not the claims as JSON: %v\n%s", err, stdout.String())
		}
		if got["sub"] != c.wantSub || got["iss"] != c.issuer {
			t.Errorf("claims sub %v, iss %v; want %q, %q", got["sub"], got["iss"], c.wantSub, c.issuer)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted the token; printed %s", stdout.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d (%v), want 1\n%s", code, err, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("printed claims for a refused token: %s", stdout.String())
	}
	t.Logf("refused: %s", strings.TrimSpace(stderr.String()))
	want := c.wantReason
	if sn.name == "python" && c.wantReasonPython != "" {
		want = c.wantReasonPython
	}
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("reason %q does not mention %q", strings.TrimSpace(stderr.String()), want)
	}
}

// findSnippets returns the snippets whose runtime and library are installed. A missing one
// fails the test under CI=true and skips it otherwise.
func findSnippets(t *testing.T) []snippet {
	t.Helper()
	var found []snippet
	var missing []string
	if sn, why := nodeSnippet(t); why == "" {
		found = append(found, sn)
	} else {
		missing = append(missing, why)
	}
	if sn, why := pythonSnippet(); why == "" {
		found = append(found, sn)
	} else {
		missing = append(missing, why)
	}
	if len(missing) > 0 {
		msg := strings.Join(missing, "; ") + " (.ci/run installs them)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		if len(found) == 0 {
			t.Skip(msg)
		}
		t.Log("not run: " + msg)
	}
	return found
}

// nodeSnippet finds node and jose: KAKAOAUTH_JOSE_DIR (an npm prefix holding
// node_modules/jose), else the repository's .cache/jose. ES modules ignore NODE_PATH, so the
// snippet is copied into a folder whose node_modules is that prefix's.
func nodeSnippet(t *testing.T) (snippet, string) {
	node, err := exec.LookPath("node")
	if err != nil {
		return snippet{}, "node is not installed"
	}
	dir := os.Getenv("KAKAOAUTH_JOSE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "jose")
	}
	modules, err := filepath.Abs(filepath.Join(dir, "node_modules"))
	if err != nil {
		return snippet{}, err.Error()
	}
	if _, err := os.Stat(filepath.Join(modules, "jose", "package.json")); err != nil {
		return snippet{}, "jose is not installed in " + dir + " (set KAKAOAUTH_JOSE_DIR)"
	}
	src, err := os.ReadFile(filepath.Join("node", "verify.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "verify.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(tmp, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return snippet{name: "node", argv: []string{node, filepath.Join(tmp, "verify.mjs")}}, ""
}

// pythonSnippet finds a Python that imports jwt and cryptography: KAKAOAUTH_PYTHON, else
// python3 on the PATH, else Debian's /usr/bin/python3 (where python3-jwt installs).
func pythonSnippet() (snippet, string) {
	candidates := []string{"python3", "/usr/bin/python3"}
	if p := os.Getenv("KAKAOAUTH_PYTHON"); p != "" {
		candidates = []string{p}
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import jwt, cryptography").Run() == nil {
			script, err := filepath.Abs(filepath.Join("python", "verify.py"))
			if err != nil {
				return snippet{}, err.Error()
			}
			return snippet{name: "python", argv: []string{p, script}}, ""
		}
	}
	return snippet{}, "no " + strings.Join(candidates, " or ") + " imports jwt and cryptography (Debian: python3-jwt python3-cryptography)"
}

// withoutJWKSURL is env without KAKAOAUTH_JWKS_URL, so that the snippets' default is tested.
func withoutJWKSURL(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KAKAOAUTH_JWKS_URL=") {
			out = append(out, kv)
		}
	}
	return out
}

// fakeIssuer serves a JWKS of its own key, so that a test can sign tokens the server never
// would (another typ) and still have every other check pass.
type fakeIssuer struct {
	*httptest.Server
	signer func(typ string) jose.Signer
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "fake-1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	return &fakeIssuer{Server: srv, signer: func(typ string) jose.Signer {
		opts := &jose.SignerOptions{}
		if typ != "" {
			opts = opts.WithType(jose.ContentType(typ))
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "fake-1"}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}}
}

// sign returns a compact ES256 token of claims with header typ ("" for none).
func (f *fakeIssuer) sign(t *testing.T, typ string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := f.signer(typ).Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// hmacWithPublicKey is the algorithm-confusion token: HS256 over header.payload, keyed with
// the PEM of the server's public key from its own JWKS.
func hmacWithPublicKey(t *testing.T, base, kid, payload string) string {
	t.Helper()
	r, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	err = json.NewDecoder(r.Body).Decode(&set)
	r.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(kid)
	if len(keys) == 0 {
		t.Fatalf("kid %q is not in the JWKS", kid)
	}
	der, err := x509.MarshalPKIXPublicKey(keys[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	input := encodeSegment(t, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": kid}) + "." + payload
	mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func split(t *testing.T, token string) (header, payload, sig string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

func decodeRaw(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	if err := json.Unmarshal(decodeRaw(t, seg), v); err != nil {
		t.Fatal(err)
	}
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// without returns a copy of claims without key.
func without(claims map[string]any, key string) map[string]any {
	out := maps.Clone(claims)
	delete(out, key)
	return out
}

// flipBit returns b with one bit of its middle byte flipped.
func flipBit(b []byte) []byte {
	out := append([]byte(nil), b...)
	out[len(out)/2] ^= 0x01
	return out
}
