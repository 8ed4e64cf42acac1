package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// OIDCStore is a store with the OpenID Provider's tables.
type OIDCStore interface {
	auth.Store
	auth.OIDCStore
}

// RunOIDC runs the OpenID Provider part of the suite. newStore returns a new, empty store.
func RunOIDC(t *testing.T, newStore func(t *testing.T) OIDCStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *oidcEnv)
	}{
		{"Clients", testOIDCClients},
		{"AuthRequest/Lifecycle", testOIDCAuthRequest},
		{"AuthRequest/CodeReuseDetected", testOIDCCodeReuse},
		{"AuthRequest/Expired", testOIDCAuthRequestExpired},
		{"Grant/RotationAndReuse", testOIDCGrantRotation},
		{"Grant/53_RevokeUserSessionsEndsGrants", testOIDCGrantRevokedWithUser},
		{"Grant/66_DeleteUserDeletesGrants", testOIDCGrantDeletedWithUser},
		{"Grant/DisabledUserRefused", testOIDCGrantDisabled},
		{"Grant/DeleteClientEndsGrants", testOIDCDeleteClient},
		{"Grant/RevokeClientGrants", testOIDCRevokeClientGrants},
		{"Consent", testOIDCConsent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			tc.fn(t, &oidcEnv{env: env{st: st, ctx: t.Context()}, o: st})
		})
	}
}

type oidcEnv struct {
	env
	o auth.OIDCStore
}

func (e *oidcEnv) client(t *testing.T, id string) auth.OIDCClient {
	t.Helper()
	c := auth.OIDCClient{ID: id, Name: "앱 " + id, SecretHash: newHash(), RedirectURIs: []string{"https://app.example/cb", "https://app.example/cb2?x=1"},
		PostLogoutRedirectURIs: []string{"https://app.example/bye"}, IDTokenAlg: "ES256", CreatedAt: t0}
	if err := e.o.CreateClient(e.ctx, c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c
}

func (e *oidcEnv) grant(t *testing.T, userID, clientID, browser string, now time.Time) (auth.Session, []byte) {
	t.Helper()
	sess := auth.Session{ID: auth.NewID(now), CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(sessionTTL), Flow: "oidc"}
	rt := &auth.RefreshToken{Hash: newHash(), CreatedAt: now, ExpiresAt: now.Add(tokenTTL)}
	g := auth.OIDCGrant{ClientID: clientID, UserID: userID, Scopes: []string{"openid", "offline_access"}, AuthTime: now, BrowserSession: browser}
	if err := e.o.CreateGrant(e.ctx, g, sess, rt); err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	sess.UserID = userID
	return sess, rt.Hash
}

func testOIDCClients(t *testing.T, e *oidcEnv) {
	a := e.client(t, "a")
	pub := auth.OIDCClient{ID: "p", Name: "공개", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}, CreatedAt: t0.Add(time.Second)}
	if err := e.o.CreateClient(e.ctx, pub); err != nil {
		t.Fatalf("CreateClient(public): %v", err)
	}
	if err := e.o.CreateClient(e.ctx, a); err == nil {
		t.Error("CreateClient with an existing id: no error")
	}
	got, err := e.o.Client(e.ctx, "a")
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("Client (-stored +read):\n%s", d)
	}
	gotPub, err := e.o.Client(e.ctx, "p")
	if err != nil || gotPub.SecretHash != nil || !gotPub.Public || gotPub.IDTokenAlg != "RS256" || len(gotPub.PostLogoutRedirectURIs) != 0 {
		t.Errorf("public client = %+v, %v; want no secret, RS256 by default", gotPub, err)
	}
	if _, err := e.o.Client(e.ctx, "nope"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Client(unknown) = %v, want ErrNotFound", err)
	}
	list, err := e.o.Clients(e.ctx)
	if err != nil || len(list) != 2 || list[0].ID != "a" || list[1].ID != "p" {
		t.Errorf("Clients = %v, %v; want a, p", list, err)
	}
	h := newHash()
	if err := e.o.SetClientSecret(e.ctx, "a", h); err != nil {
		t.Fatalf("SetClientSecret: %v", err)
	}
	if got, _ := e.o.Client(e.ctx, "a"); !cmp.Equal(got.SecretHash, h) {
		t.Error("SetClientSecret did not replace the hash")
	}
	if err := e.o.SetClientSecret(e.ctx, "p", h); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("SetClientSecret(public) = %v, want ErrNotFound", err)
	}
	if err := e.o.DeleteClient(e.ctx, "p", t0); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if err := e.o.DeleteClient(e.ctx, "p", t0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DeleteClient twice = %v, want ErrNotFound", err)
	}
}

func testOIDCAuthRequest(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	u := e.loginAt(t, profile("1"), t0)
	r := auth.OIDCAuthRequest{ID: "req1", ClientID: "a", Data: []byte(`{"x":1}`), CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	if err := e.o.SaveAuthRequest(e.ctx, r, t0); err != nil {
		t.Fatalf("SaveAuthRequest: %v", err)
	}
	got, err := e.o.AuthRequest(e.ctx, "req1", t0)
	if err != nil || string(got.Data) != `{"x":1}` || got.UserID != "" || got.ClientID != "a" {
		t.Fatalf("AuthRequest = %+v, %v", got, err)
	}
	if err := e.o.SetAuthCode(e.ctx, "req1", newHash()); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("SetAuthCode before completion = %v, want ErrNotFound", err)
	}
	if err := e.o.CompleteAuthRequest(e.ctx, "req1", u.user.ID, u.sess.ID, t0); err != nil {
		t.Fatalf("CompleteAuthRequest: %v", err)
	}
	code := newHash()
	if err := e.o.SetAuthCode(e.ctx, "req1", code); err != nil {
		t.Fatalf("SetAuthCode: %v", err)
	}
	if err := e.o.CompleteAuthRequest(e.ctx, "req1", "someone-else", "", t0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("CompleteAuthRequest after the code = %v, want ErrNotFound", err)
	}
	claimed, reused, err := e.o.ClaimAuthCode(e.ctx, code, t0.Add(time.Second))
	if err != nil || reused || claimed.ID != "req1" || claimed.UserID != u.user.ID || claimed.BrowserSession != u.sess.ID || !claimed.AuthTime.Equal(t0) {
		t.Fatalf("ClaimAuthCode = %+v, %v, %v", claimed, reused, err)
	}
	if _, _, err := e.o.ClaimAuthCode(e.ctx, newHash(), t0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ClaimAuthCode(unknown) = %v, want ErrNotFound", err)
	}
	if err := e.o.DeleteAuthRequest(e.ctx, "req1"); err != nil {
		t.Fatalf("DeleteAuthRequest: %v", err)
	}
	if _, err := e.o.AuthRequest(e.ctx, "req1", t0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("AuthRequest after delete = %v, want ErrNotFound", err)
	}
	if err := e.o.DeleteAuthRequest(e.ctx, "req1"); err != nil {
		t.Errorf("DeleteAuthRequest twice = %v", err)
	}
}

func testOIDCCodeReuse(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	u := e.loginAt(t, profile("1"), t0)
	r := auth.OIDCAuthRequest{ID: "req1", ClientID: "a", Data: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	if err := e.o.SaveAuthRequest(e.ctx, r, t0); err != nil {
		t.Fatal(err)
	}
	code := newHash()
	if err := e.o.CompleteAuthRequest(e.ctx, "req1", u.user.ID, u.sess.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := e.o.SetAuthCode(e.ctx, "req1", code); err != nil {
		t.Fatal(err)
	}
	results := make(chan bool, 8)
	for range 8 {
		go func() {
			_, reused, err := e.o.ClaimAuthCode(e.ctx, code, t0)
			results <- err == nil && !reused
		}()
	}
	first := 0
	for range 8 {
		if <-results {
			first++
		}
	}
	if first != 1 {
		t.Fatalf("%d of 8 concurrent claims were first, want exactly 1", first)
	}
	if err := e.o.SetAuthRequestGrant(e.ctx, "req1", "grant-session"); err != nil {
		t.Fatal(err)
	}
	again, reused, err := e.o.ClaimAuthCode(e.ctx, code, t0.Add(30*time.Second))
	if err != nil || !reused || again.GrantSessionID != "grant-session" || !again.CodeUsedAt.Equal(t0) {
		t.Errorf("second claim = %+v, reused %v, %v; want reused with the grant and the first use", again, reused, err)
	}
}

func testOIDCAuthRequestExpired(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	r := auth.OIDCAuthRequest{ID: "old", ClientID: "a", Data: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := e.o.SaveAuthRequest(e.ctx, r, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.AuthRequest(e.ctx, "old", t0.Add(time.Minute)); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("AuthRequest at expiry = %v, want ErrNotFound", err)
	}
	r2 := auth.OIDCAuthRequest{ID: "new", ClientID: "a", Data: []byte("{}"), CreatedAt: t0.Add(2 * time.Minute), ExpiresAt: t0.Add(time.Hour)}
	if err := e.o.SaveAuthRequest(e.ctx, r2, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.AuthRequest(e.ctx, "old", t0); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("expired request not purged by a later save: %v", err)
	}
}

func testOIDCGrantRotation(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	u := e.loginAt(t, profile("1"), t0)
	sess, rt := e.grant(t, u.user.ID, "a", u.sess.ID, t0)
	g, s, err := e.o.Grant(e.ctx, sess.ID)
	if err != nil || g.ClientID != "a" || g.UserID != u.user.ID || s.Flow != "oidc" || !s.Active(t0) ||
		!cmp.Equal(g.Scopes, []string{"openid", "offline_access"}) || g.BrowserSession != u.sess.ID {
		t.Fatalf("Grant = %+v, %+v, %v", g, s, err)
	}
	if _, _, err := e.o.Grant(e.ctx, u.sess.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Grant(browser session) = %v, want ErrNotFound", err)
	}
	succ := e.mustRotate(t, rt, t0.Add(time.Minute))
	res, _ := e.rotate(t, rt, t0.Add(time.Hour), 10*time.Second)
	if res.Outcome != auth.Reused {
		t.Fatalf("replayed client refresh token = %v, want reused", res.Outcome)
	}
	if res, _ := e.rotate(t, succ, t0.Add(time.Hour), 0); res.Outcome != auth.Revoked {
		t.Errorf("successor after reuse = %v, want revoked", res.Outcome)
	}
	if _, s, _ := e.o.Grant(e.ctx, sess.ID); s.Active(t0.Add(time.Hour)) {
		t.Error("grant session still active after reuse")
	}
	if sb, err := e.o.SessionByID(e.ctx, u.sess.ID); err != nil || sb.ID != u.sess.ID || !sb.Active(t0) {
		t.Errorf("SessionByID(browser) = %+v, %v", sb, err)
	}
}

func testOIDCGrantRevokedWithUser(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	u := e.loginAt(t, profile("1"), t0)
	sess, rt := e.grant(t, u.user.ID, "a", u.sess.ID, t0)
	if _, err := e.st.RevokeUserSessions(e.ctx, u.user.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if res, _ := e.rotate(t, rt, t0.Add(time.Minute), 0); res.Outcome != auth.Revoked {
		t.Errorf("client refresh after RevokeUserSessions = %v, want revoked", res.Outcome)
	}
	if _, s, _ := e.o.Grant(e.ctx, sess.ID); s.Active(t0.Add(time.Minute)) {
		t.Error("grant session active after RevokeUserSessions")
	}
}

func testOIDCGrantDeletedWithUser(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	u := e.loginAt(t, profile("1"), t0)
	sess, _ := e.grant(t, u.user.ID, "a", u.sess.ID, t0)
	if err := e.o.SaveConsent(e.ctx, auth.OIDCConsent{UserID: u.user.ID, ClientID: "a", Scopes: []string{"openid"}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteUser(e.ctx, u.user.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.o.Grant(e.ctx, sess.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Grant after DeleteUser = %v, want ErrNotFound", err)
	}
	if _, err := e.o.Consent(e.ctx, u.user.ID, "a"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Consent after DeleteUser = %v, want ErrNotFound", err)
	}
}

func testOIDCGrantDisabled(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	u := e.loginAt(t, profile("1"), t0)
	sess, rt := e.grant(t, u.user.ID, "a", u.sess.ID, t0)
	if err := e.st.SetUserDisabled(e.ctx, u.user.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if res, _ := e.rotate(t, rt, t0.Add(time.Minute), 0); res.Outcome != auth.Revoked {
		t.Errorf("client refresh of a disabled user = %v, want revoked", res.Outcome)
	}
	if _, s, _ := e.o.Grant(e.ctx, sess.ID); s.Active(t0.Add(time.Minute)) {
		t.Error("grant session active after disabling the user")
	}
	s2 := auth.Session{ID: auth.NewID(t0), CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	err := e.o.CreateGrant(e.ctx, auth.OIDCGrant{ClientID: "a", UserID: u.user.ID, AuthTime: t0}, s2, nil)
	if !errors.Is(err, auth.ErrUserDisabled) {
		t.Errorf("CreateGrant for a disabled user = %v, want ErrUserDisabled", err)
	}
	if _, _, err := e.o.Grant(e.ctx, s2.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("refused grant was stored: %v", err)
	}
	if err := e.o.CreateGrant(e.ctx, auth.OIDCGrant{ClientID: "a", UserID: "nobody", AuthTime: t0}, s2, nil); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("CreateGrant for an unknown user = %v, want ErrNotFound", err)
	}
}

func testOIDCDeleteClient(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	e.client(t, "b")
	u := e.loginAt(t, profile("1"), t0)
	_, rtA := e.grant(t, u.user.ID, "a", u.sess.ID, t0)
	_, rtB := e.grant(t, u.user.ID, "b", u.sess.ID, t0)
	if err := e.o.DeleteClient(e.ctx, "a", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if res, _ := e.rotate(t, rtA, t0.Add(time.Minute), 0); res.Outcome != auth.Revoked {
		t.Errorf("refresh of a deleted client = %v, want revoked", res.Outcome)
	}
	if res, _ := e.rotate(t, rtB, t0.Add(time.Minute), 0); res.Outcome != auth.Rotated {
		t.Errorf("refresh of another client = %v, want rotated", res.Outcome)
	}
	if _, err := e.st.UserBySession(e.ctx, u.user.ID, u.sess.ID, t0.Add(time.Minute)); err != nil {
		t.Errorf("deleting a client ended the browser session: %v", err)
	}
}

func testOIDCRevokeClientGrants(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	e.client(t, "b")
	u := e.loginAt(t, profile("1"), t0)
	other := e.loginAt(t, profile("1"), t0) // a second browser of the same person
	sa, _ := e.grant(t, u.user.ID, "a", u.sess.ID, t0)
	sb, _ := e.grant(t, u.user.ID, "b", other.sess.ID, t0)
	n, err := e.o.RevokeClientGrants(e.ctx, u.user.ID, "a", t0.Add(time.Second))
	if err != nil || n != 1 {
		t.Fatalf("RevokeClientGrants = %d, %v; want 1", n, err)
	}
	now := t0.Add(time.Minute)
	if _, s, _ := e.o.Grant(e.ctx, sa.ID); s.Active(now) {
		t.Error("grant of a still active")
	}
	if _, err := e.st.UserBySession(e.ctx, u.user.ID, u.sess.ID, now); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("browser session the grant came from still active: %v", err)
	}
	if _, s, _ := e.o.Grant(e.ctx, sb.ID); !s.Active(now) {
		t.Error("grant of another client was revoked")
	}
	if _, err := e.st.UserBySession(e.ctx, u.user.ID, other.sess.ID, now); err != nil {
		t.Errorf("other browser session was revoked: %v", err)
	}
}

func testOIDCConsent(t *testing.T, e *oidcEnv) {
	e.client(t, "a")
	e.client(t, "b")
	u := e.loginAt(t, profile("1"), t0)
	if _, err := e.o.Consent(e.ctx, u.user.ID, "a"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Consent before any = %v, want ErrNotFound", err)
	}
	for i, id := range []string{"a", "b"} {
		c := auth.OIDCConsent{UserID: u.user.ID, ClientID: id, Scopes: []string{"openid", "profile"}, CreatedAt: t0.Add(time.Duration(i) * time.Second)}
		if err := e.o.SaveConsent(e.ctx, c); err != nil {
			t.Fatalf("SaveConsent: %v", err)
		}
	}
	if err := e.o.SaveConsent(e.ctx, auth.OIDCConsent{UserID: u.user.ID, ClientID: "a", Scopes: []string{"openid", "email"}, CreatedAt: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("SaveConsent (replace): %v", err)
	}
	c, err := e.o.Consent(e.ctx, u.user.ID, "a")
	if err != nil || !cmp.Equal(c.Scopes, []string{"openid", "email"}) || c.ClientName != "앱 a" {
		t.Errorf("Consent = %+v, %v", c, err)
	}
	list, err := e.o.Consents(e.ctx, u.user.ID)
	if err != nil || len(list) != 2 || list[0].ClientID != "a" || list[1].ClientID != "b" {
		t.Errorf("Consents = %+v, %v; want a (newest), b", list, err)
	}
	if err := e.o.SaveConsent(e.ctx, auth.OIDCConsent{UserID: u.user.ID, ClientID: "nope", CreatedAt: t0}); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("SaveConsent(unknown client) = %v, want ErrNotFound", err)
	}
	sess, rt := e.grant(t, u.user.ID, "a", u.sess.ID, t0)
	if err := e.o.DeleteConsent(e.ctx, u.user.ID, "a", t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("DeleteConsent: %v", err)
	}
	if err := e.o.DeleteConsent(e.ctx, u.user.ID, "a", t0.Add(2*time.Hour)); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("DeleteConsent twice = %v, want ErrNotFound", err)
	}
	if res, _ := e.rotate(t, rt, t0.Add(3*time.Hour), 0); res.Outcome != auth.Revoked {
		t.Errorf("refresh after the consent was withdrawn = %v, want revoked", res.Outcome)
	}
	_ = sess
	if _, err := e.st.UserBySession(e.ctx, u.user.ID, u.sess.ID, t0.Add(3*time.Hour)); err != nil {
		t.Errorf("withdrawing a consent ended the browser session: %v", err)
	}
}
