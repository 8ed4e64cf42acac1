package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// RunPrune runs the conformance tests of auth.Pruner; every store newStore returns must
// implement it.
func RunPrune(t *testing.T, newStore func(t *testing.T) auth.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, p auth.Pruner)
	}{
		{"ExpiredTokensAndEndedSessions", testPruneExpired},
		{"SmallBatches", testPruneBatches},
		{"ConsumedKeys", testPruneConsumedKeys},
		{"AuditRetention", testPruneAudit},
		{"WhileRotating", testPruneWhileRotating},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			p, ok := st.(auth.Pruner)
			if !ok {
				t.Fatalf("%T does not implement auth.Pruner", st)
			}
			tc.fn(t, &env{st: st, ctx: t.Context()}, p)
		})
	}
}

func (e *env) prune(t *testing.T, p auth.Pruner, req auth.PruneRequest) auth.PruneResult {
	t.Helper()
	res, err := p.Prune(e.ctx, req)
	if err != nil {
		t.Fatalf("Prune(%+v): %v", req, err)
	}
	return res
}

func testPruneExpired(t *testing.T, e *env, p auth.Pruner) {
	a := e.loginAt(t, profile("4300000001"), t0) // token ends t0+14d, session t0+30d
	aNext := e.mustRotate(t, a.rt, t0.Add(time.Hour))
	b := e.loginAt(t, profile("4300000002"), t0.Add(20*24*time.Hour))

	// Nothing has ended yet.
	if got := e.prune(t, p, auth.PruneRequest{Now: t0.Add(time.Hour)}); got != (auth.PruneResult{}) {
		t.Fatalf("Prune before anything ended = %+v, want nothing", got)
	}
	// The first token expired at t0+14d, its successor at t0+1h+14d: only the first goes.
	got := e.prune(t, p, auth.PruneRequest{Now: t0.Add(14*24*time.Hour + time.Minute)})
	if got != (auth.PruneResult{RefreshTokens: 1}) {
		t.Fatalf("Prune after the first token expired = %+v, want 1 token", got)
	}
	_, err := e.st.SessionByRefresh(e.ctx, a.rt)
	wantNotFound(t, "SessionByRefresh of a pruned token", err)
	if _, err := e.st.SessionByRefresh(e.ctx, aNext); err != nil {
		t.Fatalf("the unexpired successor went too: %v", err)
	}
	// a's session ended at t0+30d and takes its last token with it; b's is untouched.
	now := t0.Add(30*24*time.Hour + time.Minute)
	got = e.prune(t, p, auth.PruneRequest{Now: now})
	if got != (auth.PruneResult{Sessions: 1}) && got != (auth.PruneResult{Sessions: 1, RefreshTokens: 1}) {
		t.Fatalf("Prune after a's session ended = %+v, want its session (and its last token)", got)
	}
	_, err = e.st.SessionByRefresh(e.ctx, aNext)
	wantNotFound(t, "SessionByRefresh of an ended session's token", err)
	if _, err := e.st.UserBySession(e.ctx, b.user.ID, b.sess.ID, now); err != nil {
		t.Fatalf("an active session went: %v", err)
	}
	if res, _ := e.rotate(t, b.rt, now, 0); res.Outcome != auth.Rotated {
		t.Fatalf("rotating the active session after pruning = %v, want rotated", res.Outcome)
	}
	if _, err := e.st.User(e.ctx, a.user.ID); err != nil {
		t.Fatalf("pruning deleted a user: %v", err)
	}
	if got := e.prune(t, p, auth.PruneRequest{Now: now}); got != (auth.PruneResult{}) {
		t.Fatalf("second Prune = %+v, want nothing", got)
	}
}

func testPruneBatches(t *testing.T, e *env, p auth.Pruner) {
	for i := range 5 {
		e.loginAt(t, profile(fmt.Sprintf("43000001%02d", i)), t0)
	}
	now := t0.Add(31 * 24 * time.Hour) // every token and session has ended
	var total auth.PruneResult
	var calls []int64
	for range 10 {
		got := e.prune(t, p, auth.PruneRequest{Now: now, Batch: 2})
		if got.Sessions > 2 || got.RefreshTokens > 4 { // 2 expired tokens, then the tokens left in 2 sessions
			t.Fatalf("Prune with Batch 2 deleted %+v", got)
		}
		total = total.Add(got)
		calls = append(calls, got.RefreshTokens+got.Sessions)
		if !got.More(2) && got.RefreshTokens < 2 {
			break
		}
	}
	if total.Sessions != 5 || total.RefreshTokens != 5 {
		t.Fatalf("in batches of 2: %+v (calls %v), want 5 sessions and 5 tokens", total, calls)
	}
}

func testPruneConsumedKeys(t *testing.T, e *env, p auth.Pruner) {
	short, long := newHash(), newHash()
	for _, k := range []struct {
		key []byte
		exp time.Time
	}{{short, t0.Add(time.Minute)}, {long, t0.Add(time.Hour)}} {
		if first, err := e.st.ConsumeOnce(e.ctx, k.key, k.exp, t0); err != nil || !first {
			t.Fatalf("ConsumeOnce = %v, %v", first, err)
		}
	}
	now := t0.Add(2 * time.Minute)
	if got := e.prune(t, p, auth.PruneRequest{Now: now}); got != (auth.PruneResult{ConsumedKeys: 1}) {
		t.Fatalf("Prune = %+v, want the one expired key", got)
	}
	if first, err := e.st.ConsumeOnce(e.ctx, long, t0.Add(time.Hour), now); err != nil || first {
		t.Fatalf("a used, unexpired key after pruning: first = %v, %v; want false (still used)", first, err)
	}
}

func testPruneAudit(t *testing.T, e *env, p auth.Pruner) {
	for i, at := range []time.Time{t0, t0.Add(time.Hour), t0.Add(10 * 24 * time.Hour)} {
		if err := e.st.Audit(e.ctx, auth.AuditEvent{Time: at, Type: "login", Detail: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(11 * 24 * time.Hour)
	if got := e.prune(t, p, auth.PruneRequest{Now: now}); got.AuditEvents != 0 {
		t.Fatalf("Prune without a retention deleted %d audit events", got.AuditEvents)
	}
	if got := e.prune(t, p, auth.PruneRequest{Now: now, AuditBefore: t0.Add(24 * time.Hour), Batch: 1}); got.AuditEvents != 1 {
		t.Fatalf("Prune with Batch 1 deleted %d audit events, want 1", got.AuditEvents)
	}
	if got := e.prune(t, p, auth.PruneRequest{Now: now, AuditBefore: t0.Add(24 * time.Hour)}); got.AuditEvents != 1 {
		t.Fatalf("second Prune deleted %d audit events, want the other old one", got.AuditEvents)
	}
	if got := e.prune(t, p, auth.PruneRequest{Now: now, AuditBefore: t0.Add(24 * time.Hour)}); got.AuditEvents != 0 {
		t.Fatalf("third Prune deleted %d audit events, want 0 (the recent one stays)", got.AuditEvents)
	}
}

// Pruning beside rotations of live sessions changes none of them.
func testPruneWhileRotating(t *testing.T, e *env, p auth.Pruner) {
	for i := range 6 {
		e.loginAt(t, profile(fmt.Sprintf("43000002%02d", i)), t0) // ended by now
	}
	now := t0.Add(31 * 24 * time.Hour)
	live := make([]login, 4)
	for i := range live {
		live[i] = e.loginAt(t, profile(fmt.Sprintf("43000003%02d", i)), now)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for _, l := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := l.rt
			for g := range 3 {
				succ := newHash()
				res, err := e.st.Rotate(e.ctx, auth.RotateRequest{Hash: h, SuccessorHash: succ, Now: now.Add(time.Duration(g) * time.Second), ExpiresAt: now.Add(tokenTTL)})
				if err != nil || res.Outcome != auth.Rotated {
					errs <- fmt.Errorf("rotate: %v %v", res.Outcome, err)
					return
				}
				h = succ
			}
		}()
	}
	var total auth.PruneResult
	for range 6 {
		total = total.Add(e.prune(t, p, auth.PruneRequest{Now: now.Add(time.Minute), Batch: 2}))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if total.Sessions != 6 {
		t.Fatalf("pruned %d sessions, want the 6 ended ones", total.Sessions)
	}
	for _, l := range live {
		if _, err := e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, now.Add(time.Minute)); err != nil {
			t.Fatalf("a live session went: %v", err)
		}
	}
}
