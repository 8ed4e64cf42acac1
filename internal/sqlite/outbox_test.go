package sqlite

import (
	"context"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/auth"

	"github.com/kakaoauth/kakaoauth/internal/storetest"
)

func TestOutboxConformance(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) storetest.OutboxStore {
		db, _ := openTemp(t)
		return db
	})
}

// BenchmarkLoginUserEvents is BenchmarkLoginUser with one event URL: the login also writes its
// session.created row to the outbox, in the same transaction.
func BenchmarkLoginUserEvents(b *testing.B) {
	db, _ := openTemp(b)
	db.SetEventTargets([]auth.EventTarget{{URL: "https://svc.example/hook"}})
	ctx := context.Background()
	p := profile("4242")
	var i uint64
	b.ReportAllocs()
	for b.Loop() {
		i++
		sess := session(t0)
		if _, _, err := db.LoginUser(ctx, p, sess, auth.RefreshToken{Hash: benchHash(i), ExpiresAt: sess.ExpiresAt}, t0); err != nil {
			b.Fatal(err)
		}
	}
}
