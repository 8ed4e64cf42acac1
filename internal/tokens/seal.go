package tokens

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Errors of Sealer.Open. They are distinct so that a caller can tell a stale cookie (expired) from
// a forged or foreign one (invalid) and from garbage (malformed); all three mean "do not trust".
var (
	// ErrSealMalformed means the text is not a sealed value of this format at all.
	ErrSealMalformed = errors.New("sealed value is malformed")
	// ErrSealInvalid means authentication failed: the value was tampered with, sealed for another
	// purpose, or sealed with another key.
	ErrSealInvalid = errors.New("sealed value is invalid (tampered, other purpose or other key)")
	// ErrSealExpired means the value was authentic but its expiry has passed.
	ErrSealExpired = errors.New("sealed value has expired")
)

const (
	sealVersion  = 1
	sealADPrefix = "kakaoauth sealed v1\x00"
	// maxSealedText bounds the input of Open: sealed values are meant for cookies (≤ 4 KB).
	maxSealedText = 8192
)

// Sealer encrypts and authenticates small payloads (AES-256-GCM) for storage in places the
// client holds, such as cookies. A purpose string is bound as additional data, so a value sealed
// for one purpose cannot be opened for another, and an expiry travels inside the ciphertext.
// A Sealer is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer with a 32-byte AES-256 key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealer key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts payload for purpose, valid until expires, and returns unpadded base64url text
// fit for a cookie value. The layout before encoding is version(1) ‖ nonce(12) ‖ GCM(expiry
// Unix seconds (8, big-endian) ‖ payload), with "kakaoauth sealed v1\x00"+purpose as additional
// data. Each call draws a fresh random nonce.
func (s *Sealer) Seal(purpose string, payload []byte, expires time.Time) (string, error) {
	plain := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint64(plain, uint64(expires.Unix()))
	copy(plain[8:], payload)
	out, err := s.seal(purpose, plain)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open authenticates and decrypts text sealed for purpose and returns its payload, if it has not
// expired at now. Errors wrap ErrSealMalformed, ErrSealInvalid or ErrSealExpired.
func (s *Sealer) Open(purpose, text string, now time.Time) ([]byte, error) {
	if len(text) > maxSealedText {
		return nil, ErrSealMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || !validB64(text) {
		return nil, ErrSealMalformed
	}
	plain, err := s.open(purpose, raw)
	if err != nil {
		return nil, err
	}
	if len(plain) < 8 {
		return nil, ErrSealMalformed
	}
	exp := int64(binary.BigEndian.Uint64(plain))
	if now.Unix() >= exp {
		return nil, ErrSealExpired
	}
	return plain[8:], nil
}

// seal is the binary form shared by Seal and the signing-key encryption.
func (s *Sealer) seal(purpose string, plain []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("sealer nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:1+ns], plain, []byte(sealADPrefix+purpose)), nil
}

func (s *Sealer) open(purpose string, raw []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(raw) < 1+ns+s.aead.Overhead() || raw[0] != sealVersion {
		return nil, ErrSealMalformed
	}
	plain, err := s.aead.Open(nil, raw[1:1+ns], raw[1+ns:], []byte(sealADPrefix+purpose))
	if err != nil {
		return nil, ErrSealInvalid
	}
	return plain, nil
}

// validB64 reports whether s uses only the unpadded base64url alphabet. The standard decoder
// silently skips '\r' and '\n', which would let two different strings carry one value.
func validB64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
