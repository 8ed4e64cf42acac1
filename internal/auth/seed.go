package auth

import (
	"context"
	"strconv"
	"time"
)

// Seeder bulk-loads users for benchmarks (`kakaoauth bench seed`). Implemented by
// internal/sqlite (batched inserts in one transaction) and internal/postgres (COPY).
type Seeder interface {
	// SeedUsers stores n users with the Kakao identities first … first+n-1 (SeedSubject),
	// created at now, in one transaction; an identity already stored fails it all.
	SeedUsers(ctx context.Context, first int64, n int, now time.Time) error
}

// SeedSubject is the Kakao user id of the i-th seeded user after first.
func SeedSubject(first int64, i int) string { return strconv.FormatInt(first+int64(i), 10) }

// SeedNickname is the nickname of a seeded user.
func SeedNickname(subject string) string { return "사용자 " + subject }
