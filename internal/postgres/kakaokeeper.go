package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.KakaoExpiring = (*DB)(nil)

// KakaoLinksExpiring returns the users whose kept Kakao refresh token expires before before,
// the soonest first.
func (db *DB) KakaoLinksExpiring(ctx context.Context, before time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT user_id FROM kakao_links
		WHERE tokens_sealed IS NOT NULL AND refresh_expires_at IS NOT NULL AND refresh_expires_at < $1
		ORDER BY refresh_expires_at, user_id LIMIT $2`, micro(before), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list expiring kakao links: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: list expiring kakao links: %w", err)
	}
	return ids, nil
}
