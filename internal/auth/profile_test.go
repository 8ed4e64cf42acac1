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

// TestCleanProfile_Fields: every text field is cleaned and bounded as the nickname is, and the
// identity fields are left as the provider gave them.
func TestCleanProfile_Fields(t *testing.T) {
	longURL := "https://k.kakaocdn.net/" + strings.Repeat("a", maxURL)
	cases := []struct {
		name string
		in   Profile
		want Profile
	}{
		{
			name: "empty profile stays empty",
			in:   Profile{},
			want: Profile{},
		},
		{
			name: "identity untouched",
			in:   Profile{Provider: ProviderKakao, Subject: "4242", Nickname: "라이언"},
			want: Profile{Provider: ProviderKakao, Subject: "4242", Nickname: "라이언"},
		},
		{
			name: "tab and carriage return become spaces, then trimmed",
			in:   Profile{Nickname: "\tRyan\r\nKakao\t"},
			want: Profile{Nickname: "Ryan  Kakao"},
		},
		{
			name: "email cleaned and kept with its flag",
			in:   Profile{Email: " ryan\u202E@kakao.com ", EmailVerified: true},
			want: Profile{Email: "ryan@kakao.com", EmailVerified: true},
		},
		{
			name: "empty email drops the verified flag",
			in:   Profile{EmailVerified: true},
			want: Profile{},
		},
		{
			name: "email made only of control characters is dropped",
			in:   Profile{Email: "\x00\x01", EmailVerified: true},
			want: Profile{},
		},
		{
			name: "http image kept",
			in:   Profile{ProfileImageURL: "http://k.kakaocdn.net/img.jpg"},
			want: Profile{ProfileImageURL: "http://k.kakaocdn.net/img.jpg"},
		},
		{
			name: "data URL dropped",
			in:   Profile{ProfileImageURL: "data:image/png;base64,AAAA"},
			want: Profile{},
		},
		{
			name: "image URL cut at the limit",
			in:   Profile{ProfileImageURL: longURL},
			want: Profile{ProfileImageURL: longURL[:maxURL]},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CleanProfile(tc.in); got != tc.want {
				t.Errorf("CleanProfile(%+v) =\n%+v, want\n%+v", tc.in, got, tc.want)
			}
		})
	}
	// An over-long email is cut at the limit, and dropped when the cut leaves no "@".
	if email := CleanProfile(Profile{Email: "ryan@" + strings.Repeat("a", 400)}).Email; len(email) != maxEmail {
		t.Errorf("a 405-character email kept %d characters, want %d", len(email), maxEmail)
	}
	if email := CleanProfile(Profile{Email: strings.Repeat("a", 400) + "@kakao.com"}).Email; email != "" {
		t.Errorf("a 410-character email cut before its @ kept %q, want it dropped", email)
	}
}

// TestCleanProfile_CleanInputAllocatesNothing: the common case, a clean profile, is checked
// without copying (CleanProfile runs on every login).
func TestCleanProfile_CleanInputAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under -race")
	}
	p := Profile{Provider: ProviderKakao, Subject: "4242", Nickname: "라이언 👩‍👩‍👧", Email: "ryan@kakao.com",
		EmailVerified: true, ProfileImageURL: "https://k.kakaocdn.net/img.jpg"}
	if n := testing.AllocsPerRun(100, func() { _ = CleanProfile(p) }); n != 0 {
		t.Errorf("CleanProfile of a clean profile allocates %v times, want 0", n)
	}
}
