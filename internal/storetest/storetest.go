// Package storetest is the conformance suite that every auth.Store passes (SQLite, PostgreSQL).
//
// It talks to the store only through auth.Store, depends on no row order or id format beyond what
// the interface promises, passes every time in explicitly (no sleeping), and uses times with
// microsecond precision so that stores which keep microseconds pass too. Names of tests that
// cover a case of the security checklist carry the case's number.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// Run runs the suite. newStore returns a new, empty store and arranges its Close with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) auth.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"Ping", testPing},
		{"LoginUser/Create", testLoginCreate},
		{"LoginUser/Returning", testLoginReturning},
		{"LoginUser/GeneratedSessionID", testLoginGeneratedSessionID},
		{"LoginUser/61_IdentityByProviderAndSubject", testLogin61Identity},
		{"LoginUser/89_FirstLoginRace", testLogin89Race},
		{"LoginUser/92_CanceledLeavesNothing", testLogin92Canceled},
		{"User/NotFound", testUserNotFound},
		{"UserBySession", testUserBySession},
		{"Rotate/43_Rotated", testRotate43Rotated},
		{"Rotate/SuccessorExpiryCapped", testRotateExpiryCapped},
		{"Rotate/47_GraceReplay", testRotate47GraceReplay},
		{"Rotate/47_GraceReplayNewestDescendant", testRotate47Descendant},
		{"Rotate/46_ParallelWithinGrace", testRotate46Parallel},
		{"Rotate/46_GraceReplayLimit", testRotate46GraceLimit},
		{"Rotate/46_ParallelGraceLimit", testRotate46ParallelLimit},
		{"Rotate/44_45_ReusedRevokesFamily", testRotate44Reused},
		{"Rotate/51_Expired", testRotate51Expired},
		{"Rotate/Revoked", testRotateRevoked},
		{"Rotate/NotFound", testRotateNotFound},
		{"Rotate/48_ParallelGraceZero", testRotate48Parallel},
		{"Rotate/49_SameSecondReplay", testRotate49SameSecond},
		{"Rotate/50_RacesRevokeSession", testRotate50RacesRevoke},
		{"Rotate/92_FailedRotationLeavesTokenActive", testRotate92Failed},
		{"SessionByRefresh/NotFound", testSessionByRefreshNotFound},
		{"Sessions", testSessions},
		{"RevokeSession/52_53", testRevokeSession},
		{"RevokeUserSessions/53_Global", testRevokeUserSessions},
		{"ConsumeOnce", testConsumeOnce},
		{"ConsumeOnce/Parallel", testConsumeOnceParallel},
		{"SigningKeys", testSigningKeys},
		{"Audit", testAudit},
		{"DeleteUser/66_72_CascadeAndRelogin", testDeleteUser},
		{"DeleteUserByIdentity/69", testDeleteUserByIdentity},
		{"DeleteUserByIdentity/70_Parallel", testDeleteUserByIdentityParallel},
		{"ListUsers/Paged", testListUsersPaged},
		{"ListUsers/Query", testListUsersQuery},
		{"UserRecord", testUserRecord},
		{"SetUserDisabled", testSetUserDisabled},
		{"SetUserDisabled/RacesLogin", testSetUserDisabledRacesLogin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, &env{st: newStore(t), ctx: t.Context()})
		})
	}
}

// t0 is the suite's fixed "now"; it has whole microseconds.
var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

const (
	sessionTTL = 30 * 24 * time.Hour
	tokenTTL   = 14 * 24 * time.Hour
)

type env struct {
	st  auth.Store
	ctx context.Context
}

// login is one successful login of subject at now; it returns the user, the session as
// passed to the store (ID set, UserID filled in) and the first token's hash.
type login struct {
	user    auth.User
	created bool
	sess    auth.Session
	rt      []byte
}

func newHash() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	h := sha256.Sum256(b)
	return h[:]
}

func profile(subject string) auth.Profile {
	return auth.Profile{Provider: auth.ProviderKakao, Subject: subject, Nickname: "라이언 " + subject,
		Email: subject + "@example.com", EmailVerified: true, ProfileImageURL: "https://k.kakaocdn.net/" + subject + ".jpg"}
}

func newSession(now time.Time) auth.Session {
	return auth.Session{ID: auth.NewID(now), CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(sessionTTL),
		UserAgent: "Mozilla/5.0 (storetest)", IP: "192.0.2.7", Flow: "browser"}
}

func (e *env) loginAt(t *testing.T, p auth.Profile, now time.Time) login {
	t.Helper()
	sess := newSession(now)
	rt := auth.RefreshToken{Hash: newHash(), CreatedAt: now, ExpiresAt: now.Add(tokenTTL)}
	u, created, err := e.st.LoginUser(e.ctx, p, sess, rt, now)
	if err != nil {
		t.Fatalf("LoginUser(%q): %v", p.Subject, err)
	}
	sess.UserID = u.ID
	return login{user: u, created: created, sess: sess, rt: rt.Hash}
}

func (e *env) rotate(t *testing.T, hash []byte, now time.Time, grace time.Duration) (auth.RotateResult, []byte) {
	t.Helper()
	succ := newHash()
	res, err := e.st.Rotate(e.ctx, auth.RotateRequest{Hash: hash, SuccessorHash: succ, Now: now,
		Grace: grace, ExpiresAt: now.Add(tokenTTL)})
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return res, succ
}

func (e *env) mustRotate(t *testing.T, hash []byte, now time.Time) []byte {
	t.Helper()
	res, succ := e.rotate(t, hash, now, 0)
	if res.Outcome != auth.Rotated {
		t.Fatalf("Rotate outcome = %v, want rotated", res.Outcome)
	}
	return succ
}

func wantOutcome(t *testing.T, res auth.RotateResult, want auth.RotateOutcome) {
	t.Helper()
	if res.Outcome != want {
		t.Fatalf("Rotate outcome = %v, want %v (result %+v)", res.Outcome, want, res)
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("%s: err = %v, want ErrNotFound", what, err)
	}
}

func testPing(t *testing.T, e *env) {
	if err := e.st.Ping(e.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testLoginCreate(t *testing.T, e *env) {
	p := profile("4100000001")
	l := e.loginAt(t, p, t0)
	if !l.created {
		t.Errorf("created = false, want true for a first login")
	}
	if l.user.ID == "" {
		t.Fatalf("user ID is empty")
	}
	want := auth.User{ID: l.user.ID, KakaoID: p.Subject, Nickname: p.Nickname, Email: p.Email, EmailVerified: true,
		ProfileImageURL: p.ProfileImageURL, CreatedAt: t0, UpdatedAt: t0, LastLoginAt: t0}
	if diff := cmp.Diff(want, l.user); diff != "" {
		t.Errorf("LoginUser user (-want +got):\n%s", diff)
	}
	got, err := e.st.User(e.ctx, l.user.ID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("User (-want +got):\n%s", diff)
	}
	got, err = e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("UserBySession: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UserBySession (-want +got):\n%s", diff)
	}
	s, err := e.st.SessionByRefresh(e.ctx, l.rt)
	if err != nil {
		t.Fatalf("SessionByRefresh: %v", err)
	}
	if diff := cmp.Diff(l.sess, s); diff != "" {
		t.Errorf("stored session (-want +got):\n%s", diff)
	}
}

func testLoginReturning(t *testing.T, e *env) {
	first := e.loginAt(t, profile("4100000002"), t0)
	t1 := t0.Add(36 * time.Hour)
	p := auth.Profile{Provider: auth.ProviderKakao, Subject: "4100000002", Nickname: "춘식이",
		Email: "new@example.com", EmailVerified: true, ProfileImageURL: "https://k.kakaocdn.net/new.jpg"}
	second := e.loginAt(t, p, t1)
	if second.created {
		t.Errorf("created = true on a returning login")
	}
	want := auth.User{ID: first.user.ID, KakaoID: p.Subject, Nickname: p.Nickname, Email: p.Email,
		EmailVerified: true, ProfileImageURL: p.ProfileImageURL, CreatedAt: t0, UpdatedAt: t1, LastLoginAt: t1}
	if diff := cmp.Diff(want, second.user); diff != "" {
		t.Errorf("returning user (-want +got):\n%s", diff)
	}
	got, err := e.st.User(e.ctx, first.user.ID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("User after returning login (-want +got):\n%s", diff)
	}
	// Both sessions are live and belong to the one user.
	for _, l := range []login{first, second} {
		if _, err := e.st.UserBySession(e.ctx, first.user.ID, l.sess.ID, t1); err != nil {
			t.Errorf("UserBySession(%s): %v", l.sess.ID, err)
		}
	}
	// A profile without e-mail (consent withdrawn) clears it.
	p.Email, p.EmailVerified = "", false
	third := e.loginAt(t, p, t1.Add(time.Hour))
	if third.user.Email != "" || third.user.EmailVerified {
		t.Errorf("email = %q verified %v, want cleared", third.user.Email, third.user.EmailVerified)
	}
}

func testLoginGeneratedSessionID(t *testing.T, e *env) {
	sess := newSession(t0)
	sess.ID = ""
	rt := auth.RefreshToken{Hash: newHash(), ExpiresAt: t0.Add(tokenTTL)}
	u, _, err := e.st.LoginUser(e.ctx, profile("4100000003"), sess, rt, t0)
	if err != nil {
		t.Fatalf("LoginUser: %v", err)
	}
	s, err := e.st.SessionByRefresh(e.ctx, rt.Hash)
	if err != nil {
		t.Fatalf("SessionByRefresh: %v", err)
	}
	if s.ID == "" || s.UserID != u.ID {
		t.Fatalf("session = %+v, want a generated ID and user %s", s, u.ID)
	}
	if _, err := e.st.UserBySession(e.ctx, u.ID, s.ID, t0); err != nil {
		t.Errorf("UserBySession: %v", err)
	}
}

// Users are found by (provider, subject) only, never by e-mail or nickname.
func testLogin61Identity(t *testing.T, e *env) {
	base := profile("4100000010")
	a := e.loginAt(t, base, t0)

	sameEmail := profile("4100000011")
	sameEmail.Email, sameEmail.Nickname = base.Email, base.Nickname
	b := e.loginAt(t, sameEmail, t0)

	otherProvider := base
	otherProvider.Provider = "test-provider"
	c := e.loginAt(t, otherProvider, t0)

	newEmail := base
	newEmail.Email, newEmail.Nickname = "changed@example.com", "changed"
	d := e.loginAt(t, newEmail, t0.Add(time.Hour))

	tests := []struct {
		name        string
		got         login
		wantCreated bool
		wantSameAsA bool
		wantKakaoID string
	}{
		{"other subject with same email", b, true, false, sameEmail.Subject},
		{"same subject at other provider", c, true, false, ""},
		{"same identity with new email", d, false, true, base.Subject},
	}
	for _, tc := range tests {
		if tc.got.created != tc.wantCreated {
			t.Errorf("%s: created = %v, want %v", tc.name, tc.got.created, tc.wantCreated)
		}
		if same := tc.got.user.ID == a.user.ID; same != tc.wantSameAsA {
			t.Errorf("%s: same user as the first = %v, want %v", tc.name, same, tc.wantSameAsA)
		}
		if tc.got.user.KakaoID != tc.wantKakaoID {
			t.Errorf("%s: KakaoID = %q, want %q", tc.name, tc.got.user.KakaoID, tc.wantKakaoID)
		}
	}
	if b.user.ID == c.user.ID {
		t.Errorf("users of different identities share id %s", b.user.ID)
	}
}

// Concurrent first logins of one identity yield exactly one user; every call gets it and a session.
func testLogin89Race(t *testing.T, e *env) {
	const n = 100
	p := profile("4100000089")
	type result struct {
		u       auth.User
		created bool
		sess    auth.Session
		err     error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			sess := newSession(t0)
			rt := auth.RefreshToken{Hash: newHash(), ExpiresAt: t0.Add(tokenTTL)}
			u, created, err := e.st.LoginUser(e.ctx, p, sess, rt, t0)
			results[i] = result{u, created, sess, err}
		})
	}
	close(start)
	wg.Wait()
	created := 0
	ids := map[string]bool{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("login %d: %v", i, r.err)
		}
		if r.created {
			created++
		}
		ids[r.u.ID] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("created = %d users, distinct ids = %d; want 1 and 1", created, len(ids))
	}
	for i, r := range results {
		if _, err := e.st.UserBySession(e.ctx, r.u.ID, r.sess.ID, t0); err != nil {
			t.Errorf("login %d: session unusable: %v", i, err)
		}
	}
	ss, err := e.st.Sessions(e.ctx, results[0].u.ID, t0)
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	if len(ss) != n {
		t.Errorf("user has %d sessions, want %d", len(ss), n)
	}
}

// A login whose context is already canceled writes nothing.
func testLogin92Canceled(t *testing.T, e *env) {
	p := profile("4100000092")
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	sess := newSession(t0)
	rt := auth.RefreshToken{Hash: newHash(), ExpiresAt: t0.Add(tokenTTL)}
	if _, _, err := e.st.LoginUser(ctx, p, sess, rt, t0); err == nil {
		t.Fatalf("LoginUser with a canceled context succeeded")
	}
	_, err := e.st.SessionByRefresh(e.ctx, rt.Hash)
	wantNotFound(t, "SessionByRefresh after canceled login", err)
	if l := e.loginAt(t, p, t0); !l.created {
		t.Errorf("a canceled login left a user behind")
	}
}

func testUserNotFound(t *testing.T, e *env) {
	_, err := e.st.User(e.ctx, auth.NewID(t0))
	wantNotFound(t, "User(unknown)", err)
}

func testUserBySession(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4100000020"), t0)
	other := e.loginAt(t, profile("4100000021"), t0)
	revoked := e.loginAt(t, profile("4100000020"), t0)
	if err := e.st.RevokeSession(e.ctx, l.user.ID, revoked.sess.ID, t0.Add(time.Minute)); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	end := l.sess.ExpiresAt
	tests := []struct {
		name          string
		user, session string
		now           time.Time
		wantOK        bool
	}{
		{"active", l.user.ID, l.sess.ID, t0.Add(time.Hour), true},
		{"last microsecond", l.user.ID, l.sess.ID, end.Add(-time.Microsecond), true},
		{"expired at ExpiresAt", l.user.ID, l.sess.ID, end, false},
		{"expired after", l.user.ID, l.sess.ID, end.Add(time.Hour), false},
		{"revoked", l.user.ID, revoked.sess.ID, t0.Add(time.Hour), false},
		{"other user's session", l.user.ID, other.sess.ID, t0.Add(time.Hour), false},
		{"unknown session", l.user.ID, auth.NewID(t0), t0, false},
		{"empty user", "", l.sess.ID, t0, false},
	}
	for _, tc := range tests {
		u, err := e.st.UserBySession(e.ctx, tc.user, tc.session, tc.now)
		switch {
		case tc.wantOK && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantOK && u.ID != l.user.ID:
			t.Errorf("%s: user %s, want %s", tc.name, u.ID, l.user.ID)
		case !tc.wantOK && !errors.Is(err, auth.ErrNotFound):
			t.Errorf("%s: err = %v, want ErrNotFound", tc.name, err)
		}
	}
}

func testRotate43Rotated(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4100000043"), t0)
	t1 := t0.Add(time.Hour)
	res, rt1 := e.rotate(t, l.rt, t1, 10*time.Second)
	wantOutcome(t, res, auth.Rotated)
	if res.Generation != 0 || res.CurrentGeneration != 1 {
		t.Errorf("generations = %d → %d, want 0 → 1", res.Generation, res.CurrentGeneration)
	}
	if !res.SuccessorExpiresAt.Equal(t1.Add(tokenTTL)) {
		t.Errorf("SuccessorExpiresAt = %v, want %v", res.SuccessorExpiresAt, t1.Add(tokenTTL))
	}
	if res.Session.UserID != l.user.ID {
		t.Errorf("Session.UserID = %s, want user %s", res.Session.UserID, l.user.ID)
	}
	wantSess := l.sess
	wantSess.LastUsedAt = t1
	if diff := cmp.Diff(wantSess, res.Session); diff != "" {
		t.Errorf("Session (-want +got):\n%s", diff)
	}
	s, err := e.st.SessionByRefresh(e.ctx, rt1)
	if err != nil {
		t.Fatalf("successor not stored: %v", err)
	}
	if s.ID != l.sess.ID {
		t.Errorf("successor in session %s, want %s", s.ID, l.sess.ID)
	}
	// The successor is generation 1 and active.
	t2 := t1.Add(time.Hour)
	res, _ = e.rotate(t, rt1, t2, 10*time.Second)
	wantOutcome(t, res, auth.Rotated)
	if res.Generation != 1 || res.CurrentGeneration != 2 {
		t.Errorf("second rotation generations = %d → %d, want 1 → 2", res.Generation, res.CurrentGeneration)
	}
	// The parent is marked rotated: presenting it after grace is reuse.
	res, _ = e.rotate(t, l.rt, t2.Add(time.Minute), 10*time.Second)
	wantOutcome(t, res, auth.Reused)
}

func testRotateExpiryCapped(t *testing.T, e *env) {
	sess := newSession(t0)
	sess.ExpiresAt = t0.Add(time.Hour)
	rt := auth.RefreshToken{Hash: newHash(), ExpiresAt: t0.Add(tokenTTL)} // capped at the session's end too
	if _, _, err := e.st.LoginUser(e.ctx, profile("4100000044"), sess, rt, t0); err != nil {
		t.Fatalf("LoginUser: %v", err)
	}
	t1 := t0.Add(30 * time.Minute)
	res, rt1 := e.rotate(t, rt.Hash, t1, 0)
	wantOutcome(t, res, auth.Rotated)
	if !res.SuccessorExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("SuccessorExpiresAt = %v, want the session's end %v", res.SuccessorExpiresAt, sess.ExpiresAt)
	}
	res, _ = e.rotate(t, rt1, sess.ExpiresAt, 0)
	wantOutcome(t, res, auth.Expired)
}

func testRotate47GraceReplay(t *testing.T, e *env) {
	const grace = 10 * time.Second
	l := e.loginAt(t, profile("4100000047"), t0)
	t1 := t0.Add(time.Hour)
	first, rt1 := e.rotate(t, l.rt, t1, grace)
	wantOutcome(t, first, auth.Rotated)

	res, unused := e.rotate(t, l.rt, t1.Add(grace-time.Microsecond), grace)
	wantOutcome(t, res, auth.GraceReplay)
	if res.Generation != 0 || res.CurrentGeneration != 1 {
		t.Errorf("generations = %d → %d, want 0 → 1", res.Generation, res.CurrentGeneration)
	}
	if !res.SuccessorExpiresAt.Equal(first.SuccessorExpiresAt) {
		t.Errorf("SuccessorExpiresAt = %v, want %v", res.SuccessorExpiresAt, first.SuccessorExpiresAt)
	}
	if res.Session.UserID != l.user.ID || res.Session.ID != l.sess.ID {
		t.Errorf("user/session = %s/%s, want %s/%s", res.Session.UserID, res.Session.ID, l.user.ID, l.sess.ID)
	}
	// No new row was stored for the replay, and the family is still alive.
	_, err := e.st.SessionByRefresh(e.ctx, unused)
	wantNotFound(t, "successor of a grace replay", err)
	if _, err := e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, t1.Add(grace)); err != nil {
		t.Errorf("session after grace replay: %v", err)
	}
	res, _ = e.rotate(t, rt1, t1.Add(grace), grace)
	wantOutcome(t, res, auth.Rotated)
}

func testRotate47Descendant(t *testing.T, e *env) {
	const grace = 10 * time.Second
	l := e.loginAt(t, profile("4100000048"), t0)
	rt1 := e.mustRotate(t, l.rt, t0.Add(time.Second))
	res2, _ := e.rotate(t, rt1, t0.Add(2*time.Second), grace)
	wantOutcome(t, res2, auth.Rotated)

	res, _ := e.rotate(t, l.rt, t0.Add(3*time.Second), grace)
	wantOutcome(t, res, auth.GraceReplay)
	if res.Generation != 0 || res.CurrentGeneration != 2 {
		t.Errorf("generations = %d → %d, want 0 → 2 (newest active descendant)", res.Generation, res.CurrentGeneration)
	}
	if !res.SuccessorExpiresAt.Equal(res2.SuccessorExpiresAt) {
		t.Errorf("SuccessorExpiresAt = %v, want %v", res.SuccessorExpiresAt, res2.SuccessorExpiresAt)
	}
}

// The grace window is not an open replay window: with GraceMax set, a rotated token is answered
// that many times, then refused; the refusal revokes nothing, and the successor still rotates.
func testRotate46GraceLimit(t *testing.T, e *env) {
	const grace, max = 10 * time.Second, 3
	l := e.loginAt(t, profile("4100000146"), t0)
	t1 := t0.Add(time.Minute)
	first, rt1 := e.rotate(t, l.rt, t1, grace)
	wantOutcome(t, first, auth.Rotated)
	replay := func(at time.Time) auth.RotateResult {
		t.Helper()
		res, err := e.st.Rotate(e.ctx, auth.RotateRequest{Hash: l.rt, SuccessorHash: newHash(), Now: at,
			Grace: grace, GraceMax: max, ExpiresAt: at.Add(tokenTTL)})
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		return res
	}
	for i := range max {
		res := replay(t1.Add(time.Duration(i+1) * time.Second))
		wantOutcome(t, res, auth.GraceReplay)
		if res.CurrentGeneration != 1 {
			t.Errorf("replay %d: CurrentGeneration %d, want 1", i, res.CurrentGeneration)
		}
	}
	for i := range 2 {
		res := replay(t1.Add(time.Duration(max+1+i) * time.Second))
		wantOutcome(t, res, auth.GraceExceeded)
		if res.Session.ID != l.sess.ID {
			t.Errorf("GraceExceeded names session %q, want %q", res.Session.ID, l.sess.ID)
		}
	}
	if _, err := e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, t1.Add(grace)); err != nil {
		t.Fatalf("session after refused replays: %v (a refusal must not revoke)", err)
	}
	res, _ := e.rotate(t, rt1, t1.Add(grace-time.Second), grace)
	wantOutcome(t, res, auth.Rotated)
	// After the grace period the old token is reuse, as without a limit.
	res, _ = e.rotate(t, l.rt, t1.Add(grace+time.Second), grace)
	wantOutcome(t, res, auth.Reused)
}

// Parallel replays against the limit: exactly GraceMax of them are answered.
func testRotate46ParallelLimit(t *testing.T, e *env) {
	const n, max = 12, 4
	l := e.loginAt(t, profile("4100000246"), t0)
	now := t0.Add(time.Minute)
	first, _ := e.rotate(t, l.rt, now, 10*time.Second)
	wantOutcome(t, first, auth.Rotated)
	outcomes := make([]auth.RotateResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			outcomes[i], errs[i] = e.st.Rotate(e.ctx, auth.RotateRequest{Hash: l.rt, SuccessorHash: newHash(),
				Now: now.Add(time.Second), Grace: 10 * time.Second, GraceMax: max, ExpiresAt: now.Add(tokenTTL)})
		})
	}
	wg.Wait()
	count := map[auth.RotateOutcome]int{}
	for i, r := range outcomes {
		if errs[i] != nil {
			t.Fatalf("Rotate %d: %v", i, errs[i])
		}
		count[r.Outcome]++
	}
	if diff := cmp.Diff(map[auth.RotateOutcome]int{auth.GraceReplay: max, auth.GraceExceeded: n - max}, count); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

// Parallel refreshes of one token inside grace (two tabs): one rotation, the rest replay it,
// nothing is revoked.
func testRotate46Parallel(t *testing.T, e *env) {
	const n = 10
	l := e.loginAt(t, profile("4100000046"), t0)
	succ := newHash() // successors derive from the presented token: every caller sends the same
	now := t0.Add(time.Minute)
	outcomes := make([]auth.RotateResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			outcomes[i], errs[i] = e.st.Rotate(e.ctx, auth.RotateRequest{Hash: l.rt, SuccessorHash: succ,
				Now: now, Grace: 10 * time.Second, ExpiresAt: now.Add(tokenTTL)})
		})
	}
	wg.Wait()
	count := map[auth.RotateOutcome]int{}
	for i, r := range outcomes {
		if errs[i] != nil {
			t.Fatalf("Rotate %d: %v", i, errs[i])
		}
		count[r.Outcome]++
		if r.CurrentGeneration != 1 {
			t.Errorf("Rotate %d: %v with CurrentGeneration %d, want 1", i, r.Outcome, r.CurrentGeneration)
		}
	}
	if diff := cmp.Diff(map[auth.RotateOutcome]int{auth.Rotated: 1, auth.GraceReplay: n - 1}, count); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if _, err := e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, now); err != nil {
		t.Errorf("session after parallel refresh: %v", err)
	}
	res, _ := e.rotate(t, succ, now.Add(time.Minute), 0)
	wantOutcome(t, res, auth.Rotated)
}

// Reuse after grace revokes the whole family, and the revocation is committed although the caller
// answers with an error.
func testRotate44Reused(t *testing.T, e *env) {
	const grace = 10 * time.Second
	l := e.loginAt(t, profile("4100000045"), t0)
	rt1 := e.mustRotate(t, l.rt, t0.Add(time.Minute))
	rt2 := e.mustRotate(t, rt1, t0.Add(2*time.Minute))
	rt3 := e.mustRotate(t, rt2, t0.Add(3*time.Minute))
	other := e.loginAt(t, profile("4100000045"), t0) // another device of the same user

	tr := t0.Add(4 * time.Minute)
	res, _ := e.rotate(t, l.rt, tr, grace)
	wantOutcome(t, res, auth.Reused)
	if res.Session.ID != l.sess.ID || res.Session.RevokedAt.IsZero() {
		t.Errorf("Session = %+v, want %s revoked", res.Session, l.sess.ID)
	}
	later := tr.Add(time.Second)
	_, err := e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, later)
	wantNotFound(t, "UserBySession after reuse", err)
	for i, h := range [][]byte{rt3, rt2, l.rt} {
		res, _ := e.rotate(t, h, later, grace)
		wantOutcome(t, res, auth.Revoked)
		if res.Session.ID != l.sess.ID {
			t.Errorf("token %d: session %s, want %s", i, res.Session.ID, l.sess.ID)
		}
	}
	s, err := e.st.SessionByRefresh(e.ctx, rt3)
	if err != nil {
		t.Fatalf("SessionByRefresh: %v", err)
	}
	if s.RevokedAt.IsZero() || s.Active(later) {
		t.Errorf("session after reuse = %+v, want revoked", s)
	}
	// Other sessions of the user are untouched.
	if _, err := e.st.UserBySession(e.ctx, l.user.ID, other.sess.ID, later); err != nil {
		t.Errorf("other session after reuse: %v", err)
	}
}

// Grace never extends the absolute expiry of a token or its session.
func testRotate51Expired(t *testing.T, e *env) {
	const grace = time.Minute
	p := profile("4100000051")

	t.Run("token past ExpiresAt", func(t *testing.T) {
		sess := newSession(t0)
		rt := auth.RefreshToken{Hash: newHash(), ExpiresAt: t0.Add(time.Hour)}
		if _, _, err := e.st.LoginUser(e.ctx, p, sess, rt, t0); err != nil {
			t.Fatal(err)
		}
		res, _ := e.rotate(t, rt.Hash, t0.Add(time.Hour), grace)
		wantOutcome(t, res, auth.Expired)
		res, _ = e.rotate(t, rt.Hash, t0.Add(time.Hour-time.Microsecond), grace)
		wantOutcome(t, res, auth.Rotated)
	})
	t.Run("session past ExpiresAt", func(t *testing.T) {
		l := e.loginAt(t, p, t0)
		res, _ := e.rotate(t, l.rt, l.sess.ExpiresAt, grace)
		wantOutcome(t, res, auth.Expired)
		if res.Session.ID != l.sess.ID {
			t.Errorf("Session.ID = %q, want %q", res.Session.ID, l.sess.ID)
		}
	})
	t.Run("rotated token expires inside grace", func(t *testing.T) {
		sess := newSession(t0)
		rt := auth.RefreshToken{Hash: newHash(), ExpiresAt: t0.Add(10 * time.Second)}
		if _, _, err := e.st.LoginUser(e.ctx, p, sess, rt, t0); err != nil {
			t.Fatal(err)
		}
		e.mustRotate(t, rt.Hash, t0.Add(5*time.Second))
		res, _ := e.rotate(t, rt.Hash, t0.Add(10*time.Second), grace)
		wantOutcome(t, res, auth.Expired)
	})
	t.Run("session expires inside grace", func(t *testing.T) {
		sess := newSession(t0)
		sess.ExpiresAt = t0.Add(10 * time.Second)
		rt := auth.RefreshToken{Hash: newHash(), ExpiresAt: t0.Add(tokenTTL)}
		if _, _, err := e.st.LoginUser(e.ctx, p, sess, rt, t0); err != nil {
			t.Fatal(err)
		}
		rt1 := e.mustRotate(t, rt.Hash, t0.Add(5*time.Second))
		for i, h := range [][]byte{rt.Hash, rt1} {
			res, _ := e.rotate(t, h, t0.Add(10*time.Second), grace)
			if res.Outcome != auth.Expired {
				t.Errorf("token %d: outcome %v, want expired", i, res.Outcome)
			}
		}
	})
}

func testRotateRevoked(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4100000052"), t0)
	if err := e.st.RevokeSession(e.ctx, l.user.ID, l.sess.ID, t0.Add(time.Minute)); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	res, succ := e.rotate(t, l.rt, t0.Add(2*time.Minute), time.Minute)
	wantOutcome(t, res, auth.Revoked)
	if res.Session.ID != l.sess.ID {
		t.Errorf("Session.ID = %q, want %q", res.Session.ID, l.sess.ID)
	}
	_, err := e.st.SessionByRefresh(e.ctx, succ)
	wantNotFound(t, "successor of a revoked token", err)
}

func testRotateNotFound(t *testing.T, e *env) {
	e.loginAt(t, profile("4100000053"), t0)
	res, succ := e.rotate(t, newHash(), t0, time.Minute)
	wantOutcome(t, res, auth.NotFound)
	_, err := e.st.SessionByRefresh(e.ctx, succ)
	wantNotFound(t, "successor of an unknown token", err)
}

// Strict single use: with no grace, 50 parallel exchanges of one token make exactly one child.
func testRotate48Parallel(t *testing.T, e *env) {
	const n = 50
	l := e.loginAt(t, profile("4100000049"), t0)
	now := t0.Add(time.Minute)
	succ := make([][]byte, n)
	res := make([]auth.RotateResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		succ[i] = newHash()
		wg.Go(func() {
			<-start
			res[i], errs[i] = e.st.Rotate(e.ctx, auth.RotateRequest{Hash: l.rt, SuccessorHash: succ[i],
				Now: now, ExpiresAt: now.Add(tokenTTL)})
		})
	}
	close(start)
	wg.Wait()
	rotated, stored := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Rotate %d: %v", i, errs[i])
		}
		switch res[i].Outcome {
		case auth.Rotated:
			rotated++
		case auth.Reused, auth.Revoked:
		default:
			t.Errorf("Rotate %d: outcome %v, want rotated, reused or revoked", i, res[i].Outcome)
		}
		if _, err := e.st.SessionByRefresh(e.ctx, succ[i]); err == nil {
			stored++
		} else if !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("SessionByRefresh: %v", err)
		}
	}
	if rotated != 1 || stored != 1 {
		t.Errorf("rotated = %d, child rows = %d; want exactly 1 and 1", rotated, stored)
	}
}

// Replay of a token rotated twice within one second is detected by generation, not by time.
func testRotate49SameSecond(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4100000050"), t0)
	rt1 := e.mustRotate(t, l.rt, t0.Add(100*time.Millisecond))
	rt2 := e.mustRotate(t, rt1, t0.Add(400*time.Millisecond))
	res, _ := e.rotate(t, l.rt, t0.Add(700*time.Millisecond), 0)
	wantOutcome(t, res, auth.Reused)
	res, _ = e.rotate(t, rt2, t0.Add(800*time.Millisecond), 0)
	wantOutcome(t, res, auth.Revoked)
}

// A refresh racing a logout leaves no active token or session, whichever wins.
func testRotate50RacesRevoke(t *testing.T, e *env) {
	for i := range 20 {
		l := e.loginAt(t, profile(fmt.Sprintf("41000005%02d", i)), t0)
		now := t0.Add(time.Minute)
		var (
			wg     sync.WaitGroup
			res    auth.RotateResult
			rotErr error
			revErr error
			succ   = newHash()
		)
		wg.Go(func() {
			res, rotErr = e.st.Rotate(e.ctx, auth.RotateRequest{Hash: l.rt, SuccessorHash: succ, Now: now,
				Grace: 10 * time.Second, ExpiresAt: now.Add(tokenTTL)})
		})
		wg.Go(func() { revErr = e.st.RevokeSession(e.ctx, l.user.ID, l.sess.ID, now) })
		wg.Wait()
		if rotErr != nil || revErr != nil {
			t.Fatalf("round %d: rotate err %v, revoke err %v", i, rotErr, revErr)
		}
		if res.Outcome != auth.Rotated && res.Outcome != auth.Revoked {
			t.Errorf("round %d: rotate outcome %v, want rotated or revoked", i, res.Outcome)
		}
		after := now.Add(time.Second)
		for j, h := range [][]byte{l.rt, succ} {
			r, _ := e.rotate(t, h, after, 10*time.Second)
			if r.Outcome != auth.Revoked && r.Outcome != auth.NotFound {
				t.Errorf("round %d token %d: outcome %v after logout, want revoked or not found", i, j, r.Outcome)
			}
		}
		_, err := e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, after)
		wantNotFound(t, "UserBySession after logout", err)
	}
}

// A rotation that fails (here: its successor hash is already stored) changes nothing.
func testRotate92Failed(t *testing.T, e *env) {
	a := e.loginAt(t, profile("4100000092"), t0)
	b := e.loginAt(t, profile("4100000093"), t0)
	_, err := e.st.Rotate(e.ctx, auth.RotateRequest{Hash: a.rt, SuccessorHash: b.rt, Now: t0.Add(time.Minute),
		ExpiresAt: t0.Add(tokenTTL)})
	if err == nil {
		t.Fatalf("Rotate onto a stored successor hash succeeded")
	}
	res, _ := e.rotate(t, a.rt, t0.Add(2*time.Minute), 0)
	wantOutcome(t, res, auth.Rotated)
	s, err := e.st.SessionByRefresh(e.ctx, b.rt)
	if err != nil || s.ID != b.sess.ID {
		t.Errorf("other session's token: session %q, err %v; want %q", s.ID, err, b.sess.ID)
	}
}

func testSessionByRefreshNotFound(t *testing.T, e *env) {
	_, err := e.st.SessionByRefresh(e.ctx, newHash())
	wantNotFound(t, "SessionByRefresh(unknown)", err)
}

func testSessions(t *testing.T, e *env) {
	p := profile("4100000060")
	s1 := e.loginAt(t, p, t0)
	s2 := e.loginAt(t, p, t0.Add(time.Hour))
	s3 := e.loginAt(t, p, t0.Add(2*time.Hour))
	revoked := e.loginAt(t, p, t0.Add(3*time.Hour))
	other := e.loginAt(t, profile("4100000061"), t0)

	sess := newSession(t0.Add(4 * time.Hour))
	sess.ExpiresAt = t0.Add(5 * time.Hour)
	if _, _, err := e.st.LoginUser(e.ctx, p, sess, auth.RefreshToken{Hash: newHash(), ExpiresAt: sess.ExpiresAt}, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.st.RevokeSession(e.ctx, s1.user.ID, revoked.sess.ID, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.Sessions(e.ctx, s1.user.ID, t0.Add(5*time.Hour))
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	want := []auth.Session{s3.sess, s2.sess, s1.sess}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sessions (-want +got):\n%s", diff)
	}
	got, err = e.st.Sessions(e.ctx, other.user.ID, t0)
	if err != nil || len(got) != 1 || got[0].ID != other.sess.ID {
		t.Errorf("other user's Sessions = %v, %v; want [%s]", got, err, other.sess.ID)
	}
	got, err = e.st.Sessions(e.ctx, auth.NewID(t0), t0)
	if err != nil || len(got) != 0 {
		t.Errorf("unknown user's Sessions = %v, %v; want none", got, err)
	}
}

func testRevokeSession(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4100000070"), t0)
	mallory := e.loginAt(t, profile("4100000071"), t0)
	now := t0.Add(time.Hour)

	// Another user's credentials cannot revoke it (52), nor can an unknown session be revoked.
	err := e.st.RevokeSession(e.ctx, mallory.user.ID, l.sess.ID, now)
	wantNotFound(t, "RevokeSession by another user", err)
	err = e.st.RevokeSession(e.ctx, l.user.ID, auth.NewID(t0), now)
	wantNotFound(t, "RevokeSession(unknown)", err)
	if _, err := e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, now); err != nil {
		t.Fatalf("session after foreign revoke: %v", err)
	}

	if err := e.st.RevokeSession(e.ctx, l.user.ID, l.sess.ID, now); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	_, err = e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, now)
	wantNotFound(t, "UserBySession after revoke", err)
	res, _ := e.rotate(t, l.rt, now, time.Minute)
	wantOutcome(t, res, auth.Revoked)
	s, err := e.st.SessionByRefresh(e.ctx, l.rt)
	if err != nil || s.RevokedAt.IsZero() {
		t.Errorf("session after revoke = %+v, %v; want RevokedAt set", s, err)
	}
	// Repeated logout is not an error; "" matches any user.
	if err := e.st.RevokeSession(e.ctx, l.user.ID, l.sess.ID, now.Add(time.Minute)); err != nil {
		t.Errorf("second RevokeSession: %v", err)
	}
	if err := e.st.RevokeSession(e.ctx, "", mallory.sess.ID, now); err != nil {
		t.Errorf("RevokeSession with any user: %v", err)
	}
	_, err = e.st.UserBySession(e.ctx, mallory.user.ID, mallory.sess.ID, now)
	wantNotFound(t, "UserBySession after revoke with any user", err)
}

func testRevokeUserSessions(t *testing.T, e *env) {
	p := profile("4100000080")
	var ls []login
	for i := range 3 {
		ls = append(ls, e.loginAt(t, p, t0.Add(time.Duration(i)*time.Minute)))
	}
	revoked := e.loginAt(t, p, t0)
	sess := newSession(t0)
	sess.ExpiresAt = t0.Add(time.Hour)
	if _, _, err := e.st.LoginUser(e.ctx, p, sess, auth.RefreshToken{Hash: newHash(), ExpiresAt: sess.ExpiresAt}, t0); err != nil {
		t.Fatal(err)
	}
	other := e.loginAt(t, profile("4100000081"), t0)
	uid := ls[0].user.ID
	if err := e.st.RevokeSession(e.ctx, uid, revoked.sess.ID, t0); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(2 * time.Hour)
	n, err := e.st.RevokeUserSessions(e.ctx, uid, now)
	if err != nil || n != 3 {
		t.Fatalf("RevokeUserSessions = %d, %v; want 3 active sessions revoked", n, err)
	}
	for i, l := range ls {
		_, err := e.st.UserBySession(e.ctx, uid, l.sess.ID, now)
		wantNotFound(t, fmt.Sprintf("session %d after global logout", i), err)
		res, _ := e.rotate(t, l.rt, now, time.Minute)
		wantOutcome(t, res, auth.Revoked)
	}
	if ss, err := e.st.Sessions(e.ctx, uid, now); err != nil || len(ss) != 0 {
		t.Errorf("Sessions after global logout = %v, %v; want none", ss, err)
	}
	if _, err := e.st.UserBySession(e.ctx, other.user.ID, other.sess.ID, now); err != nil {
		t.Errorf("other user's session: %v", err)
	}
	n, err = e.st.RevokeUserSessions(e.ctx, uid, now)
	if err != nil || n != 0 {
		t.Errorf("second RevokeUserSessions = %d, %v; want 0", n, err)
	}
	n, err = e.st.RevokeUserSessions(e.ctx, auth.NewID(t0), now)
	if err != nil || n != 0 {
		t.Errorf("RevokeUserSessions(unknown) = %d, %v; want 0", n, err)
	}
}

func testConsumeOnce(t *testing.T, e *env) {
	a, b := newHash(), newHash()
	exp := t0.Add(10 * time.Minute)
	tests := []struct {
		name string
		key  []byte
		exp  time.Time
		now  time.Time
		want bool
	}{
		{"first use", a, exp, t0, true},
		{"second use", a, exp, t0.Add(time.Minute), false},
		{"other key", b, exp, t0.Add(time.Minute), true},
		{"last moment", a, exp, exp.Add(-time.Microsecond), false},
		{"after expiry the key is purged", a, exp.Add(10 * time.Minute), exp, true},
		{"and recorded again", a, exp.Add(10 * time.Minute), exp.Add(time.Minute), false},
		{"other key purged", b, exp.Add(10 * time.Minute), exp.Add(time.Minute), true},
	}
	for _, tc := range tests {
		got, err := e.st.ConsumeOnce(e.ctx, tc.key, tc.exp, tc.now)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: first = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testConsumeOnceParallel(t *testing.T, e *env) {
	const n = 20
	key := newHash()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first int
	)
	for range n {
		wg.Go(func() {
			ok, err := e.st.ConsumeOnce(e.ctx, key, t0.Add(time.Minute), t0)
			if err != nil {
				t.Errorf("ConsumeOnce: %v", err)
			}
			if ok {
				mu.Lock()
				first++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != 1 {
		t.Errorf("%d of %d parallel uses were first, want 1", first, n)
	}
}

func testSigningKeys(t *testing.T, e *env) {
	keys, err := e.st.SigningKeys(e.ctx)
	if err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys on an empty store = %v, %v", keys, err)
	}
	k1 := auth.SigningKey{ID: "k1-" + auth.NewID(t0), Algorithm: "ES256", PrivateSealed: []byte{1, 2, 3, 0, 255},
		PublicJWK: []byte(`{"kty":"EC","crv":"P-256"}`), CreatedAt: t0, NotBefore: t0.Add(time.Minute)}
	k2 := auth.SigningKey{ID: "k0-" + auth.NewID(t0), Algorithm: "ES256", PrivateSealed: []byte{9, 8, 7},
		PublicJWK: []byte(`{"kty":"EC"}`), CreatedAt: t0.Add(time.Hour), NotBefore: t0.Add(2 * time.Hour)}
	// Added newest first, with ids sorting the other way: the list is still oldest first.
	for _, k := range []auth.SigningKey{k2, k1} {
		if err := e.st.AddSigningKey(e.ctx, k); err != nil {
			t.Fatalf("AddSigningKey(%s): %v", k.ID, err)
		}
	}
	dup := k1
	dup.PrivateSealed = []byte{0}
	if err := e.st.AddSigningKey(e.ctx, dup); err == nil || errors.Is(err, auth.ErrNotFound) {
		t.Errorf("AddSigningKey with a stored id: err = %v, want a conflict error", err)
	}
	check := func(what string, want []auth.SigningKey) {
		t.Helper()
		got, err := e.st.SigningKeys(e.ctx)
		if err != nil {
			t.Fatalf("%s: SigningKeys: %v", what, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: SigningKeys (-want +got):\n%s", what, diff)
		}
	}
	check("after add", []auth.SigningKey{k1, k2})

	retired := t0.Add(3 * time.Hour)
	if err := e.st.RetireSigningKey(e.ctx, k1.ID, retired); err != nil {
		t.Fatalf("RetireSigningKey: %v", err)
	}
	wantNotFound(t, "RetireSigningKey(unknown)", e.st.RetireSigningKey(e.ctx, "nope", retired))
	k1.RetiredAt = retired
	check("after retire", []auth.SigningKey{k1, k2})

	if err := e.st.DeleteSigningKey(e.ctx, k1.ID); err != nil {
		t.Fatalf("DeleteSigningKey: %v", err)
	}
	wantNotFound(t, "DeleteSigningKey(deleted)", e.st.DeleteSigningKey(e.ctx, k1.ID))
	check("after delete", []auth.SigningKey{k2})
}

func testAudit(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4100000090"), t0)
	events := []auth.AuditEvent{
		{Time: t0, Type: "login", UserID: l.user.ID, SessionID: l.sess.ID, IP: "192.0.2.7", Detail: "flow=browser"},
		{Time: t0, Type: "refresh_reuse", UserID: l.user.ID, SessionID: l.sess.ID, Detail: "generation=0"},
		{Time: t0, Type: "webhook_unlink", Detail: "user deleted 한글 ✓"},
		{Time: t0, Type: "logout_all", UserID: auth.NewID(t0)}, // audit outlives users
	}
	for _, ev := range events {
		if err := e.st.Audit(e.ctx, ev); err != nil {
			t.Errorf("Audit(%s): %v", ev.Type, err)
		}
	}
}

// wantGone checks that nothing of a deleted user's login can be found or used any more.
func (e *env) wantGone(t *testing.T, l login, now time.Time) {
	t.Helper()
	_, err := e.st.User(e.ctx, l.user.ID)
	wantNotFound(t, "User after deletion", err)
	_, err = e.st.UserBySession(e.ctx, l.user.ID, l.sess.ID, now)
	wantNotFound(t, "UserBySession after deletion", err)
	_, err = e.st.SessionByRefresh(e.ctx, l.rt)
	wantNotFound(t, "SessionByRefresh after deletion", err)
	res, _ := e.rotate(t, l.rt, now, time.Minute)
	wantOutcome(t, res, auth.NotFound)
	if ss, err := e.st.Sessions(e.ctx, l.user.ID, now); err != nil || len(ss) != 0 {
		t.Errorf("Sessions after deletion = %v, %v; want none", ss, err)
	}
}

func testDeleteUser(t *testing.T, e *env) {
	p := profile("4100000100")
	a := e.loginAt(t, p, t0)
	b := e.loginAt(t, p, t0.Add(time.Minute))
	succ := e.mustRotate(t, b.rt, t0.Add(2*time.Minute))
	other := e.loginAt(t, profile("4100000101"), t0)
	now := t0.Add(time.Hour)

	if err := e.st.DeleteUser(e.ctx, a.user.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	e.wantGone(t, a, now)
	e.wantGone(t, b, now)
	res, _ := e.rotate(t, succ, now, time.Minute)
	wantOutcome(t, res, auth.NotFound)
	wantNotFound(t, "second DeleteUser", e.st.DeleteUser(e.ctx, a.user.ID))
	wantNotFound(t, "DeleteUser(unknown)", e.st.DeleteUser(e.ctx, auth.NewID(t0)))
	if _, err := e.st.UserBySession(e.ctx, other.user.ID, other.sess.ID, now); err != nil {
		t.Errorf("other user's session after deletion: %v", err)
	}
	// The identity is free again: the same Kakao user gets a fresh account (66).
	again := e.loginAt(t, p, now)
	if !again.created || again.user.ID == a.user.ID {
		t.Errorf("login after deletion: created=%v id=%s (old %s); want a new user", again.created, again.user.ID, a.user.ID)
	}
	if !again.user.CreatedAt.Equal(now) {
		t.Errorf("new user's CreatedAt = %v, want %v (nothing of the old account resurrected)", again.user.CreatedAt, now)
	}
	// Audit events outlive the user.
	if err := e.st.Audit(e.ctx, auth.AuditEvent{Time: now, Type: "account_delete", UserID: a.user.ID}); err != nil {
		t.Errorf("Audit for a deleted user: %v", err)
	}
}

func testDeleteUserByIdentity(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4100000110"), t0)
	other := e.loginAt(t, profile("4100000111"), t0)
	now := t0.Add(time.Hour)

	_, err := e.st.DeleteUserByIdentity(e.ctx, auth.ProviderKakao, "4100000119")
	wantNotFound(t, "DeleteUserByIdentity(unknown subject)", err)
	_, err = e.st.DeleteUserByIdentity(e.ctx, "other-provider", "4100000110")
	wantNotFound(t, "DeleteUserByIdentity(other provider)", err)
	if _, err := e.st.User(e.ctx, l.user.ID); err != nil {
		t.Fatalf("user after refused deletions: %v", err)
	}

	id, err := e.st.DeleteUserByIdentity(e.ctx, auth.ProviderKakao, "4100000110")
	if err != nil || id != l.user.ID {
		t.Fatalf("DeleteUserByIdentity = %q, %v; want %q", id, err, l.user.ID)
	}
	e.wantGone(t, l, now)
	_, err = e.st.DeleteUserByIdentity(e.ctx, auth.ProviderKakao, "4100000110")
	wantNotFound(t, "second DeleteUserByIdentity", err)
	if _, err := e.st.UserBySession(e.ctx, other.user.ID, other.sess.ID, now); err != nil {
		t.Errorf("other user's session after deletion: %v", err)
	}
}

func testDeleteUserByIdentityParallel(t *testing.T, e *env) {
	l := e.loginAt(t, profile("4100000120"), t0)
	const n = 3
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		deleted []string
	)
	for range n {
		wg.Go(func() {
			id, err := e.st.DeleteUserByIdentity(e.ctx, auth.ProviderKakao, "4100000120")
			switch {
			case errors.Is(err, auth.ErrNotFound):
			case err != nil:
				t.Errorf("DeleteUserByIdentity: %v", err)
			default:
				mu.Lock()
				deleted = append(deleted, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(deleted) != 1 || deleted[0] != l.user.ID {
		t.Errorf("parallel deletions reported %v, want exactly [%s]", deleted, l.user.ID)
	}
	e.wantGone(t, l, t0.Add(time.Minute))
}
