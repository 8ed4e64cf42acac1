package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.Seeder = (*DB)(nil)

// SeedUsers stores n users with Kakao identities in one transaction with two COPYs, the rows
// made as they are sent (ten million need no memory to speak of).
func (db *DB) SeedUsers(ctx context.Context, first int64, n int, now time.Time) error {
	now = micro(now)
	ids := make([]string, 0, min(n, 1<<16))
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Users and identities go in chunks, so the ids of a chunk are all that is kept.
		for done := 0; done < n; {
			k := min(1<<16, n-done)
			ids = ids[:0]
			for range k {
				ids = append(ids, auth.NewID(now))
			}
			i := 0
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"users"},
				[]string{"id", "nickname", "email", "email_verified", "profile_image_url", "created_at", "updated_at", "last_login_at"},
				pgx.CopyFromFunc(func() ([]any, error) {
					if i == k {
						return nil, nil
					}
					row := []any{ids[i], auth.SeedNickname(auth.SeedSubject(first, done+i)), "", false, "", now, now, now}
					i++
					return row, nil
				}))
			if err != nil {
				return fmt.Errorf("copy users: %w", err)
			}
			i = 0
			_, err = tx.CopyFrom(ctx, pgx.Identifier{"identities"}, []string{"provider", "subject", "user_id", "created_at"},
				pgx.CopyFromFunc(func() ([]any, error) {
					if i == k {
						return nil, nil
					}
					row := []any{auth.ProviderKakao, auth.SeedSubject(first, done+i), ids[i], now}
					i++
					return row, nil
				}))
			if err != nil {
				return fmt.Errorf("copy identities: %w", err)
			}
			done += k
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: seed users: %w", err)
	}
	return nil
}
