package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.KakaoStore = (*DB)(nil)

// PutKakaoLink stores a user's Kakao link, replacing the one stored; ErrNotFound when the user
// does not exist.
func (db *DB) PutKakaoLink(ctx context.Context, l auth.KakaoLink) error {
	if !storable(append(append([]string{l.UserID}, l.Agreed...), l.NeedsConsent...)...) {
		return auth.ErrNotFound
	}
	agreed, needs := l.Agreed, l.NeedsConsent
	if agreed == nil {
		agreed = []string{}
	}
	if needs == nil {
		needs = []string{}
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO kakao_links (user_id, agreed, needs_consent,
		tokens_sealed, access_expires_at, refresh_expires_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
		ON CONFLICT (user_id) DO UPDATE SET agreed = excluded.agreed, needs_consent = excluded.needs_consent,
			tokens_sealed = excluded.tokens_sealed, access_expires_at = excluded.access_expires_at,
			refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at`,
		l.UserID, agreed, needs, l.TokensSealed, nullTime(micro(l.AccessExpiresAt)),
		nullTime(micro(l.RefreshExpiresAt)), micro(l.UpdatedAt))
	if err != nil {
		return fmt.Errorf("postgres: put kakao link: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// KakaoLink returns a user's Kakao link; ErrNotFound if none is stored.
func (db *DB) KakaoLink(ctx context.Context, userID string) (auth.KakaoLink, error) {
	if !storable(userID) {
		return auth.KakaoLink{}, auth.ErrNotFound
	}
	var (
		l               auth.KakaoLink
		access, refresh pgtype.Timestamptz
	)
	err := db.pool.QueryRow(ctx, `SELECT user_id, agreed, needs_consent, tokens_sealed,
		access_expires_at, refresh_expires_at, updated_at FROM kakao_links WHERE user_id = $1`, userID).
		Scan(&l.UserID, &l.Agreed, &l.NeedsConsent, &l.TokensSealed, &access, &refresh, &l.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.KakaoLink{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.KakaoLink{}, fmt.Errorf("postgres: read kakao link: %w", err)
	}
	if len(l.Agreed) == 0 {
		l.Agreed = nil
	}
	if len(l.NeedsConsent) == 0 {
		l.NeedsConsent = nil
	}
	l.AccessExpiresAt, l.RefreshExpiresAt, l.UpdatedAt = fromNull(access), fromNull(refresh), utc(l.UpdatedAt)
	return l, nil
}

// DeleteKakaoTokens forgets the sealed tokens of a user's link.
func (db *DB) DeleteKakaoTokens(ctx context.Context, userID string) error {
	if !storable(userID) {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE kakao_links SET tokens_sealed = NULL, access_expires_at = NULL,
		refresh_expires_at = NULL WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("postgres: delete kakao tokens: %w", err)
	}
	return nil
}
