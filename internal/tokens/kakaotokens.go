package tokens

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// infoKakaoTokens is the HKDF label of the key that seals Kakao's tokens at rest.
const infoKakaoTokens = "kakaoauth v1 kakao-token sealing"

// TokenVault seals Kakao's access and refresh tokens at rest (auth.TokenVault): AES-256-GCM
// under a key derived from KAKAOAUTH_SECRET with HKDF-SHA256, exactly as the signing-key
// encryption key is (same salt, its own label), and bound to the user's id, so a sealed row
// copied to another user does not open.
type TokenVault struct {
	sealer *Sealer
}

var _ auth.TokenVault = (*TokenVault)(nil)

// NewTokenVault derives the vault's key from the operator's secret.
func NewTokenVault(secret string) (*TokenVault, error) {
	if n := utf8.RuneCountInString(secret); n < MinSecretLength {
		return nil, fmt.Errorf("KAKAOAUTH_SECRET must be at least %d characters long (it has %d)", MinSecretLength, n)
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), []byte(hkdfSalt), infoKakaoTokens, 32)
	if err != nil {
		return nil, fmt.Errorf("derive Kakao token key from KAKAOAUTH_SECRET: %w", err)
	}
	s, err := NewSealer(key)
	if err != nil {
		return nil, err
	}
	return &TokenVault{sealer: s}, nil
}

type sealedKakaoTokens struct {
	Access        string    `json:"a"`
	AccessExpiry  time.Time `json:"ae"`
	Refresh       string    `json:"r,omitempty"`
	RefreshExpiry time.Time `json:"re,omitzero"`
	Scopes        []string  `json:"s,omitempty"`
}

func vaultPurpose(userID string) string { return "kakao tokens\x00" + userID }

// SealProviderTokens seals t for userID.
func (v *TokenVault) SealProviderTokens(userID string, t auth.ProviderTokens) ([]byte, error) {
	b, err := json.Marshal(sealedKakaoTokens{Access: t.Access, AccessExpiry: t.AccessExpiry.UTC(),
		Refresh: t.Refresh, RefreshExpiry: t.RefreshExpiry.UTC(), Scopes: t.Scopes})
	if err != nil {
		return nil, err
	}
	return v.sealer.seal(vaultPurpose(userID), b)
}

// OpenProviderTokens opens tokens sealed for userID; ErrSealInvalid for another user's row or
// another secret.
func (v *TokenVault) OpenProviderTokens(userID string, sealed []byte) (auth.ProviderTokens, error) {
	plain, err := v.sealer.open(vaultPurpose(userID), sealed)
	if err != nil {
		return auth.ProviderTokens{}, err
	}
	var s sealedKakaoTokens
	if err := json.Unmarshal(plain, &s); err != nil {
		return auth.ProviderTokens{}, ErrSealMalformed
	}
	return auth.ProviderTokens{Access: s.Access, AccessExpiry: s.AccessExpiry, Refresh: s.Refresh,
		RefreshExpiry: s.RefreshExpiry, Scopes: s.Scopes}, nil
}
