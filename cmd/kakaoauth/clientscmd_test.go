package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientsCommands registers, lists, shows, rotates and deletes OpenID Connect clients.
func TestClientsCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "clients.db")
	decode := func(out string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("not one JSON object: %v\n%s", err, out)
		}
		return m
	}
	created := decode(mustAdminCmd(t, db, "clients", "create", "-name", "위키", "-redirect-uri", "https://wiki.example/cb",
		"-redirect-uri", "https://wiki.example/cb2", "-post-logout-redirect-uri", "https://wiki.example/", "-id-token-alg", "ES256"))
	id, _ := created["client_id"].(string)
	secret, _ := created["client_secret"].(string)
	if id == "" || !strings.HasPrefix(secret, "kcs_") || len(created) != 2 {
		t.Fatalf("create printed %v, want client_id and client_secret", created)
	}
	pub := decode(mustAdminCmd(t, db, "clients", "create", "-name", "모바일", "-redirect-uri", "com.example.app:/cb", "-public"))
	if _, has := pub["client_secret"]; has || pub["client_id"] == "" {
		t.Errorf("public create printed %v, want no secret", pub)
	}
	shown := decode(mustAdminCmd(t, db, "clients", "show", id))
	if shown["name"] != "위키" || shown["id_token_alg"] != "ES256" || len(shown["redirect_uris"].([]any)) != 2 || strings.Contains(mustAdminCmd(t, db, "clients", "show", id), secret) {
		t.Errorf("show = %v", shown)
	}
	if lines := strings.Split(strings.TrimSpace(mustAdminCmd(t, db, "clients", "list")), "\n"); len(lines) != 2 {
		t.Errorf("list = %q, want two lines", lines)
	}
	rotated := decode(mustAdminCmd(t, db, "clients", "rotate-secret", id))
	if s, _ := rotated["client_secret"].(string); s == "" || s == secret {
		t.Errorf("rotate-secret printed %v, want a new secret", rotated)
	}
	if _, err := adminCmd(t, db, "clients", "rotate-secret", pub["client_id"].(string)); err == nil {
		t.Error("rotate-secret of a public client: no error")
	}
	mustAdminCmd(t, db, "clients", "delete", id)
	if _, err := adminCmd(t, db, "clients", "show", id); err == nil {
		t.Error("show after delete: no error")
	}
	for _, bad := range [][]string{
		{"clients", "create", "-name", "x"},                                       // no redirect URI
		{"clients", "create", "-redirect-uri", "https://a.example/cb"},            // no name
		{"clients", "create", "-name", "x", "-redirect-uri", "/relative"},         // not absolute
		{"clients", "create", "-name", "x", "-redirect-uri", "https://a/cb#frag"}, // fragment
		{"clients", "create", "-name", "x", "-redirect-uri", "https://a/cb", "-id-token-alg", "HS256"},
		{"clients", "show"}, {"clients", "nope"},
	} {
		if _, err := adminCmd(t, db, bad...); err == nil {
			t.Errorf("kakaoauth %s: no error", strings.Join(bad, " "))
		}
	}
}

// TestE2E_DevDemoClient: `kakaoauth dev` registers the demo client and prints credentials that
// authenticate at the token-side endpoints.
func TestE2E_DevDemoClient(t *testing.T) {
	d := startDev(t, nil)
	out := d.Stdout.String()
	secret := ""
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "client_secret "); ok {
			secret = v
		}
	}
	if !strings.Contains(out, "client_id "+demoClientID) || !strings.HasPrefix(secret, "kcs_") {
		t.Fatalf("dev printed no demo client:\n%s", out)
	}
	introspect := func(secret string) int {
		req, _ := http.NewRequest("POST", d.BaseURL+"/oauth2/introspect", strings.NewReader("token=nothing"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(demoClientID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := introspect(secret); st != 200 {
		t.Errorf("the printed secret: introspection %d, want 200", st)
	}
	if st := introspect("kcs_wrong"); st != 401 {
		t.Errorf("a wrong secret: introspection %d, want 401", st)
	}
}
