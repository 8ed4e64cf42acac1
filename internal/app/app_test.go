package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
)

// TestKeyMaintenance_40_ScheduledRotation: the signing key is replaced once it reaches the
// rotation age; the old key stays published so tokens it signed keep verifying.
func TestKeyMaintenance_40_ScheduledRotation(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secrets, err := tokens.DeriveSecrets(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	iss, err := tokens.NewIssuer(ctx, tokens.IssuerConfig{Store: db, Secrets: secrets, Issuer: "https://auth.example.com", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	k0 := iss.SigningKeyID()

	mu.Lock()
	now = now.Add(59 * time.Minute)
	mu.Unlock()
	app.KeyMaintenance(ctx, iss, time.Hour, log)
	if iss.SigningKeyID() != k0 {
		t.Fatalf("rotated after 59 minutes with a 1h period")
	}
	old, _, err := iss.Sign(tokens.AccessClaims{Subject: "u", SessionID: "s"})
	if err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	app.KeyMaintenance(ctx, iss, time.Hour, log)
	k1 := iss.SigningKeyID()
	if k1 == k0 {
		t.Fatalf("not rotated after 61 minutes with a 1h period")
	}
	if !slices.Contains(iss.KeyIDs(), k0) || !strings.Contains(string(iss.JWKS()), k0) {
		t.Fatalf("old key %s dropped at once: %v", k0, iss.KeyIDs())
	}
	if _, err := iss.Verify(old); err != nil {
		t.Fatalf("token signed before the rotation: %v", err)
	}
	// Off: never rotates.
	mu.Lock()
	now = now.Add(1000 * time.Hour)
	mu.Unlock()
	app.KeyMaintenance(ctx, iss, 0, log)
	if iss.SigningKeyID() != k1 {
		t.Fatalf("rotated with rotation off")
	}
}
