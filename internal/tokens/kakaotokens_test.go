package tokens

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

func TestTokenVault(t *testing.T) {
	secret := strings.Repeat("s", 40)
	v, err := NewTokenVault(secret)
	if err != nil {
		t.Fatal(err)
	}
	in := auth.ProviderTokens{Access: "kakao-access", AccessExpiry: time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC),
		Refresh: "kakao-refresh", RefreshExpiry: time.Date(2026, 4, 30, 9, 0, 0, 0, time.UTC), Scopes: []string{"profile_nickname"}}
	sealed, err := v.SealProviderTokens("user-1", in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("kakao-access")) || bytes.Contains(sealed, []byte("kakao-refresh")) {
		t.Fatal("sealed row contains a token in clear")
	}
	out, err := v.OpenProviderTokens("user-1", sealed)
	if err != nil {
		t.Fatal(err)
	}
	if out.Access != in.Access || out.Refresh != in.Refresh || !out.AccessExpiry.Equal(in.AccessExpiry) ||
		!out.RefreshExpiry.Equal(in.RefreshExpiry) || len(out.Scopes) != 1 {
		t.Errorf("opened %+v, want %+v", out, in)
	}
	// Bound to the user: another user's id does not open it.
	if _, err := v.OpenProviderTokens("user-2", sealed); !errors.Is(err, ErrSealInvalid) {
		t.Errorf("opened for another user: %v", err)
	}
	// Another secret does not open it, and the key differs from the signing-key key.
	other, _ := NewTokenVault(strings.Repeat("t", 40))
	if _, err := other.OpenProviderTokens("user-1", sealed); !errors.Is(err, ErrSealInvalid) {
		t.Errorf("opened with another secret: %v", err)
	}
	sec, _ := DeriveSecrets(secret)
	if _, err := sec.kek.open(vaultPurpose("user-1"), sealed); err == nil {
		t.Error("the signing-key encryption key opens Kakao tokens: keys are not separated")
	}
	if _, err := NewTokenVault("short"); err == nil {
		t.Error("short secret accepted")
	}
}
