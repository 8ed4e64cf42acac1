package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.KakaoStore = (*DB)(nil)

// PutKakaoLink stores a user's Kakao link, replacing the one stored; ErrNotFound when the user
// does not exist.
func (db *DB) PutKakaoLink(ctx context.Context, l auth.KakaoLink) error {
	r, err := db.write.ExecContext(ctx, `INSERT INTO kakao_links (user_id, agreed, needs_consent,
		tokens_sealed, access_expires_at, refresh_expires_at, updated_at)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1)
		ON CONFLICT (user_id) DO UPDATE SET agreed = excluded.agreed, needs_consent = excluded.needs_consent,
			tokens_sealed = excluded.tokens_sealed, access_expires_at = excluded.access_expires_at,
			refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at`,
		l.UserID, strings.Join(l.Agreed, " "), strings.Join(l.NeedsConsent, " "), l.TokensSealed,
		nullNano(l.AccessExpiresAt), nullNano(l.RefreshExpiresAt), nano(l.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: put kakao link: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: put kakao link: %w", err)
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// KakaoLink returns a user's Kakao link; ErrNotFound if none is stored.
func (db *DB) KakaoLink(ctx context.Context, userID string) (auth.KakaoLink, error) {
	var (
		l               auth.KakaoLink
		agreed, needs   string
		access, refresh sql.NullInt64
		updated         int64
	)
	err := db.read.QueryRowContext(ctx, `SELECT user_id, agreed, needs_consent, tokens_sealed,
		access_expires_at, refresh_expires_at, updated_at FROM kakao_links WHERE user_id = ?`, userID).
		Scan(&l.UserID, &agreed, &needs, &l.TokensSealed, &access, &refresh, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.KakaoLink{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.KakaoLink{}, fmt.Errorf("sqlite: read kakao link: %w", err)
	}
	l.Agreed, l.NeedsConsent = fields(agreed), fields(needs)
	if len(l.TokensSealed) == 0 {
		l.TokensSealed = nil
	}
	l.AccessExpiresAt, l.RefreshExpiresAt, l.UpdatedAt = fromNull(access), fromNull(refresh), fromNano(updated)
	return l, nil
}

// DeleteKakaoTokens forgets the sealed tokens of a user's link.
func (db *DB) DeleteKakaoTokens(ctx context.Context, userID string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE kakao_links SET tokens_sealed = NULL, access_expires_at = NULL,
		refresh_expires_at = NULL WHERE user_id = ?`, userID)
	if err != nil {
		return fmt.Errorf("sqlite: delete kakao tokens: %w", err)
	}
	return nil
}

// fields splits a space-separated list; nil when empty.
func fields(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return nil
}
