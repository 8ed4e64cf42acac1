package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
)

// The Service is tested end to end on the real SQLite store, real access tokens (the tokens
// issuer, whose keys live in that store) and real refresh tokens; only the identity provider is
// a small hand-written one that knows a few codes.

// st0 is the tests' starting moment.
var st0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// clock is a test clock shared by the service, the store and the issuer.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// provider is an identity provider that knows its users by code (the code flow) and by access
// token (the SDK flow), and records unlinks.
type provider struct {
	mu        sync.Mutex
	profiles  map[string]auth.Profile // by code or SDK access token
	unlinkErr error
	unlinked  []string
}

func (p *provider) ExchangeCode(ctx context.Context, ex auth.CodeExchange) (auth.Profile, error) {
	pr, ok := p.profiles[ex.Code]
	if !ok {
		return auth.Profile{}, &auth.Error{Code: auth.ECodeInvalidGrant, Message: "unknown code", KakaoCode: "KOE320"}
	}
	return pr, nil
}

func (p *provider) SDKLogin(ctx context.Context, accessToken, idToken, nonce string) (auth.Profile, error) {
	pr, ok := p.profiles[accessToken]
	if !ok {
		return auth.Profile{}, &auth.Error{Code: auth.ECodeInvalidGrant, Message: "unknown access token"}
	}
	return pr, nil
}

func (p *provider) Unlink(ctx context.Context, subject string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unlinkErr != nil {
		return p.unlinkErr
	}
	p.unlinked = append(p.unlinked, subject)
	return nil
}

func kakaoProfile(subject string) auth.Profile {
	return auth.Profile{Provider: auth.ProviderKakao, Subject: subject, Nickname: "라이언", Email: subject + "@kakao.com",
		EmailVerified: true, ProfileImageURL: "https://k.kakaocdn.net/" + subject + ".jpg"}
}

type fixture struct {
	svc   *auth.Service
	db    *sqlite.DB
	clock *clock
	idp   *provider
}

const (
	grace      = 10 * time.Second
	refreshTTL = 30 * 24 * time.Hour
)

// newFixture returns a service on a new SQLite file; change, if not nil, edits its Config.
func newFixture(t *testing.T, change func(*auth.Config)) *fixture {
	t.Helper()
	ctx := t.Context()
	c := &clock{t: st0}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"), sqlite.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	secrets, err := tokens.DeriveSecrets(strings.Repeat("service test secret ", 2))
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := tokens.NewIssuer(ctx, tokens.IssuerConfig{Store: db, Secrets: secrets, Issuer: "https://auth.example",
		Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	idp := &provider{profiles: map[string]auth.Profile{
		"code-ryan":   kakaoProfile("4242"),
		"code-apeach": kakaoProfile("4343"),
		"sdk-ryan":    kakaoProfile("4242"),
		"code-nosub":  {Provider: auth.ProviderKakao},
		"code-hostile": {Provider: auth.ProviderKakao, Subject: "4444", Nickname: "evil\u202Etxt.exe\x00",
			Email: "not-an-email", EmailVerified: true, ProfileImageURL: "javascript:alert(1)"},
	}}
	cfg := auth.Config{Store: db, Access: tokens.AccessAdapter{Issuer: issuer}, Refresh: tokens.RefreshAdapter{Secrets: secrets}, Identities: idp,
		SDK: idp, Unlinker: idp, RefreshTTL: refreshTTL, RefreshGrace: grace, Now: c.Now}
	if change != nil {
		change(&cfg)
	}
	return &fixture{svc: auth.NewService(cfg), db: db, clock: c, idp: idp}
}

func (f *fixture) login(t *testing.T, code string) auth.LoginResult {
	t.Helper()
	res, err := f.svc.LoginWithCode(t.Context(), auth.CodeExchange{Code: code}, auth.SessionMeta{UserAgent: "test", IP: "192.0.2.1", Flow: "browser"})
	if err != nil {
		t.Fatalf("LoginWithCode(%q): %v", code, err)
	}
	return res
}

// auditTypes returns the types of a user's audit events, oldest first.
func (f *fixture) auditTypes(t *testing.T, userID string) []string {
	t.Helper()
	evs, err := f.db.AuditEvents(t.Context(), userID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// wantCode fails unless err is an *auth.Error with code (and, if msg is not "", that message).
func wantCode(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var e *auth.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: err = %v, want an *auth.Error %q", what, err, code)
	}
	if e.Code != code || msg != "" && e.Message != msg {
		t.Errorf("%s: error {%q, %q}, want {%q, %q}", what, e.Code, e.Message, code, msg)
	}
}

func TestService_LoginWithCode(t *testing.T) {
	f := newFixture(t, nil)
	first := f.login(t, "code-ryan")
	if !first.Created || first.User.KakaoID != "4242" || first.User.Nickname != "라이언" {
		t.Errorf("first login = created %v, user %+v; want a new user 4242", first.Created, first.User)
	}
	if first.Session.UserID != first.User.ID || first.Session.Flow != "browser" || !first.Session.ExpiresAt.Equal(st0.Add(refreshTTL)) {
		t.Errorf("session = %+v, want the user's browser session ending %v", first.Session, st0.Add(refreshTTL))
	}
	// Both ids come from the service's clock: their time part (48 bits, 13 characters with the
	// first hyphen) is that of st0.
	want := auth.NewID(st0)[:13]
	if first.User.ID[:13] != want || first.Session.ID[:13] != want {
		t.Errorf("user id %q, session id %q; want ids made at %v (prefix %q)", first.User.ID, first.Session.ID, st0, want)
	}
	if !tokens.ValidRefreshFormat(first.Tokens.Refresh) || !first.Tokens.RefreshExpiry.Equal(st0.Add(refreshTTL)) {
		t.Errorf("refresh token %q expiring %v, want a valid one expiring %v", first.Tokens.Refresh, first.Tokens.RefreshExpiry, st0.Add(refreshTTL))
	}
	u, c, err := f.svc.Authenticate(t.Context(), first.Tokens.Access)
	if err != nil {
		t.Fatalf("Authenticate(access token of the login): %v", err)
	}
	if u.ID != first.User.ID || c.SessionID != first.Session.ID || !first.Tokens.AccessExpiry.Equal(c.Expiry) {
		t.Errorf("Authenticate = user %s, claims %+v; want user %s, session %s", u.ID, c, first.User.ID, first.Session.ID)
	}

	f.clock.Add(time.Minute)
	again := f.login(t, "code-ryan")
	if again.Created || again.User.ID != first.User.ID || again.Session.ID == first.Session.ID {
		t.Errorf("second login = created %v, user %s, session %s; want the same user, a new session", again.Created, again.User.ID, again.Session.ID)
	}
	other := f.login(t, "code-apeach")
	if !other.Created || other.User.ID == first.User.ID {
		t.Errorf("another person's login = created %v, user %s; want a new user", other.Created, other.User.ID)
	}
	list, err := f.svc.Sessions(t.Context(), first.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != again.Session.ID || list[1].ID != first.Session.ID {
		t.Errorf("Sessions = %+v, want the two sessions, newest first", list)
	}
}

func TestService_LoginErrors(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.svc.LoginWithCode(t.Context(), auth.CodeExchange{Code: "nope"}, auth.SessionMeta{})
	wantCode(t, "unknown code", err, auth.ECodeInvalidGrant, "unknown code")
	var e *auth.Error
	if errors.As(err, &e) && e.KakaoCode != "KOE320" {
		t.Errorf("the provider's error lost its Kakao code: %+v", e)
	}
	_, err = f.svc.LoginWithCode(t.Context(), auth.CodeExchange{Code: "code-nosub"}, auth.SessionMeta{})
	wantCode(t, "profile without subject", err, auth.ECodeKakaoError, "identity provider returned no subject")
}

// TestService_LoginCleansInput: provider data and client metadata are stored cleaned and bounded.
func TestService_LoginCleansInput(t *testing.T) {
	f := newFixture(t, nil)
	res, err := f.svc.LoginWithCode(t.Context(), auth.CodeExchange{Code: "code-hostile"},
		auth.SessionMeta{UserAgent: strings.Repeat("가", 100) + "\xff", IP: strings.Repeat("1", 100), Flow: "spa"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.User(t.Context(), res.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Nickname != "eviltxt.exe" || u.Email != "" || u.EmailVerified || u.ProfileImageURL != "" {
		t.Errorf("stored user = %+v, want the nickname cleaned, the email and image dropped", u)
	}
	if len(res.Session.UserAgent) != 255 || len(res.Session.IP) != 64 { // 85 three-byte runes fit in 256 bytes
		t.Errorf("session user agent %d bytes, IP %d bytes; want cut to 255 and 64", len(res.Session.UserAgent), len(res.Session.IP))
	}
}

func TestService_LoginWithSDK(t *testing.T) {
	f := newFixture(t, nil)
	res, err := f.svc.LoginWithSDK(t.Context(), auth.SDKLogin{AccessToken: "sdk-ryan"}, auth.SessionMeta{Flow: "sdk"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.User.KakaoID != "4242" || res.Session.Flow != "sdk" {
		t.Errorf("SDK login = %+v, want a new user 4242 with an sdk session", res)
	}
	_, err = f.svc.LoginWithSDK(t.Context(), auth.SDKLogin{AccessToken: "stolen"}, auth.SessionMeta{Flow: "sdk"})
	wantCode(t, "unknown SDK token", err, auth.ECodeInvalidGrant, "")

	off := newFixture(t, func(c *auth.Config) { c.SDK = nil })
	_, err = off.svc.LoginWithSDK(t.Context(), auth.SDKLogin{AccessToken: "sdk-ryan"}, auth.SessionMeta{Flow: "sdk"})
	wantCode(t, "SDK flow off", err, auth.ECodeKakaoMisconfigured, "")
}

func TestService_Refresh(t *testing.T) {
	f := newFixture(t, nil)
	l := f.login(t, "code-ryan")

	f.clock.Add(time.Hour)
	r1, err := f.svc.Refresh(t.Context(), l.Tokens.Refresh)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if r1.Outcome != auth.Rotated || r1.Session.UserID != l.User.ID || r1.Session.ID != l.Session.ID {
		t.Errorf("Refresh = %v for user %s, session %s; want rotated for %s, %s", r1.Outcome, r1.Session.UserID, r1.Session.ID, l.User.ID, l.Session.ID)
	}
	if r1.Tokens.Refresh == l.Tokens.Refresh || !tokens.ValidRefreshFormat(r1.Tokens.Refresh) {
		t.Errorf("successor %q, want a new valid refresh token", r1.Tokens.Refresh)
	}
	// Rotation never extends the session: the successor expires with it.
	if !r1.Tokens.RefreshExpiry.Equal(l.Session.ExpiresAt) {
		t.Errorf("successor expires %v, want the session's end %v", r1.Tokens.RefreshExpiry, l.Session.ExpiresAt)
	}
	if _, _, err := f.svc.Authenticate(t.Context(), r1.Tokens.Access); err != nil {
		t.Errorf("Authenticate(new access token): %v", err)
	}

	// Within grace the old token answers the same successor again.
	f.clock.Add(grace / 2)
	replay, err := f.svc.Refresh(t.Context(), l.Tokens.Refresh)
	if err != nil {
		t.Fatalf("replay within grace: %v", err)
	}
	if replay.Outcome != auth.GraceReplay || replay.Tokens.Refresh != r1.Tokens.Refresh {
		t.Errorf("replay = %v with %q, want grace_replay with the successor %q", replay.Outcome, replay.Tokens.Refresh, r1.Tokens.Refresh)
	}
	// After the successor rotates too, a replay walks to the newest token.
	r2, err := f.svc.Refresh(t.Context(), r1.Tokens.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	replay, err = f.svc.Refresh(t.Context(), l.Tokens.Refresh)
	if err != nil {
		t.Fatalf("replay of the first token: %v", err)
	}
	if replay.Outcome != auth.GraceReplay || replay.Tokens.Refresh != r2.Tokens.Refresh {
		t.Errorf("replay = %v with %q, want grace_replay with the newest token %q", replay.Outcome, replay.Tokens.Refresh, r2.Tokens.Refresh)
	}

	// After grace the old token is reuse: the session is revoked and that is audited.
	f.clock.Add(grace)
	res, err := f.svc.Refresh(t.Context(), l.Tokens.Refresh)
	wantCode(t, "reuse", err, auth.ECodeInvalidGrant, "refresh token was already used; the session has been revoked")
	if res.Outcome != auth.Reused {
		t.Errorf("reuse outcome %v, want reused", res.Outcome)
	}
	_, err = f.svc.Refresh(t.Context(), r2.Tokens.Refresh)
	wantCode(t, "newest token after reuse", err, auth.ECodeInvalidGrant, "session revoked")
	_, _, err = f.svc.Authenticate(t.Context(), r2.Tokens.Access)
	wantCode(t, "access token of a revoked session", err, auth.ECodeInvalidToken, "session ended")
	if diff := cmp.Diff([]string{"refresh_reuse"}, f.auditTypes(t, l.User.ID)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestService_RefreshRefused(t *testing.T) {
	f := newFixture(t, nil)
	l := f.login(t, "code-ryan")
	unknown, _ := tokens.NewRefreshToken()
	cases := []struct {
		name, token, msg string
		outcome          auth.RotateOutcome
	}{
		{"malformed", "kar_short", "malformed refresh token", 0},
		{"empty", "", "malformed refresh token", 0},
		{"unknown", unknown, "unknown refresh token", auth.NotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.svc.Refresh(t.Context(), tc.token)
			wantCode(t, tc.name, err, auth.ECodeInvalidGrant, tc.msg)
			if res.Outcome != tc.outcome {
				t.Errorf("outcome %v, want %v", res.Outcome, tc.outcome)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		f.clock.Add(refreshTTL)
		res, err := f.svc.Refresh(t.Context(), l.Tokens.Refresh)
		wantCode(t, "expired", err, auth.ECodeInvalidGrant, "refresh token expired")
		if res.Outcome != auth.Expired {
			t.Errorf("outcome %v, want expired", res.Outcome)
		}
	})
}

// TestService_RefreshGraceMax_46: replays within grace are answered RefreshGraceMax times, then
// refused without revoking the session; the refusal is audited.
func TestService_RefreshGraceMax_46(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.RefreshGraceMax = 2 })
	l := f.login(t, "code-ryan")
	f.clock.Add(time.Minute)
	r1, err := f.svc.Refresh(t.Context(), l.Tokens.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		res, err := f.svc.Refresh(t.Context(), l.Tokens.Refresh)
		if err != nil || res.Outcome != auth.GraceReplay {
			t.Fatalf("replay %d = %v, %v; want grace_replay", i, res.Outcome, err)
		}
	}
	res, err := f.svc.Refresh(t.Context(), l.Tokens.Refresh)
	wantCode(t, "third replay", err, auth.ECodeInvalidGrant, "refresh token was already used; use the newest one")
	if res.Outcome != auth.GraceExceeded {
		t.Errorf("outcome %v, want grace_exceeded", res.Outcome)
	}
	if _, err := f.svc.Refresh(t.Context(), r1.Tokens.Refresh); err != nil {
		t.Errorf("the successor after refused replays: %v (a refusal must not revoke)", err)
	}
	if diff := cmp.Diff([]string{"refresh_grace_exceeded"}, f.auditTypes(t, l.User.ID)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestService_Authenticate(t *testing.T) {
	f := newFixture(t, nil)
	_, _, err := f.svc.Authenticate(t.Context(), "not.a.jwt")
	wantCode(t, "garbage", err, auth.ECodeInvalidToken, "invalid access token")
	var e *auth.Error
	if errors.As(err, &e) && e.Err == nil {
		t.Error("invalid access token: the verifier's reason is not kept as the cause")
	}
	l := f.login(t, "code-ryan")
	if err := f.db.DeleteUser(t.Context(), l.User.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.Authenticate(t.Context(), l.Tokens.Access)
	wantCode(t, "deleted user", err, auth.ECodeInvalidToken, "session ended")
}

func TestService_SessionOfRefresh(t *testing.T) {
	f := newFixture(t, nil)
	l := f.login(t, "code-ryan")
	s, err := f.svc.SessionOfRefresh(t.Context(), l.Tokens.Refresh)
	if err != nil || s.ID != l.Session.ID || s.UserID != l.User.ID {
		t.Errorf("SessionOfRefresh = %+v, %v; want session %s", s, err, l.Session.ID)
	}
	_, err = f.svc.SessionOfRefresh(t.Context(), "garbage")
	wantCode(t, "malformed", err, auth.ECodeInvalidGrant, "malformed refresh token")
	unknown, _ := tokens.NewRefreshToken()
	_, err = f.svc.SessionOfRefresh(t.Context(), unknown)
	wantCode(t, "unknown", err, auth.ECodeInvalidGrant, "unknown refresh token")
}

func TestService_Logout(t *testing.T) {
	f := newFixture(t, nil)
	a := f.login(t, "code-ryan")
	b := f.login(t, "code-ryan")
	c := f.login(t, "code-ryan")
	ctx := t.Context()

	if err := f.svc.Logout(ctx, a.User.ID, a.Session.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Refresh(ctx, a.Tokens.Refresh); auth.ErrorCode(err) != auth.ECodeInvalidGrant {
		t.Errorf("refresh after logout: %v, want invalid_grant", err)
	}
	// Logging out of a session that is gone is not an error.
	if err := f.svc.Logout(ctx, a.User.ID, "no-such-session", false); err != nil {
		t.Errorf("Logout(unknown session) = %v, want nil", err)
	}
	err := f.svc.RevokeSession(ctx, a.User.ID, "no-such-session", b.Session.ID)
	wantCode(t, "RevokeSession(unknown)", err, auth.ECodeNotFound, "no such session")
	if err := f.svc.RevokeSession(ctx, a.User.ID, b.Session.ID, c.Session.ID); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.Sessions(ctx, a.User.ID)
	if err != nil || len(list) != 1 || list[0].ID != c.Session.ID {
		t.Errorf("Sessions after two logouts = %+v, %v; want only %s", list, err, c.Session.ID)
	}
	if err := f.svc.Logout(ctx, a.User.ID, c.Session.ID, true); err != nil {
		t.Fatal(err)
	}
	if list, err := f.svc.Sessions(ctx, a.User.ID); err != nil || len(list) != 0 {
		t.Errorf("Sessions after logout of all = %+v, %v; want none", list, err)
	}
	want := []string{"logout", "logout", "session_revoke", "logout_all"}
	if diff := cmp.Diff(want, f.auditTypes(t, a.User.ID)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestService_DeleteAccount(t *testing.T) {
	cases := []struct {
		name         string
		unlinkErr    error
		noUnlinker   bool
		wantUnlinked bool
		wantCalls    []string
		wantAudit    []string
	}{
		{"unlinked at Kakao", nil, false, true, []string{"4242"}, []string{"account_delete"}},
		{"unlink fails", errors.New("kakao down"), false, false, nil, []string{"account_delete", "kakao_unlink_failed"}},
		{"no unlinker", nil, true, true, nil, []string{"account_delete"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *auth.Config) {
				if tc.noUnlinker {
					c.Unlinker = nil
				}
			})
			f.idp.unlinkErr = tc.unlinkErr
			l := f.login(t, "code-ryan")
			res, err := f.svc.DeleteAccount(t.Context(), l.User.ID, l.Session.ID, "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			if res.Unlinked != tc.wantUnlinked || (res.UnlinkErr != nil) != (tc.unlinkErr != nil) {
				t.Errorf("DeleteAccount = %+v, want unlinked %v", res, tc.wantUnlinked)
			}
			if diff := cmp.Diff(tc.wantCalls, f.idp.unlinked); diff != "" {
				t.Errorf("unlink calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAudit, f.auditTypes(t, l.User.ID)); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
			_, err = f.svc.User(t.Context(), l.User.ID)
			wantCode(t, "User after deletion", err, auth.ECodeNotFound, "no such user")
			_, err = f.svc.DeleteAccount(t.Context(), l.User.ID, l.Session.ID, "192.0.2.1")
			wantCode(t, "DeleteAccount again", err, auth.ECodeInvalidToken, "the account no longer exists")
		})
	}
}

func TestService_UnlinkedAtProvider(t *testing.T) {
	f := newFixture(t, nil)
	l := f.login(t, "code-ryan")
	deleted, err := f.svc.UnlinkedAtProvider(t.Context(), auth.ProviderKakao, "4242", "UNLINK_FROM_APPS")
	if err != nil || !deleted {
		t.Fatalf("UnlinkedAtProvider = %v, %v; want deleted", deleted, err)
	}
	if len(f.idp.unlinked) != 0 {
		t.Errorf("the provider was called back: %v", f.idp.unlinked)
	}
	deleted, err = f.svc.UnlinkedAtProvider(t.Context(), auth.ProviderKakao, "4242", "UNLINK_FROM_APPS")
	if err != nil || deleted {
		t.Errorf("UnlinkedAtProvider again = %v, %v; want not deleted, no error", deleted, err)
	}
	if diff := cmp.Diff([]string{"webhook_unlink"}, f.auditTypes(t, l.User.ID)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestService_ConsumeOnceAndReady(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	if err := f.svc.Ready(ctx); err != nil {
		t.Errorf("Ready = %v", err)
	}
	for i, want := range []bool{true, false} {
		first, err := f.svc.ConsumeOnce(ctx, []byte("state-hash"), st0.Add(time.Minute))
		if err != nil || first != want {
			t.Errorf("ConsumeOnce #%d = %v, %v; want %v", i, first, err, want)
		}
	}
	// After it expires the key counts as new.
	f.clock.Add(2 * time.Minute)
	if first, err := f.svc.ConsumeOnce(ctx, []byte("state-hash"), st0.Add(time.Hour)); err != nil || !first {
		t.Errorf("ConsumeOnce after expiry = %v, %v; want first", first, err)
	}
	if got := f.svc.RefreshTTL(); got != refreshTTL {
		t.Errorf("RefreshTTL = %v, want %v", got, refreshTTL)
	}
}

// TestService_StoreDown: a store that fails answers temporarily_unavailable, never the client's
// fault and never an internal error.
func TestService_StoreDown(t *testing.T) {
	f := newFixture(t, nil)
	l := f.login(t, "code-ryan")
	f.db.Close()
	ctx := t.Context()
	calls := map[string]error{}
	_, calls["User"] = f.svc.User(ctx, l.User.ID)
	_, calls["Sessions"] = f.svc.Sessions(ctx, l.User.ID)
	_, calls["Refresh"] = f.svc.Refresh(ctx, l.Tokens.Refresh)
	_, calls["LoginWithCode"] = f.svc.LoginWithCode(ctx, auth.CodeExchange{Code: "code-ryan"}, auth.SessionMeta{})
	_, calls["ConsumeOnce"] = f.svc.ConsumeOnce(ctx, []byte("k"), st0.Add(time.Minute))
	_, calls["SessionOfRefresh"] = f.svc.SessionOfRefresh(ctx, l.Tokens.Refresh)
	calls["Logout"] = f.svc.Logout(ctx, l.User.ID, l.Session.ID, false)
	calls["Logout all"] = f.svc.Logout(ctx, l.User.ID, l.Session.ID, true)
	calls["RevokeSession"] = f.svc.RevokeSession(ctx, l.User.ID, l.Session.ID, "")
	_, calls["DeleteAccount"] = f.svc.DeleteAccount(ctx, l.User.ID, l.Session.ID, "")
	_, calls["UnlinkedAtProvider"] = f.svc.UnlinkedAtProvider(ctx, auth.ProviderKakao, "4242", "")
	for name, err := range calls {
		if got := auth.ErrorCode(err); got != auth.ECodeUnavailable {
			t.Errorf("%s on a closed store: %v (code %q), want %q", name, err, got, auth.ECodeUnavailable)
		}
	}
	if err := f.svc.Ready(ctx); err == nil {
		t.Error("Ready on a closed store = nil, want an error")
	}
}

// TestNewService_Defaults: a zero Config gets a 30-day session lifetime.
func TestNewService_Defaults(t *testing.T) {
	svc := auth.NewService(auth.Config{RefreshGrace: -time.Second})
	if got := svc.RefreshTTL(); got != 30*24*time.Hour {
		t.Errorf("default RefreshTTL = %v, want 720h", got)
	}
}
