package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// The outbox (auth.Outbox) on PostgreSQL. Event rows are written by the store methods that change
// users and sessions, inside their own transaction, through the helpers below; they cost nothing
// while no event target is set. Workers on any number of replicas claim items with FOR UPDATE
// SKIP LOCKED and a lease (claimed_until): an item is attempted by one worker at a time.

var _ auth.Outbox = (*DB)(nil)

const outboxCols = `id, kind, event_id, event_type, target, payload, created_at, state, attempts,
	next_attempt_at, claimed_until, last_error, done_at`

func scanOutbox(r pgx.Row) (auth.OutboxItem, error) {
	var (
		it            auth.OutboxItem
		claimed, done pgtype.Timestamptz
	)
	err := r.Scan(&it.ID, &it.Kind, &it.EventID, &it.EventType, &it.Target, &it.Payload, &it.CreatedAt, &it.State,
		&it.Attempts, &it.NextAttemptAt, &claimed, &it.LastError, &done)
	it.CreatedAt, it.NextAttemptAt = utc(it.CreatedAt), utc(it.NextAttemptAt)
	it.ClaimedUntil, it.DoneAt = fromNull(claimed), fromNull(done)
	return it, err
}

// SetEventTargets sets the URLs that later changes write events for.
func (db *DB) SetEventTargets(targets []auth.EventTarget) {
	if len(targets) == 0 {
		db.eventTargets.Store(nil)
		return
	}
	ts := slices.Clone(targets)
	db.eventTargets.Store(&ts)
}

func (db *DB) targets() []auth.EventTarget {
	if p := db.eventTargets.Load(); p != nil {
		return *p
	}
	return nil
}

func insertOutbox(ctx context.Context, tx pgx.Tx, items []auth.OutboxItem) (int64, error) {
	var id int64
	for _, it := range items {
		if it.CreatedAt.IsZero() {
			return 0, errors.New("outbox item without a time")
		}
		if it.NextAttemptAt.IsZero() {
			it.NextAttemptAt = it.CreatedAt
		}
		if err := tx.QueryRow(ctx, `INSERT INTO outbox (kind, event_id, event_type, target, payload,
			created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			clean(it.Kind), clean(it.EventID), clean(it.EventType), clean(it.Target), bytesOrEmpty(it.Payload),
			micro(it.CreatedAt), micro(it.NextAttemptAt)).Scan(&id); err != nil {
			return 0, fmt.Errorf("insert outbox item: %w", err)
		}
	}
	return id, nil
}

func (db *DB) insertEvents(ctx context.Context, tx pgx.Tx, events ...auth.Event) error {
	ts := db.targets()
	if ts == nil || len(events) == 0 {
		return nil
	}
	_, err := insertOutbox(ctx, tx, auth.EventItems(ts, events...))
	return err
}

// loginEvents writes LoginUser's events (user.created or user.updated, session.created).
func (db *DB) loginEvents(ctx context.Context, tx pgx.Tx, u auth.User, created bool, sess auth.Session, now time.Time) error {
	if db.targets() == nil {
		return nil
	}
	return db.insertEvents(ctx, tx, auth.LoginEvents(u, created, sess, now)...)
}

// userEvent writes an event of typ about user id as it is in tx.
func (db *DB) userEvent(ctx context.Context, tx pgx.Tx, typ, id string, at time.Time) error {
	if db.targets() == nil {
		return nil
	}
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users u `+kakaoJoin+` WHERE u.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("event user: %w", err)
	}
	return db.insertEvents(ctx, tx, auth.Event{Type: typ, At: micro(at).UTC(), User: u})
}

// disabledEvent writes user.disabled (at set) or user.enabled (at zero) for user id.
func (db *DB) disabledEvent(ctx context.Context, tx pgx.Tx, id string, at time.Time) error {
	if at.IsZero() {
		return db.userEvent(ctx, tx, auth.EventUserEnabled, id, db.now())
	}
	return db.userEvent(ctx, tx, auth.EventUserDisabled, id, at)
}

// revokedEvents writes session.revoked for the active sessions about to be revoked: sessionID
// (of userID, "" for any user), or every active session of userID when sessionID is "". It locks
// those sessions (in id order, as the revocations do), so that of concurrent revocations of one
// session only the first writes an event.
func (db *DB) revokedEvents(ctx context.Context, tx pgx.Tx, userID, sessionID string, now time.Time) error {
	if db.targets() == nil || (userID == "" && sessionID == "") {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT `+sessionCols+`, `+userCols+`
		FROM sessions s JOIN users u ON u.id = s.user_id `+kakaoJoin+`
		WHERE s.revoked_at IS NULL AND s.expires_at > $1 AND ($2 = '' OR s.user_id = $2) AND ($3 = '' OR s.id = $3)
		ORDER BY s.id FOR NO KEY UPDATE OF s`, now, userID, sessionID)
	if err != nil {
		return fmt.Errorf("event sessions: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Event, error) {
		var (
			ss sessionScan
			us userScan
		)
		if err := r.Scan(append(ss.dest(), us.dest()...)...); err != nil {
			return auth.Event{}, err
		}
		s := ss.session()
		return auth.Event{Type: auth.EventSessionRevoked, At: now.UTC(), User: us.user(), Session: &s}, nil
	})
	if err != nil {
		return fmt.Errorf("event sessions: %w", err)
	}
	return db.insertEvents(ctx, tx, events...)
}

// deleteUserWithEvent is DeleteUser while events are on: the user row is locked and read for
// user.deleted, the event written, and the user deleted, in one transaction. where selects the
// user (by id, or by identity).
func (db *DB) deleteUserWithEvent(ctx context.Context, what, where string, args ...any) (string, error) {
	var id string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users u `+kakaoJoin+` WHERE `+where+
			` FOR UPDATE OF u`, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			return auth.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := db.insertEvents(ctx, tx, auth.Event{Type: auth.EventUserDeleted, At: micro(db.now()).UTC(), User: u}); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, u.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return auth.ErrNotFound
		}
		id = u.ID
		return nil
	})
	if errors.Is(err, auth.ErrNotFound) {
		return "", auth.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("postgres: %s: %w", what, err)
	}
	return id, nil
}

// deleteUserEvents is DeleteUser with events on (see deleteUserWithEvent).
func (db *DB) deleteUserEvents(ctx context.Context, userID string) error {
	_, err := db.deleteUserWithEvent(ctx, "delete user", `u.id = $1`, userID)
	return err
}

// deleteByIdentityEvents is DeleteUserByIdentity with events on (see deleteUserWithEvent).
func (db *DB) deleteByIdentityEvents(ctx context.Context, provider, subject string) (string, error) {
	return db.deleteUserWithEvent(ctx, "delete user by identity",
		`u.id = (SELECT user_id FROM identities WHERE provider = $1 AND subject = $2)`, provider, subject)
}

// Enqueue adds a pending item.
func (db *DB) Enqueue(ctx context.Context, it auth.OutboxItem) (int64, error) {
	if it.Kind == "" {
		return 0, errors.New("postgres: enqueue: empty kind")
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = db.now()
	}
	var id int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = insertOutbox(ctx, tx, []auth.OutboxItem{it})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: enqueue: %w", err)
	}
	return id, nil
}

// ClaimOutbox leases due items: the candidates are locked with FOR UPDATE SKIP LOCKED, so a
// concurrent claim on another replica passes over them, and their lease (claimed_until) keeps
// them from every other claim once this one commits.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]auth.OutboxItem, error) {
	if limit <= 0 {
		limit = 1
	}
	now = micro(now)
	rows, err := db.pool.Query(ctx, `UPDATE outbox SET claimed_until = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2
			AND (claimed_until IS NULL OR claimed_until <= $2)
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+outboxCols, now.Add(lease), now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.OutboxItem, error) { return scanOutbox(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: claim outbox: %w", err)
	}
	slices.SortFunc(out, func(a, b auth.OutboxItem) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// FinishOutbox records an attempt's outcome, if the item is still at that attempt.
func (db *DB) FinishOutbox(ctx context.Context, r auth.OutboxResult) (bool, error) {
	var next, done any
	switch r.State {
	case auth.OutboxPending:
		next = nullTime(micro(r.Next))
	case auth.OutboxDelivered, auth.OutboxFailed:
		done = micro(r.Now)
	default:
		return false, fmt.Errorf("postgres: finish outbox: bad state %q", r.State)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at),
		claimed_until = NULL, last_error = $3, done_at = $4 WHERE id = $5 AND attempts = $6 AND state = 'pending'`,
		r.State, next, clean(r.Error), done, r.ID, r.Attempt)
	if err != nil {
		return false, fmt.Errorf("postgres: finish outbox: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ListOutbox lists items, newest first.
func (db *DB) ListOutbox(ctx context.Context, f auth.OutboxFilter) ([]auth.OutboxItem, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT `+outboxCols+` FROM outbox WHERE $1 = '' OR state = $1
		ORDER BY id DESC LIMIT $2`, clean(f.State), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.OutboxItem, error) { return scanOutbox(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list outbox: %w", err)
	}
	return out, nil
}

// RetryOutbox makes failed items pending again.
func (db *DB) RetryOutbox(ctx context.Context, id int64, now time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1,
		claimed_until = NULL, done_at = NULL WHERE state = 'failed' AND ($2 = 0 OR id = $2)`, micro(now), id)
	if err != nil {
		return 0, fmt.Errorf("postgres: retry outbox: %w", err)
	}
	if id != 0 && tag.RowsAffected() == 0 {
		return 0, auth.ErrNotFound
	}
	return int(tag.RowsAffected()), nil
}

// OutboxCounts counts the items in each state.
func (db *DB) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox counts: %w", err)
	}
	out := map[string]int{auth.OutboxPending: 0, auth.OutboxDelivered: 0, auth.OutboxFailed: 0}
	var (
		s string
		n int
	)
	_, err = pgx.ForEachRow(rows, []any{&s, &n}, func() error { out[s] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox counts: %w", err)
	}
	return out, nil
}

// PurgeOutbox deletes delivered items done before before.
func (db *DB) PurgeOutbox(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM outbox WHERE state = 'delivered' AND done_at < $1`, micro(before))
	if err != nil {
		return 0, fmt.Errorf("postgres: purge outbox: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
