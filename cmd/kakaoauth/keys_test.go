package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
)

// TestKeyMaintenance_40_ScheduledRotation: the signing key is replaced once it reaches the
// rotation age; the old key stays published so tokens it signed keep verifying.
func TestKeyMaintenance_40_ScheduledRotation(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secrets, err := tokens.DeriveSecrets(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	iss, err := tokens.NewIssuer(ctx, tokens.IssuerConfig{Store: db, Secrets: secrets, Issuer: "https://auth.example.com", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	k0 := iss.SigningKeyID()

	mu.Lock()
	now = now.Add(59 * time.Minute)
	mu.Unlock()
	app.KeyMaintenance(ctx, iss, time.Hour, log)
	if iss.SigningKeyID() != k0 {
		t.Fatalf("rotated after 59 minutes with a 1h period")
	}
	old, _, err := iss.Sign(tokens.AccessClaims{Subject: "u", SessionID: "s"})
	if err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	app.KeyMaintenance(ctx, iss, time.Hour, log)
	k1 := iss.SigningKeyID()
	if k1 == k0 {
		t.Fatalf("not rotated after 61 minutes with a 1h period")
	}
	if !slices.Contains(iss.KeyIDs(), k0) || !strings.Contains(string(iss.JWKS()), k0) {
		t.Fatalf("old key %s dropped at once: %v", k0, iss.KeyIDs())
	}
	if _, err := iss.Verify(old); err != nil {
		t.Fatalf("token signed before the rotation: %v", err)
	}
	// Off: never rotates.
	mu.Lock()
	now = now.Add(1000 * time.Hour)
	mu.Unlock()
	app.KeyMaintenance(ctx, iss, 0, log)
	if iss.SigningKeyID() != k1 {
		t.Fatalf("rotated with rotation off")
	}
}

// TestKeys_96_RotateCommand: `kakaoauth keys rotate` against the database of a running server
// makes a new signing key; after the server's next key reload it signs with it, and tokens
// signed before keep working (no 401 spike).
func TestKeys_96_RotateCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "k.db")
	d := startDev(t, map[string]string{"KAKAOAUTH_DATABASE_URL": db, "KAKAOAUTH_KEY_RELOAD": "1s"})
	access, _, _ := d.sdkSignIn(t, 4217730412856391024)
	kid0 := tokenKID(t, access)

	out := runKeysCmd(t, db, "rotate")
	if !strings.Contains(out, "(was "+kid0+")") {
		t.Fatalf("keys rotate output does not name the old key %s:\n%s", kid0, out)
	}
	waitFor(t, func() bool { a, _, _ := d.sdkSignIn(t, 4217730412856391024); return tokenKID(t, a) != kid0 })
	if st := meStatus(t, d, access); st != http.StatusOK {
		t.Fatalf("token of the retired key: %d, want 200 (it verifies for the overlap)", st)
	}
	if jwks := readBody(t, do(t, http.DefaultClient, "GET", d.BaseURL+"/.well-known/jwks.json", nil, "")); !strings.Contains(jwks, kid0) {
		t.Errorf("retired key left the JWKS at once: %s", jwks)
	}
	if list := runKeysCmd(t, db, "list"); !strings.Contains(list, kid0+"  ES256") || !strings.Contains(list, "retired, verifies until") {
		t.Errorf("keys list:\n%s", list)
	}
}

// TestKeys_96_DropOld: after a leak, `keys rotate -drop-old` deletes the old keys; once the
// server reloads, tokens they signed are refused and gone from the JWKS, while the session's
// refresh token still gets a fresh access token.
func TestKeys_96_DropOld(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "k.db")
	d := startDev(t, map[string]string{"KAKAOAUTH_DATABASE_URL": db, "KAKAOAUTH_KEY_RELOAD": "1s"})
	access, refresh, _ := d.sdkSignIn(t, 4217730412856391024)
	kid0 := tokenKID(t, access)
	if st := meStatus(t, d, access); st != http.StatusOK {
		t.Fatalf("me before: %d", st) // also puts the token in the verify cache
	}

	out := runKeysCmd(t, db, "rotate", "-drop-old")
	if !strings.Contains(out, "deleted 1 other key(s): "+kid0) {
		t.Fatalf("keys rotate -drop-old output:\n%s", out)
	}
	waitFor(t, func() bool { return meStatus(t, d, access) == http.StatusUnauthorized })
	if jwks := readBody(t, do(t, http.DefaultClient, "GET", d.BaseURL+"/.well-known/jwks.json", nil, "")); strings.Contains(jwks, kid0) {
		t.Errorf("dropped key still in the JWKS: %s", jwks)
	}
	r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": refresh}, nil)
	b := decode(t, r)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("refresh after the drop: %d %v", r.StatusCode, b)
	}
	fresh := b["token"].(map[string]any)["access"].(string)
	if tokenKID(t, fresh) == kid0 {
		t.Fatal("new access token signed with the dropped key")
	}
	if st := meStatus(t, d, fresh); st != http.StatusOK {
		t.Fatalf("me with the fresh token: %d", st)
	}
}

func TestKeys_Usage(t *testing.T) {
	for _, args := range [][]string{{"keys"}, {"keys", "spin"}, {"keys", "list", "-drop-old"}, {"keys", "rotate", "extra"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"kakaoauth"}, args...), func(string) string { return "" }, &stdout, &stderr)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "kakaoauth keys list|rotate") {
			t.Errorf("%v: err %v, want the keys usage", args, err)
		}
	}
	// Without -dev, the server's settings are required and named.
	err := run(context.Background(), []string{"kakaoauth", "keys", "list"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_SECRET") {
		t.Errorf("keys list without settings: %v, want KAKAOAUTH_SECRET named", err)
	}
}

// runKeysCmd runs `kakaoauth keys ARGS -dev` on the database db and returns its output.
func runKeysCmd(t *testing.T, db string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	argv := append([]string{"kakaoauth", "keys"}, args...)
	argv = append(argv, "-dev")
	env := map[string]string{"KAKAOAUTH_DATABASE_URL": db}
	if err := run(context.Background(), argv, func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, stderr.String())
	}
	return stdout.String()
}

func tokenKID(t *testing.T, jwt string) string {
	t.Helper()
	h, _, ok := strings.Cut(jwt, ".")
	if !ok {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr.Kid == "" {
		t.Fatalf("header %s: %v", raw, err)
	}
	return hdr.Kid
}

// waitFor polls cond for up to 15 s (the server reloads keys every second here).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15 s")
		}
	}
}
