package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCert is a self-signed certificate for 127.0.0.1, as PEM.
type testCert struct {
	serial          *big.Int
	certPEM, keyPEM []byte
	x509            *x509.Certificate
}

func newTestCert(t *testing.T, serial int64) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "kakaoauth test"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := x509.ParseCertificate(der)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		serial: tmpl.SerialNumber, x509: parsed,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	}
}

// writePair puts certPEM and keyPEM in place the way a renewal does: written beside, then
// renamed over the old files.
func writePair(t *testing.T, certFile, keyFile string, certPEM, keyPEM []byte) {
	t.Helper()
	for _, f := range []struct {
		path string
		data []byte
	}{{keyFile, keyPEM}, {certFile, certPEM}} {
		if err := os.WriteFile(f.path+".new", f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f.path+".new", f.path); err != nil {
			t.Fatal(err)
		}
	}
}

// servedSerial is the serial number of the certificate the server shows on a new connection,
// checked against the trusted certificates.
func servedSerial(t *testing.T, url string, trusted ...*x509.Certificate) *big.Int {
	t.Helper()
	pool := x509.NewCertPool()
	for _, c := range trusted {
		pool.AddCert(c)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true,
	}}
	r, err := c.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over https: %v", err)
	}
	r.Body.Close()
	if r.StatusCode != 200 || r.TLS == nil {
		t.Fatalf("GET /healthz: %d, TLS %v; want 200 over TLS", r.StatusCode, r.TLS != nil)
	}
	if r.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("TLS version %x, want at least 1.2", r.TLS.Version)
	}
	return r.TLS.PeerCertificates[0].SerialNumber
}

// TestServe_TLS: with KAKAOAUTH_TLS_CERT_FILE and KAKAOAUTH_TLS_KEY_FILE the server speaks
// https; a renewed pair put in place is served after the reload interval without a restart,
// and a new pair that does not match keeps the previous certificate, with a warning.
func TestServe_TLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, second, third := newTestCert(t, 1), newTestCert(t, 2), newTestCert(t, 3)
	writePair(t, certFile, keyFile, first.certPEM, first.keyPEM)
	d := startDev(t, map[string]string{
		"KAKAOAUTH_TLS_CERT_FILE": certFile, "KAKAOAUTH_TLS_KEY_FILE": keyFile, "KAKAOAUTH_TLS_RELOAD": "100ms",
	})
	if !strings.HasPrefix(d.BaseURL, "https://127.0.0.1:") {
		t.Fatalf("public URL %s, want https://127.0.0.1:<port>", d.BaseURL)
	}
	trusted := []*x509.Certificate{first.x509, second.x509, third.x509}
	if got := servedSerial(t, d.BaseURL, trusted...); got.Cmp(first.serial) != 0 {
		t.Fatalf("serial %v served, want %v", got, first.serial)
	}
	// Plain http on the TLS port is refused.
	if r, err := http.Get("http" + strings.TrimPrefix(d.BaseURL, "https") + "/healthz"); err == nil {
		r.Body.Close()
		if r.StatusCode == 200 {
			t.Fatal("plain http answered 200 on the TLS port")
		}
	}

	writePair(t, certFile, keyFile, second.certPEM, second.keyPEM)
	waitServed(t, d.BaseURL, second.serial, trusted)

	// The third certificate with the first's key: not loaded.
	writePair(t, certFile, keyFile, third.certPEM, first.keyPEM)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(d.Stderr.String(), "new certificate not loaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the mismatched pair; stderr:\n%s", d.Stderr.String())
		}
		servedSerial(t, d.BaseURL, trusted...)
		time.Sleep(50 * time.Millisecond)
	}
	if got := servedSerial(t, d.BaseURL, trusted...); got.Cmp(second.serial) != 0 {
		t.Fatalf("after a mismatched pair, serial %v served; want the previous %v", got, second.serial)
	}
}

// waitServed waits, past a few reload intervals, for the certificate with serial to be served.
func waitServed(t *testing.T, url string, serial *big.Int, trusted []*x509.Certificate) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := servedSerial(t, url, trusted...)
		if got.Cmp(serial) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("serial %v still served, want %v after the reload", got, serial)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServe_TLSRefusedAtStart: a certificate and a key that do not belong together, or a
// missing file, stop the server before it listens, naming the variables.
func TestServe_TLSRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	a, b := newTestCert(t, 1), newTestCert(t, 2)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePair(t, certFile, keyFile, a.certPEM, b.keyPEM)
	for _, tc := range []struct {
		name, cert, key string
		want            []string
	}{
		{"mismatched pair", certFile, keyFile, []string{"KAKAOAUTH_TLS_CERT_FILE, KAKAOAUTH_TLS_KEY_FILE:", "private key does not match"}},
		{"missing key", certFile, filepath.Join(dir, "none.pem"), []string{"KAKAOAUTH_TLS_KEY_FILE:", "none.pem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{
				"KAKAOAUTH_ADDR": "127.0.0.1:0", "KAKAOAUTH_EMULATOR_ADDR": "127.0.0.1:0",
				"KAKAOAUTH_DATABASE_URL":  "sqlite:" + filepath.Join(t.TempDir(), "kakaoauth.db"),
				"KAKAOAUTH_TLS_CERT_FILE": tc.cert, "KAKAOAUTH_TLS_KEY_FILE": tc.key,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout, stderr strings.Builder
			err := run(ctx, []string{"kakaoauth", "dev"}, func(k string) string { return vars[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatal("dev started with a bad certificate pair")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(stdout.String(), "listening:") {
				t.Errorf("it listened: %s", stdout.String())
			}
		})
	}
}

// TestConfig_TLS: the certificate and key come together, and a public URL given beside them is
// https.
func TestConfig_TLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  map[string]string
		want string
	}{
		{"cert without key", map[string]string{"KAKAOAUTH_TLS_CERT_FILE": "/etc/cert.pem"}, "KAKAOAUTH_TLS_KEY_FILE: required with KAKAOAUTH_TLS_CERT_FILE"},
		{"key without cert", map[string]string{"KAKAOAUTH_TLS_KEY_FILE": "/etc/key.pem"}, "KAKAOAUTH_TLS_CERT_FILE: required with KAKAOAUTH_TLS_KEY_FILE"},
		{"http public URL", map[string]string{"KAKAOAUTH_TLS_CERT_FILE": "/etc/cert.pem", "KAKAOAUTH_TLS_KEY_FILE": "/etc/key.pem", "KAKAOAUTH_PUBLIC_URL": "http://127.0.0.1:8443"}, "KAKAOAUTH_PUBLIC_URL: must be https"},
		{"reload interval", map[string]string{"KAKAOAUTH_TLS_RELOAD": "1ms"}, "KAKAOAUTH_TLS_RELOAD: want a duration from 100ms to 1h"},
		{"trusted proxies", map[string]string{"KAKAOAUTH_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}, `KAKAOAUTH_TRUSTED_PROXIES: "proxy.internal" is not an IP address`},
	} {
		for _, dev := range []bool{false, true} {
			_, err := loadConfig(env(with(dev, tc.set)), dev)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s (dev %v): error %v, want %q", tc.name, dev, err, tc.want)
			}
		}
	}
	c, err := loadConfig(env(with(false, map[string]string{
		"KAKAOAUTH_TLS_CERT_FILE": "/etc/cert.pem", "KAKAOAUTH_TLS_KEY_FILE": "/etc/key.pem", "KAKAOAUTH_TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.7",
	})), false)
	if err != nil || c.TLSReload != 5*time.Second || len(c.TrustedProxies) != 2 {
		t.Fatalf("good TLS and proxy settings: %+v, %v", c, err)
	}
	if got := c.kakaoauth(nil).TrustedProxies; len(got) != 2 || got[1] != "192.0.2.7" {
		t.Fatalf("kakaoauth.Config.TrustedProxies %v, want the two", got)
	}
}
