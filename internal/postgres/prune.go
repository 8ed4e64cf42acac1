package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.Pruner = (*DB)(nil)

// Prune deletes at most req.Batch expired refresh tokens, ended sessions (with the tokens left
// in them), expired single-use keys and old audit events, one statement per kind. Rows locked
// by a running transaction (a rotation of that session) are skipped, not waited for.
func (db *DB) Prune(ctx context.Context, req auth.PruneRequest) (auth.PruneResult, error) {
	batch := req.Batch
	if batch <= 0 {
		batch = auth.DefaultPruneBatch
	}
	now := micro(req.Now)
	var res auth.PruneResult
	one := func(what, sql string, dst *int64, args ...any) error {
		return db.inTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, sql, args...)
			if err != nil {
				return fmt.Errorf("postgres: prune %s: %w", what, err)
			}
			*dst += tag.RowsAffected()
			return nil
		})
	}
	if err := one("refresh tokens", `DELETE FROM refresh_tokens WHERE hash IN (
		SELECT hash FROM refresh_tokens WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		&res.RefreshTokens, now, batch); err != nil {
		return res, err
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var s, t int64
		err := tx.QueryRow(ctx, `WITH s AS (
				SELECT id FROM sessions WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
			), t AS (
				DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM s) RETURNING 1
			), d AS (
				DELETE FROM sessions WHERE id IN (SELECT id FROM s) RETURNING 1
			)
			SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM t)`, now, batch).Scan(&s, &t)
		if err != nil {
			return fmt.Errorf("postgres: prune sessions: %w", err)
		}
		res.Sessions += s
		res.RefreshTokens += t
		return nil
	})
	if err != nil {
		return res, err
	}
	if err := one("single-use keys", `DELETE FROM consumed_keys WHERE key IN (
		SELECT key FROM consumed_keys WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		&res.ConsumedKeys, now, batch); err != nil {
		return res, err
	}
	if !req.AuditBefore.IsZero() {
		if err := one("audit events", `DELETE FROM audit_events WHERE id IN (
			SELECT id FROM audit_events WHERE time < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
			&res.AuditEvents, micro(req.AuditBefore), batch); err != nil {
			return res, err
		}
	}
	return res, nil
}
