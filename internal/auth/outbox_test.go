package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

func TestEventItems(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 30, 0, 500, time.UTC)
	u := auth.User{ID: "u1", KakaoID: "42", Nickname: "라이언", CreatedAt: at, LastLoginAt: at}
	sess := auth.Session{ID: "s1", Flow: "sdk", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	targets := []auth.EventTarget{{URL: "https://a/"}, {URL: "https://b/", Types: []string{auth.EventUserCreated}}, {URL: "https://c/", Types: []string{auth.EventUserDeleted}}}
	items := auth.EventItems(targets, auth.LoginEvents(u, true, sess, at)...)
	var got []string
	for _, it := range items {
		got = append(got, it.EventType+"@"+it.Target)
		if it.Kind != auth.KindEvent || it.State != auth.OutboxPending || !it.NextAttemptAt.Equal(at) {
			t.Errorf("item %+v", it)
		}
	}
	want := []string{"user.created@https://a/", "user.created@https://b/", "session.created@https://a/"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("items %v, want %v", got, want)
	}
	if items[0].EventID != items[1].EventID || items[0].EventID == items[2].EventID || string(items[0].Payload) != string(items[1].Payload) {
		t.Errorf("one event, one id and body across URLs: %q %q %q", items[0].EventID, items[1].EventID, items[2].EventID)
	}
	var body map[string]any
	if err := json.Unmarshal(items[2].Payload, &body); err != nil {
		t.Fatal(err)
	}
	data := body["data"].(map[string]any)
	if body["type"] != "session.created" || body["timestamp"] != "2026-12-04T09:30:00Z" ||
		data["user"].(map[string]any)["email"] != nil || data["session"].(map[string]any)["id"] != "s1" {
		t.Errorf("session.created body %s", items[2].Payload)
	}
	if got := auth.EventItems(nil, auth.LoginEvents(u, true, sess, at)...); len(got) != 0 {
		t.Errorf("no targets: %d items", len(got))
	}
}

func TestLoginEvents(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
	types := func(ev []auth.Event) (s []string) {
		for _, e := range ev {
			s = append(s, e.Type)
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		updated time.Time
		created bool
		want    []string
	}{
		{"new user", now, true, []string{"user.created", "session.created"}},
		{"changed profile", now, false, []string{"user.updated", "session.created"}},
		{"same profile", now.Add(-time.Hour), false, []string{"session.created"}},
	} {
		got := types(auth.LoginEvents(auth.User{ID: "u", UpdatedAt: tc.updated}, tc.created, auth.Session{ID: "s"}, now))
		if len(got) != len(tc.want) || got[0] != tc.want[0] {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDoOutboxItem(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	unlink := auth.OutboxItem{Kind: auth.KindKakaoUnlink, Payload: []byte(`{"provider":"kakao","subject":"4242","user_id":"u1"}`), Attempts: 2}
	if err := f.svc.DoOutboxItem(ctx, unlink); err != nil {
		t.Fatalf("unlink: %v", err)
	}
	if len(f.idp.unlinked) != 1 || f.idp.unlinked[0] != "4242" {
		t.Errorf("unlinked %v", f.idp.unlinked)
	}
	f.idp.unlinkErr = &auth.Error{Code: auth.ECodeKakaoUnavailable, Message: "down"}
	if err := f.svc.DoOutboxItem(ctx, unlink); err == nil {
		t.Error("a failed unlink reported done")
	}
	f.idp.unlinkErr = nil
	// The webhook's work deletes the user of the identity; an unknown one is done too.
	res := f.login(t, "code-ryan")
	hook := auth.OutboxItem{Kind: auth.KindKakaoWebhook, Payload: []byte(`{"provider":"kakao","subject":"4242","reason":"UNLINK_FROM_APPS"}`)}
	if err := f.svc.DoOutboxItem(ctx, hook); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.User(ctx, res.User.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("user after the webhook's work: %v", err)
	}
	if err := f.svc.DoOutboxItem(ctx, hook); err != nil {
		t.Errorf("the same work again: %v", err)
	}
	for _, bad := range []auth.OutboxItem{
		{Kind: "mystery", Payload: []byte(`{"provider":"kakao","subject":"1"}`)},
		{Kind: auth.KindKakaoUnlink, Payload: []byte(`not json`)},
		{Kind: auth.KindKakaoUnlink, Payload: []byte(`{"provider":"kakao"}`)},
	} {
		if err := f.svc.DoOutboxItem(ctx, bad); err == nil {
			t.Errorf("%s %s: done", bad.Kind, bad.Payload)
		}
	}
}

// Without an outbox the webhook's work is done at once; with one it is queued, and a failed
// unlink after an account deletion is queued for retries.
func TestQueueing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	res := f.login(t, "code-ryan")
	queued, err := f.svc.QueueUnlinkedAtProvider(ctx, auth.ProviderKakao, "4242", "UNLINK_FROM_APPS")
	if err != nil || queued {
		t.Fatalf("without an outbox: queued %v, %v", queued, err)
	}
	if _, err := f.db.User(ctx, res.User.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("without an outbox the user is deleted at once: %v", err)
	}

	notified := 0
	g := newFixture(t, func(c *auth.Config) {
		c.Outbox = c.Store.(auth.Outbox)
		c.OnOutbox = func() { notified++ }
	})
	res = g.login(t, "code-ryan")
	if queued, err := g.svc.QueueUnlinkedAtProvider(ctx, auth.ProviderKakao, "4242", "UNLINK_FROM_APPS"); err != nil || !queued {
		t.Fatalf("with an outbox: queued %v, %v", queued, err)
	}
	if _, err := g.db.User(ctx, res.User.ID); err != nil {
		t.Errorf("the queued deletion happened at once: %v", err)
	}
	g.idp.unlinkErr = &auth.Error{Code: auth.ECodeKakaoUnavailable, Message: "down"}
	dr, err := g.svc.DeleteAccount(ctx, res.User.ID, "", "192.0.2.1")
	if err != nil || dr.Unlinked || !dr.Queued {
		t.Fatalf("DeleteAccount with Kakao down: %+v %v, want deleted, not unlinked, queued", dr, err)
	}
	items, err := g.db.ListOutbox(ctx, auth.OutboxFilter{})
	if err != nil || len(items) != 2 || notified != 2 {
		t.Fatalf("outbox %+v (%v), notified %d; want the webhook's work and the unlink", items, err, notified)
	}
	w, err := auth.ParseUnlinkWork(items[0].Payload) // newest first: the unlink
	if err != nil || items[0].Kind != auth.KindKakaoUnlink || w.Subject != "4242" || w.UserID != res.User.ID {
		t.Errorf("unlink item %+v %+v %v", items[0], w, err)
	}
	w, err = auth.ParseUnlinkWork(items[1].Payload)
	if err != nil || items[1].Kind != auth.KindKakaoWebhook || w.Subject != "4242" || w.Reason != "UNLINK_FROM_APPS" {
		t.Errorf("webhook item %+v %+v %v", items[1], w, err)
	}
}
