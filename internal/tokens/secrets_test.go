package tokens

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/bits"
	"strings"
	"testing"
	"time"
)

func TestDeriveSecrets_98_ShortSecret(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret string
		ok     bool
	}{
		{"empty", "", false},
		{"31 characters", strings.Repeat("a", 31), false},
		{"32 characters", strings.Repeat("a", 32), true},
		{"31 Korean characters (93 bytes)", strings.Repeat("가", 31), false},
		{"32 Korean characters", strings.Repeat("가", 32), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DeriveSecrets(tc.secret)
			if got := err == nil; got != tc.ok {
				t.Fatalf("DeriveSecrets: err = %v, want ok = %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "KAKAOAUTH_SECRET") {
				t.Errorf("error %q does not name KAKAOAUTH_SECRET", err)
			}
			if err == nil && s == nil {
				t.Error("nil Secrets without an error")
			}
		})
	}
}

func TestDeriveSecrets_SubKeysDistinct(t *testing.T) {
	s := mustSecrets(t, testSecret)
	if bytes.Equal(s.successor, s.csrf) {
		t.Error("successor and CSRF keys are equal")
	}
	// The flow sealer and the key-encryption sealer use different keys: one cannot open the other.
	now := time.Unix(1_700_000_000, 0)
	text, _ := s.FlowSealer().Seal("p", []byte("x"), now.Add(time.Minute))
	if _, err := s.kek.Open("p", text, now); !errors.Is(err, ErrSealInvalid) {
		t.Errorf("key-encryption sealer opened a flow value: %v", err)
	}
	// Deterministic: the same secret derives the same keys.
	if s2 := mustSecrets(t, testSecret); !bytes.Equal(s.successor, s2.successor) || !bytes.Equal(s.csrf, s2.csrf) {
		t.Error("derivation is not deterministic")
	}
}

func TestSealer_RoundTripAndRejections(t *testing.T) {
	s := mustSecrets(t, testSecret).FlowSealer()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	exp := now.Add(10 * time.Minute)
	payload := []byte(`{"state":"abc","nonce":"def","verifier":"ghi","return_to":"/"}`)
	text, err := s.Seal("flow", payload, exp)
	if err != nil {
		t.Fatal(err)
	}
	if !validB64(text) {
		t.Errorf("sealed text %q is not unpadded base64url", text)
	}
	if bytes.Contains([]byte(text), []byte("state")) {
		t.Error("sealed text shows the plaintext")
	}
	got, err := s.Open("flow", text, now)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("Open = %q, %v; want %q", got, err, payload)
	}
	again, _ := s.Seal("flow", payload, exp)
	if again == text {
		t.Error("two seals of one payload are identical (nonce reused)")
	}
	empty, _ := s.Seal("flow", nil, exp)
	if got, err := s.Open("flow", empty, now); err != nil || len(got) != 0 {
		t.Errorf("empty payload: %q, %v", got, err)
	}

	other := mustSecrets(t, "another secret that is long enough!!").FlowSealer()
	otherText, _ := other.Seal("flow", payload, exp)
	for _, tc := range []struct {
		name    string
		purpose string
		text    string
		at      time.Time
		want    error
	}{
		{"wrong purpose", "return", text, now, ErrSealInvalid},
		{"wrong key", "flow", otherText, now, ErrSealInvalid},
		{"expired at expiry", "flow", text, exp, ErrSealExpired},
		{"expired later", "flow", text, exp.Add(time.Hour), ErrSealExpired},
		{"empty", "flow", "", now, ErrSealMalformed},
		{"garbage", "flow", "not base64!", now, ErrSealMalformed},
		{"too short", "flow", text[:20], now, ErrSealMalformed},
		{"truncated tag", "flow", text[:len(text)-4], now, ErrSealInvalid},
		{"padding", "flow", text + "=", now, ErrSealMalformed},
		{"newline", "flow", text[:10] + "\n" + text[10:], now, ErrSealMalformed},
		{"huge", "flow", strings.Repeat("A", 10000), now, ErrSealMalformed},
		{"version changed", "flow", "B" + text[1:], now, ErrSealMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Open(tc.purpose, tc.text, tc.at)
			if !errors.Is(err, tc.want) || got != nil {
				t.Errorf("Open = %q, %v; want %v", got, err, tc.want)
			}
		})
	}

	// Every single-character change is refused (never opens to a different payload).
	raw := []byte(text)
	for i := range raw {
		mut := append([]byte(nil), raw...)
		if mut[i] == 'A' {
			mut[i] = 'B'
		} else {
			mut[i] = 'A'
		}
		if got, err := s.Open("flow", string(mut), now); err == nil {
			t.Fatalf("tampered at %d: opened to %q", i, got)
		}
	}
}

// TestRefreshToken_79_FormatAndEntropy checks that refresh tokens cannot be guessed (checklist
// #79: at least 128 bits from crypto/rand; ours have 256) and have the documented format.
func TestRefreshToken_79_FormatAndEntropy(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	ones := 0
	for range n {
		tok, err := NewRefreshToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != RefreshTokenLength || len(tok) != 47 || !strings.HasPrefix(tok, "kar_") {
			t.Fatalf("token %q: want kar_ and 43 characters", tok)
		}
		if !ValidRefreshFormat(tok) {
			t.Fatalf("ValidRefreshFormat(%q) = false", tok)
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
		body := mustB64(tok[4:])
		for _, b := range body {
			ones += bits.OnesCount8(b)
		}
	}
	// About half of the 2,560,000 bits are set; 0.49–0.51 is more than 30 standard deviations.
	if frac := float64(ones) / (n * 256); frac < 0.49 || frac > 0.51 {
		t.Errorf("fraction of set bits %.4f: not random", frac)
	}
}

func TestValidRefreshFormat(t *testing.T) {
	good, _ := NewRefreshToken()
	for _, tc := range []struct {
		tok  string
		want bool
	}{
		{good, true},
		{"kar_" + strings.Repeat("A", 43), true},
		{"", false},
		{good[4:], false},          // no prefix
		{"KAR_" + good[4:], false}, // prefix is case-sensitive
		{good + "A", false},        // too long
		{good[:46], false},         // too short
		{"kar_" + strings.Repeat("A", 42) + "B", false}, // non-canonical last character
		{"kar_" + strings.Repeat("+", 43), false},       // standard alphabet
		{good[:20] + " " + good[21:], false},
		{good[:46] + "=", false},
		{good[:20] + "\n" + good[21:], false},
		{"eyJhbGciOiJFUzI1NiJ9.e30.sig", false},
	} {
		if got := ValidRefreshFormat(tc.tok); got != tc.want {
			t.Errorf("ValidRefreshFormat(%q) = %v, want %v", tc.tok, got, tc.want)
		}
	}
}

func TestHashRefresh(t *testing.T) {
	tok, _ := NewRefreshToken()
	h := HashRefresh(tok)
	want := sha256.Sum256([]byte(tok))
	if !bytes.Equal(h, want[:]) {
		t.Errorf("HashRefresh = %x, want SHA-256 %x", h, want)
	}
	if other, _ := NewRefreshToken(); bytes.Equal(HashRefresh(other), h) {
		t.Error("two tokens hash alike")
	}
}

// TestRefreshSuccessor_47_Deterministic: a retry with the previous token (#47) and the second tab
// within grace (#46) get the same successor, derived rather than stored.
func TestRefreshSuccessor_47_Deterministic(t *testing.T) {
	s := mustSecrets(t, testSecret)
	rt0, _ := NewRefreshToken()
	rt1 := s.RefreshSuccessor(rt0)
	if again := mustSecrets(t, testSecret).RefreshSuccessor(rt0); again != rt1 {
		t.Errorf("successor differs between calls: %q, %q", rt1, again)
	}
	if !ValidRefreshFormat(rt1) {
		t.Errorf("successor %q has not the refresh format", rt1)
	}
	rt2 := s.RefreshSuccessor(rt1)
	rt3 := s.RefreshSuccessor(rt2)
	chain := map[string]bool{rt0: true, rt1: true, rt2: true, rt3: true}
	if len(chain) != 4 {
		t.Errorf("generations repeat: %q %q %q %q", rt0, rt1, rt2, rt3)
	}
	other := mustSecrets(t, "another secret that is long enough!!")
	if other.RefreshSuccessor(rt0) == rt1 {
		t.Error("another secret derives the same successor")
	}
	rtB, _ := NewRefreshToken()
	if s.RefreshSuccessor(rtB) == rt1 {
		t.Error("another token derives the same successor")
	}
	// The successor is not the plain SHA-256 the store keeps: a leaked database cannot derive it.
	if string(HashRefresh(rt0)) == string(mustB64(rt1[4:])) {
		t.Error("successor equals the stored hash")
	}
}

func TestCSRF_56_SignedDoubleSubmit(t *testing.T) {
	s := mustSecrets(t, testSecret)
	binding := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	tok := s.CSRFToken(binding)
	if len(tok) != 43 || !validB64(tok) {
		t.Errorf("CSRF token %q: want 43 base64url characters", tok)
	}
	other := mustSecrets(t, "another secret that is long enough!!")
	for _, tc := range []struct {
		name    string
		binding string
		token   string
		want    bool
	}{
		{"match", binding, tok, true},
		{"other binding", binding + "0", tok, false},
		{"other secret", binding, other.CSRFToken(binding), false},
		{"empty token", binding, "", false},
		{"empty binding", "", s.CSRFToken(""), false},
		{"binding as token", binding, binding, false},
		{"tampered", binding, tok[:42] + string("AB"[boolIndex(tok[42] == 'A')]), false},
		{"padded", binding, tok + "=", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.CheckCSRF(tc.binding, tc.token); got != tc.want {
				t.Errorf("CheckCSRF = %v, want %v", got, tc.want)
			}
		})
	}
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
