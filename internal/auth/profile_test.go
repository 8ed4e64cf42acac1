package auth

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCleanProfile_77_HostileNicknames: provider data is stored as valid UTF-8 without control
// or bidirectional-override characters, cut on a rune boundary, the same on every store.
func TestCleanProfile_77_HostileNicknames(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain Korean", "라이언", "라이언"},
		{"emoji ZWJ sequence kept", "👩‍👩‍👧 가족", "👩‍👩‍👧 가족"},
		{"right-to-left override removed", "abc\u202Eevil", "abcevil"},
		{"isolates removed", "\u2066x\u2069", "x"},
		{"NUL removed", "a\x00b", "ab"},
		{"ANSI escape removed", "\x1b[31mred", "[31mred"},
		{"newline becomes space", "line1\nline2", "line1 line2"},
		{"invalid UTF-8 replaced", "ok\xffok", "ok\uFFFDok"},
		{"combining marks kept", "e\u0301", "e\u0301"},
		{"surrounding space trimmed", "  닉네임  ", "닉네임"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := CleanProfile(Profile{Nickname: tc.in}).Nickname
			if got != tc.want {
				t.Errorf("CleanProfile(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	long := CleanProfile(Profile{Nickname: strings.Repeat("가", 10000)}).Nickname
	if n := utf8.RuneCountInString(long); n != maxNickname || !utf8.ValidString(long) {
		t.Errorf("10,000-rune nickname kept %d runes (valid %v), want %d", n, utf8.ValidString(long), maxNickname)
	}
}

func TestCleanProfile_EmailAndImage(t *testing.T) {
	p := CleanProfile(Profile{Email: "not-an-email", EmailVerified: true, ProfileImageURL: "javascript:alert(1)"})
	if p.Email != "" || p.EmailVerified || p.ProfileImageURL != "" {
		t.Errorf("got %+v, want email, its flag and the image dropped", p)
	}
	p = CleanProfile(Profile{Email: "ryan@kakao.com", EmailVerified: true, ProfileImageURL: "https://k.kakaocdn.net/img.jpg"})
	if p.Email != "ryan@kakao.com" || !p.EmailVerified || p.ProfileImageURL != "https://k.kakaocdn.net/img.jpg" {
		t.Errorf("good profile changed: %+v", p)
	}
}

// TestNewID: ids are distinct, 26 base32 characters, and sort by creation time.
func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 10000; i++ {
		id, err := NewID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 26 || seen[id] {
			t.Fatalf("id %q: length %d or repeated", id, len(id))
		}
		if prev != "" && id[:9] < prev[:9] {
			t.Fatalf("id %q sorts before the earlier %q", id, prev)
		}
		seen[id], prev = true, id
	}
	// The text sorts as the bytes do, whatever the bytes (a millisecond boundary in the loop
	// above is rare): random pairs, and the pair whose first 5 bits are 25 and 26 (z and 2 in
	// the standard base32 alphabet).
	pairs := [][2][16]byte{{{25 << 3}, {26 << 3}}}
	for range 10000 {
		var a, b [16]byte
		_, _ = rand.Read(a[:])
		_, _ = rand.Read(b[:])
		pairs = append(pairs, [2][16]byte{a, b})
	}
	for _, p := range pairs {
		ea := strings.ToLower(idEncoding.EncodeToString(p[0][:]))
		eb := strings.ToLower(idEncoding.EncodeToString(p[1][:]))
		if bytes.Compare(p[0][:], p[1][:]) != strings.Compare(ea, eb) {
			t.Fatalf("%x vs %x: text %q vs %q sorts the other way", p[0], p[1], ea, eb)
		}
	}
}
