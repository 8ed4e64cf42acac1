package server_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestSessions_IPFromTrustedProxy: a session started through a trusted proxy records the
// forwarded client address; through an untrusted peer, the peer's.
func TestSessions_IPFromTrustedProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []netip.Prefix
		want    string
	}{
		{"trusted", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "198.51.100.7"},
		{"untrusted", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.TrustedProxies = tc.proxies }))
			at, idt := s.SDKToken(t, 4217730412856391026, nil)
			r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/kakao/sdk",
				map[string]string{"access_token": at, "id_token": idt}, map[string]string{"X-Forwarded-For": "203.0.113.1, 198.51.100.7"})
			b := servertest.Decode(t, r)
			if r.StatusCode != 200 {
				t.Fatalf("SDK login: %d %v", r.StatusCode, b)
			}
			access := b["token"].(map[string]any)["access"].(string)
			r, m := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/sessions", access)
			ss, _ := m["sessions"].([]any)
			if r.StatusCode != 200 || len(ss) != 1 {
				t.Fatalf("GET /auth/sessions: %d %v", r.StatusCode, m)
			}
			if got := ss[0].(map[string]any)["ip"]; got != tc.want {
				t.Errorf("session ip %v, want %s", got, tc.want)
			}
		})
	}
}
