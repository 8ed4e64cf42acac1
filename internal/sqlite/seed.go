package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

var _ auth.Seeder = (*DB)(nil)

// seedRows is how many users one INSERT statement of SeedUsers carries.
const seedRows = 200

// SeedUsers stores n users with Kakao identities in one write transaction, seedRows at a time.
func (db *DB) SeedUsers(ctx context.Context, first int64, n int, now time.Time) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: seed users: %w", err)
	}
	defer tx.Rollback()
	at := nano(now)
	for done := 0; done < n; {
		k := min(seedRows, n-done)
		users := `INSERT INTO users (id, nickname, email, email_verified, profile_image_url, created_at,
			updated_at, last_login_at) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, '', 0, '', ?, ?, ?),", k), ",")
		idents := `INSERT INTO identities (provider, subject, user_id, created_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("('kakao', ?, ?, ?),", k), ",")
		ua := make([]any, 0, 5*k)
		ia := make([]any, 0, 3*k)
		for i := range k {
			sub := auth.SeedSubject(first, done+i)
			id := auth.NewID(now)
			ua = append(ua, id, auth.SeedNickname(sub), at, at, at)
			ia = append(ia, sub, id, at)
		}
		if _, err := tx.ExecContext(ctx, users, ua...); err != nil {
			return fmt.Errorf("sqlite: seed users: %w", err)
		}
		if _, err := tx.ExecContext(ctx, idents, ia...); err != nil {
			return fmt.Errorf("sqlite: seed identities: %w", err)
		}
		done += k
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: seed users: commit: %w", err)
	}
	return nil
}
