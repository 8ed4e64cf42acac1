package tokens

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
)

// kv is one claim, its value as raw JSON, so tests can write duplicates and wrong types.
type kv struct{ k, v string }

func baseClaims(now time.Time) []kv {
	return []kv{
		{"iss", `"` + testIss + `"`},
		{"sub", `"user-1"`},
		{"aud", `"` + testIss + `"`},
		{"exp", fmt.Sprint(now.Add(10 * time.Minute).Unix())},
		{"iat", fmt.Sprint(now.Unix())},
		{"jti", `"AAAAAAAAAAAAAAAAAAAAAA"`},
		{"sid", `"sess-1"`},
	}
}

func render(kvs []kv) string {
	parts := make([]string, len(kvs))
	for i, p := range kvs {
		parts[i] = `"` + p.k + `":` + p.v
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func with(kvs []kv, k, v string) []kv {
	out := slices.Clone(kvs)
	for i := range out {
		if out[i].k == k {
			out[i].v = v
			return out
		}
	}
	return append(out, kv{k, v})
}

func without(kvs []kv, k string) []kv {
	return slices.DeleteFunc(slices.Clone(kvs), func(p kv) bool { return p.k == k })
}

func header(alg, kid, typ string) string {
	return fmt.Sprintf(`{"alg":%q,"kid":%q,"typ":%q}`, alg, kid, typ)
}

func wantInvalid(t *testing.T, i *Issuer, token string) {
	t.Helper()
	c, err := i.Verify(token)
	if !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("Verify(%.80q…) = %+v, %v; want ErrTokenInvalid", token, c, err)
	}
	if c != nil {
		t.Fatalf("Verify returned claims %+v with an error", c)
	}
}

func wantValid(t *testing.T, i *Issuer, token string) *AccessClaims {
	t.Helper()
	c, err := i.Verify(token)
	if err != nil {
		t.Fatalf("Verify(%.80q…): %v", token, err)
	}
	return c
}

func TestVerify_34_AlgNone(t *testing.T) {
	f := newFixture(t)
	kid := f.iss.SigningKeyID()
	payload := b64(render(baseClaims(f.clock.Now())))
	good := strings.Split(f.sign(t), ".")
	for _, alg := range []string{"none", "None", "NONE", ""} {
		h := b64(header(alg, kid, "at+jwt"))
		t.Run(alg+"/empty signature", func(t *testing.T) { wantInvalid(t, f.iss, h+"."+payload+".") })
		t.Run(alg+"/kept signature", func(t *testing.T) { wantInvalid(t, f.iss, h+"."+payload+"."+good[2]) })
	}
	// Without any kid either.
	wantInvalid(t, f.iss, b64(`{"alg":"none"}`)+"."+payload+".")
}

func TestVerify_35_HS256WithPublicKey(t *testing.T) {
	f := newFixture(t)
	kid, priv := f.privateKey(t)
	payload := render(baseClaims(f.clock.Now()))
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	point := append(priv.PublicKey.X.FillBytes(make([]byte, 32)), priv.PublicKey.Y.FillBytes(make([]byte, 32))...)
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(f.iss.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	macKeys := map[string][]byte{
		"jwk json":   set.Keys[0],
		"jwks json":  f.iss.JWKS(),
		"pem":        pemKey,
		"der":        der,
		"point":      point,
		"kid string": []byte(kid),
	}
	for name, key := range macKeys {
		for _, alg := range []string{"HS256", "HS384", "HS512"} {
			t.Run(alg+"/"+name, func(t *testing.T) {
				input := b64(header(alg, kid, "at+jwt")) + "." + b64(payload)
				h := map[string]func() hashFunc{"HS256": sha256.New, "HS384": sha512_384, "HS512": sha512_512}[alg]
				m := hmac.New(h, key)
				m.Write([]byte(input))
				wantInvalid(t, f.iss, input+"."+base64.RawURLEncoding.EncodeToString(m.Sum(nil)))
			})
		}
	}
	// A real ES256 signature by our key under another alg header: the kid is bound to ES256.
	for _, alg := range []string{"RS256", "RS384", "PS256", "ES384", "ES512", "EdDSA", "es256", "ES256 "} {
		t.Run("alg header "+alg, func(t *testing.T) {
			wantInvalid(t, f.iss, signES256(t, priv, header(alg, kid, "at+jwt"), payload))
		})
	}
	// The same construction with alg ES256 is accepted, so the cases above fail on alg alone.
	wantValid(t, f.iss, signES256(t, priv, header("ES256", kid, "at+jwt"), payload))
}

func TestVerify_36_Tampered(t *testing.T) {
	f := newFixture(t)
	kid, priv := f.privateKey(t)
	now := f.clock.Now()
	tok := f.sign(t)
	seg := strings.Split(tok, ".")
	base := baseClaims(now)
	hdr := header("ES256", kid, "at+jwt")

	// A second key that is also ours and published.
	other := f.issuer(t)
	if err := other.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.iss.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	otherKID := other.SigningKeyID()
	if otherKID == kid {
		t.Fatal("rotation kept the kid")
	}
	wantValid(t, f.iss, tok)

	flipLast := func(s string) string {
		// Changes the unused low bits of the last character: same bytes, non-canonical text.
		last := s[len(s)-1]
		i := strings.IndexByte(b64Alphabet, last)
		return s[:len(s)-1] + string(b64Alphabet[i^1])
	}
	// The standard-alphabet case needs a token with a '-' or '_' to change; signatures are
	// random, so a few percent of tokens have neither.
	urlTok := tok
	for !strings.ContainsAny(urlTok, "-_") {
		urlTok = f.sign(t)
	}
	cases := map[string]string{
		"sub changed":          seg[0] + "." + b64(render(with(base, "sub", `"admin"`))) + "." + seg[2],
		"kid changed to ours":  b64(header("ES256", otherKID, "at+jwt")) + "." + seg[1] + "." + seg[2],
		"kid unknown":          b64(header("ES256", "nope", "at+jwt")) + "." + seg[1] + "." + seg[2],
		"kid path":             b64(header("ES256", "../../etc/passwd", "at+jwt")) + "." + seg[1] + "." + seg[2],
		"signature flipped":    seg[0] + "." + seg[1] + "." + flipSig(seg[2]),
		"signature missing":    seg[0] + "." + seg[1] + ".",
		"two segments":         seg[0] + "." + seg[1],
		"four segments":        tok + ".AAAA",
		"five segments":        tok + ".AAAA.AAAA",
		"JWE-like five":        seg[0] + ".." + seg[1] + ".." + seg[2],
		"empty header":         "." + seg[1] + "." + seg[2],
		"padding":              seg[0] + "=." + seg[1] + "." + seg[2],
		"padded signature":     seg[0] + "." + seg[1] + "." + seg[2] + "==",
		"non-canonical sig":    seg[0] + "." + seg[1] + "." + flipLast(seg[2]),
		"std base64 alphabet":  strings.NewReplacer("-", "+", "_", "/").Replace(urlTok),
		"leading space":        " " + tok,
		"trailing newline":     tok + "\n",
		"inner newline":        seg[0] + ".\n" + seg[1] + "." + seg[2],
		"inner CR":             seg[0] + "." + seg[1][:10] + "\r" + seg[1][10:] + "." + seg[2],
		"tab":                  seg[0] + "\t." + seg[1] + "." + seg[2],
		"too long":             tok + strings.Repeat("A", MaxTokenLength),
		"empty":                "",
		"dup sub":              signES256(t, priv, hdr, render(append(slices.Clone(base), kv{"sub", `"user-2"`}))),
		"dup sub escaped":      signES256(t, priv, hdr, render(append(slices.Clone(base), kv{`s\u0075b`, `"user-2"`}))),
		"dup sid":              signES256(t, priv, hdr, render(append(slices.Clone(base), kv{"sid", `"sess-2"`}))),
		"dup unknown claim":    signES256(t, priv, hdr, render(append(slices.Clone(base), kv{"role", `"a"`}, kv{"role", `"b"`}))),
		"dup nested member":    signES256(t, priv, hdr, render(append(slices.Clone(base), kv{"x", `{"role":"a","role":"b"}`}))),
		"dup header alg":       signES256(t, priv, `{"alg":"none","alg":"ES256","kid":"`+kid+`","typ":"at+jwt"}`, render(base)),
		"dup header kid":       signES256(t, priv, `{"alg":"ES256","kid":"`+otherKID+`","kid":"`+kid+`","typ":"at+jwt"}`, render(base)),
		"dup header typ":       signES256(t, priv, `{"alg":"ES256","kid":"`+kid+`","typ":"JWT","typ":"at+jwt"}`, render(base)),
		"header crit":          signES256(t, priv, `{"alg":"ES256","crit":["b64"],"b64":false,"kid":"`+kid+`","typ":"at+jwt"}`, render(base)),
		"header jku":           signES256(t, priv, `{"alg":"ES256","jku":"https://evil.example/jwks","kid":"`+kid+`","typ":"at+jwt"}`, render(base)),
		"header jwk":           signES256(t, priv, `{"alg":"ES256","jwk":{"kty":"EC"},"kid":"`+kid+`","typ":"at+jwt"}`, render(base)),
		"header not object":    signES256(t, priv, `["ES256"]`, render(base)),
		"header not JSON":      signES256(t, priv, `{"alg":"ES256",`, render(base)),
		"payload not JSON":     signES256(t, priv, hdr, `{"sub":"x"`),
		"payload array":        signES256(t, priv, hdr, `[`+render(base)+`]`),
		"payload trailing":     signES256(t, priv, hdr, render(base)+`{}`),
		"sub empty":            signES256(t, priv, hdr, render(with(base, "sub", `""`))),
		"sub number":           signES256(t, priv, hdr, render(with(base, "sub", `1`))),
		"sub missing":          signES256(t, priv, hdr, render(without(base, "sub"))),
		"sid missing":          signES256(t, priv, hdr, render(without(base, "sid"))),
		"jti missing":          signES256(t, priv, hdr, render(without(base, "jti"))),
		"iat missing":          signES256(t, priv, hdr, render(without(base, "iat"))),
		"deeply nested claim":  signES256(t, priv, hdr, render(append(slices.Clone(base), kv{"x", strings.Repeat("[", 20) + strings.Repeat("]", 20)}))),
		"kid empty":            signES256(t, priv, header("ES256", "", "at+jwt"), render(base)),
		"kid number":           signES256(t, priv, `{"alg":"ES256","kid":1,"typ":"at+jwt"}`, render(base)),
		"signature 65 bytes":   seg[0] + "." + seg[1] + "." + base64.RawURLEncoding.EncodeToString(append(mustB64(seg[2]), 0)),
		"signature DER":        seg[0] + "." + seg[1] + "." + derSig(t, mustB64(seg[2])),
		"high-bit garbage sig": seg[0] + "." + seg[1] + "." + strings.Repeat("_", 86),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) { wantInvalid(t, f.iss, tok) })
	}
	// Unknown claims without duplicates are ignored, so the duplicate cases fail on duplicates.
	wantValid(t, f.iss, signES256(t, priv, hdr, render(append(slices.Clone(base), kv{"x", `{"role":"a","n":[1,{"a":null}]}`}))))
	wantValid(t, f.iss, signES256(t, priv, hdr, " \n"+render(base)+"\t"))
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func flipSig(s string) string {
	b := mustB64(s)
	b[10] ^= 0x01
	return base64.RawURLEncoding.EncodeToString(b)
}

func mustB64(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// derSig re-encodes a raw r‖s signature as ASN.1 DER, the form RFC 7518 §3.4 forbids.
func derSig(t *testing.T, raw []byte) string {
	t.Helper()
	b := append([]byte{0x30, 0x44, 0x02, 0x20}, raw[:32]...)
	b = append(b, 0x02, 0x20)
	b = append(b, raw[32:]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerify_37_TimeClaims(t *testing.T) {
	f := newFixture(t)
	kid, priv := f.privateKey(t)
	hdr := header("ES256", kid, "at+jwt")
	now := f.clock.Now()
	base := baseClaims(now)

	t.Run("exp boundary", func(t *testing.T) {
		tok, exp, err := f.iss.Sign(AccessClaims{Subject: "u", SessionID: "s"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			at      time.Time
			wantErr error
		}{
			{exp.Add(-time.Second), nil},
			{exp, nil},
			{exp.Add(Leeway - time.Second), nil},
			{exp.Add(Leeway), ErrTokenExpired},
			{exp.Add(time.Hour), ErrTokenExpired},
		} {
			f.clock.Set(tc.at)
			_, err := f.iss.Verify(tok)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Verify at exp%+v: %v, want %v", tc.at.Sub(exp), err, tc.wantErr)
			}
			if errors.Is(err, ErrTokenExpired) && errors.Is(err, ErrTokenInvalid) {
				t.Errorf("expired token also reports invalid: %v", err)
			}
		}
		f.clock.Set(now)
	})
	cases := map[string]string{
		"exp past leeway":     render(with(base, "exp", fmt.Sprint(now.Add(-Leeway-time.Second).Unix()))),
		"exp missing":         render(without(base, "exp")),
		"exp string":          render(with(base, "exp", `"`+fmt.Sprint(now.Add(time.Hour).Unix())+`"`)),
		"exp float":           render(with(base, "exp", fmt.Sprint(now.Add(time.Hour).Unix())+".5")),
		"exp exponent":        render(with(base, "exp", `1e309`)),
		"exp null":            render(with(base, "exp", `null`)),
		"exp huge":            render(with(base, "exp", `99999999999999999999`)),
		"nbf future":          render(with(base, "nbf", fmt.Sprint(now.Add(Leeway+time.Second).Unix()))),
		"iat future":          render(with(base, "iat", fmt.Sprint(now.Add(time.Hour).Unix()))),
		"iat string":          render(with(base, "iat", `"1"`)),
		"nbf bool":            render(with(base, "nbf", `true`)),
		"exp duplicate later": render(append(slices.Clone(base), kv{"exp", fmt.Sprint(now.Add(time.Hour).Unix())})),
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			tok := signES256(t, priv, hdr, payload)
			_, err := f.iss.Verify(tok)
			if err == nil {
				t.Fatal("accepted")
			}
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("error %T %v is not a *TokenError", err, err)
			}
		})
	}
	// "exp past leeway" is an authentic expired token: it must say expired, not invalid.
	_, err := f.iss.Verify(signES256(t, priv, hdr, cases["exp past leeway"]))
	if !errors.Is(err, ErrTokenExpired) {
		t.Errorf("exp past leeway: %v, want ErrTokenExpired", err)
	}
	// Within leeway, nbf and iat slightly ahead are accepted (clock skew between replicas).
	wantValid(t, f.iss, signES256(t, priv, hdr, render(with(with(base, "nbf", fmt.Sprint(now.Add(Leeway/2).Unix())), "iat", fmt.Sprint(now.Add(Leeway/2).Unix())))))
}

func TestVerify_38_WrongIssuerAudience(t *testing.T) {
	f := newFixture(t)
	kid, priv := f.privateKey(t)
	hdr := header("ES256", kid, "at+jwt")
	base := baseClaims(f.clock.Now())
	cases := map[string]string{
		"aud other":            `"https://other.example.com"`,
		"aud empty array":      `[]`,
		"aud empty string":     `""`,
		"aud ours and unknown": `["` + testIss + `","https://other.example.com"]`,
		"aud null":             `null`,
		"aud number":           `1`,
		"aud nested":           `[["` + testIss + `"]]`,
		"aud trailing slash":   `"` + testIss + `/"`,
	}
	for name, aud := range cases {
		t.Run(name, func(t *testing.T) { wantInvalid(t, f.iss, signES256(t, priv, hdr, render(with(base, "aud", aud)))) })
	}
	t.Run("aud missing", func(t *testing.T) { wantInvalid(t, f.iss, signES256(t, priv, hdr, render(without(base, "aud")))) })
	for name, iss := range map[string]string{
		"iss trailing slash": `"` + testIss + `/"`,
		"iss http":           `"http://auth.example.com"`,
		"iss other":          `"https://kauth.kakao.com"`,
		"iss case":           `"https://AUTH.example.com"`,
		"iss number":         `1`,
	} {
		t.Run(name, func(t *testing.T) { wantInvalid(t, f.iss, signES256(t, priv, hdr, render(with(base, "iss", iss)))) })
	}
	t.Run("iss missing", func(t *testing.T) { wantInvalid(t, f.iss, signES256(t, priv, hdr, render(without(base, "iss")))) })

	// Our audience as a one-element array is the same audience.
	wantValid(t, f.iss, signES256(t, priv, hdr, render(with(base, "aud", `["`+testIss+`"]`))))

	// A replica of the same store (same keys) configured for another audience or issuer: its
	// tokens are signed by our key but are not for us.
	otherAud := f.issuer(t, func(c *IssuerConfig) { c.Audience = []string{"https://api.other.example"} })
	tok, _, err := otherAud.Sign(AccessClaims{Subject: "u", SessionID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, f.iss, tok)
	wantValid(t, otherAud, tok)
	otherIss := f.issuer(t, func(c *IssuerConfig) { c.Issuer = "https://auth2.example.com"; c.Audience = []string{testIss} })
	tok, _, _ = otherIss.Sign(AccessClaims{Subject: "u", SessionID: "s"})
	wantInvalid(t, f.iss, tok)

	// Several configured audiences: tokens carry all of them and verify.
	multi := f.issuer(t, func(c *IssuerConfig) { c.Audience = []string{testIss, "https://api.example.com"} })
	tok, _, _ = multi.Sign(AccessClaims{Subject: "u", SessionID: "s"})
	if c := wantValid(t, multi, tok); !slices.Equal(c.Audience, []string{testIss, "https://api.example.com"}) {
		t.Errorf("aud = %q", c.Audience)
	}
	wantInvalid(t, f.iss, tok) // f.iss knows only testIss: "https://api.example.com" is unknown to it
}

func TestVerify_39_CrossJWT(t *testing.T) {
	f := newFixture(t)
	kid, priv := f.privateKey(t)
	base := render(baseClaims(f.clock.Now()))

	// A Kakao-style ID token: RS256 with Kakao's kid, claims that would otherwise fit.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: rsaKey, KeyID: "3f96980381e451efad0d2ddd30e3d3"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	idToken, err := jwt.Signed(signer).Claims(map[string]any{
		"iss": "https://kauth.kakao.com", "aud": testIss, "sub": "1376016924429759228",
		"iat": f.clock.Now().Unix(), "exp": f.clock.Now().Add(time.Hour).Unix(), "nonce": "n", "sid": "s", "jti": "j",
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("kakao id token", func(t *testing.T) { wantInvalid(t, f.iss, idToken) })
	t.Run("kakao kid with our signature", func(t *testing.T) {
		wantInvalid(t, f.iss, signES256(t, priv, header("ES256", "3f96980381e451efad0d2ddd30e3d3", "JWT"), base))
	})
	for _, typ := range []string{"JWT", "jwt", "application/jwt", "rt+jwt", "secevent+jwt", "at+jwt ", "application/at+jwt+x", "at-jwt", ""} {
		t.Run("typ "+typ, func(t *testing.T) { wantInvalid(t, f.iss, signES256(t, priv, header("ES256", kid, typ), base)) })
	}
	t.Run("typ missing", func(t *testing.T) {
		wantInvalid(t, f.iss, signES256(t, priv, `{"alg":"ES256","kid":"`+kid+`"}`, base))
	})
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"} {
		t.Run("typ accepted "+typ, func(t *testing.T) { wantValid(t, f.iss, signES256(t, priv, header("ES256", kid, typ), base)) })
	}
	t.Run("refresh token as access token", func(t *testing.T) {
		rt, _ := NewRefreshToken()
		wantInvalid(t, f.iss, rt)
	})
}

func TestVerify_40_Rotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	replica := f.issuer(t)
	k0 := f.iss.SigningKeyID()
	if replica.SigningKeyID() != k0 {
		t.Fatalf("replica signs with %s, want the stored key %s", replica.SigningKeyID(), k0)
	}
	before := f.sign(t) // signed just before rotation
	f.clock.Add(time.Minute)
	if age := f.iss.SigningKeyAge(); age < time.Minute {
		t.Errorf("SigningKeyAge before rotation = %v, want at least 1m", age)
	}
	if err := f.iss.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	rotatedAt := f.clock.Now()
	if age := f.iss.SigningKeyAge(); age != 0 {
		t.Errorf("SigningKeyAge right after rotation = %v, want 0", age)
	}
	k1 := f.iss.SigningKeyID()
	if k1 == k0 {
		t.Fatal("Rotate kept the kid")
	}
	after := f.sign(t)
	if got := kidOf(t, after); got != k1 {
		t.Errorf("new token kid %s, want %s", got, k1)
	}
	if diff := cmp.Diff([]string{k1, k0}, f.iss.KeyIDs()); diff != "" {
		t.Errorf("KeyIDs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{k1, k0}, jwksKIDs(t, f.iss.JWKS())); diff != "" {
		t.Errorf("JWKS kids after rotation (-want +got):\n%s", diff)
	}
	wantValid(t, f.iss, before)
	wantValid(t, f.iss, after)

	// The replica has not reloaded: it still signs with k0, and those tokens verify everywhere.
	stale, _, err := replica.Sign(AccessClaims{Subject: "u", SessionID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, stale) != k0 {
		t.Fatalf("replica before reload signs with %s", kidOf(t, stale))
	}
	wantValid(t, f.iss, stale)
	wantInvalid(t, replica, after) // k1 is unknown to it until it reloads
	if err := replica.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if replica.SigningKeyID() != k1 {
		t.Errorf("replica after reload signs with %s, want %s", replica.SigningKeyID(), k1)
	}
	wantValid(t, replica, after)

	// A token signed just before rotation verifies until its own expiry.
	f.clock.Add(DefaultTTL - 2*time.Minute)
	wantValid(t, f.iss, before)
	wantValid(t, f.iss, stale)

	// After the overlap, the old key no longer verifies anything and leaves the JWKS.
	f.clock.Set(rotatedAt.Add(f.iss.Overlap()))
	_, priv0 := keyByID(t, f, k0)
	late := signES256(t, priv0, header("ES256", k0, "at+jwt"), render(baseClaims(f.clock.Now())))
	_, err = f.iss.Verify(late)
	var te *TokenError
	if !errors.As(err, &te) || te.Reason != "key retired" {
		t.Errorf("token by the retired key after overlap: %v, want invalid (key retired)", err)
	}
	// Also for a token verified (and cached) before.
	if _, err = f.iss.Verify(before); !errors.As(err, &te) || te.Reason != "key retired" {
		t.Errorf("cached token by the retired key after overlap: %v, want invalid (key retired)", err)
	}
	if err := f.iss.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{k1}, jwksKIDs(t, f.iss.JWKS())); diff != "" {
		t.Errorf("JWKS kids after overlap (-want +got):\n%s", diff)
	}
	_, err = f.iss.Verify(late)
	if !errors.As(err, &te) || te.Reason != "unknown kid" {
		t.Errorf("after reload: %v, want invalid (unknown kid)", err)
	}
	if _, err = f.iss.Verify(stale); !errors.As(err, &te) || te.Reason != "unknown kid" {
		t.Errorf("cached token after reload: %v, want invalid (unknown kid)", err)
	}

	// The next rotation deletes the expired key from the store.
	if err := f.iss.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	k2 := f.iss.SigningKeyID()
	if diff := cmp.Diff([]string{k1, k2}, f.store.ids()); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
}

func keyByID(t *testing.T, f *fixture, kid string) (string, *ecdsaPriv) {
	t.Helper()
	keys, _ := f.store.SigningKeys(context.Background())
	for _, k := range keys {
		if k.ID == kid {
			p, err := f.iss.openKey(k)
			if err != nil {
				t.Fatal(err)
			}
			return kid, p
		}
	}
	t.Fatalf("no key %s", kid)
	return "", nil
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	var h struct{ Kid string }
	if err := json.Unmarshal(mustB64(strings.Split(tok, ".")[0]), &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func jwksKIDs(t *testing.T, b []byte) []string {
	t.Helper()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

func TestVerify_41_JWKSPublicOnly(t *testing.T) {
	f := newFixture(t)
	if err := f.iss.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var set map[string][]map[string]any
	if err := json.Unmarshal(f.iss.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set) != 1 || len(set["keys"]) != 2 {
		t.Fatalf("JWKS = %s; want {\"keys\": [2 keys]}", f.iss.JWKS())
	}
	for _, k := range set["keys"] {
		var names []string
		for n := range k {
			names = append(names, n)
		}
		slices.Sort(names)
		if diff := cmp.Diff([]string{"alg", "crv", "kid", "kty", "use", "x", "y"}, names); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		for n, want := range map[string]string{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig"} {
			if k[n] != want {
				t.Errorf("%s = %v, want %s", n, k[n], want)
			}
		}
		// The kid is the RFC 7638 thumbprint of the published key.
		var jwk jose.JSONWebKey
		raw, _ := json.Marshal(k)
		if err := jwk.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		if !jwk.IsPublic() {
			t.Error("key is not public")
		}
		tp, _ := jwk.Thumbprint(crypto.SHA256)
		if got := base64.RawURLEncoding.EncodeToString(tp); got != k["kid"] {
			t.Errorf("kid %v, thumbprint %s", k["kid"], got)
		}
	}
	// The stored public JWK carries no private member either.
	keys, _ := f.store.SigningKeys(context.Background())
	for _, k := range keys {
		var m map[string]any
		if err := json.Unmarshal(k.PublicJWK, &m); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := m[p]; ok {
				t.Errorf("stored PublicJWK of %s has %q", k.ID, p)
			}
		}
		if strings.Contains(string(k.PrivateSealed), "PRIVATE") || len(k.PrivateSealed) < 100 {
			t.Errorf("PrivateSealed of %s does not look sealed", k.ID)
		}
	}
}

func TestVerify_InteropWithJOSEVerifier(t *testing.T) {
	f := newFixture(t)
	if err := f.iss.Rotate(context.Background()); err != nil { // two keys in the set
		t.Fatal(err)
	}
	tok := f.sign(t)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(f.iss.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if got := parsed.Headers[0].ExtraHeaders[jose.HeaderType]; got != "at+jwt" {
		t.Errorf("typ = %v", got)
	}
	var std jwt.Claims
	var extra struct {
		Sid string `json:"sid"`
	}
	if err := parsed.Claims(&set, &std, &extra); err != nil {
		t.Fatalf("standard verifier rejects our token: %v", err)
	}
	if err := std.Validate(jwt.Expected{Issuer: testIss, AnyAudience: jwt.Audience{testIss}, Time: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if std.Subject != "user-1" || extra.Sid != "sess-1" || std.ID == "" || std.IssuedAt == nil {
		t.Errorf("claims %+v sid %q", std, extra.Sid)
	}
	// And the standard verifier rejects a tampered one, so the check above is meaningful.
	seg := strings.Split(tok, ".")
	bad, _ := jwt.ParseSigned(seg[0]+"."+b64(`{"sub":"admin"}`)+"."+seg[2], []jose.SignatureAlgorithm{jose.ES256})
	if err := bad.Claims(&set, &std); err == nil {
		t.Error("standard verifier accepted a tampered token")
	}
}

// BenchmarkVerify measures a full verification (no cache): what every new token costs.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, func(c *IssuerConfig) { c.VerifyCacheSize = -1 })
	tok := f.sign(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.iss.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCached measures Verify of a token seen before: a client calling /auth/me
// load.
func BenchmarkVerifyParallel(b *testing.B) {
	f := newFixture(b, func(c *IssuerConfig) { c.VerifyCacheSize = -1 })
	tok := f.sign(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.iss.Verify(tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyGoJOSE is the reference point: the same token through go-jose's jwt package
// (parse, verify with the cached key, decode claims), without our extra checks.
func BenchmarkVerifyGoJOSE(b *testing.B) {
	f := newFixture(b)
	tok := f.sign(b)
	pub := f.iss.ring.Load().verify[f.iss.SigningKeyID()].pub
	b.ReportAllocs()
	for b.Loop() {
		t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			b.Fatal(err)
		}
		var c jwt.Claims
		var extra struct {
			Sid string `json:"sid"`
		}
		if err := t.Claims(pub, &c, &extra); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIssuer_96_DropOtherKeys: after a leak, one replica rotates and drops every other key;
