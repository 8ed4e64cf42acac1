// Package postgres is the auth.Store on PostgreSQL (pgx v5, pgxpool), for deployments where any
// number of replicas share one database.
//
// Correctness across replicas rests on the database alone: first logins insert the identity with
// ON CONFLICT DO NOTHING and re-read the winner; a refresh rotation locks its session row before
// it reads the token, so rotations, reuse detection and logouts of one family run one at a time
// whichever replica serves them; single-use keys are claimed with one INSERT … ON CONFLICT.
// Transactions run at READ COMMITTED, and a transaction that fails with a serialization failure
// or a deadlock (SQLSTATE 40001, 40P01) is retried a bounded number of times.
//
// Times are stored as timestamptz, so they keep microseconds: the store truncates every moment it
// is given to the microsecond, and reads return times in UTC.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrateLockClass is the first key of the advisory lock that serializes migrations; the second
// is a hash of the current schema, so that stores in different schemas do not wait on each other.
const migrateLockClass = 0x6b616b61 // "kaka"

// maxAttempts bounds how often a transaction is tried when PostgreSQL reports a serialization
// failure or a deadlock (checklist case 91).
const maxAttempts = 5

// Options configure Open.
type Options struct {
	// Now is the clock for moments the caller does not pass (migration times, audit events and
	// signing keys without a time). Nil means time.Now.
	Now func() time.Time
	// MaxConns is the size of the connection pool. Zero or less: the URL's pool_max_conns, else
	// 4 per core (GOMAXPROCS), at least 8 (pool.go).
	MaxConns int32
}

// DB is an auth.Store on one PostgreSQL database. It is safe for concurrent use, by several
// processes too.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time

	eventTargets atomic.Pointer[[]auth.EventTarget] // the outbox's event URLs (outbox.go); nil: off
}

var _ auth.Store = (*DB)(nil)

// Open connects to the database at url (postgres://… or postgresql://…, with pgx's parameters;
// search_path selects the schema) and applies pending migrations.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database URL: %w", err)
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	} else if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db := &DB{pool: pool, now: opt.Now}
	if db.now == nil {
		db.now = time.Now
	}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close releases the connection pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping reports whether the database answers; while every connection of the pool is in use
// (and none came free before ctx's deadline) its error wraps auth.ErrPoolExhausted.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		if st := db.pool.Stat(); ctx.Err() != nil && st.AcquiredConns() >= st.MaxConns() {
			return fmt.Errorf("postgres: ping: %w (%d of %d connections in use): %w", auth.ErrPoolExhausted, st.AcquiredConns(), st.MaxConns(), err)
		}
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Migrate applies the embedded migrations that have not been applied yet, in file-name order,
// each in its own transaction, recording them in schema_migrations. Each transaction first takes
// a transaction-level advisory lock, so replicas starting at once apply every migration exactly
// once. It is idempotent. Open calls it; the `migrate` command may call it on its own.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrate.List(migrations)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	for _, m := range ms {
		if err := db.migrateOne(ctx, m.Version, m.SQL); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) migrateOne(ctx context.Context, version, body string) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))`,
			int32(migrateLockClass)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    text        NOT NULL PRIMARY KEY,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
			version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// Without arguments, Exec uses the simple protocol, which runs a file of statements.
		if _, err := tx.Exec(ctx, body); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
			version, db.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: migration %s: %w", version, err)
	}
	return nil
}

// inTx runs fn in a transaction and commits it when fn returns nil. A serialization failure or
// deadlock (of fn or of the commit) runs it again, at most maxAttempts times in all, after a short
// randomized pause; any other error is returned as it is.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.beginFunc(ctx, fn) // BEGIN pipelined with the first statement (lazytx.go)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt >= maxAttempts {
			// The client may retry: 409, not an outage (checklist case 91).
			return fmt.Errorf("%w (%d attempts): %w", auth.ErrConflict, attempt, err)
		}
		pause := time.Duration(attempt) * (2*time.Millisecond + rand.N(3*time.Millisecond))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// retryable reports whether err is a serialization failure or a deadlock.
func retryable(err error) bool {
	switch pgCode(err) {
	case codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	return false
}

// clean makes s storable as PostgreSQL text: NUL bytes, which text rejects, are removed, and
// invalid UTF-8 is replaced.
func clean(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

// storable reports whether every s can be sent as text as it is. A string that is not can match
// nothing stored (stored text is cleaned), so lookups answer ErrNotFound for it instead of
// letting PostgreSQL refuse the parameter.
func storable(ss ...string) bool {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// micro truncates t to the microsecond, the precision of timestamptz.
func micro(t time.Time) time.Time {
	return t.Truncate(time.Microsecond)
}

// nullTime encodes an optional moment; the zero time is stored as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// utc returns t in UTC, keeping the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// fromNull decodes an optional moment.
func fromNull(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return utc(t.Time)
}

// bytesOrEmpty keeps a nil byte slice from being stored as NULL.
func bytesOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
