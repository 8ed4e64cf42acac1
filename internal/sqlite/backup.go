package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kakaoauth/kakaoauth/internal/migrate"
)

// ErrExists is returned by Backup when the destination exists and overwrite is false.
var ErrExists = errors.New("file exists")

// ErrInUse is returned by Restore when another connection, such as a running server, has the
// database open.
var ErrInUse = errors.New("database is in use")

// coreTables are the tables of the first migration; a file without them is not a kakaoauth
// database, whatever its schema_migrations says.
var coreTables = []string{"users", "identities", "sessions", "refresh_tokens", "signing_keys", "audit_events"}

// inUseTimeout is how long Restore waits for the database's lock before it decides that a
// server holds it (a server's connections hold their lock for as long as they are open).
const inUseTimeout = 250 * time.Millisecond

// Backup writes a consistent copy of the database at src to dst while other connections, a
// running server among them, keep reading and writing it: VACUUM INTO copies one read snapshot,
// so the copy holds every transaction committed before it began and none half. The copy is
// written to a temporary file beside dst, synced, and renamed into place, so dst is either the
// old file or the whole copy. An existing dst is an ErrExists unless overwrite is set. Backup
// never creates or migrates src.
func Backup(ctx context.Context, src, dst string, overwrite bool) error {
	if !overwrite {
		if _, err := os.Lstat(dst); err == nil {
			return fmt.Errorf("sqlite: backup to %s: %w", dst, ErrExists)
		}
	}
	tmp, err := copyToTemp(ctx, src, dst)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if !overwrite {
		// A hard link does not replace a file that appeared meanwhile.
		if err := os.Link(tmp, dst); err == nil {
			return syncDir(dst)
		} else if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("sqlite: backup to %s: %w", dst, ErrExists)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", dst, err)
	}
	return syncDir(dst)
}

// Check opens the file at path read-only and reports why a server of this binary could not
// start on it: not a SQLite database, a failed PRAGMA integrity_check, tables missing, or a
// migration this binary does not know (the file comes from a newer kakaoauth). It returns the
// newest migration applied.
func Check(ctx context.Context, path string) (version string, err error) {
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	db, err := openReadOnly(path, busyTimeout)
	if err != nil {
		return "", err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check(10)`)
	if err != nil {
		return "", describe(path, err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return "", describe(path, err)
		}
		problems = append(problems, s)
	}
	if err := rows.Close(); err != nil {
		return "", describe(path, err)
	}
	if err := rows.Err(); err != nil {
		return "", describe(path, err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return "", fmt.Errorf("sqlite: %s fails the integrity check: %s", path, strings.Join(problems, "; "))
	}
	for _, table := range append([]string{"schema_migrations"}, coreTables...) {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil {
			return "", describe(path, err)
		}
		if n == 0 {
			return "", fmt.Errorf("sqlite: %s is not a kakaoauth database (no table %s)", path, table)
		}
	}
	ms, err := migrate.List(migrations)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	known := map[string]bool{}
	for _, m := range ms {
		known[m.Version] = true
	}
	var applied []string
	rows, err = db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return "", describe(path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return "", describe(path, err)
		}
		if !known[v] {
			return "", fmt.Errorf("sqlite: %s comes from a newer kakaoauth: migration %s is unknown to this binary (newest known %s); upgrade kakaoauth first",
				path, v, ms[len(ms)-1].Version)
		}
		applied = append(applied, v)
	}
	if err := rows.Err(); err != nil {
		return "", describe(path, err)
	}
	if len(applied) == 0 {
		return "", fmt.Errorf("sqlite: %s is not a kakaoauth database (no migration recorded)", path)
	}
	return applied[len(applied)-1], nil
}

// Restore puts a copy of the database at src in place of the one at dst, after Check accepts
// src, and returns the newest migration of the copy. It refuses with ErrInUse while another
// connection has dst open (a server must be stopped first). The copy is written beside dst,
// synced and renamed over it, and the old database's -wal and -shm files are removed first, so
// they are never replayed onto the copy.
func Restore(ctx context.Context, src, dst string) (version string, err error) {
	if version, err = Check(ctx, src); err != nil {
		return "", err
	}
	if err := checkNotInUse(dst); err != nil {
		return "", err
	}
	tmp, err := copyToTemp(ctx, src, dst)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	// Again, for a server started during the copy.
	if err := checkNotInUse(dst); err != nil {
		return "", err
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("sqlite: remove the old %s%s: %w", dst, suffix, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("sqlite: restore to %s: %w", dst, err)
	}
	return version, syncDir(dst)
}

// checkNotInUse returns ErrInUse when the database at path is open elsewhere. A connection to a
// WAL database holds a shared lock on it while it is open, so an exclusive lock is refused
// even when the server is idle. A missing file, or one that is not a database, is not in use.
func checkNotInUse(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", inUseTimeout.Milliseconds()))
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	q.Set("mode", "rw")
	db, err := sql.Open("sqlite", fileURI(path)+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`BEGIN EXCLUSIVE`)
	switch code := errCode(err) & 0xff; {
	case err == nil:
		_, err = db.Exec(`COMMIT`)
		return err
	case code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("sqlite: %s: %w", path, ErrInUse)
	case code == sqlite3.SQLITE_NOTADB || code == sqlite3.SQLITE_CORRUPT:
		return nil // a damaged database is what a restore replaces
	}
	return fmt.Errorf("sqlite: check %s: %w", path, err)
}

// copyToTemp writes a VACUUM INTO copy of src to a new temporary file in dst's folder, synced
// to disk, and returns its name.
func copyToTemp(ctx context.Context, src, dst string) (string, error) {
	if _, err := os.Stat(src); err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	tmp := f.Name()
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	db, err := openReadOnly(src, busyTimeout)
	if err != nil {
		return "", err
	}
	defer db.Close()
	// VACUUM INTO accepts an existing empty file.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return "", describe(src, err)
	}
	if f, err = os.OpenFile(tmp, os.O_RDWR, 0); err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: sync %s: %w", tmp, err)
	}
	ok = true
	return tmp, nil
}

// openReadOnly opens the existing database at path read-only, on one connection.
func openReadOnly(path string, busy time.Duration) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Set("mode", "ro")
	db, err := sql.Open("sqlite", fileURI(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// fileURI is path as a SQLite file: URI, with '?', '#' and '%' escaped.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// describe names the usual reasons a file cannot be read as a database.
func describe(path string, err error) error {
	switch errCode(err) & 0xff {
	case sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("sqlite: %s is not a SQLite database", path)
	case sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("sqlite: %s is damaged (%v)", path, err)
	case sqlite3.SQLITE_CANTOPEN:
		return fmt.Errorf("sqlite: cannot open %s (%v)", path, err)
	}
	return fmt.Errorf("sqlite: %s: %w", path, err)
}

// syncDir flushes the folder of path, so a rename into it survives a crash.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sqlite: sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}
