package app_test

// Service events end to end: the real server on SQLite, the Kakao emulator, and a receiver on
// 127.0.0.1 that verifies every request with the Standard Webhooks library.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

var eventsSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("app-events-test-secret-of-32-byt"))

type received struct {
	id   string
	body map[string]any
}

// eventReceiver records the events it gets; a request whose signature does not verify fails the
// test and is answered 401.
func eventReceiver(t *testing.T) (url string, got func() []received) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(eventsSecret)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		all []received
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := wh.Verify(b, r.Header); err != nil {
			t.Errorf("event signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("event body %q: %v", b, err)
		}
		mu.Lock()
		all = append(all, received{id: r.Header.Get("webhook-id"), body: m})
		mu.Unlock()
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/kakaoauth-events", func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), all...)
	}
}

func withEvents(url string, manual bool) servertest.Option {
	return servertest.WithConfig(func(c *app.Config) {
		c.EventTargets = []auth.EventTarget{{URL: url}}
		c.EventsSecret = eventsSecret
		c.EventsManual = manual
	})
}

func byType(rs []received) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, r := range rs {
		typ, _ := r.body["type"].(string)
		out[typ] = append(out[typ], r.body)
	}
	return out
}

// TestEvents_EveryTypeFromTheServer: the server's own flows (login, logout, the operator's
// disable and enable, the person's account deletion) each announce their event, with the user
// exactly as the login response shows it.
func TestEvents_EveryTypeFromTheServer(t *testing.T) {
	url, got := eventReceiver(t)
	s := servertest.Start(t, withEvents(url, true))
	const user = 4217730412856391024
	at, idt := s.SDKToken(t, user, nil)
	r, login := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
	if r.StatusCode != 200 {
		t.Fatalf("login: %d %v", r.StatusCode, login)
	}
	s.DrainOutbox(t)
	ev := byType(got())
	if len(ev["user.created"]) != 1 || len(ev["session.created"]) != 1 {
		t.Fatalf("after the first login: %v", ev)
	}
	evUser := ev["user.created"][0]["data"].(map[string]any)["user"]
	if !reflect.DeepEqual(evUser, login["user"]) {
		t.Errorf("user.created user\n%v\nwant the login response's user\n%v", evUser, login["user"])
	}
	userID := login["user"].(map[string]any)["id"].(string)

	// A second device, then its logout.
	_, refresh := s.SPASignIn(t, user)
	resp := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/logout", map[string]string{"refresh": refresh}, nil)
	servertest.ReadBody(t, resp)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	// The operator disables and enables the user; the person deletes the account.
	ctx := context.Background()
	if err := s.App.Service.DisableUser(ctx, userID); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Service.EnableUser(ctx, userID); err != nil {
		t.Fatal(err)
	}
	// The person changes their nickname at Kakao; the next login announces user.updated.
	for _, u := range kakaotest.DefaultUsers() {
		if u.ID == user {
			u.Nickname = "민준 (새 이름)"
			s.Emulator.AddUser(u)
		}
	}
	access, _, _ := s.SDKSignIn(t, user)
	del := servertest.Do(t, http.DefaultClient, "DELETE", s.BaseURL+"/auth/me", map[string]string{"Authorization": "Bearer " + access}, "")
	servertest.ReadBody(t, del)
	if del.StatusCode != 204 {
		t.Fatalf("DELETE /auth/me: %d", del.StatusCode)
	}
	s.DrainOutbox(t)
	ev = byType(got())
	for _, typ := range auth.EventTypes {
		if len(ev[typ]) == 0 {
			t.Errorf("no %s event (got %v)", typ, ev)
		}
	}
	if n := len(ev["session.created"]); n != 3 {
		t.Errorf("%d session.created, want 3 logins", n)
	}
	// (The SPA login's image differs from the SDK login's, which is a change too.)
	found := false
	for _, e := range ev["user.updated"] {
		found = found || e["data"].(map[string]any)["user"].(map[string]any)["nickname"] == "민준 (새 이름)"
	}
	if !found {
		t.Errorf("user.updated: %v, want one with the new nickname", ev["user.updated"])
	}
	for _, typ := range []string{"user.deleted", "user.disabled", "user.enabled", "session.revoked"} {
		for _, e := range ev[typ] {
			if id := e["data"].(map[string]any)["user"].(map[string]any)["id"]; id != userID {
				t.Errorf("%s of user %v, want %s", typ, id, userID)
			}
		}
	}
	// Every attempt of one event carries one webhook-id, and no two events share one.
	ids := map[string]bool{}
	for _, r := range got() {
		if ids[r.id] {
			t.Errorf("webhook-id %s delivered twice", r.id)
		}
		ids[r.id] = true
	}
}

// TestEvents_PendingSurviveRestart: the server stops with events undelivered (its worker never
// ran); a new server on the same SQLite file delivers them.
func TestEvents_PendingSurviveRestart(t *testing.T) {
	url, got := eventReceiver(t)
	path := filepath.Join(t.TempDir(), "kakaoauth.db")
	first := servertest.Start(t, withEvents(url, true), func(o *servertest.Options) { o.DatabasePath = path })
	_, _, userID := first.SDKSignIn(t, 4217730412856391025)
	if err := first.App.Close(); err != nil { // stopped before any delivery
		t.Fatal(err)
	}
	if n := len(got()); n != 0 {
		t.Fatalf("%d events delivered before the restart", n)
	}
	second := servertest.Start(t, withEvents(url, false), func(o *servertest.Options) { o.DatabasePath = path })
	second.DrainOutbox(t)
	ev := byType(got())
	if len(ev["user.created"]) != 1 || len(ev["session.created"]) != 1 || len(got()) != 2 {
		t.Fatalf("after the restart: %v", ev)
	}
	if id := ev["user.created"][0]["data"].(map[string]any)["user"].(map[string]any)["id"]; id != userID {
		t.Errorf("user.created of %v, want %s", id, userID)
	}
	counts, err := second.App.Store.(auth.Outbox).OutboxCounts(context.Background())
	if err != nil || counts[auth.OutboxDelivered] != 2 || counts[auth.OutboxPending] != 0 {
		t.Errorf("outbox after delivery: %v %v", counts, err)
	}
}

// TestEvents_Metrics: /metrics shows the outbox by state and the attempts by outcome.
func TestEvents_Metrics(t *testing.T) {
	url, _ := eventReceiver(t)
	s := servertest.Start(t, withEvents(url, true))
	s.SDKSignIn(t, 4217730412856391024)
	metrics := func() string {
		rec := httptest.NewRecorder()
		s.App.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	if m := metrics(); !strings.Contains(m, `kakaoauth_outbox_items{state="pending"} 2`) {
		t.Errorf("pending gauge before delivery:\n%s", grep(m, "kakaoauth_outbox"))
	}
	s.DrainOutbox(t)
	m := metrics()
	for _, want := range []string{`kakaoauth_outbox_items{state="pending"} 0`, `kakaoauth_outbox_items{state="delivered"} 2`,
		`kakaoauth_outbox_items{state="failed"} 0`, `kakaoauth_outbox_attempts_total{kind="event",outcome="delivered"} 2`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, grep(m, "kakaoauth_outbox"))
		}
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestEvents_SecretRequired: targets without a secret are refused at wiring.
func TestEvents_SecretRequired(t *testing.T) {
	store, err := app.OpenStore(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := servertest.Start(t).Config
	cfg.EventTargets = []auth.EventTarget{{URL: "https://svc.example/hook"}}
	cfg.EventsSecret = ""
	if _, err := app.NewWithStore(context.Background(), cfg, store); err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_EVENTS_SECRET") {
		t.Errorf("targets without a secret: %v", err)
	}
}
