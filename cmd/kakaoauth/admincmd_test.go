package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/postgres/pgtest"
)

// adminCmd runs `kakaoauth <args> -dev` on the database db and returns its output and error.
func adminCmd(t *testing.T, db string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	argv := append(append([]string{"kakaoauth"}, args...), "-dev")
	env := map[string]string{"KAKAOAUTH_DATABASE_URL": db}
	err := run(context.Background(), argv, func(k string) string { return env[k] }, &stdout, &stderr)
	return stdout.String(), err
}

func mustAdminCmd(t *testing.T, db string, args ...string) string {
	t.Helper()
	out, err := adminCmd(t, db, args...)
	if err != nil {
		t.Fatalf("kakaoauth %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// adminJSON runs a command with -json and decodes its output.
func adminJSON(t *testing.T, db string, args ...string) map[string]any {
	t.Helper()
	out := mustAdminCmd(t, db, append(args, "-json")...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("kakaoauth %s -json: not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

func TestAdminCommands_SQLite(t *testing.T) {
	testAdminCommands(t, "sqlite:"+filepath.Join(t.TempDir(), "admin.db"))
}

// TestAdminCommands_PostgreSQL runs the same commands on a schema of its own in
// KAKAOAUTH_TEST_POSTGRES_URL (skipped without it, except under CI).
func TestAdminCommands_PostgreSQL(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	testAdminCommands(t, dbURL)
}

// testAdminCommands drives every users and sessions command against the database of a running
// `kakaoauth dev`, and checks what the server then does.
func testAdminCommands(t *testing.T, db string) {
	d := startDev(t, map[string]string{"KAKAOAUTH_DATABASE_URL": db})
	const minjun, seoyeon = 4217730412856391024, 4217730412856391025
	access, _, minjunID := d.SDKSignIn(t, minjun)
	_, _, seoyeonID := d.SDKSignIn(t, seoyeon)

	// list: a table by default, JSON with -json, newest first, paged.
	table := mustAdminCmd(t, db, "users", "list")
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.HasPrefix(lines[1], seoyeonID) || !strings.HasPrefix(lines[2], minjunID) || !strings.Contains(lines[2], "김민준") {
		t.Errorf("users list:\n%s\nwant a header, then %s, then %s (김민준)", table, seoyeonID, minjunID)
	}
	page := adminJSON(t, db, "users", "list", "-limit", "1", "-cursor", seoyeonID)["users"].([]any)
	if len(page) != 1 || page[0].(map[string]any)["id"] != minjunID {
		t.Errorf("users list -limit 1 -cursor %s = %v, want minjun", seoyeonID, page)
	}

	// find by email, Kakao id, part of the nickname.
	for _, q := range []string{"minjun.kim@example.com", "4217730412856391024", "민준"} {
		found := adminJSON(t, db, "users", "find", q)["users"].([]any)
		if len(found) != 1 || found[0].(map[string]any)["id"] != minjunID {
			t.Errorf("users find %q = %v, want minjun only", q, found)
		}
	}
	if out := mustAdminCmd(t, db, "users", "find", "nobody-at-all"); !strings.Contains(out, "(no users)") {
		t.Errorf("users find with no match:\n%s", out)
	}

	// show.
	if out := mustAdminCmd(t, db, "users", "show", minjunID); !strings.Contains(out, "active sessions:") ||
		!strings.Contains(out, "kakao id:") || !strings.Contains(out, "4217730412856391024") || !strings.Contains(out, "active\n") {
		t.Errorf("users show:\n%s", out)
	}

	// disable: the running server refuses the user's token and login; enable restores login.
	u := adminJSON(t, db, "users", "disable", minjunID)["user"].(map[string]any)
	if u["disabled_at"] == nil || u["active_sessions"] != 0.0 {
		t.Errorf("users disable -json: %v", u)
	}
	if st := d.MeStatus(t, access); st != http.StatusUnauthorized {
		t.Errorf("/auth/me of a disabled user: %d, want 401", st)
	}
	at, idt := d.SDKToken(t, minjun, nil)
	if r, b := d.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt}); r.StatusCode != 403 || b["error"] != "account_disabled" {
		t.Errorf("SDK login of a disabled user: %d %v, want 403 account_disabled", r.StatusCode, b)
	}
	if out := mustAdminCmd(t, db, "users", "show", minjunID); !strings.Contains(out, "disabled since") {
		t.Errorf("users show of a disabled user:\n%s", out)
	}
	mustAdminCmd(t, db, "users", "enable", minjunID)
	access, _, again := d.SDKSignIn(t, minjun)
	if again != minjunID {
		t.Errorf("login after enable: user %s, want %s", again, minjunID)
	}

	// sessions list and revoke.
	ss := adminJSON(t, db, "sessions", "list", minjunID)["sessions"].([]any)
	if len(ss) != 1 {
		t.Fatalf("sessions list = %v, want 1", ss)
	}
	sid := ss[0].(map[string]any)["id"].(string)
	if out := mustAdminCmd(t, db, "sessions", "list", minjunID); !strings.Contains(out, sid) || !strings.Contains(out, "sdk") {
		t.Errorf("sessions list table:\n%s", out)
	}
	if out := mustAdminCmd(t, db, "sessions", "revoke", sid); !strings.Contains(out, "revoked session "+sid) {
		t.Errorf("sessions revoke: %s", out)
	}
	if st := d.MeStatus(t, access); st != http.StatusUnauthorized {
		t.Errorf("/auth/me after sessions revoke: %d, want 401", st)
	}

	// delete.
	if out := mustAdminCmd(t, db, "users", "delete", seoyeonID); !strings.Contains(out, "deleted user "+seoyeonID) {
		t.Errorf("users delete: %s", out)
	}

	// Errors name what was not found.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "show", seoyeonID}, `no user "` + seoyeonID + `"`},
		{[]string{"users", "disable", "nobody"}, `no user "nobody"`},
		{[]string{"users", "delete", "nobody"}, `no user "nobody"`},
		{[]string{"sessions", "list", "nobody"}, `no user "nobody"`},
		{[]string{"sessions", "revoke", "nope"}, `no session "nope"`},
	} {
		if _, err := adminCmd(t, db, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("kakaoauth %s: err = %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

func TestAdminCommands_HelpAndUsage(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{
		{"users", "--help"}, {"users", "-h"}, {"users", "list", "--help"}, {"users", "show", "-h"},
		{"sessions", "--help"}, {"sessions", "revoke", "--help"},
	} {
		var stdout bytes.Buffer
		if err := run(context.Background(), append([]string{"kakaoauth"}, args...), env, &stdout, &bytes.Buffer{}); err != nil {
			t.Errorf("kakaoauth %s: %v, want exit 0", strings.Join(args, " "), err)
		}
		if !strings.Contains(stdout.String(), "usage: kakaoauth "+args[0]) || !strings.Contains(stdout.String(), "-json") {
			t.Errorf("kakaoauth %s printed:\n%s", strings.Join(args, " "), stdout.String())
		}
	}
	for _, args := range [][]string{
		{"users"}, {"users", "frobnicate"}, {"users", "show"}, {"users", "show", "a", "b"}, {"users", "list", "x"},
		{"users", "list", "-limit", "-1"}, {"users", "list", "-bogus"}, {"sessions", "list"},
	} {
		err := run(context.Background(), append([]string{"kakaoauth"}, args...), env, &bytes.Buffer{}, &bytes.Buffer{})
		if _, ok := err.(usageError); !ok {
			t.Errorf("kakaoauth %s: err = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}
