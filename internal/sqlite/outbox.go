package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// The outbox (auth.Outbox) on SQLite. Event rows are written by the store methods that change
// users and sessions, inside their own transaction, through the helpers below; they cost nothing
// while no event target is set.

var _ auth.Outbox = (*DB)(nil)

const outboxCols = `id, kind, event_id, event_type, target, payload, created_at, state, attempts,
	next_attempt_at, claimed_until, last_error, done_at`

func scanOutbox(r scanner) (auth.OutboxItem, error) {
	var (
		it            auth.OutboxItem
		created, next int64
		claimed, done sql.NullInt64
	)
	err := r.Scan(&it.ID, &it.Kind, &it.EventID, &it.EventType, &it.Target, &it.Payload, &created, &it.State,
		&it.Attempts, &next, &claimed, &it.LastError, &done)
	it.CreatedAt, it.NextAttemptAt, it.ClaimedUntil, it.DoneAt = fromNano(created), fromNano(next), fromNull(claimed), fromNull(done)
	return it, err
}

// SetEventTargets sets the URLs that later changes write events for.
func (db *DB) SetEventTargets(targets []auth.EventTarget) {
	if len(targets) == 0 {
		db.eventTargets.Store(nil)
		return
	}
	if db.outboxInsert.Load() == nil {
		// Prepared here, outside any transaction (the writer has one connection); without it
		// the insert is compiled on each use.
		if st, err := db.write.Prepare(outboxInsertSQL); err == nil {
			db.outboxInsert.Store(st)
		}
	}
	ts := slices.Clone(targets)
	db.eventTargets.Store(&ts)
}

const outboxInsertSQL = `INSERT INTO outbox (kind, event_id, event_type, target, payload, created_at, next_attempt_at)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

// targets returns the event targets, nil when events are off.
func (db *DB) targets() []auth.EventTarget {
	if p := db.eventTargets.Load(); p != nil {
		return *p
	}
	return nil
}

func (db *DB) insertOutbox(ctx context.Context, tx *sql.Tx, items []auth.OutboxItem) error {
	exec := tx.ExecContext
	if st := db.outboxInsert.Load(); st != nil {
		exec = func(ctx context.Context, _ string, args ...any) (sql.Result, error) {
			return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		}
	}
	for _, it := range items {
		if it.CreatedAt.IsZero() {
			return errors.New("outbox item without a time")
		}
		if it.NextAttemptAt.IsZero() {
			it.NextAttemptAt = it.CreatedAt
		}
		if it.Payload == nil {
			it.Payload = []byte{}
		}
		if _, err := exec(ctx, outboxInsertSQL,
			it.Kind, it.EventID, it.EventType, it.Target, it.Payload, it.CreatedAt.UnixNano(), it.NextAttemptAt.UnixNano()); err != nil {
			return fmt.Errorf("insert outbox item: %w", err)
		}
	}
	return nil
}

// insertEvents writes the rows of events for the configured targets inside tx.
func (db *DB) insertEvents(ctx context.Context, tx *sql.Tx, events ...auth.Event) error {
	ts := db.targets()
	if ts == nil || len(events) == 0 {
		return nil
	}
	return db.insertOutbox(ctx, tx, auth.EventItems(ts, events...))
}

// loginEvents writes LoginUser's events (user.created or user.updated, session.created).
func (db *DB) loginEvents(ctx context.Context, tx *sql.Tx, u auth.User, created bool, sess auth.Session, now time.Time) error {
	if db.targets() == nil {
		return nil
	}
	return db.insertEvents(ctx, tx, auth.LoginEvents(u, created, sess, fromNano(now.UnixNano()))...)
}

// userEvent writes an event of typ about user id as it is in tx (called before a deletion).
func (db *DB) userEvent(ctx context.Context, tx *sql.Tx, typ, id string, at time.Time) error {
	if db.targets() == nil {
		return nil
	}
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u `+kakaoJoin+` WHERE u.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("event user: %w", err)
	}
	return db.insertEvents(ctx, tx, auth.Event{Type: typ, At: at.UTC(), User: u})
}

// deletedByIdentityEvent writes user.deleted for the user of an identity, before its deletion.
func (db *DB) deletedByIdentityEvent(ctx context.Context, tx *sql.Tx, provider, subject string, at time.Time) error {
	if db.targets() == nil {
		return nil
	}
	var id string
	err := tx.QueryRowContext(ctx, `SELECT user_id FROM identities WHERE provider = ? AND subject = ?`, provider, subject).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("event user: %w", err)
	}
	return db.userEvent(ctx, tx, auth.EventUserDeleted, id, at)
}

// revokedEvents writes session.revoked for the active sessions about to be revoked: sessionID
// (of userID, "" for any user), or every active session of userID when sessionID is "".
func (db *DB) revokedEvents(ctx context.Context, tx *sql.Tx, userID, sessionID string, now time.Time) error {
	if db.targets() == nil || (userID == "" && sessionID == "") {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+sessionCols+`, `+userCols+`
		FROM sessions s JOIN users u ON u.id = s.user_id `+kakaoJoin+`
		WHERE s.revoked_at IS NULL AND s.expires_at > ?1 AND (?2 = '' OR s.user_id = ?2) AND (?3 = '' OR s.id = ?3)
		ORDER BY s.id`, now.UnixNano(), userID, sessionID)
	if err != nil {
		return fmt.Errorf("event sessions: %w", err)
	}
	defer rows.Close()
	var events []auth.Event
	for rows.Next() {
		var (
			ss sessionScan
			us userScan
		)
		if err := rows.Scan(append(ss.dest(), us.dest()...)...); err != nil {
			return fmt.Errorf("event sessions: %w", err)
		}
		s := ss.session()
		events = append(events, auth.Event{Type: auth.EventSessionRevoked, At: now.UTC(), User: us.user(), Session: &s})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("event sessions: %w", err)
	}
	rows.Close()
	return db.insertEvents(ctx, tx, events...)
}

// Enqueue adds a pending item.
func (db *DB) Enqueue(ctx context.Context, it auth.OutboxItem) (int64, error) {
	if it.Kind == "" {
		return 0, errors.New("sqlite: enqueue: empty kind")
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = db.now()
	}
	var id int64
	err := db.batch(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.insertOutbox(ctx, tx, []auth.OutboxItem{it}); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT last_insert_rowid()`).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: enqueue: %w", err)
	}
	return id, nil
}

// ClaimOutbox leases due items in one statement on the single writer, so concurrent claims
// (of this process or another on the same file) never share an item.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]auth.OutboxItem, error) {
	if limit <= 0 {
		limit = 1
	}
	n := now.UnixNano()
	rows, err := db.write.QueryContext(ctx, `UPDATE outbox SET claimed_until = ?1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?2
			AND (claimed_until IS NULL OR claimed_until <= ?2) ORDER BY next_attempt_at, id LIMIT ?3)
		RETURNING `+outboxCols, now.Add(lease).UnixNano(), n, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim outbox: %w", err)
	}
	out, err := collectOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim outbox: %w", err)
	}
	slices.SortFunc(out, func(a, b auth.OutboxItem) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

func collectOutbox(rows *sql.Rows) ([]auth.OutboxItem, error) {
	defer rows.Close()
	var out []auth.OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// FinishOutbox records an attempt's outcome, if the item is still at that attempt.
func (db *DB) FinishOutbox(ctx context.Context, r auth.OutboxResult) (bool, error) {
	var next, done sql.NullInt64
	switch r.State {
	case auth.OutboxPending:
		next = nullNano(r.Next)
	case auth.OutboxDelivered, auth.OutboxFailed:
		done = sql.NullInt64{Int64: r.Now.UnixNano(), Valid: true}
	default:
		return false, fmt.Errorf("sqlite: finish outbox: bad state %q", r.State)
	}
	res, err := db.write.ExecContext(ctx, `UPDATE outbox SET state = ?, next_attempt_at = COALESCE(?, next_attempt_at),
		claimed_until = NULL, last_error = ?, done_at = ? WHERE id = ? AND attempts = ? AND state = 'pending'`,
		r.State, next, r.Error, done, r.ID, r.Attempt)
	if err != nil {
		return false, fmt.Errorf("sqlite: finish outbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: finish outbox: %w", err)
	}
	return n == 1, nil
}

// ListOutbox lists items, newest first.
func (db *DB) ListOutbox(ctx context.Context, f auth.OutboxFilter) ([]auth.OutboxItem, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE ?1 = '' OR state = ?1
		ORDER BY id DESC LIMIT ?2`, f.State, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list outbox: %w", err)
	}
	out, err := collectOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list outbox: %w", err)
	}
	return out, nil
}

// RetryOutbox makes failed items pending again.
func (db *DB) RetryOutbox(ctx context.Context, id int64, now time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?1,
		claimed_until = NULL, done_at = NULL WHERE state = 'failed' AND (?2 = 0 OR id = ?2)`, now.UnixNano(), id)
	if err != nil {
		return 0, fmt.Errorf("sqlite: retry outbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: retry outbox: %w", err)
	}
	if id != 0 && n == 0 {
		return 0, auth.ErrNotFound
	}
	return int(n), nil
}

// OutboxCounts counts the items in each state.
func (db *DB) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: outbox counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{auth.OutboxPending: 0, auth.OutboxDelivered: 0, auth.OutboxFailed: 0}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("sqlite: outbox counts: %w", err)
		}
		out[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: outbox counts: %w", err)
	}
	return out, nil
}

// PurgeOutbox deletes delivered items done before before.
func (db *DB) PurgeOutbox(ctx context.Context, before time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM outbox WHERE state = 'delivered' AND done_at < ?`, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge outbox: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// disabledEvent writes user.disabled (at set) or user.enabled (at zero) for user id.
func (db *DB) disabledEvent(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	if at.IsZero() {
		return db.userEvent(ctx, tx, auth.EventUserEnabled, id, db.now())
	}
	return db.userEvent(ctx, tx, auth.EventUserDisabled, id, at)
}
