package tokens

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// FuzzVerify feeds any string to Verify: no panic, every error a *TokenError, and success only
// for a token this issuer signed (a fuzzer cannot forge an ES256 signature, so any other
// success is a parser that accepted something it should not): its claims are those signed.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	for i := 0; i < 3; i++ {
		tok := fx.sign(f)
		f.Add(tok)
		parts := strings.Split(tok, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + "." + parts[1] + "." + parts[2] + "=")
		f.Add(parts[0] + ".." + parts[2])
		f.Add(" " + tok)
		f.Add(tok + "." + parts[2])
	}
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := fx.iss.Verify(token)
		if err != nil {
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("error %v (%T) is not a *TokenError", err, err)
			}
			return
		}
		// A fuzz worker (another process) has its own keys, so compare what was signed.
		if c.Subject != "user-1" || c.SessionID != "sess-1" {
			t.Fatalf("Verify accepted a token it did not sign: %q → %+v", token, c)
		}
	})
}

// FuzzVerifyClaims signs any header and claims with the issuer's own key and verifies them, so
// the fuzzer reaches the header and claims parsers behind the signature check. When Verify
// accepts, a strict JSON parser (duplicate names refused, names matched exactly) must read the
// same values: no parser differential (checklist case 36).
func FuzzVerifyClaims(f *testing.F) {
	fx := newFixture(f)
	kid, priv := fx.privateKey(f)
	now := fx.clock.Now()
	// Headers name the key as $KID: a fuzz worker is another process with a key of its own.
	hdr := `{"alg":"ES256","kid":"$KID","typ":"at+jwt"}`
	base := render(baseClaims(now))
	f.Add(hdr, base)
	f.Add(hdr, render(append(baseClaims(now), kv{"sub", `"user-2"`})))
	f.Add(hdr, render(append(baseClaims(now), kv{`s\u0075b`, `"user-2"`})))
	f.Add(hdr, render(with(baseClaims(now), "aud", `["`+testIss+`"]`)))
	f.Add(hdr, render(with(baseClaims(now), "exp", `1e309`)))
	f.Add(hdr, render(with(baseClaims(now), "nbf", fmt.Sprint(now.Add(time.Hour).Unix()))))
	f.Add(`{"alg":"ES256","alg":"none","kid":"$KID","typ":"at+jwt"}`, base)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":"application/at+jwt","crit":["b64"]}`, base)
	f.Add(`{"kid":"$KID","typ":"AT+JWT","alg":"ES256"}`, base)
	f.Fuzz(func(t *testing.T, header, claims string) {
		header = strings.ReplaceAll(header, "$KID", kid)
		tok := signES256(t, priv, header, claims)
		c, err := fx.iss.Verify(tok)
		if err != nil {
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("error %v (%T) is not a *TokenError", err, err)
			}
			return
		}
		var h map[string]any
		if err := jsonv2.Unmarshal([]byte(header), &h); err != nil {
			t.Fatalf("accepted a header a strict parser refuses (%v): %s", err, header)
		}
		if h["alg"] != "ES256" || h["kid"] != kid {
			t.Fatalf("accepted header %s", header)
		}
		var m map[string]any
		if err := jsonv2.Unmarshal([]byte(claims), &m); err != nil {
			t.Fatalf("accepted claims a strict parser refuses (%v): %s", err, claims)
		}
		if m["sub"] != c.Subject || m["sid"] != c.SessionID || m["iss"] != testIss || c.Subject == "" {
			t.Fatalf("claims read differently: strict %v, Verify %+v", m, c)
		}
		if exp, ok := m["exp"].(float64); !ok || int64(exp) != c.Expiry.Unix() || !c.Expiry.After(now.Add(-time.Minute)) {
			t.Fatalf("exp read differently or expired: strict %v, Verify %v", m["exp"], c.Expiry)
		}
	})
}

// FuzzSealOpen feeds any text to the flow-cookie sealer's Open: no panic, and success only for
// text sealed with this key for this purpose — its payload is one the target sealed (a fuzzer
// cannot forge the AEAD tag). Fuzz workers are other processes that seal the seeds anew (random
// nonces), so the check is on the payload, not the text.
func FuzzSealOpen(f *testing.F) {
	s := mustSecrets(f, testSecret).FlowSealer()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	payloads := map[string]bool{}
	for _, p := range []string{"", "state", strings.Repeat("x", 300)} {
		payloads[p] = true
		txt, err := s.Seal("flow", []byte(p), now.Add(time.Hour))
		if err != nil {
			f.Fatal(err)
		}
		f.Add("flow", txt)
		f.Add("other", txt)
		f.Add("flow", txt[:len(txt)-1])
	}
	f.Add("flow", "")
	f.Add("flow", "AAAA")
	f.Fuzz(func(t *testing.T, purpose, text string) {
		got, err := s.Open(purpose, text, now)
		if err == nil && (!payloads[string(got)] || purpose != "flow") {
			t.Fatalf("Open(%q, %q) = %q: accepted text it did not seal for that purpose", purpose, text, got)
		}
	})
}
