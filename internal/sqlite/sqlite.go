// Package sqlite is the auth.Store on SQLite (modernc.org/sqlite, pure Go) in one WAL file.
//
// Writes go through one connection, and every write transaction starts with BEGIN IMMEDIATE, so
// writers queue in the process instead of meeting "database is locked"; reads use a separate pool
// of read-only connections that run in parallel under WAL.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a connection waits for a lock held by another process (for example a
// `migrate` command running beside the server) before SQLite gives up.
const busyTimeout = 10 * time.Second

// Options configure Open.
type Options struct {
	// Now is the clock for moments the caller does not pass (migration times, audit events and
	// signing keys without a time). Nil means time.Now.
	Now func() time.Time
	// ReadConns is the size of the read-only connection pool. Zero or less means
	// max(4, 2×GOMAXPROCS).
	ReadConns int
}

// DB is an auth.Store on one SQLite file. It is safe for concurrent use.
type DB struct {
	path  string
	now   func() time.Time
	write *sql.DB // exactly one connection; transactions begin IMMEDIATE
	read  *sql.DB // read-only connections (the write pool itself for ":memory:")

	// Prepared once on the hot paths.
	loginFind     *sql.Stmt
	loginUpdate   *sql.Stmt
	insertUser    *sql.Stmt
	insertIdent   *sql.Stmt
	insertSession *sql.Stmt
	insertToken   *sql.Stmt
	rotateSelect  *sql.Stmt
	markRotated   *sql.Stmt
	leafToken     *sql.Stmt
	graceUseStmt  *sql.Stmt
	revokeSess    *sql.Stmt
	revokeTokens  *sql.Stmt
	userBySession *sql.Stmt
	userByID      *sql.Stmt

	// The group-commit writer (batch.go).
	ops        chan *writeOp
	closing    chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once

	eventTargets atomic.Pointer[[]auth.EventTarget] // the outbox's event URLs (outbox.go); nil: off
	outboxInsert atomic.Pointer[sql.Stmt]           // prepared by SetEventTargets
}

var _ auth.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path, applies pending migrations and prepares
// the hot statements. Path is a file name; ":memory:" gives a private in-memory database on a
// single connection, for tests.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?'", path)
	}
	db := &DB{path: path, now: opt.Now}
	if db.now == nil {
		db.now = time.Now
	}
	memory := path == ":memory:"

	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")
	w := url.Values{}
	for k, v := range common {
		w[k] = append([]string(nil), v...)
	}
	if !memory {
		w.Add("_pragma", "journal_mode(WAL)")
	}
	w.Add("_pragma", "synchronous(NORMAL)")
	// Checkpoint every 4,000 WAL pages (16 MiB) instead of SQLite's 1,000: the hot B-tree pages
	// (the newest sessions, the token index) are written many times between checkpoints and
	// copied back once, and the fsyncs of a checkpoint are paid a quarter as often. The WAL
	// file is truncated back to this size after a checkpoint (journal_size_limit).
	w.Add("_pragma", "wal_autocheckpoint(4000)")
	w.Add("_pragma", "journal_size_limit(16777216)")
	w.Set("_txlock", "immediate")

	var err error
	if db.write, err = sql.Open("sqlite", path+"?"+w.Encode()); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)
	if err := db.write.PingContext(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.write.Close()
		return nil, err
	}

	if memory {
		db.read = db.write
	} else {
		n := opt.ReadConns
		if n <= 0 {
			n = max(4, 2*runtime.GOMAXPROCS(0))
		}
		r := common
		r.Add("_pragma", "query_only(1)")
		// Readers look up a few hot pages each (sessions, users); a small page cache each keeps
		// the process small, and the OS page cache holds the rest.
		r.Add("_pragma", "cache_size(-512)")
		if db.read, err = sql.Open("sqlite", path+"?"+r.Encode()); err != nil {
			db.write.Close()
			return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
		}
		db.read.SetMaxOpenConns(n)
		db.read.SetMaxIdleConns(n)
		db.read.SetConnMaxLifetime(0)
		db.read.SetConnMaxIdleTime(0)
	}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.startWriter()
	return db, nil
}

// Close releases both connection pools.
func (db *DB) Close() error {
	if db.closing != nil {
		db.closeOnce.Do(func() {
			close(db.closing)
			<-db.writerDone
		})
	}
	var errs []error
	for _, s := range []*sql.Stmt{db.loginFind, db.loginUpdate, db.insertUser, db.insertIdent, db.insertSession,
		db.insertToken, db.rotateSelect, db.markRotated, db.leafToken, db.graceUseStmt,
		db.revokeSess, db.revokeTokens, db.userBySession, db.userByID} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	return errors.Join(errs...)
}

// Ping reports whether both the writer and a reader answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	var one int
	if err := db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping reader: %w", err)
	}
	return nil
}

// Migrate applies the embedded migrations that have not been applied yet, in file-name order,
// each in its own transaction, recording them in schema_migrations. It is idempotent and safe to
// run from two processes at once. Open calls it; the `migrate` command may call it on its own.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    NOT NULL PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	ms, err := migrate.List(migrations)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, m := range ms {
		if err := db.migrateOne(ctx, m.Version, m.SQL); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) migrateOne(ctx context.Context, version, body string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", version, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", version, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		version, db.now().UnixNano()); err != nil {
		return fmt.Errorf("sqlite: record migration %s: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit migration %s: %w", version, err)
	}
	return nil
}

// errCode returns the extended SQLite result code of err, or 0.
func errCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	switch errCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// nano encodes a required moment; the zero time is stored as 0.
func nano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// nullNano encodes an optional moment; the zero time is stored as NULL.
func nullNano(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// fromNano decodes a moment stored by nano or nullNano, in UTC.
func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNano(n.Int64)
}
