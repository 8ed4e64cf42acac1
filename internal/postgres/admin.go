package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// recordCols selects a user as scanRecord reads it: userCols, then the administrative columns;
// its parameter $1 is now (for the count of active sessions).
const recordCols = userCols + `, u.disabled_at,
	(SELECT count(*) FROM identities ci WHERE ci.user_id = u.id),
	(SELECT count(*) FROM sessions cs WHERE cs.user_id = u.id AND cs.revoked_at IS NULL AND cs.expires_at > $1)`

func scanRecord(r pgx.Row) (rec auth.UserRecord, err error) {
	var s userScan
	var disabledAt pgtype.Timestamptz
	if err = r.Scan(append(s.dest(), &disabledAt, &rec.Identities, &rec.ActiveSessions)...); err == nil {
		rec.User, rec.DisabledAt = s.user(), fromNull(disabledAt)
	}
	return rec, err
}

// ListUsers lists users by id, newest first, as f selects them.
func (db *DB) ListUsers(ctx context.Context, f auth.UserFilter, now time.Time) ([]auth.UserRecord, error) {
	if !storable(f.After, f.Query) {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT `+recordCols+` FROM users u `+kakaoJoin+`
		WHERE ($2 = '' OR u.id < $2)
		AND ($3 = '' OR u.id = $3 OR k.subject = $3 OR lower(u.email) = lower($3) OR strpos(u.nickname, $3) > 0)
		ORDER BY u.id DESC LIMIT $4`, micro(now), f.After, f.Query, f.PageSize())
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	out, err := pgx.AppendRows([]auth.UserRecord(nil), rows, func(r pgx.CollectableRow) (auth.UserRecord, error) {
		return scanRecord(r)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return out, nil
}

// UserRecord returns one user with its administrative columns.
func (db *DB) UserRecord(ctx context.Context, id string, now time.Time) (auth.UserRecord, error) {
	if !storable(id) {
		return auth.UserRecord{}, auth.ErrNotFound
	}
	r, err := scanRecord(db.pool.QueryRow(ctx, `SELECT `+recordCols+` FROM users u `+kakaoJoin+`
		WHERE u.id = $2`, micro(now), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.UserRecord{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.UserRecord{}, fmt.Errorf("postgres: user record: %w", err)
	}
	return r, nil
}

// SetUserDisabled sets or clears disabled_at; disabling also revokes the user's sessions in the
// same transaction. The user row's lock orders it with LoginUser's update of that row: a login
// either commits first (and its session is revoked here) or sees disabled_at.
func (db *DB) SetUserDisabled(ctx context.Context, id string, at time.Time) error {
	if !storable(id) {
		return auth.ErrNotFound
	}
	at = micro(at)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET disabled_at = $2 WHERE id = $1`, id, nullTime(at))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return auth.ErrNotFound
		}
		if err := db.disabledEvent(ctx, tx, id, at); err != nil {
			return err
		}
		if at.IsZero() {
			return nil
		}
		_, err = revokeUserSessions(ctx, tx, id, at)
		return err
	})
	if errors.Is(err, auth.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("postgres: set user disabled: %w", err)
	}
	return nil
}
