package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// RefreshPrefix starts every refresh token. It makes a leaked token recognisable to secret
// scanners and log redaction (checklist #97) and lets garbage be refused without a database
// lookup. It carries no secret.
const RefreshPrefix = "kar_"

// refreshBodyLen is the length of the base64url body: 32 bytes (256 bits) unpadded.
var refreshBodyLen = base64.RawURLEncoding.EncodedLen(32)

// RefreshTokenLength is the length of every refresh token: the prefix and 43 characters.
var RefreshTokenLength = len(RefreshPrefix) + refreshBodyLen

// NewRefreshToken returns a new refresh token: RefreshPrefix followed by 256 bits from
// crypto/rand in unpadded base64url (43 characters).
func NewRefreshToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return RefreshPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashRefresh returns the SHA-256 of a refresh token, the only form in which tokens are stored.
// An unkeyed hash suffices: the token has 256 bits of entropy, so it cannot be guessed from it.
func HashRefresh(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ValidRefreshFormat reports whether token has the shape of a refresh token (prefix, 43
// canonical base64url characters), so that garbage is refused before any lookup.
func ValidRefreshFormat(token string) bool {
	body, ok := strings.CutPrefix(token, RefreshPrefix)
	if !ok || len(body) != refreshBodyLen || !validB64(body) {
		return false
	}
	var b [32]byte
	n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(body))
	return err == nil && n == 32
}
