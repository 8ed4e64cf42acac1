package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// recordCols selects a user as scanRecord reads it: userCols, then the administrative columns;
// its one parameter is now (for the count of active sessions).
const recordCols = userCols + `, u.disabled_at,
	(SELECT count(*) FROM identities ci WHERE ci.user_id = u.id),
	(SELECT count(*) FROM sessions cs WHERE cs.user_id = u.id AND cs.revoked_at IS NULL AND cs.expires_at > ?1)`

func scanRecord(r scanner) (auth.UserRecord, error) {
	var (
		s        userScan
		disabled sql.NullInt64
		rec      auth.UserRecord
	)
	if err := r.Scan(append(s.dest(), &disabled, &rec.Identities, &rec.ActiveSessions)...); err != nil {
		return auth.UserRecord{}, err
	}
	rec.User, rec.DisabledAt = s.user(), fromNull(disabled)
	return rec, nil
}

// ListUsers lists users by id, newest first, as f selects them.
func (db *DB) ListUsers(ctx context.Context, f auth.UserFilter, now time.Time) ([]auth.UserRecord, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+recordCols+` FROM users u `+kakaoJoin+`
		WHERE (?2 = '' OR u.id < ?2)
		AND (?3 = '' OR u.id = ?3 OR i.subject = ?3 OR lower(u.email) = lower(?3) OR instr(u.nickname, ?3) > 0)
		ORDER BY u.id DESC LIMIT ?4`, now.UnixNano(), f.After, f.Query, f.PageSize())
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	defer rows.Close()
	var out []auth.UserRecord
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list users: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return out, nil
}

// UserRecord returns one user with its administrative columns.
func (db *DB) UserRecord(ctx context.Context, id string, now time.Time) (auth.UserRecord, error) {
	r, err := scanRecord(db.read.QueryRowContext(ctx, `SELECT `+recordCols+` FROM users u `+kakaoJoin+`
		WHERE u.id = ?2`, now.UnixNano(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.UserRecord{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.UserRecord{}, fmt.Errorf("sqlite: user record: %w", err)
	}
	return r, nil
}

// SetUserDisabled sets or clears disabled_at; disabling also revokes the user's sessions, in one
// transaction on the writer (which LoginUser's transactions queue behind).
func (db *DB) SetUserDisabled(ctx context.Context, id string, at time.Time) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: set user disabled: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, nullNano(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: set user disabled: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return fmt.Errorf("sqlite: set user disabled: %w", err)
		}
		return auth.ErrNotFound
	}
	if err := db.disabledEvent(ctx, tx, id, at); err != nil {
		return fmt.Errorf("sqlite: set user disabled: %w", err)
	}
	if !at.IsZero() {
		if err := revokeUserSessions(ctx, tx, id, at.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: set user disabled: revoke: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: set user disabled: commit: %w", err)
	}
	return nil
}
