package tokens

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestClaimsWriter: the appended claims are the JSON encoding/json would write, for ids that
// need no escaping and for strings that do.
func TestClaimsWriter(t *testing.T) {
	type wire struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud any    `json:"aud"`
		Exp int64  `json:"exp"`
		Iat int64  `json:"iat"`
		Jti string `json:"jti"`
		Sid string `json:"sid"`
	}
	for _, tc := range []struct {
		name string
		aud  any
		sub  string
		sid  string
	}{
		{"ids", "https://auth.example", "01934f6e-7c1a-7b2c-9d3e-4f5a6b7c8d9e", "06ELQ1G2H3J4K5M6N7P8Q9R0ST"},
		{"several audiences", []string{"https://a.example", "https://b.example"}, "u", "s"},
		{"escapes", "https://auth.example/\"x\"", "quote\" back\\slash <tag> & \u0001 한글 \u2028", "\x7f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss := "https://auth.example/<iss>"
			w, err := newClaimsWriter(iss, tc.aud)
			if err != nil {
				t.Fatal(err)
			}
			got, err := w.write(tc.sub, 1700000900, 1700000000, "jti-value_-", tc.sid)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(wire{iss, tc.sub, tc.aud, 1700000900, 1700000000, "jti-value_-", tc.sid})
			if string(got) != string(want) {
				t.Errorf("claims\n got %s\nwant %s", got, want)
			}
			var back wire
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("claims are not JSON: %v", err)
			}
			if back.Sub != tc.sub || back.Sid != tc.sid {
				t.Errorf("round trip: %s", cmp.Diff(tc.sub+"|"+tc.sid, back.Sub+"|"+back.Sid))
			}
		})
	}
}
