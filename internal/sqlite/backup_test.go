package sqlite

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/migrate"
)

// TestBackupRestore: Backup copies a database that is open and written to, without replacing
// an existing file unless told to; Restore refuses while the target is open (ErrInUse), and
// puts the copy in place once it is closed.
func TestBackupRestore(t *testing.T) {
	ctx := t.Context()
	db, src := openTemp(t)
	sess := session(t0)
	u, _, err := db.LoginUser(ctx, profile("1"), sess, auth.RefreshToken{Hash: hashOf("a"), ExpiresAt: sess.ExpiresAt}, t0)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := Backup(ctx, src, dst, false); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := Backup(ctx, src, dst, false); !errors.Is(err, ErrExists) {
		t.Errorf("Backup onto the copy: %v, want ErrExists", err)
	}
	if err := Backup(ctx, src, dst, true); err != nil {
		t.Errorf("Backup with overwrite: %v", err)
	}
	ms, err := migrate.List(migrations)
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	if v, err := Check(ctx, dst); err != nil || v != ms[len(ms)-1].Version {
		t.Errorf("Check of the copy = %q, %v; want the newest migration %s", v, err, ms[len(ms)-1].Version)
	}

	if _, err := Restore(ctx, dst, src); !errors.Is(err, ErrInUse) {
		t.Fatalf("Restore onto an open database: %v, want ErrInUse", err)
	}
	other, err := Open(ctx, filepath.Join(t.TempDir(), "other.db"), Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	otherPath := other.path
	other.Close()
	if _, err := Restore(ctx, dst, otherPath); err != nil {
		t.Fatalf("Restore onto a closed database: %v", err)
	}
	restored, err := Open(ctx, otherPath, Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if _, err := restored.UserBySession(ctx, u.ID, sess.ID, t0); err != nil {
		t.Errorf("the user of the backup after Restore: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(otherPath), ".*tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
