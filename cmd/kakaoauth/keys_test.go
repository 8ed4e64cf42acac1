package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestKeys_96_RotateCommand: `kakaoauth keys rotate` against the database of a running server
// makes a new signing key; after the server's next key reload it signs with it, and tokens
// signed before keep working (no 401 spike).
func TestKeys_96_RotateCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "k.db")
	d := startDev(t, map[string]string{"KAKAOAUTH_DATABASE_URL": db, "KAKAOAUTH_KEY_RELOAD": "1s"})
	access, _, _ := d.SDKSignIn(t, 4217730412856391024)
	kid0 := tokenKID(t, access)

	out := runKeysCmd(t, db, "rotate")
	if !strings.Contains(out, "(was "+kid0+")") {
		t.Fatalf("keys rotate output does not name the old key %s:\n%s", kid0, out)
	}
	waitFor(t, func() bool { a, _, _ := d.SDKSignIn(t, 4217730412856391024); return tokenKID(t, a) != kid0 })
	if st := d.MeStatus(t, access); st != http.StatusOK {
		t.Fatalf("token of the retired key: %d, want 200 (it verifies for the overlap)", st)
	}
	if jwks := servertest.ReadBody(t, servertest.Do(t, http.DefaultClient, "GET", d.BaseURL+"/.well-known/jwks.json", nil, "")); !strings.Contains(jwks, kid0) {
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
	access, refresh, _ := d.SDKSignIn(t, 4217730412856391024)
	kid0 := tokenKID(t, access)
	if st := d.MeStatus(t, access); st != http.StatusOK {
		t.Fatalf("me before: %d", st) // also puts the token in the verify cache
	}

	out := runKeysCmd(t, db, "rotate", "-drop-old")
	if !strings.Contains(out, "deleted 1 other key(s): "+kid0) || !strings.Contains(out, "deleted 1 other RS256 key(s): ") {
		t.Fatalf("keys rotate -drop-old output:\n%s", out)
	}
	waitFor(t, func() bool { return d.MeStatus(t, access) == http.StatusUnauthorized })
	if jwks := servertest.ReadBody(t, servertest.Do(t, http.DefaultClient, "GET", d.BaseURL+"/.well-known/jwks.json", nil, "")); strings.Contains(jwks, kid0) {
		t.Errorf("dropped key still in the JWKS: %s", jwks)
	}
	r := servertest.PostJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": refresh}, nil)
	b := servertest.Decode(t, r)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("refresh after the drop: %d %v", r.StatusCode, b)
	}
	fresh := b["token"].(map[string]any)["access"].(string)
	if tokenKID(t, fresh) == kid0 {
		t.Fatal("new access token signed with the dropped key")
	}
	if st := d.MeStatus(t, fresh); st != http.StatusOK {
		t.Fatalf("me with the fresh token: %d", st)
	}
}

func TestKeys_Usage(t *testing.T) {
	for _, args := range [][]string{{"keys"}, {"keys", "spin"}, {"keys", "list", "-drop-old"}, {"keys", "rotate", "extra"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"kakaoauth"}, args...), func(string) string { return "" }, &stdout, &stderr)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "usage: kakaoauth keys") {
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
	env := map[string]string{"KAKAOAUTH_DATABASE_URL": db, "KAKAOAUTH_KEY_RELOAD": "1s"}
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
