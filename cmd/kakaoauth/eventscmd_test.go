package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/postgres/pgtest"
)

func TestEventsCommands_SQLite(t *testing.T) {
	testEventsCommands(t, "sqlite:"+filepath.Join(t.TempDir(), "events.db"))
}

func TestEventsCommands_PostgreSQL(t *testing.T) {
	dbURL, _ := pgtest.Schema(t)
	testEventsCommands(t, dbURL)
}

// testEventsCommands fills the outbox of db with a delivered, a failed and a pending item and
// drives `events list` and `events retry` on it.
func testEventsCommands(t *testing.T, db string) {
	ctx := context.Background()
	store, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ob := store.(auth.Outbox)
	now := time.Now().Add(-time.Minute)
	for i := range 3 {
		_, err := ob.Enqueue(ctx, auth.OutboxItem{Kind: auth.KindEvent, EventID: fmt.Sprintf("msg_%d", i), EventType: auth.EventUserCreated,
			Target: "https://svc.example/hook", Payload: []byte(`{}`), CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := ob.ClaimOutbox(ctx, now, time.Minute, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	ob.FinishOutbox(ctx, auth.OutboxResult{ID: claimed[0].ID, Attempt: 1, State: auth.OutboxDelivered, Now: now})
	ob.FinishOutbox(ctx, auth.OutboxResult{ID: claimed[1].ID, Attempt: 1, State: auth.OutboxFailed, Error: "answered 500", Now: now})
	failedID := claimed[1].ID
	store.Close()

	table := mustAdminCmd(t, db, "events", "list")
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(table, "answered 500") || !strings.Contains(table, "user.created") {
		t.Errorf("events list:\n%s", table)
	}
	items := adminJSON(t, db, "events", "list", "-state", "failed")["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != float64(failedID) || items[0].(map[string]any)["last_error"] != "answered 500" {
		t.Fatalf("events list -state failed -json: %v", items)
	}
	if out := mustAdminCmd(t, db, "events", "list", "-state", "failed", "-limit", "1"); !strings.Contains(out, fmt.Sprint(failedID)) {
		t.Errorf("events list -state failed -limit 1:\n%s", out)
	}
	if got := adminJSON(t, db, "events", "retry", fmt.Sprint(failedID))["retried"]; got != 1.0 {
		t.Errorf("events retry %d: %v", failedID, got)
	}
	if out := mustAdminCmd(t, db, "events", "list", "-state", "failed"); !strings.Contains(out, "(no items)") {
		t.Errorf("failed items after the retry:\n%s", out)
	}
	// The retried item is pending again, from its first attempt.
	pending := adminJSON(t, db, "events", "list", "-state", "pending")["items"].([]any)
	if len(pending) != 2 {
		t.Errorf("pending items after the retry: %v", pending)
	}
	for _, p := range pending {
		if m := p.(map[string]any); m["id"] == float64(failedID) && m["attempts"] != 0.0 {
			t.Errorf("retried item: %v", m)
		}
	}
	if _, err := adminCmd(t, db, "events", "retry", fmt.Sprint(failedID)); err == nil || !strings.Contains(err.Error(), "no failed outbox item") {
		t.Errorf("retry of an item that is not failed: %v", err)
	}
	if out := mustAdminCmd(t, db, "events", "retry", "-all-failed"); !strings.Contains(out, "0 item(s)") {
		t.Errorf("events retry -all-failed with none failed: %s", out)
	}
	// Usage errors name what is wrong.
	for _, bad := range [][]string{
		{"events"}, {"events", "purge"}, {"events", "list", "-state", "stuck"}, {"events", "list", "-limit", "0"},
		{"events", "retry"}, {"events", "retry", "abc"}, {"events", "retry", "1", "-all-failed"}, {"events", "list", "x"},
	} {
		_, err := adminCmd(t, db, bad...)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("kakaoauth %s: %v, want a usage error", strings.Join(bad, " "), err)
		}
	}
}

// TestUsersCommandWritesEvents: with the server's KAKAOAUTH_EVENTS_URL, an operator's change
// from the command line writes its event to the outbox (the server's worker delivers it).
func TestUsersCommandWritesEvents(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "ops.db")
	ctx := context.Background()
	store, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u, _, err := store.LoginUser(ctx, auth.Profile{Provider: auth.ProviderKakao, Subject: "4217730412856391077", Nickname: "운영"},
		auth.Session{ID: auth.NewID(now), ExpiresAt: now.Add(time.Hour)}, auth.RefreshToken{Hash: []byte("0123456789abcdef0123456789abcdef")}, now)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	env := map[string]string{"KAKAOAUTH_DATABASE_URL": db, "KAKAOAUTH_EVENTS_URL": "https://svc.example/hook#user.disabled",
		"KAKAOAUTH_EVENTS_SECRET": "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="}
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"kakaoauth", "users", "disable", u.ID, "-dev"}, func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
		t.Fatalf("users disable: %v", err)
	}
	items := adminJSON(t, db, "events", "list")["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["event_type"] != "user.disabled" || items[0].(map[string]any)["target"] != "https://svc.example/hook" {
		t.Errorf("outbox after users disable: %v", items)
	}
}
