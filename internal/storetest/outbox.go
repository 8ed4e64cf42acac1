package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// OutboxStore is a store with the outbox.
type OutboxStore interface {
	auth.Store
	auth.Outbox
}

// RunOutbox runs the outbox conformance tests (auth.Outbox) on stores newStore makes, each test
// on a fresh, empty store.
func RunOutbox(t *testing.T, newStore func(t *testing.T) OutboxStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, o *outboxEnv)
	}{
		{"ClaimFinish", testOutboxClaimFinish},
		{"Backoff", testOutboxBackoff},
		{"LeaseExpiry", testOutboxLeaseExpiry},
		{"FailedRetry", testOutboxFailedRetry},
		{"ParallelClaims", testOutboxParallelClaims},
		{"Purge", testOutboxPurge},
		{"EventsOff", testOutboxEventsOff},
		{"LoginEvents", testOutboxLoginEvents},
		{"RevokeEvents", testOutboxRevokeEvents},
		{"DisableEvents", testOutboxDisableEvents},
		{"DeleteEvents", testOutboxDeleteEvents},
		{"92_FailedChangeWritesNoEvent", testOutbox92NoEventOnFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			tc.fn(t, &outboxEnv{env: env{st: st, ctx: t.Context()}, ob: st})
		})
	}
}

type outboxEnv struct {
	env
	ob OutboxStore
}

const lease = time.Minute

func (o *outboxEnv) enqueue(t *testing.T, kind string, at time.Time) int64 {
	t.Helper()
	id, err := o.ob.Enqueue(o.ctx, auth.OutboxItem{Kind: kind, Payload: []byte(`{"provider":"kakao","subject":"1"}`), CreatedAt: at})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if id == 0 {
		t.Fatal("Enqueue returned id 0")
	}
	return id
}

func (o *outboxEnv) claim(t *testing.T, now time.Time, limit int) []auth.OutboxItem {
	t.Helper()
	items, err := o.ob.ClaimOutbox(o.ctx, now, lease, limit)
	if err != nil {
		t.Fatalf("ClaimOutbox: %v", err)
	}
	return items
}

func (o *outboxEnv) finish(t *testing.T, it auth.OutboxItem, state string, next, now time.Time) bool {
	t.Helper()
	ok, err := o.ob.FinishOutbox(o.ctx, auth.OutboxResult{ID: it.ID, Attempt: it.Attempts, State: state, Next: next,
		Error: "boom", Now: now})
	if err != nil {
		t.Fatalf("FinishOutbox: %v", err)
	}
	return ok
}

func (o *outboxEnv) counts(t *testing.T) map[string]int {
	t.Helper()
	c, err := o.ob.OutboxCounts(o.ctx)
	if err != nil {
		t.Fatalf("OutboxCounts: %v", err)
	}
	return c
}

func (o *outboxEnv) list(t *testing.T, state string) []auth.OutboxItem {
	t.Helper()
	items, err := o.ob.ListOutbox(o.ctx, auth.OutboxFilter{State: state, Limit: 1000})
	if err != nil {
		t.Fatalf("ListOutbox: %v", err)
	}
	return items
}

func testOutboxClaimFinish(t *testing.T, o *outboxEnv) {
	id := o.enqueue(t, auth.KindKakaoUnlink, t0)
	if got := o.claim(t, t0.Add(-time.Second), 10); len(got) != 0 {
		t.Fatalf("claimed %d items before they are due", len(got))
	}
	got := o.claim(t, t0, 10)
	if len(got) != 1 || got[0].ID != id || got[0].Attempts != 1 || got[0].Kind != auth.KindKakaoUnlink {
		t.Fatalf("claim: %+v", got)
	}
	if !got[0].ClaimedUntil.Equal(t0.Add(lease)) || !got[0].CreatedAt.Equal(t0) {
		t.Errorf("claimed until %v created %v", got[0].ClaimedUntil, got[0].CreatedAt)
	}
	if string(got[0].Payload) != `{"provider":"kakao","subject":"1"}` {
		t.Errorf("payload %q", got[0].Payload)
	}
	if again := o.claim(t, t0.Add(time.Second), 10); len(again) != 0 {
		t.Fatalf("a leased item was claimed again: %+v", again)
	}
	if !o.finish(t, got[0], auth.OutboxDelivered, time.Time{}, t0.Add(time.Second)) {
		t.Fatal("finish of the current attempt ignored")
	}
	if c := o.counts(t); c[auth.OutboxDelivered] != 1 || c[auth.OutboxPending] != 0 || c[auth.OutboxFailed] != 0 {
		t.Errorf("counts %v", c)
	}
	l := o.list(t, auth.OutboxDelivered)
	if len(l) != 1 || l[0].State != auth.OutboxDelivered || !l[0].DoneAt.Equal(t0.Add(time.Second)) || !l[0].ClaimedUntil.IsZero() {
		t.Errorf("delivered item %+v", l)
	}
	if again := o.claim(t, t0.Add(time.Hour), 10); len(again) != 0 {
		t.Errorf("a delivered item was claimed: %+v", again)
	}
	if o.finish(t, got[0], auth.OutboxFailed, time.Time{}, t0) {
		t.Error("a second finish of a delivered item was applied")
	}
}

func testOutboxBackoff(t *testing.T, o *outboxEnv) {
	o.enqueue(t, auth.KindKakaoWebhook, t0)
	it := o.claim(t, t0, 1)[0]
	if !o.finish(t, it, auth.OutboxPending, t0.Add(10*time.Minute), t0) {
		t.Fatal("finish ignored")
	}
	if got := o.claim(t, t0.Add(9*time.Minute), 1); len(got) != 0 {
		t.Fatalf("claimed before its next attempt: %+v", got)
	}
	got := o.claim(t, t0.Add(10*time.Minute), 1)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "boom" {
		t.Fatalf("second attempt: %+v", got)
	}
}

func testOutboxLeaseExpiry(t *testing.T, o *outboxEnv) {
	o.enqueue(t, auth.KindKakaoUnlink, t0)
	first := o.claim(t, t0, 1)[0]
	// The first worker died (or hangs): after the lease another one takes the item.
	second := o.claim(t, t0.Add(lease), 1)
	if len(second) != 1 || second[0].Attempts != 2 {
		t.Fatalf("after the lease: %+v", second)
	}
	if o.finish(t, first, auth.OutboxDelivered, time.Time{}, t0.Add(lease)) {
		t.Error("the stale worker's result was applied")
	}
	if !o.finish(t, second[0], auth.OutboxDelivered, time.Time{}, t0.Add(lease)) {
		t.Error("the current worker's result was ignored")
	}
}

func testOutboxFailedRetry(t *testing.T, o *outboxEnv) {
	a := o.enqueue(t, auth.KindKakaoUnlink, t0)
	o.enqueue(t, auth.KindKakaoUnlink, t0)
	pending := o.enqueue(t, auth.KindKakaoUnlink, t0.Add(time.Hour))
	for _, it := range o.claim(t, t0, 10) {
		o.finish(t, it, auth.OutboxFailed, time.Time{}, t0)
	}
	if c := o.counts(t); c[auth.OutboxFailed] != 2 || c[auth.OutboxPending] != 1 {
		t.Fatalf("counts %v", c)
	}
	failed := o.list(t, auth.OutboxFailed)
	if len(failed) != 2 || failed[0].ID < failed[1].ID || failed[0].LastError != "boom" {
		t.Fatalf("failed items (newest first): %+v", failed)
	}
	if _, err := o.ob.RetryOutbox(o.ctx, pending, t0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("retry of a pending item: %v, want ErrNotFound", err)
	}
	if _, err := o.ob.RetryOutbox(o.ctx, 999999, t0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("retry of an unknown item: %v, want ErrNotFound", err)
	}
	n, err := o.ob.RetryOutbox(o.ctx, a, t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("retry one: %d %v", n, err)
	}
	got := o.claim(t, t0.Add(time.Minute), 10)
	if len(got) != 1 || got[0].ID != a || got[0].Attempts != 1 {
		t.Fatalf("retried item: %+v", got)
	}
	n, err = o.ob.RetryOutbox(o.ctx, 0, t0)
	if err != nil || n != 1 {
		t.Fatalf("retry all failed: %d %v", n, err)
	}
	if c := o.counts(t); c[auth.OutboxFailed] != 0 || c[auth.OutboxPending] != 3 {
		t.Errorf("counts after retry: %v", c)
	}
}

func testOutboxParallelClaims(t *testing.T, o *outboxEnv) {
	const items, workers = 40, 4
	for range items {
		o.enqueue(t, auth.KindKakaoUnlink, t0)
	}
	var (
		mu     sync.Mutex
		seen   = map[int64]int{}
		wg     sync.WaitGroup
		errs   = make(chan error, workers)
		claims = 0
	)
	for range workers {
		wg.Go(func() {
			for {
				got, err := o.ob.ClaimOutbox(o.ctx, t0, lease, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				claims++
				for _, it := range got {
					seen[it.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimOutbox: %v", err)
	}
	if len(seen) != items {
		t.Errorf("%d items claimed, want %d", len(seen), items)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("item %d claimed %d times", id, n)
		}
	}
}

func testOutboxPurge(t *testing.T, o *outboxEnv) {
	o.enqueue(t, auth.KindKakaoUnlink, t0)
	o.enqueue(t, auth.KindKakaoUnlink, t0)
	items := o.claim(t, t0, 10)
	o.finish(t, items[0], auth.OutboxDelivered, time.Time{}, t0)
	o.finish(t, items[1], auth.OutboxFailed, time.Time{}, t0)
	n, err := o.ob.PurgeOutbox(o.ctx, t0.Add(time.Second))
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if c := o.counts(t); c[auth.OutboxDelivered] != 0 || c[auth.OutboxFailed] != 1 {
		t.Errorf("counts after purge (failed items stay): %v", c)
	}
}

// event is an event row as a test reads it.
type event struct {
	item    auth.OutboxItem
	Type    string `json:"type"`
	Time    string `json:"timestamp"`
	User    map[string]any
	Session map[string]any
}

// events returns the event rows written since the last call, oldest first, and checks that
// every row's body is the documented JSON.
func (o *outboxEnv) events(t *testing.T, seen *int64) []event {
	t.Helper()
	var out []event
	l := o.list(t, "")
	sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	for _, it := range l {
		if it.ID <= *seen || it.Kind != auth.KindEvent {
			continue
		}
		*seen = it.ID
		var body struct {
			Type      string `json:"type"`
			Timestamp string `json:"timestamp"`
			Data      struct {
				User    map[string]any `json:"user"`
				Session map[string]any `json:"session"`
			} `json:"data"`
		}
		if err := json.Unmarshal(it.Payload, &body); err != nil {
			t.Fatalf("event %d body %q: %v", it.ID, it.Payload, err)
		}
		if body.Type != it.EventType || it.EventID == "" || it.State != auth.OutboxPending {
			t.Errorf("event row %+v: body type %q", it, body.Type)
		}
		if _, err := time.Parse(time.RFC3339, body.Timestamp); err != nil {
			t.Errorf("event %d timestamp %q: %v", it.ID, body.Timestamp, err)
		}
		out = append(out, event{item: it, Type: body.Type, Time: body.Timestamp, User: body.Data.User, Session: body.Data.Session})
	}
	return out
}

// types lists "type@target" of events.
func types(ev []event) []string {
	var out []string
	for _, e := range ev {
		out = append(out, e.Type+"@"+e.item.Target)
	}
	return out
}

func wantTypes(t *testing.T, what string, ev []event, want ...string) {
	t.Helper()
	got := types(ev)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: events %v, want %v", what, got, want)
	}
}

var targets = []auth.EventTarget{
	{URL: "https://a.example/hook"},
	{URL: "https://b.example/hook", Types: []string{auth.EventUserCreated, auth.EventUserDeleted}},
}

const hookA, hookB = "https://a.example/hook", "https://b.example/hook"

func testOutboxEventsOff(t *testing.T, o *outboxEnv) {
	l := o.loginAt(t, profile("7001"), t0)
	if _, err := o.st.RevokeUserSessions(o.ctx, l.user.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := o.st.DeleteUser(o.ctx, l.user.ID); err != nil {
		t.Fatal(err)
	}
	if got := o.list(t, ""); len(got) != 0 {
		t.Errorf("without event targets the store wrote %d outbox rows", len(got))
	}
	// Switched on, then off again.
	o.ob.SetEventTargets(targets)
	o.ob.SetEventTargets(nil)
	o.loginAt(t, profile("7002"), t0)
	if got := o.list(t, ""); len(got) != 0 {
		t.Errorf("after SetEventTargets(nil) the store wrote %d outbox rows", len(got))
	}
}

func testOutboxLoginEvents(t *testing.T, o *outboxEnv) {
	o.ob.SetEventTargets(targets)
	var seen int64
	l := o.loginAt(t, profile("7101"), t0)
	ev := o.events(t, &seen)
	wantTypes(t, "first login", ev, "user.created@"+hookA, "user.created@"+hookB, "session.created@"+hookA)
	if len(ev) == 3 {
		if ev[0].item.EventID != ev[1].item.EventID || ev[0].item.EventID == ev[2].item.EventID {
			t.Errorf("event ids: one event must keep one id across URLs: %q %q %q",
				ev[0].item.EventID, ev[1].item.EventID, ev[2].item.EventID)
		}
		u := ev[0].User
		if u["id"] != l.user.ID || u["kakao_id"] != "7101" || u["nickname"] != "라이언 7101" || u["email"] != "7101@example.com" || u["email_verified"] != true {
			t.Errorf("user.created user %v", u)
		}
		if ev[0].Session != nil {
			t.Errorf("user.created has session data %v", ev[0].Session)
		}
		if s := ev[2].Session; s == nil || s["id"] != l.sess.ID || s["flow"] != "browser" {
			t.Errorf("session.created session %v", ev[2].Session)
		}
		if ev[0].Time != t0.Format(time.RFC3339) {
			t.Errorf("timestamp %q, want %q", ev[0].Time, t0.Format(time.RFC3339))
		}
	}
	// The same profile again: a session only.
	o.loginAt(t, profile("7101"), t0.Add(time.Minute))
	wantTypes(t, "returning login", o.events(t, &seen), "session.created@"+hookA)
	// A changed profile: user.updated, with the new profile.
	p := profile("7101")
	p.Nickname = "바뀐 이름"
	o.loginAt(t, p, t0.Add(2*time.Minute))
	ev = o.events(t, &seen)
	wantTypes(t, "changed profile", ev, "user.updated@"+hookA, "session.created@"+hookA)
	if len(ev) > 0 && ev[0].User["nickname"] != "바뀐 이름" {
		t.Errorf("user.updated user %v", ev[0].User)
	}
}

func testOutboxRevokeEvents(t *testing.T, o *outboxEnv) {
	o.ob.SetEventTargets(targets[:1])
	l1 := o.loginAt(t, profile("7201"), t0)
	l2 := o.loginAt(t, profile("7201"), t0.Add(time.Second))
	l3 := o.loginAt(t, profile("7201"), t0.Add(2*time.Second))
	var seen int64
	o.events(t, &seen)
	if err := o.st.RevokeSession(o.ctx, l1.user.ID, l1.sess.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ev := o.events(t, &seen)
	wantTypes(t, "revoke", ev, "session.revoked@"+hookA)
	if len(ev) == 1 && (ev[0].Session["id"] != l1.sess.ID || ev[0].User["id"] != l1.user.ID) {
		t.Errorf("session.revoked %v %v", ev[0].Session, ev[0].User)
	}
	// Revoking it again changes nothing, and announces nothing.
	if err := o.st.RevokeSession(o.ctx, "", l1.sess.ID, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantTypes(t, "second revoke", o.events(t, &seen))
	// Another user's session: not found, nothing written.
	if err := o.st.RevokeSession(o.ctx, "someone-else", l2.sess.ID, t0.Add(2*time.Minute)); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("revoke another user's session: %v", err)
	}
	wantTypes(t, "refused revoke", o.events(t, &seen))
	if _, err := o.st.RevokeUserSessions(o.ctx, l1.user.ID, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ev = o.events(t, &seen)
	wantTypes(t, "revoke all", ev, "session.revoked@"+hookA, "session.revoked@"+hookA)
	ids := map[any]bool{}
	for _, e := range ev {
		ids[e.Session["id"]] = true
	}
	if !ids[l2.sess.ID] || !ids[l3.sess.ID] {
		t.Errorf("revoke all announced sessions %v, want %s and %s", ids, l2.sess.ID, l3.sess.ID)
	}
}

func testOutboxDisableEvents(t *testing.T, o *outboxEnv) {
	o.ob.SetEventTargets(targets[:1])
	l := o.loginAt(t, profile("7301"), t0)
	var seen int64
	o.events(t, &seen)
	if err := o.st.SetUserDisabled(o.ctx, l.user.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ev := o.events(t, &seen)
	wantTypes(t, "disable", ev, "user.disabled@"+hookA)
	if len(ev) == 1 && ev[0].User["id"] != l.user.ID {
		t.Errorf("user.disabled user %v", ev[0].User)
	}
	if err := o.st.SetUserDisabled(o.ctx, l.user.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	wantTypes(t, "enable", o.events(t, &seen), "user.enabled@"+hookA)
	if err := o.st.SetUserDisabled(o.ctx, "no-such-user", t0); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("disable unknown user: %v", err)
	}
	wantTypes(t, "unknown user", o.events(t, &seen))
}

func testOutboxDeleteEvents(t *testing.T, o *outboxEnv) {
	o.ob.SetEventTargets(targets)
	a := o.loginAt(t, profile("7401"), t0)
	b := o.loginAt(t, profile("7402"), t0)
	var seen int64
	o.events(t, &seen)
	if err := o.st.DeleteUser(o.ctx, a.user.ID); err != nil {
		t.Fatal(err)
	}
	ev := o.events(t, &seen)
	wantTypes(t, "delete", ev, "user.deleted@"+hookA, "user.deleted@"+hookB)
	if len(ev) > 0 && (ev[0].User["id"] != a.user.ID || ev[0].User["kakao_id"] != "7401") {
		t.Errorf("user.deleted user (as it was before the deletion) %v", ev[0].User)
	}
	id, err := o.st.DeleteUserByIdentity(o.ctx, auth.ProviderKakao, "7402")
	if err != nil || id != b.user.ID {
		t.Fatalf("DeleteUserByIdentity: %q %v", id, err)
	}
	ev = o.events(t, &seen)
	wantTypes(t, "delete by identity", ev, "user.deleted@"+hookA, "user.deleted@"+hookB)
	if len(ev) > 0 && ev[0].User["id"] != b.user.ID {
		t.Errorf("user.deleted user %v", ev[0].User)
	}
	if err := o.st.DeleteUser(o.ctx, a.user.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := o.st.DeleteUserByIdentity(o.ctx, auth.ProviderKakao, "7402"); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("second delete by identity: %v", err)
	}
	wantTypes(t, "deletes of nobody", o.events(t, &seen))
}

// testOutbox92NoEventOnFailure: a change that is refused or fails writes no event (the event
// row is in the change's transaction).
func testOutbox92NoEventOnFailure(t *testing.T, o *outboxEnv) {
	o.ob.SetEventTargets(targets)
	l := o.loginAt(t, profile("7501"), t0)
	var seen int64
	o.events(t, &seen)
	// A login whose session id is taken fails as a whole: no user.updated, no session.created.
	p := profile("7501")
	p.Nickname = "다른 이름"
	_, _, err := o.st.LoginUser(o.ctx, p, l.sess, auth.RefreshToken{Hash: newHash(), CreatedAt: t0, ExpiresAt: t0.Add(tokenTTL)}, t0.Add(time.Minute))
	if err == nil {
		t.Fatal("a login with a stored session id succeeded")
	}
	wantTypes(t, "failed login", o.events(t, &seen))
	// A disabled user's login is refused: nothing announced but the disabling.
	if err := o.st.SetUserDisabled(o.ctx, l.user.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	o.events(t, &seen)
	sess := newSession(t0.Add(2 * time.Minute))
	_, _, err = o.st.LoginUser(o.ctx, profile("7501"), sess, auth.RefreshToken{Hash: newHash(), CreatedAt: t0, ExpiresAt: t0.Add(tokenTTL)}, t0.Add(2*time.Minute))
	if !errors.Is(err, auth.ErrUserDisabled) {
		t.Fatalf("disabled login: %v", err)
	}
	wantTypes(t, "refused login", o.events(t, &seen))
	// A canceled login writes nothing either.
	ctx, cancel := contextCanceled(o)
	cancel()
	if _, _, err := o.st.LoginUser(ctx, profile("7502"), newSession(t0), auth.RefreshToken{Hash: newHash(), CreatedAt: t0, ExpiresAt: t0.Add(tokenTTL)}, t0); err == nil {
		t.Fatal("a canceled login succeeded")
	}
	wantTypes(t, "canceled login", o.events(t, &seen))
}

func contextCanceled(o *outboxEnv) (context.Context, context.CancelFunc) {
	return context.WithCancel(o.ctx)
}
