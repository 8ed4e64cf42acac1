package sqlite

import (
	"context"
	"fmt"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.Pruner = (*DB)(nil)

// Prune deletes at most req.Batch expired refresh tokens, ended sessions (with the tokens left
// in them), expired single-use keys and old audit events, each kind in a short write
// transaction of its own, so the one writer is never held for long.
func (db *DB) Prune(ctx context.Context, req auth.PruneRequest) (auth.PruneResult, error) {
	batch := req.Batch
	if batch <= 0 {
		batch = auth.DefaultPruneBatch
	}
	now := req.Now.UnixNano()
	var res auth.PruneResult
	exec := func(what string, stmts []string, dsts []*int64, args ...any) error {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: prune %s: %w", what, err)
		}
		defer tx.Rollback()
		for i, s := range stmts {
			r, err := tx.ExecContext(ctx, s, args...)
			if err != nil {
				return fmt.Errorf("sqlite: prune %s: %w", what, err)
			}
			if n, err := r.RowsAffected(); err == nil && dsts[i] != nil {
				*dsts[i] += n
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: prune %s: commit: %w", what, err)
		}
		return nil
	}
	if err := exec("refresh tokens", []string{`DELETE FROM refresh_tokens WHERE hash IN (
		SELECT hash FROM refresh_tokens WHERE expires_at <= ?1 LIMIT ?2)`},
		[]*int64{&res.RefreshTokens}, now, batch); err != nil {
		return res, err
	}
	// The tokens of the chosen sessions go first (counted), then the sessions.
	pick := `SELECT id FROM sessions WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2`
	if err := exec("sessions", []string{
		`DELETE FROM refresh_tokens WHERE session_id IN (` + pick + `)`,
		`DELETE FROM sessions WHERE id IN (` + pick + `)`,
	}, []*int64{&res.RefreshTokens, &res.Sessions}, now, batch); err != nil {
		return res, err
	}
	if err := exec("single-use keys", []string{`DELETE FROM consumed_keys WHERE key IN (
		SELECT key FROM consumed_keys WHERE expires_at <= ?1 LIMIT ?2)`},
		[]*int64{&res.ConsumedKeys}, now, batch); err != nil {
		return res, err
	}
	if !req.AuditBefore.IsZero() {
		if err := exec("audit events", []string{`DELETE FROM audit_events WHERE id IN (
			SELECT id FROM audit_events WHERE time < ?1 LIMIT ?2)`},
			[]*int64{&res.AuditEvents}, req.AuditBefore.UnixNano(), batch); err != nil {
			return res, err
		}
	}
	return res, nil
}
