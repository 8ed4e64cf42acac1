package auth

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// NewID returns a new identifier of a user or a session: a version-7 UUID (RFC 9562) in its
// lower-case text form, made of 48 bits of Unix milliseconds of now, the version and variant
// bits, and 74 random bits. The caller passes its clock's now, so that a service or a store with
// an injected clock makes ids of that moment.
//
// It is a UUID because the HTTP contract (openapi.json) documents user ids, the sub of our
// tokens, as UUIDs, and the users of databases made before this function already have UUIDv7
// ids. Ids made one after another sort together, so a store's index of them grows at one end
// instead of touching a random page per insert, and their text sorts as their bytes do (hex
// digits are in ASCII order, the hyphens stand at fixed places). They are not secrets.
//
// Everywhere else ids are opaque strings: sessions made before this function have base32 ids,
// and nothing may parse an id.
func NewID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	// crypto/rand.Read never returns an error (it crashes the program if the system's source fails).
	_, _ = rand.Read(b[6:])
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	return formatID(b)
}

// formatID writes 16 bytes in the text form of a UUID: 8-4-4-4-12 lower-case hex digits.
func formatID(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
