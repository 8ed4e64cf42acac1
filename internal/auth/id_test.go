package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"
)

// uuidV7 is the text form of a version-7, variant-10 UUID in lower case.
var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestNewID: ids are distinct, UUIDv7 text of 36 characters, and sort by creation time.
func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	start := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	for i := 0; i < 10000; i++ {
		// Several ids a millisecond, so the loop crosses many millisecond boundaries.
		id := NewID(start.Add(time.Duration(i) * 337 * time.Microsecond))
		if len(id) != 36 || seen[id] {
			t.Fatalf("id %q: length %d or repeated", id, len(id))
		}
		if !uuidV7.MatchString(id) {
			t.Fatalf("id %q: not the lower-case text of a version-7 UUID", id)
		}
		// The first 13 characters (8 hex, a hyphen, 4 hex) are the 48 bits of milliseconds.
		if prev != "" && id[:13] < prev[:13] {
			t.Fatalf("id %q sorts before the earlier %q", id, prev)
		}
		seen[id], prev = true, id
	}
	// The text sorts as the bytes do, whatever the bytes (a millisecond boundary in the loop
	// above is rare): random pairs, and the pair whose first 5 bits are 25 and 26 (z and 2 in
	// the standard base32 alphabet, which the ids once used).
	pairs := [][2][16]byte{{{25 << 3}, {26 << 3}}}
	for range 10000 {
		var a, b [16]byte
		_, _ = rand.Read(a[:])
		_, _ = rand.Read(b[:])
		pairs = append(pairs, [2][16]byte{a, b})
	}
	for _, p := range pairs {
		ea, eb := formatID(p[0]), formatID(p[1])
		if bytes.Compare(p[0][:], p[1][:]) != strings.Compare(ea, eb) {
			t.Fatalf("%x vs %x: text %q vs %q sorts the other way", p[0], p[1], ea, eb)
		}
		if raw, err := hex.DecodeString(strings.ReplaceAll(ea, "-", "")); err != nil || !bytes.Equal(raw, p[0][:]) {
			t.Fatalf("formatID(%x) = %q, which does not read back (%v)", p[0], ea, err)
		}
	}
}

// TestNewID_InjectedTime: an id carries the milliseconds of the time it was given, not of the
// wall clock, so a service with a fixed clock makes ids of that moment; ids of one millisecond
// differ in their random part only.
func TestNewID_InjectedTime(t *testing.T) {
	cases := []struct {
		name string
		now  time.Time
	}{
		{"Unix epoch", time.Unix(0, 0)},
		{"suite time", time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)},
		{"other zone", time.Date(2026, 3, 1, 18, 30, 0, 123456789, time.FixedZone("KST", 9*3600))},
		{"last millisecond of 48 bits", time.UnixMilli(1<<48 - 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := NewID(tc.now), NewID(tc.now)
			if a == b {
				t.Fatalf("two ids of one moment are both %q", a)
			}
			for _, id := range []string{a, b} {
				raw, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
				if err != nil || len(raw) != 16 {
					t.Fatalf("decode %q: %d bytes, %v", id, len(raw), err)
				}
				var ms [8]byte
				copy(ms[2:], raw[:6])
				if got, want := int64(binary.BigEndian.Uint64(ms[:])), tc.now.UnixMilli(); got != want {
					t.Errorf("id %q carries %d ms, want %d", id, got, want)
				}
				if !uuidV7.MatchString(id) {
					t.Errorf("id %q: not a version-7 UUID", id)
				}
			}
			if a[:13] != b[:13] {
				t.Errorf("ids of one millisecond %q and %q differ in their time part", a, b)
			}
		})
	}
	if a, b := NewID(time.UnixMilli(1000)), NewID(time.UnixMilli(1001)); a >= b {
		t.Errorf("id of 1001 ms %q does not sort after the id of 1000 ms %q", b, a)
	}
}

// TestNewID_Allocs: an id costs one allocation, its string (NewID is on the login path).
func TestNewID_Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts do not hold under -race")
	}
	now := time.Now()
	if n := testing.AllocsPerRun(100, func() { _ = NewID(now) }); n > 1 {
		t.Errorf("NewID allocates %v times, want 1", n)
	}
}
