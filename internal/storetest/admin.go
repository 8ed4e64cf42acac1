package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// ids returns the ids of users, in order.
func ids(list []auth.UserRecord) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.ID
	}
	return out
}

func (e *env) listUsers(t *testing.T, f auth.UserFilter, now time.Time) []string {
	t.Helper()
	list, err := e.st.ListUsers(e.ctx, f, now)
	if err != nil {
		t.Fatalf("ListUsers(%+v): %v", f, err)
	}
	return ids(list)
}

func testListUsersPaged(t *testing.T, e *env) {
	var want []string // newest first
	for i, sub := range []string{"4200000001", "4200000002", "4200000003", "4200000004", "4200000005"} {
		l := e.loginAt(t, profile(sub), t0.Add(time.Duration(i)*time.Second))
		want = append([]string{l.user.ID}, want...)
	}
	now := t0.Add(time.Minute)
	if got := e.listUsers(t, auth.UserFilter{Limit: 10}, now); !equal(got, want) {
		t.Fatalf("ListUsers = %v, want %v (newest first)", got, want)
	}
	first := e.listUsers(t, auth.UserFilter{Limit: 2}, now)
	second := e.listUsers(t, auth.UserFilter{Limit: 2, After: first[len(first)-1]}, now)
	last := e.listUsers(t, auth.UserFilter{Limit: 2, After: second[len(second)-1]}, now)
	if got := append(append(first, second...), last...); !equal(got, want) {
		t.Errorf("pages %v + %v + %v, want %v", first, second, last, want)
	}
	if got := e.listUsers(t, auth.UserFilter{Limit: 2, After: want[len(want)-1]}, now); len(got) != 0 {
		t.Errorf("page after the oldest = %v, want none", got)
	}
}

func testListUsersQuery(t *testing.T, e *env) {
	a := e.loginAt(t, profile("4200000011"), t0)
	p := profile("4200000012")
	p.Nickname, p.Email = "어피치 Peach", "Peach@Example.com"
	b := e.loginAt(t, p, t0.Add(time.Second))
	now := t0.Add(time.Minute)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{a.user.ID, []string{a.user.ID}},
		{"4200000012", []string{b.user.ID}},
		{"peach@example.com", []string{b.user.ID}},
		{"어피치", []string{b.user.ID}},
		{"라이언", []string{a.user.ID}},
		{"nobody", nil},
	} {
		if got := e.listUsers(t, auth.UserFilter{Query: tc.query}, now); !equal(got, tc.want) {
			t.Errorf("ListUsers(query %q) = %v, want %v", tc.query, got, tc.want)
		}
	}
}

func testUserRecord(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4200000021"), t0)
	e.loginAt(t, profile("4200000021"), t0.Add(time.Second))
	r, err := e.st.UserRecord(e.ctx, l.user.ID, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("UserRecord: %v", err)
	}
	if r.ID != l.user.ID || r.KakaoID != "4200000021" || r.Identities != 1 || r.ActiveSessions != 2 || r.Disabled() {
		t.Errorf("UserRecord = %+v; want id %s, Kakao id 4200000021, 1 identity, 2 active sessions, enabled", r, l.user.ID)
	}
	r, err = e.st.UserRecord(e.ctx, l.user.ID, t0.Add(sessionTTL+time.Second))
	if err != nil || r.ActiveSessions != 0 {
		t.Errorf("UserRecord after the sessions' end: %d active, %v; want 0", r.ActiveSessions, err)
	}
	_, err = e.st.UserRecord(e.ctx, auth.NewID(t0), t0)
	wantNotFound(t, "UserRecord(unknown)", err)
}

func testSetUserDisabled(t *testing.T, e *env) {
	p := profile("4200000031")
	l := e.loginAt(t, p, t0)
	other := e.loginAt(t, profile("4200000032"), t0)
	at := t0.Add(time.Minute)
	if err := e.st.SetUserDisabled(e.ctx, l.user.ID, at); err != nil {
		t.Fatalf("SetUserDisabled: %v", err)
	}
	now := at.Add(time.Second)
	r, err := e.st.UserRecord(e.ctx, l.user.ID, now)
	if err != nil || !r.DisabledAt.Equal(at) || r.ActiveSessions != 0 {
		t.Fatalf("UserRecord after disabling = %+v, %v; want DisabledAt %v and no active session", r, err, at)
	}
	_, err = e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, now)
	wantNotFound(t, "UserBySession of a disabled user", err)
	res, _ := e.rotate(t, l.rt, now, time.Minute)
	wantOutcome(t, res, auth.Revoked)
	rt := auth.RefreshToken{Hash: newHash(), CreatedAt: now, ExpiresAt: now.Add(tokenTTL)}
	if _, _, err := e.st.LoginUser(e.ctx, p, newSession(now), rt, now); !errors.Is(err, auth.ErrUserDisabled) {
		t.Fatalf("LoginUser of a disabled user: err = %v, want ErrUserDisabled", err)
	}
	if _, err := e.st.SessionByRefresh(e.ctx, rt.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("refused login stored its refresh token (err %v)", err)
	}
	if _, err := e.st.UserBySession(e.ctx, other.user.ID, other.sess.ID, now); err != nil {
		t.Errorf("another user's session after disabling: %v", err)
	}

	if err := e.st.SetUserDisabled(e.ctx, l.user.ID, time.Time{}); err != nil {
		t.Fatalf("SetUserDisabled(enable): %v", err)
	}
	again := e.loginAt(t, p, now)
	if again.created || again.user.ID != l.user.ID || !again.user.CreatedAt.Equal(l.user.CreatedAt) {
		t.Errorf("login after enabling: created=%v id=%s; want the same user %s", again.created, again.user.ID, l.user.ID)
	}
	if r, err := e.st.UserRecord(e.ctx, l.user.ID, now); err != nil || r.Disabled() || r.ActiveSessions != 1 {
		t.Errorf("UserRecord after enabling = %+v, %v; want enabled with 1 session", r, err)
	}
	wantNotFound(t, "SetUserDisabled(unknown)", e.st.SetUserDisabled(e.ctx, auth.NewID(t0), at))
}

// testSetUserDisabledRacesLogin: logins that run while the user is disabled either commit before
// it (and their sessions are revoked with the others) or are refused; none leaves an active
// session behind.
func testSetUserDisabledRacesLogin(t *testing.T, e *env) {
	p := profile("4200000041")
	l := e.loginAt(t, p, t0)
	at := t0.Add(time.Minute)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for range n {
		wg.Go(func() {
			rt := auth.RefreshToken{Hash: newHash(), CreatedAt: at, ExpiresAt: at.Add(tokenTTL)}
			if _, _, err := e.st.LoginUser(e.ctx, p, newSession(at), rt, at); err != nil && !errors.Is(err, auth.ErrUserDisabled) {
				errs <- err
			}
		})
	}
	wg.Go(func() { errs <- e.st.SetUserDisabled(e.ctx, l.user.ID, at) })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent login or disable: %v", err)
		}
	}
	r, err := e.st.UserRecord(e.ctx, l.user.ID, at.Add(time.Second))
	if err != nil || !r.Disabled() || r.ActiveSessions != 0 {
		t.Errorf("after disabling under logins: %+v, %v; want disabled with no active session", r, err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
