package auth

import (
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
