package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// TestBenchSeed: `kakaoauth bench seed` stores the users with their Kakao identities, so that a
// seeded user's login finds them (no new user); seeding the same ids again fails.
func TestBenchSeed(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "seed.db")
	env := map[string]string{"KAKAOAUTH_DATABASE_URL": db}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"kakaoauth", "bench", "seed", "-users", "1500", "-first", "5000000000"}, environ(env), &out, &out); err != nil {
		t.Fatalf("bench seed: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "seeded 1500 of 1500 users") {
		t.Fatalf("output: %s", out.String())
	}
	st, err := app.OpenStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for _, tc := range []struct {
		subject string
		seeded  bool
	}{{"5000000000", true}, {"5000000777", true}, {"5000001499", true}, {"5000001500", false}} {
		h := make([]byte, 32)
		copy(h, tc.subject)
		sess := auth.Session{ID: auth.NewID(now), CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
		u, created, err := st.LoginUser(context.Background(), auth.Profile{Provider: auth.ProviderKakao, Subject: tc.subject},
			sess, auth.RefreshToken{Hash: h, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, now)
		if err != nil || created == tc.seeded || u.KakaoID != tc.subject {
			t.Fatalf("login of %s: %+v created=%v %v; want seeded=%v", tc.subject, u, created, err, tc.seeded)
		}
	}
	st.Close()
	out.Reset()
	if err := run(context.Background(), []string{"kakaoauth", "bench", "seed", "-users", "10", "-first", "5000000000"}, environ(env), &out, &out); err == nil {
		t.Fatal("seeding stored ids again succeeded")
	}
}
