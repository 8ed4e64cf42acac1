package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.KakaoExpiring = (*DB)(nil)

// KakaoLinksExpiring returns the users whose kept Kakao refresh token expires before before,
// the soonest first.
func (db *DB) KakaoLinksExpiring(ctx context.Context, before time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.read.QueryContext(ctx, `SELECT user_id FROM kakao_links
		WHERE tokens_sealed IS NOT NULL AND refresh_expires_at IS NOT NULL AND refresh_expires_at < ?
		ORDER BY refresh_expires_at, user_id LIMIT ?`, before.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list expiring kakao links: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: list expiring kakao links: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list expiring kakao links: %w", err)
	}
	return ids, nil
}
