package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/ratelimit"
)

// TestClientAddr is the client-address rule: forwarding headers count only from a trusted
// peer, are walked from the right past the trusted proxies, and a malformed one falls back to
// the peer.
func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.7", "2001:db8:ffff::/48"})
	if err != nil {
		t.Fatal(err)
	}
	const proxy = "10.1.2.3:4000" // a trusted peer
	check := func(t *testing.T, trusted []netip.Prefix, peer string, header http.Header, want string) {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr, r.Header = peer, header
		if got := clientAddr(r, trusted); got != want {
			t.Errorf("client address %q, want %q", got, want)
		}
	}
	t.Run("no trusted proxies: headers ignored", func(t *testing.T) {
		check(t, nil, proxy, http.Header{"X-Forwarded-For": {"198.51.100.1"}, "Forwarded": {"for=198.51.100.2"}}, "10.1.2.3")
	})
	t.Run("X-Forwarded-For wins over Forwarded", func(t *testing.T) {
		check(t, trusted, proxy, http.Header{"Forwarded": {"for=198.51.100.2"}, "X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1")
	})
	for _, tc := range []struct {
		name, peer string
		xff        []string // one value per header
		want       string
	}{
		{"untrusted peer: header ignored", "203.0.113.9:4000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer, no header", proxy, nil, "10.1.2.3"},
		{"trusted peer, one hop", proxy, []string{"198.51.100.1"}, "198.51.100.1"},
		{"chain of proxies skipped from the right", proxy, []string{"198.51.100.1, 192.0.2.7, 10.9.9.9"}, "198.51.100.1"},
		{"spoofed leftmost entries ignored", proxy, []string{"1.1.1.1, 127.0.0.1, 198.51.100.1"}, "198.51.100.1"},
		{"spoofed proxy address left of the client ignored", proxy, []string{"10.0.0.1, 198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"several headers are one list", proxy, []string{"1.1.1.1", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"every hop trusted: the furthest", proxy, []string{"10.5.5.5, 10.9.9.9"}, "10.5.5.5"},
		{"hop with a port", proxy, []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6 hop", proxy, []string{"2001:db8::17"}, "2001:db8::17"},
		{"IPv6 peer trusted", "[2001:db8:ffff::1]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped hop", proxy, []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"garbage: the peer", proxy, []string{"not-an-ip"}, "10.1.2.3"},
		{"empty entry: the peer", proxy, []string{"198.51.100.1,,"}, "10.1.2.3"},
		{"garbage right of the client: the peer", proxy, []string{"198.51.100.1, unknown"}, "10.1.2.3"},
		{"garbage left of the client: not reached", proxy, []string{"<script>, 198.51.100.1"}, "198.51.100.1"},
		{"peer that is not an IP", "pipe", []string{"198.51.100.1"}, "pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, trusted, tc.peer, http.Header{"X-Forwarded-For": tc.xff}, tc.want)
		})
	}
	for _, tc := range []struct {
		name      string
		forwarded []string // one value per header
		want      string
	}{
		{"Forwarded for=", []string{"for=198.51.100.1;proto=https;by=10.1.2.3"}, "198.51.100.1"},
		{"Forwarded quoted IPv6 with port", []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded quoted IPv6 without port", []string{`For="[2001:db8:cafe::17]"`}, "2001:db8:cafe::17"},
		{"Forwarded chain, spoofed first element ignored", []string{`for=1.1.1.1, for=198.51.100.1;proto=https, for=192.0.2.7`}, "198.51.100.1"},
		{"Forwarded in two headers", []string{"for=1.1.1.1", `for="198.51.100.1:80"`}, "198.51.100.1"},
		{"Forwarded unbracketed IPv6 is all address", []string{`for="2001:db8::1:4711"`}, "2001:db8::1:4711"},
		{"Forwarded unknown: the peer", []string{"for=unknown"}, "10.1.2.3"},
		{"Forwarded obfuscated: the peer", []string{"for=_hidden"}, "10.1.2.3"},
		{"Forwarded element without for=: the peer", []string{"proto=https"}, "10.1.2.3"},
		{"Forwarded zone: the peer", []string{`for="[fe80::1%eth0]"`}, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, trusted, proxy, http.Header{"Forwarded": tc.forwarded}, tc.want)
		})
	}
}

// TestParseTrustedProxies: CIDRs and bare IPs are read; every bad item is named.
func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{" 10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::ffff:198.51.100.1", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "198.51.100.1/32", "10.0.0.0/8"}
	for i, p := range got {
		if i >= len(want) || p.String() != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	_, err = ParseTrustedProxies([]string{"10.0.0.0/33", "proxy.internal", "10.0.0.1"})
	if err == nil || !strings.Contains(err.Error(), `"10.0.0.0/33"`) || !strings.Contains(err.Error(), `"proxy.internal"`) || strings.Contains(err.Error(), `"10.0.0.1"`) {
		t.Fatalf("error %v, want one naming 10.0.0.0/33 and proxy.internal only", err)
	}
}

// TestClientIP_Logged: the request log carries the client address worked out from a
// trusted proxy's header.
func TestClientIP_Logged(t *testing.T) {
	s, _, logs := bareServer(t)
	s.cfg.TrustedProxies, _ = ParseTrustedProxies([]string{"192.0.2.0/24"})
	r := httptest.NewRequest("GET", "/healthz", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	s.ServeHTTP(httptest.NewRecorder(), r)
	if !strings.Contains(logs.String(), `"client_ip":"198.51.100.1"`) {
		t.Fatalf("log %s: want client_ip 198.51.100.1", logs)
	}
}

// limitedServer is bareServer with a burst of three per client and route, trusting proxies,
// on a real listener on 127.0.0.1.
func limitedServer(t *testing.T, proxies ...string) string {
	t.Helper()
	s, _, _ := bareServer(t)
	var err error
	if s.cfg.TrustedProxies, err = ParseTrustedProxies(proxies); err != nil {
		t.Fatal(err)
	}
	s.cfg.RateLimit = RateLimit{Burst: 3, Per: time.Hour}
	s.budgets = ratelimit.NewLocal(time.Now)
	s.cfg.FailureCost = 1 // these requests fail (400): count each once, as a success would
	s.handler = s.routes()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

// callbackStatus sends GET /auth/kakao/callback (rate limited; without a state it is a 400)
// with X-Forwarded-For xff.
func callbackStatus(t *testing.T, base, xff string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/auth/kakao/callback", nil)
	req.Header.Set("X-Forwarded-For", xff)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return r.StatusCode
}

// TestRateLimit_80_SpoofedForwardedFor: from an untrusted peer, a new X-Forwarded-For per
// request does not open a new rate-limit bucket; from a trusted proxy each forwarded client has
// a bucket of its own, and the same client is still limited.
func TestRateLimit_80_SpoofedForwardedFor(t *testing.T) {
	t.Run("untrusted peer", func(t *testing.T) {
		base := limitedServer(t, "192.0.2.0/24")
		for i := range 4 {
			got, want := callbackStatus(t, base, "198.51.100."+strconv.Itoa(i)), 400
			if i == 3 {
				want = 429
			}
			if got != want {
				t.Fatalf("request %d with a fresh X-Forwarded-For: %d, want %d", i, got, want)
			}
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		base := limitedServer(t, "127.0.0.0/8")
		for i := range 4 {
			if got := callbackStatus(t, base, "198.51.100."+strconv.Itoa(i)); got != 400 {
				t.Fatalf("client %d, first request: %d, want 400 (a bucket of its own)", i, got)
			}
		}
		// Client 0 has two requests left; a spoofed entry left of it changes nothing.
		for i, want := range []int{400, 400, 429} {
			if got := callbackStatus(t, base, "1.1.1.1, 198.51.100.0"); got != want {
				t.Fatalf("client 0, request %d with a spoofed leftmost entry: %d, want %d", i+2, got, want)
			}
		}
	})
}
