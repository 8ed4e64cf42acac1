package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestKakaoConformance(t *testing.T) {
	storetest.RunKakao(t, func(t *testing.T) auth.Store {
		db, _ := openTemp(t)
		return db
	})
}

// BenchmarkPutKakaoLink measures the write every code login adds: the user's Kakao link
// (consent and sealed tokens) replaced.
func BenchmarkPutKakaoLink(b *testing.B) {
	db, _ := openTemp(b)
	ctx := context.Background()
	sess := session(t0)
	u, _, err := db.LoginUser(ctx, profile("4243"), sess, auth.RefreshToken{Hash: benchHash(0), ExpiresAt: sess.ExpiresAt}, t0)
	if err != nil {
		b.Fatal(err)
	}
	l := auth.KakaoLink{UserID: u.ID, Agreed: []string{"profile_nickname", "account_email"}, NeedsConsent: []string{"gender"},
		TokensSealed: make([]byte, 200), AccessExpiresAt: t0.Add(6 * time.Hour), RefreshExpiresAt: t0.Add(1440 * time.Hour), UpdatedAt: t0}
	b.ReportAllocs()
	for b.Loop() {
		if err := db.PutKakaoLink(ctx, l); err != nil {
			b.Fatal(err)
		}
	}
}
