package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_096_WorldReadableTLSKeyRefused: serve refuses a TLS private key that every user can
// read, naming the variable and the fix; the same key with mode 0600 is accepted.
func TestServe_096_WorldReadableTLSKeyRefused(t *testing.T) {
	dir := t.TempDir()
	c := newTestCert(t, 1)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, c.certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o604, 0o666} {
		if err := os.WriteFile(keyFile, c.keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(keyFile, mode); err != nil {
			t.Fatal(err)
		}
		_, err := newCertReloader(certFile, keyFile, time.Minute, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_TLS_KEY_FILE") || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("key mode %04o: %v, want a refusal naming KAKAOAUTH_TLS_KEY_FILE", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o640} {
		if err := os.Chmod(keyFile, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := newCertReloader(certFile, keyFile, time.Minute, slog.New(slog.DiscardHandler)); err != nil {
			t.Errorf("key mode %04o refused: %v", mode, err)
		}
	}
}
