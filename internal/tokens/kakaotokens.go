package tokens

import (
	"encoding/json"
	"time"

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

// NewTokenVault derives the vault's key from the operator's secret (as DeriveSecrets does; a
// caller holding the Secrets takes Secrets.TokenVault).
func NewTokenVault(secret string) (*TokenVault, error) {
	s, err := DeriveSecrets(secret)
	if err != nil {
		return nil, err
	}
	return s.TokenVault(), nil
}

// TokenVault returns the vault of Kakao's tokens, keyed by its own derivation of the secret.
func (s *Secrets) TokenVault() *TokenVault { return &TokenVault{sealer: s.vault} }

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
