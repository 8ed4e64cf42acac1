package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
)

// signedIn is a login that answered 200, and when its answer arrived.
type signedIn struct {
	kakaoID int64
	refresh string
	at      time.Time
}

// TestBackup_UnderLoginLoad: a backup taken while logins go on restores to a database where
// every user whose login answered 200 before the backup started still has a working session on
// a server started on the restored copy: their refresh token answers 200, and /auth/me with the
// new access token names them.
func TestBackup_UnderLoginLoad(t *testing.T) {
	dir := t.TempDir()
	live := "sqlite:" + filepath.Join(dir, "live.db")
	d := startDev(t, map[string]string{"KAKAOAUTH_DATABASE_URL": live})
	const users = 100
	for i := range users {
		d.AddUser(t, 7100000000+int64(i), fmt.Sprintf("백업%d", i))
	}

	var (
		mu     sync.Mutex
		logins []signedIn
		failed []error
		next   atomic.Int64
		stop   = make(chan struct{})
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Returning users log in again once every user has: each login is a new session.
				s, err := spaLogin(d, 7100000000+(next.Add(1)-1)%users)
				mu.Lock()
				if err != nil {
					failed = append(failed, err)
				} else {
					logins = append(logins, s)
				}
				mu.Unlock()
			}
		}()
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(logins) >= 20 })

	file := filepath.Join(dir, "backup.db")
	started := time.Now()
	out := runCmd(t, map[string]string{"KAKAOAUTH_DATABASE_URL": live}, "backup", "-dev", file)
	finished := time.Now()
	if !strings.Contains(out, "to "+file) {
		t.Errorf("backup output: %q", out)
	}
	time.Sleep(200 * time.Millisecond) // the load goes on after the backup as well
	close(stop)
	wg.Wait()
	d.cancel()
	if err := <-d.done; err != nil {
		t.Fatalf("server: %v", err)
	}
	d.done <- nil // for the cleanup

	mu.Lock()
	defer mu.Unlock()
	if len(failed) > 0 {
		t.Fatalf("%d logins failed under the backup, first: %v", len(failed), failed[0])
	}
	var before, during, after int
	for _, s := range logins {
		switch {
		case s.at.Before(started):
			before++
		case s.at.Before(finished):
			during++
		default:
			after++
		}
	}
	t.Logf("logins answered before the backup: %d, during: %d, after: %d", before, during, after)
	if after == 0 {
		t.Fatal("no login completed after the backup started: the backup was not taken under load")
	}

	restored := "sqlite:" + filepath.Join(t.TempDir(), "restored.db")
	runCmd(t, map[string]string{"KAKAOAUTH_DATABASE_URL": restored}, "restore", "-dev", file)
	d2 := startDev(t, map[string]string{"KAKAOAUTH_DATABASE_URL": restored})
	for _, s := range logins {
		if !s.at.Before(started) {
			continue
		}
		// The access token names the old server's issuer (dev derives it from the port), so
		// the session answers through its refresh token.
		st, b := d2.Refresh(t, s.refresh)
		if st != http.StatusOK {
			t.Errorf("user %d on the restored database: refresh %d %v, want 200", s.kakaoID, st, b)
			continue
		}
		r, me := servertest.GetJSON(t, http.DefaultClient, d2.BaseURL+"/auth/me", b["token"].(map[string]any)["access"].(string))
		if r.StatusCode != http.StatusOK || me["user"].(map[string]any)["kakao_id"] != fmt.Sprint(s.kakaoID) {
			t.Errorf("user %d on the restored database: /auth/me %d %v", s.kakaoID, r.StatusCode, me)
		}
	}
}

// spaLogin signs a Kakao user in through the SPA flow without a testing.T, for load goroutines.
func spaLogin(d *devServer, kakaoID int64) (signedIn, error) {
	var code struct{ Code string }
	if err := postJSON(d.EmulatorURL+"/_emulator/code", map[string]any{"user_id": kakaoID, "redirect_uri": servertest.SPARedirect}, &code); err != nil {
		return signedIn{}, fmt.Errorf("mint code for %d: %w", kakaoID, err)
	}
	var login struct {
		Token struct{ Refresh string }
	}
	if err := postJSON(d.BaseURL+"/auth/kakao/token", map[string]any{"code": code.Code, "redirect_uri": servertest.SPARedirect}, &login); err != nil {
		return signedIn{}, fmt.Errorf("login of %d: %w", kakaoID, err)
	}
	return signedIn{kakaoID: kakaoID, refresh: login.Token.Refresh, at: time.Now()}, nil
}

// postJSON posts body and decodes a 200 answer into out.
func postJSON(u string, body, out any) error {
	b, _ := json.Marshal(body)
	r, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d", u, r.StatusCode)
	}
	return json.NewDecoder(r.Body).Decode(out)
}

// TestBackup_Refusals: backup does not overwrite a file unless -force, does not create a
// database that is missing, and on PostgreSQL points to pg_dump.
func TestBackup_Refusals(t *testing.T) {
	dir := t.TempDir()
	live := "sqlite:" + filepath.Join(dir, "live.db")
	d := startDev(t, map[string]string{"KAKAOAUTH_DATABASE_URL": live})
	d.SPASignIn(t, 4217730412856391024)
	env := map[string]string{"KAKAOAUTH_DATABASE_URL": live}

	file := filepath.Join(dir, "b.db")
	if err := os.WriteFile(file, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runErr(env, "backup", "-dev", file)
	if err == nil || !strings.Contains(err.Error(), "exists") || !strings.Contains(err.Error(), "-force") {
		t.Errorf("backup onto an existing file: %v, want a refusal naming -force", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}
	runCmd(t, env, "backup", file, "-force", "-dev")
	if _, err := sqlite.Check(context.Background(), file); err != nil {
		t.Errorf("backup -force did not write a database: %v", err)
	}

	missing := filepath.Join(dir, "missing.db")
	if err := runErr(map[string]string{"KAKAOAUTH_DATABASE_URL": "sqlite:" + missing}, "backup", "-dev", filepath.Join(dir, "m.db")); err == nil {
		t.Error("backup of a missing database succeeded")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("backup created the missing database: %v", err)
	}

	pg := map[string]string{"KAKAOAUTH_DATABASE_URL": "postgres://kakaoauth@127.0.0.1:1/kakaoauth"}
	for _, cmd := range []string{"backup", "restore"} {
		if err := runErr(pg, cmd, "-dev", file); err == nil || !strings.Contains(err.Error(), "PostgreSQL") || !strings.Contains(err.Error(), "pg_") {
			t.Errorf("%s on PostgreSQL: %v, want a refusal pointing to pg_dump/pg_restore", cmd, err)
		}
	}
}

// TestRestore_Refusals: restore refuses a damaged file, a file that is not SQLite, a database
// of a newer kakaoauth and a database a running server has open, and leaves the target as it
// was each time.
func TestRestore_Refusals(t *testing.T) {
	dir := t.TempDir()
	live := "sqlite:" + filepath.Join(dir, "live.db")
	d := startDev(t, map[string]string{"KAKAOAUTH_DATABASE_URL": live})
	_, refresh := d.SPASignIn(t, 4217730412856391024)
	good := filepath.Join(dir, "good.db")
	runCmd(t, map[string]string{"KAKAOAUTH_DATABASE_URL": live}, "backup", "-dev", good)

	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.db")
	damaged := append([]byte(nil), goodBytes...)
	for i := 4096 + 100; i <= len(damaged); i += 4096 {
		damaged[i-100] = 0xA5 // the type byte of every page after the first
	}
	writeFile(t, corrupt, damaged)
	notSQLite := filepath.Join(dir, "notes.txt")
	writeFile(t, notSQLite, []byte(strings.Repeat("not a database\n", 100)))
	empty := filepath.Join(dir, "empty.db")
	writeFile(t, empty, nil)
	newer := filepath.Join(dir, "newer.db")
	writeFile(t, newer, goodBytes)
	db, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ('9999_from_the_future', 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	target := filepath.Join(dir, "target.db")
	for _, tc := range []struct{ name, file, want string }{
		{"damaged", corrupt, "corrupt.db"},
		{"not SQLite", notSQLite, "not a SQLite database"},
		{"empty", empty, "not a kakaoauth database"},
		{"newer schema", newer, "9999_from_the_future is unknown"},
		{"missing", filepath.Join(dir, "nope.db"), "nope.db"},
	} {
		err := runErr(map[string]string{"KAKAOAUTH_DATABASE_URL": "sqlite:" + target}, "restore", "-dev", tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("restore of a %s file: %v, want a refusal with %q", tc.name, err, tc.want)
		}
		if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("restore of a %s file created the target: %v", tc.name, err)
		}
	}

	// The server on live.db is idle, and still restore sees it.
	err = runErr(map[string]string{"KAKAOAUTH_DATABASE_URL": live}, "restore", "-dev", good)
	if err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("restore under a running server: %v, want a refusal", err)
	}
	if st, b := d.Refresh(t, refresh); st != http.StatusOK {
		t.Errorf("the running server after the refused restore: refresh %d %v", st, b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestRestore_OverStoppedServer: restore replaces a database whose server has stopped, the old
// database's -wal file is not replayed onto the copy, and a server started with another
// KAKAOAUTH_SECRET refuses the restored database by naming the variable.
func TestRestore_OverStoppedServer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	env := map[string]string{"KAKAOAUTH_DATABASE_URL": "sqlite:" + path}
	d := startDev(t, env)
	_, kept := d.SPASignIn(t, 4217730412856391024)
	file := filepath.Join(dir, "b.db")
	runCmd(t, env, "backup", "-dev", file)
	d.AddUser(t, 7200000001, "나중")
	_, later := d.SPASignIn(t, 7200000001) // after the backup: gone once it is restored
	d.cancel()
	if err := <-d.done; err != nil {
		t.Fatal(err)
	}
	d.done <- nil
	writeFile(t, path+"-wal", []byte("a stale WAL of the old database"))

	out := runCmd(t, env, "restore", file, "-dev")
	if !strings.Contains(out, "KAKAOAUTH_SECRET") {
		t.Errorf("restore output does not mention the secret: %q", out)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old -wal is still there: %v", err)
	}
	// With another secret the restored signing keys cannot be opened: the server refuses to start.
	other := map[string]string{"KAKAOAUTH_DATABASE_URL": "sqlite:" + path, "KAKAOAUTH_SECRET": strings.Repeat("another secret ", 3),
		"KAKAOAUTH_ADDR": "127.0.0.1:0", "KAKAOAUTH_EMULATOR_ADDR": "127.0.0.1:0", "KAKAOAUTH_LOG_LEVEL": "error"}
	if err := runErr(other, "dev"); err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_SECRET does not match") {
		t.Errorf("start on the restored database with another secret: %v, want a clear refusal", err)
	}
	d2 := startDev(t, env)
	if st, b := d2.Refresh(t, kept); st != http.StatusOK {
		t.Errorf("session from before the backup: refresh %d %v, want 200", st, b)
	}
	if st, b := d2.Refresh(t, later); st == http.StatusOK || b["error"] != "invalid_grant" {
		t.Errorf("session from after the backup: refresh %d %v, want invalid_grant", st, b)
	}
}

// TestBackupRestore_Help: -h and --help exit 0 and list the flags and the variable read.
func TestBackupRestore_Help(t *testing.T) {
	for _, tc := range []struct {
		cmd   string
		flags []string
	}{
		{"backup", []string{"-force", "-dev", "KAKAOAUTH_DATABASE_URL", "pg_dump"}},
		{"restore", []string{"-dev", "KAKAOAUTH_DATABASE_URL", "KAKAOAUTH_SECRET"}},
	} {
		for _, h := range []string{"-h", "--help"} {
			var stdout bytes.Buffer
			err := run(context.Background(), []string{"kakaoauth", tc.cmd, h}, func(string) string { return "" }, &stdout, &bytes.Buffer{})
			if err != nil {
				t.Errorf("%s %s: %v, want exit 0", tc.cmd, h, err)
			}
			for _, f := range tc.flags {
				if !strings.Contains(stdout.String(), f) {
					t.Errorf("%s %s does not list %s:\n%s", tc.cmd, h, f, stdout.String())
				}
			}
		}
		var ue usageError
		if err := runErr(nil, tc.cmd); !errors.As(err, &ue) {
			t.Errorf("%s without FILE: %v, want the usage", tc.cmd, err)
		}
		if err := runErr(nil, tc.cmd, "a.db", "b.db"); !errors.As(err, &ue) {
			t.Errorf("%s with two files: %v, want the usage", tc.cmd, err)
		}
	}
}

// runCmd runs `kakaoauth ARGS` with env and returns its output; it must succeed.
func runCmd(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"kakaoauth"}, args...), func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// runErr runs `kakaoauth ARGS` with env and returns its error.
func runErr(env map[string]string, args ...string) error {
	var out bytes.Buffer
	return run(context.Background(), append([]string{"kakaoauth"}, args...), func(k string) string { return env[k] }, &out, &out)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
