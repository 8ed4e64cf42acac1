package auth

import (
	"crypto/rand"
	"encoding/base32"
	"time"
)

// idEncoding is base32 with the "extended hex" alphabet (RFC 4648 §7: 0-9 then a-v), in lower
// case, whose characters are in ASCII order, so the text of ids sorts as their bytes do. (The
// standard alphabet puts 2-7 after z, and ids made a millisecond apart could sort backwards.)
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// idLen is the length of an id's text: 128 bits in 5-bit characters.
const idLen = 26

// NewID returns a 128-bit identifier of users and sessions in lower-case base32 (extended hex):
// 48 bits of Unix milliseconds of now, then 80 random bits. Ids made one after another sort
// together, so a store's index of them grows at one end instead of touching a random page per
// insert; they are not secrets. The caller passes its clock's now, so tests that fix the clock
// get ids of that moment.
//
// Ids are opaque strings everywhere else: stores created before this scheme hold UUIDs as user
// ids, and nothing may parse an id.
func NewID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	// crypto/rand.Read never returns an error (it crashes the program if the system's source fails).
	_, _ = rand.Read(b[6:])
	var s [idLen]byte
	idEncoding.Encode(s[:], b[:])
	return string(s[:])
}
