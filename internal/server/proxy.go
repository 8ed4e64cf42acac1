package server

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads the addresses of the reverse proxies in front of the server: CIDRs
// ("10.0.0.0/8", "fd00::/8") and bare IPs ("192.0.2.7", a /32 or /128). Every bad item is
// named in the error.
func ParseTrustedProxies(items []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	for _, v := range items {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if strings.Contains(v, "/") {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%q is not a CIDR such as 10.0.0.0/8", v))
				continue
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			bad = append(bad, fmt.Sprintf("%q is not an IP address or a CIDR such as 10.0.0.0/8", v))
			continue
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "\n"))
	}
	return out, nil
}

// clientIP is the address of the client a request comes from: the peer, unless the peer is one
// of Config.TrustedProxies, in which case the address the proxies forwarded. Rate limits, the
// request log and the sessions' recorded IP use it.
func (s *Server) clientIP(r *http.Request) string {
	return clientAddr(r, s.cfg.TrustedProxies)
}

// clientAddr works out the client address against trusted. Without trusted proxies, or when
// the peer is not one, the forwarding headers are ignored: anyone can send them. From a trusted
// peer, X-Forwarded-For (or, without it, Forwarded) is walked from the right, the end the
// proxies append to, skipping the proxies themselves; the first untrusted address is the
// client. Whatever a client put further left is never reached, so it cannot prepend a spoofed
// address. A malformed entry on the way falls back to the peer.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	if len(trusted) == 0 {
		return peerHost(r.RemoteAddr) // no proxies configured: the common case, no parsing
	}
	peer, ok := peerAddr(r.RemoteAddr)
	if !ok {
		return peerHost(r.RemoteAddr)
	}
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops, ok := forwardedHops(r.Header)
	if !ok || len(hops) == 0 {
		return peer.String()
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return peer.String()
		}
		if !isTrusted(a, trusted) || i == 0 {
			// The first untrusted hop; or, when every hop is a proxy, the furthest one.
			return a.String()
		}
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr reads the connection's address ("192.0.2.1:1234", "[2001:db8::1]:1234").
func peerAddr(remote string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// peerHost is RemoteAddr without its port, for an address that is not an IP (a test's, or a
// Unix socket's).
func peerHost(remote string) string {
	host := remote
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// forwardedHops lists the forwarded addresses, oldest first, in the order the headers came:
// every X-Forwarded-For header, or the for= of every Forwarded element (RFC 7239) when there is
// no X-Forwarded-For. ok is false when a Forwarded element has no for=.
func forwardedHops(h http.Header) (hops []string, ok bool) {
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, v := range xff {
			for _, hop := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
		return hops, true
	}
	for _, v := range h.Values("Forwarded") {
		for _, elem := range splitQuoted(v, ',') {
			hop, found := forwardedFor(elem)
			if !found {
				return nil, false
			}
			hops = append(hops, hop)
		}
	}
	return hops, true
}

// forwardedFor is the for= value of one Forwarded element ("for=192.0.2.60;proto=https"),
// unquoted.
func forwardedFor(elem string) (string, bool) {
	for _, pair := range splitQuoted(elem, ';') {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = strings.ReplaceAll(v[1:len(v)-1], `\`, "")
		}
		return v, true
	}
	return "", false
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseHop reads one forwarded address: an IP, with or without a port; IPv6 with a port in
// brackets ("[2001:db8::1]:4711"), as Forwarded writes it also without one ("[2001:db8::1]").
// "unknown" and obfuscated identifiers ("_hidden") are not addresses.
func parseHop(v string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(v); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(v); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
		if a, err := netip.ParseAddr(v[1 : len(v)-1]); err == nil && a.Is6() && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
