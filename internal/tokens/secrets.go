// Package tokens issues and checks kakaoauth's own credentials: ES256 access tokens (JWTs) and
// their JWKS, opaque refresh tokens (stored only as hashes), sealed flow cookies, CSRF tokens,
// and the signing keys at rest. Every symmetric key is derived from one operator secret,
// KAKAOAUTH_SECRET, with HKDF-SHA256 and a distinct label per use.
//
// Access tokens: header {alg: ES256, kid, typ: at+jwt}; claims iss, sub, aud, exp, iat, jti, sid.
// kid is the RFC 7638 thumbprint of the key. Verify accepts exactly that shape (see Issuer.Verify)
// with Leeway (30 s) on the time claims.
//
// Signing keys live in the store (auth.SigningKey): the private key as PKCS#8, sealed with
// AES-256-GCM under the key-encryption key and bound to its kid. Every replica signs with the
// newest key that is not retired; Rotate adds a key and retires the previous one, which keeps
// verifying (and stays in the JWKS) for the Overlap; replicas pick changes up with Reload, which
// the server should call about once a minute.
//
// Refresh tokens: "kar_" and 43 base64url characters (256 random bits); stored as SHA-256;
// successors derived with HMAC so a retry within the grace period gets the same successor.
//
// The package keeps no package-level mutable state; every type that reads the clock takes a
// Now function or a time argument.
package tokens

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MinSecretLength is the least number of characters KAKAOAUTH_SECRET must have.
const MinSecretLength = 32

// HKDF labels. Each sub-key has its own info string, so no key is ever used for two purposes;
// the "v1" lets a future format derive fresh keys from the same secret.
const (
	hkdfSalt           = "kakaoauth hkdf salt v1"
	infoKeyEncryption  = "kakaoauth v1 signing-key encryption"
	infoFlowSealing    = "kakaoauth v1 flow-cookie sealing"
	infoRefreshSuccess = "kakaoauth v1 refresh successor"
	infoCSRF           = "kakaoauth v1 csrf"

	successorLabel = "kakaoauth refresh successor\x00"
	csrfLabel      = "kakaoauth csrf\x00"
)

// Secrets holds the keys derived from KAKAOAUTH_SECRET. It is immutable and safe for concurrent
// use. The raw keys never leave it: callers get a Sealer, successors and CSRF tokens.
type Secrets struct {
	kek       *Sealer // seals signing keys at rest
	flow      *Sealer // seals flow cookies
	successor []byte  // HMAC key deriving a refresh token's successor
	csrf      []byte  // HMAC key of CSRF tokens
	vault     *Sealer // seals Kakao's tokens kept for the service (kakaotokens.go)
}

// DeriveSecrets derives every key from the operator's secret with HKDF-SHA256. The secret is any
// string of at least MinSecretLength characters (a pasted passphrase is fine); a shorter one is
// refused with an error that names KAKAOAUTH_SECRET, so configuration errors say what to fix.
func DeriveSecrets(secret string) (*Secrets, error) {
	if n := utf8.RuneCountInString(secret); n < MinSecretLength {
		return nil, fmt.Errorf("KAKAOAUTH_SECRET must be at least %d characters long (it has %d)", MinSecretLength, n)
	}
	derive := func(info string) ([]byte, error) {
		return hkdf.Key(sha256.New, []byte(secret), []byte(hkdfSalt), info, 32)
	}
	var keys [5][]byte
	for i, info := range []string{infoKeyEncryption, infoFlowSealing, infoRefreshSuccess, infoCSRF, infoKakaoTokens} {
		k, err := derive(info)
		if err != nil {
			return nil, fmt.Errorf("derive keys from KAKAOAUTH_SECRET: %w", err)
		}
		keys[i] = k
	}
	kek, err := NewSealer(keys[0])
	if err != nil {
		return nil, err
	}
	flow, err := NewSealer(keys[1])
	if err != nil {
		return nil, err
	}
	vault, err := NewSealer(keys[4])
	if err != nil {
		return nil, err
	}
	return &Secrets{kek: kek, flow: flow, successor: keys[2], csrf: keys[3], vault: vault}, nil
}

// FlowSealer returns the Sealer of short-lived browser state such as the login flow cookie.
// Distinct purposes (e.g. "flow", "return") must be passed to Seal and Open.
func (s *Secrets) FlowSealer() *Sealer { return s.flow }

// RefreshSuccessor returns the refresh token that succeeds token on rotation. It is derived, not
// random: base64url(HMAC-SHA256(successor key, "kakaoauth refresh successor\x00"+token)) with the
// refresh prefix. So a replay within the grace period is answered with the same successor (and,
// applied repeatedly, with any later generation) while only hashes are stored. Someone who holds
// a token can thus compute nothing without the server's secret, and a successor reveals nothing
// about its parent.
func (s *Secrets) RefreshSuccessor(token string) string {
	m := hmac.New(sha256.New, s.successor)
	m.Write([]byte(successorLabel))
	m.Write([]byte(token))
	var sum [sha256.Size]byte
	return RefreshPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0]))
}

// CSRFToken returns the signed double-submit token bound to sessionBinding: a value the server
// can recompute on every request, such as the hex SHA-256 of the refresh-token cookie or a random
// per-browser cookie. The token is base64url(HMAC-SHA256(csrf key, "kakaoauth csrf\x00"+binding)).
// An empty binding gives an empty token, which CheckCSRF never accepts.
func (s *Secrets) CSRFToken(sessionBinding string) string {
	if sessionBinding == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(s.csrfMAC(sessionBinding))
}

// CheckCSRF reports whether token is the CSRF token of sessionBinding. The comparison is
// constant-time; empty values never match.
func (s *Secrets) CheckCSRF(sessionBinding, token string) bool {
	if sessionBinding == "" || len(token) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	var got [sha256.Size]byte
	n, err := base64.RawURLEncoding.Strict().Decode(got[:], []byte(token))
	if err != nil || n != sha256.Size {
		return false
	}
	return hmac.Equal(got[:], s.csrfMAC(sessionBinding))
}

func (s *Secrets) csrfMAC(binding string) []byte {
	m := hmac.New(sha256.New, s.csrf)
	m.Write([]byte(csrfLabel))
	m.Write([]byte(binding))
	return m.Sum(nil)
}

// errWrongSecret is wrapped when a signing key cannot be unsealed.
var errWrongSecret = errors.New("KAKAOAUTH_SECRET does not match the secret the signing keys were stored with")
