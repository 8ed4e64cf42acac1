package events_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/events"
	"github.com/kakaoauth/kakaoauth/internal/postgres"
	"github.com/kakaoauth/kakaoauth/internal/postgres/pgtest"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
)

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("kakaoauth-events-test-secret-32b"))

// clock is a test clock that starts at the real time (receivers check webhook-timestamp against
// theirs) and moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Microsecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// delivery is one request a receiver got.
type delivery struct {
	ID, Type string
	Body     map[string]any
	Verified error
}

// receiver is a service that receives events on 127.0.0.1 and verifies them with the Standard
// Webhooks library.
type receiver struct {
	*httptest.Server
	status   atomic.Int32 // answered status; 0 means 200
	mu       sync.Mutex
	got      []delivery
	inFlight atomic.Int32
	overlap  atomic.Int32 // attempts of one event that ran at the same time
	active   sync.Map     // webhook-id -> *atomic.Int32
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("webhook-id")
		n, _ := r.active.LoadOrStore(id, new(atomic.Int32))
		if n.(*atomic.Int32).Add(1) > 1 {
			r.overlap.Add(1)
		}
		defer n.(*atomic.Int32).Add(-1)
		body, _ := io.ReadAll(req.Body)
		d := delivery{ID: id, Verified: wh.Verify(body, req.Header)}
		json.Unmarshal(body, &d.Body)
		d.Type, _ = d.Body["type"].(string)
		r.mu.Lock()
		r.got = append(r.got, d)
		r.mu.Unlock()
		if st := r.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func openSQLite(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newWorker(t *testing.T, st auth.Outbox, c *clock, mod ...func(*events.Config)) *events.Worker {
	t.Helper()
	cfg := events.Config{Store: st, Secret: secret, Now: c.Now, MinBackoff: time.Second, MaxBackoff: time.Minute, MaxAttempts: 5}
	for _, f := range mod {
		f(&cfg)
	}
	w, err := events.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func drain(t *testing.T, w *events.Worker) int {
	t.Helper()
	n, err := w.Drain(context.Background(), 0)
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	return n
}

var nextSubject atomic.Int64

func init() { nextSubject.Store(4217730412856300000) }

func login(t *testing.T, st auth.Store, subject, nickname string, now time.Time) (auth.User, auth.Session) {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	sess := auth.Session{ID: auth.NewID(now), CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(24 * time.Hour), Flow: "sdk"}
	u, _, err := st.LoginUser(context.Background(), auth.Profile{Provider: auth.ProviderKakao, Subject: subject, Nickname: nickname},
		sess, auth.RefreshToken{Hash: b, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}, now)
	if err != nil {
		t.Fatal(err)
	}
	sess.UserID = u.ID
	return u, sess
}

// everyType makes one change of each event type on st and returns the user.
func everyType(t *testing.T, st auth.Store, c *clock) auth.User {
	t.Helper()
	ctx := context.Background()
	subject := "4217730412856391099"
	u, _ := login(t, st, subject, "라이언", c.Now())                          // user.created, session.created
	_, sess := login(t, st, subject, "라이언 (바뀜)", c.Now().Add(time.Second)) // user.updated, session.created
	if err := st.RevokeSession(ctx, u.ID, sess.ID, c.Now()); err != nil {  // session.revoked
		t.Fatal(err)
	}
	if err := st.SetUserDisabled(ctx, u.ID, c.Now()); err != nil { // user.disabled (and session.revoked? no)
		t.Fatal(err)
	}
	if err := st.SetUserDisabled(ctx, u.ID, time.Time{}); err != nil { // user.enabled
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, u.ID); err != nil { // user.deleted
		t.Fatal(err)
	}
	// The last change is a second ahead, and the store stamps deletions with its own clock.
	c.Advance(5 * time.Second)
	return u
}

func TestDeliver_EveryTypeSigned(t *testing.T) {
	c := newClock()
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	rcv := newReceiver(t)
	db.SetEventTargets([]auth.EventTarget{{URL: rcv.URL + "/hook"}})
	u := everyType(t, db, c)
	w := newWorker(t, db, c)
	if n := drain(t, w); n != 8 {
		t.Errorf("attempted %d items, want 8", n)
	}
	got := map[string]int{}
	for _, d := range rcv.deliveries() {
		got[d.Type]++
		if d.Verified != nil {
			t.Errorf("%s: signature does not verify: %v", d.Type, d.Verified)
		}
		if !strings.HasPrefix(d.ID, "msg_") {
			t.Errorf("%s: webhook-id %q", d.Type, d.ID)
		}
		data, _ := d.Body["data"].(map[string]any)
		user, _ := data["user"].(map[string]any)
		if user["id"] != u.ID || user["kakao_id"] != "4217730412856391099" {
			t.Errorf("%s: data.user %v", d.Type, user)
		}
		_, hasSession := data["session"]
		if hasSession != strings.HasPrefix(d.Type, "session.") {
			t.Errorf("%s: data %v", d.Type, data)
		}
		if ts, _ := d.Body["timestamp"].(string); ts == "" {
			t.Errorf("%s: no timestamp", d.Type)
		}
	}
	for _, typ := range auth.EventTypes {
		want := 1
		if typ == auth.EventSessionCreated {
			want = 2
		}
		if got[typ] != want {
			t.Errorf("%s delivered %d times, want %d (all: %v)", typ, got[typ], want, got)
		}
	}
	counts, _ := db.OutboxCounts(context.Background())
	if counts[auth.OutboxDelivered] != 8 || counts[auth.OutboxPending] != 0 {
		t.Errorf("outbox counts %v", counts)
	}
}

// A signature made with another secret, or over another body, does not verify: the receiver's
// check can fail.
func TestDeliver_WrongSecretDoesNotVerify(t *testing.T) {
	c := newClock()
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	rcv := newReceiver(t)
	db.SetEventTargets([]auth.EventTarget{{URL: rcv.URL}})
	login(t, db, "4217730412856391098", "다른 비밀", c.Now())
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-another-secret-32"))
	drain(t, newWorker(t, db, c, func(cfg *events.Config) { cfg.Secret = other }))
	for _, d := range rcv.deliveries() {
		if d.Verified == nil {
			t.Errorf("%s signed with another secret verified", d.Type)
		}
	}
	if len(rcv.deliveries()) != 2 {
		t.Errorf("%d deliveries", len(rcv.deliveries()))
	}
}

func TestDeliver_TargetTypes(t *testing.T) {
	c := newClock()
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	all, some := newReceiver(t), newReceiver(t)
	targets, err := events.ParseTargets(all.URL + "  " + some.URL + "/in#user.created,user.deleted")
	if err != nil {
		t.Fatal(err)
	}
	db.SetEventTargets(targets)
	everyType(t, db, c)
	drain(t, newWorker(t, db, c))
	if n := len(all.deliveries()); n != 8 {
		t.Errorf("the URL without types got %d events, want 8", n)
	}
	var types []string
	for _, d := range some.deliveries() {
		types = append(types, d.Type)
	}
	sort.Strings(types) // order is not guaranteed
	if strings.Join(types, " ") != "user.created user.deleted" {
		t.Errorf("the URL for user.created,user.deleted got %v", types)
	}
	// One event keeps one webhook-id across URLs.
	ids := map[string]bool{}
	for _, d := range all.deliveries() {
		ids[d.ID] = true
	}
	for _, d := range some.deliveries() {
		if !ids[d.ID] {
			t.Errorf("%s has webhook-id %s at one URL only", d.Type, d.ID)
		}
	}
}

// The receiver is down for a while: the event is retried with backoff, the same webhook-id each
// time, and delivered once it is back.
func TestDeliver_ReceiverDownThenBack(t *testing.T) {
	c := newClock()
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	rcv := newReceiver(t)
	db.SetEventTargets([]auth.EventTarget{{URL: rcv.URL, Types: []string{auth.EventUserCreated}}})
	login(t, db, "4217730412856391097", "다운", c.Now())
	w := newWorker(t, db, c)
	rcv.status.Store(503)
	for i := 1; i <= 3; i++ {
		if n := drain(t, w); n != 1 {
			t.Fatalf("round %d: attempted %d, want 1 (then nothing due until the backoff passes)", i, n)
		}
		l, _ := db.ListOutbox(context.Background(), auth.OutboxFilter{})
		if l[0].State != auth.OutboxPending || l[0].Attempts != i || l[0].LastError != "answered 503" || !l[0].NextAttemptAt.After(c.Now()) {
			t.Fatalf("after attempt %d: %+v", i, l[0])
		}
		c.Advance(time.Minute) // the longest backoff
	}
	rcv.status.Store(0)
	if n := drain(t, w); n != 1 {
		t.Fatalf("after the receiver is back: attempted %d", n)
	}
	ds := rcv.deliveries()
	if len(ds) != 4 {
		t.Fatalf("%d requests, want 3 refused and 1 delivered", len(ds))
	}
	for _, d := range ds {
		if d.ID != ds[0].ID || d.Verified != nil {
			t.Errorf("attempt with webhook-id %s (first %s), verified: %v", d.ID, ds[0].ID, d.Verified)
		}
	}
	c.Advance(time.Hour)
	if n := drain(t, w); n != 0 {
		t.Errorf("a delivered event was attempted again (%d)", n)
	}
}

// After MaxAttempts the item fails; `events retry` (RetryOutbox) brings it back.
func TestDeliver_FailsAfterMaxAttempts(t *testing.T) {
	c := newClock()
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	rcv := newReceiver(t)
	db.SetEventTargets([]auth.EventTarget{{URL: rcv.URL, Types: []string{auth.EventUserCreated}}})
	login(t, db, "4217730412856391096", "실패", c.Now())
	w := newWorker(t, db, c, func(cfg *events.Config) { cfg.MaxAttempts = 3 })
	rcv.status.Store(500)
	for range 5 {
		drain(t, w)
		c.Advance(time.Minute)
	}
	if n := len(rcv.deliveries()); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	failed, _ := db.ListOutbox(context.Background(), auth.OutboxFilter{State: auth.OutboxFailed})
	if len(failed) != 1 || failed[0].LastError != "answered 500" || failed[0].DoneAt.IsZero() {
		t.Fatalf("failed items %+v", failed)
	}
	rcv.status.Store(0)
	if _, err := db.RetryOutbox(context.Background(), failed[0].ID, c.Now()); err != nil {
		t.Fatal(err)
	}
	drain(t, w)
	counts, _ := db.OutboxCounts(context.Background())
	if counts[auth.OutboxDelivered] != 1 || counts[auth.OutboxFailed] != 0 {
		t.Errorf("after retry: %v", counts)
	}
}

// A redirect is not followed: it counts as a failed attempt (the event might carry an email to
// wherever the redirect points).
func TestDeliver_RedirectNotFollowed(t *testing.T) {
	c := newClock()
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	rcv := newReceiver(t)
	redirect := httptest.NewServer(http.RedirectHandler(rcv.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	db.SetEventTargets([]auth.EventTarget{{URL: redirect.URL, Types: []string{auth.EventUserCreated}}})
	login(t, db, "4217730412856391095", "리다이렉트", c.Now())
	drain(t, newWorker(t, db, c))
	if n := len(rcv.deliveries()); n != 0 {
		t.Errorf("the redirect was followed (%d deliveries)", n)
	}
	l, _ := db.ListOutbox(context.Background(), auth.OutboxFilter{})
	if l[0].State != auth.OutboxPending || l[0].LastError != "answered 307" {
		t.Errorf("item after a redirect: %+v", l[0])
	}
}

// The server stops with events pending: a new worker on the same database file delivers them.
func TestDeliver_SurvivesRestart(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "kakaoauth.db")
	rcv := newReceiver(t)
	first, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first.SetEventTargets([]auth.EventTarget{{URL: rcv.URL}})
	u, _ := login(t, first, "4217730412856391094", "재시작", c.Now())
	if err := first.Close(); err != nil { // no worker ran
		t.Fatal(err)
	}
	if n := len(rcv.deliveries()); n != 0 {
		t.Fatalf("%d deliveries before the restart", n)
	}
	second := openSQLite(t, path)
	if n := drain(t, newWorker(t, second, c)); n != 2 {
		t.Errorf("after the restart %d items attempted, want 2", n)
	}
	ds := rcv.deliveries()
	if len(ds) != 2 || ds[0].Verified != nil {
		t.Fatalf("deliveries after the restart: %+v", ds)
	}
	for _, d := range ds {
		if d.Body["data"].(map[string]any)["user"].(map[string]any)["id"] != u.ID {
			t.Errorf("%s: user %v", d.Type, d.Body["data"])
		}
	}
}

// Kakao work (kakao_unlink, kakao_webhook) goes to Do; an error retries it.
func TestDeliver_KakaoWorkRetried(t *testing.T) {
	c := newClock()
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	var calls atomic.Int32
	down := atomic.Bool{}
	down.Store(true)
	w := newWorker(t, db, c, func(cfg *events.Config) {
		cfg.Do = func(ctx context.Context, it auth.OutboxItem) error {
			calls.Add(1)
			if down.Load() {
				return &auth.Error{Code: auth.ECodeKakaoUnavailable, Message: "kakao down"}
			}
			return nil
		}
	})
	if _, err := db.Enqueue(context.Background(), auth.OutboxItem{Kind: auth.KindKakaoUnlink, CreatedAt: c.Now(),
		Payload: []byte(`{"provider":"kakao","subject":"1"}`)}); err != nil {
		t.Fatal(err)
	}
	drain(t, w)
	c.Advance(time.Minute)
	down.Store(false)
	drain(t, w)
	c.Advance(time.Hour)
	drain(t, w)
	if calls.Load() != 2 {
		t.Errorf("Do called %d times, want 2", calls.Load())
	}
	counts, _ := db.OutboxCounts(context.Background())
	if counts[auth.OutboxDelivered] != 1 {
		t.Errorf("counts %v", counts)
	}
}

// Without a secret events are not sent unsigned: they wait (and fail in the end).
func TestDeliver_NoSecretNoDelivery(t *testing.T) {
	c := newClock()
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	rcv := newReceiver(t)
	db.SetEventTargets([]auth.EventTarget{{URL: rcv.URL}})
	login(t, db, "4217730412856391093", "서명 없음", c.Now())
	drain(t, newWorker(t, db, c, func(cfg *events.Config) { cfg.Secret = "" }))
	if n := len(rcv.deliveries()); n != 0 {
		t.Errorf("%d unsigned deliveries", n)
	}
}

func TestNew_BadSecret(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "kakaoauth.db"))
	for _, s := range []string{"plain-secret", "whsec_", "whsec_!!!"} {
		if _, err := events.New(events.Config{Store: db, Secret: s}); err == nil {
			t.Errorf("secret %q accepted", s)
		}
	}
}

func TestParseTargets(t *testing.T) {
	got, err := events.ParseTargets(" https://a.example/hook\nhttp://127.0.0.1:9000/in#user.created,user.deleted,user.created  https://b.example/x?token=1#* ")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].URL != "https://a.example/hook" || got[0].Types != nil ||
		got[1].URL != "http://127.0.0.1:9000/in" || strings.Join(got[1].Types, " ") != "user.created user.deleted" ||
		got[2].URL != "https://b.example/x?token=1" || got[2].Types != nil {
		t.Fatalf("targets %+v", got)
	}
	for _, bad := range []string{"ftp://a.example/x", "/relative", "https://a.example/x#user.made"} {
		if _, err := events.ParseTargets(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_, err = events.ParseTargets("https://a.example/a,https://b.example/b")
	if err == nil || !strings.Contains(err.Error(), "separate URLs with spaces") {
		t.Errorf("comma-separated URLs: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for n := 1; n <= 64; n++ {
		want := time.Second
		for i := 1; i < n && want < time.Minute; i++ {
			want *= 2
		}
		want = min(want, time.Minute)
		for range 20 {
			d := events.Backoff(n, time.Second, time.Minute)
			if d < want/2 || d > want {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

// Two replicas on one PostgreSQL database: workers on two store handles claim concurrently, and
// every event is attempted exactly once per URL — never by both at once, never twice.
func TestDeliver_TwoReplicasPostgres(t *testing.T) {
	dbURL := pgSchema(t)
	c := newClock()
	rcv := newReceiver(t)
	var stores [2]*postgres.DB
	for i := range stores {
		db, err := postgres.Open(context.Background(), dbURL, postgres.Options{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.SetEventTargets([]auth.EventTarget{{URL: rcv.URL}})
		stores[i] = db
	}
	const logins = 30
	for i := range logins {
		login(t, stores[i%2], strconv.Itoa(4217730412856300000+i), "복제", c.Now())
	}
	// Four workers, two on each handle (RunOnce is serialized within one worker, not across).
	var wg sync.WaitGroup
	for i := range 4 {
		w := newWorker(t, stores[i%2], c, func(cfg *events.Config) { cfg.Batch = 3 })
		wg.Go(func() {
			for {
				n, err := w.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	perID := map[string]int{}
	for _, d := range rcv.deliveries() {
		perID[d.ID]++
		if d.Verified != nil {
			t.Errorf("signature: %v", d.Verified)
		}
	}
	if len(perID) != 2*logins {
		t.Errorf("%d distinct events delivered, want %d", len(perID), 2*logins)
	}
	for id, n := range perID {
		if n != 1 {
			t.Errorf("event %s attempted %d times", id, n)
		}
	}
	if rcv.overlap.Load() != 0 {
		t.Errorf("%d attempts ran while another attempt of the same event was running", rcv.overlap.Load())
	}
	counts, _ := stores[0].OutboxCounts(context.Background())
	if counts[auth.OutboxDelivered] != 2*logins || counts[auth.OutboxPending] != 0 {
		t.Errorf("counts %v", counts)
	}
}

// pgSchema creates a schema of its own for t (dropped at the end) and returns a URL selecting it;
// it skips without KAKAOAUTH_TEST_POSTGRES_URL (and fails in CI).
func pgSchema(t *testing.T) string {
	u, _ := pgtest.Schema(t)
	return u
}

// An event URL may carry a token in its query or user info: logs and `events list` show it
// without them.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@hooks.example/in?token=s3cret#user.created": "https://hooks.example/in",
		"http://127.0.0.1:9000/hook":                                 "http://127.0.0.1:9000/hook",
		"://bad":                                                     "(bad URL)",
	} {
		if got := events.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
