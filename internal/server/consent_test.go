package server_test

// needs_consent in the login response and the additional-consent round trip
// (GET /auth/kakao/consent), against the emulator.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// startWantsEmail runs a server whose service asks for the email (KAKAOAUTH_KAKAO_SCOPES).
func startWantsEmail(t *testing.T, opts ...servertest.Option) *servertest.Server {
	t.Helper()
	return servertest.Start(t, append([]servertest.Option{servertest.WithConfig(func(c *app.Config) {
		c.Scopes = []string{"account_email"}
	})}, opts...)...)
}

func TestLogin_NeedsConsentReported(t *testing.T) {
	for _, oidc := range []bool{true, false} {
		s := startWantsEmail(t, servertest.WithConfig(func(c *app.Config) { c.OIDC = oidc }))
		// The person unticks the email: the login succeeds and says what is missing.
		r := spaToken(t, s, s.SPACode(t, servertest.UserWithEmail, "profile_nickname"))
		m := servertest.Decode(t, r)
		if r.StatusCode != 200 {
			t.Fatalf("oidc=%v: %d %v", oidc, r.StatusCode, m)
		}
		nc, _ := m["needs_consent"].([]any)
		if len(nc) != 1 || nc[0] != "account_email" {
			t.Errorf("oidc=%v: needs_consent = %v, want [account_email]", oidc, m["needs_consent"])
		}
		if u := m["user"].(map[string]any); u["email"] != nil {
			t.Errorf("oidc=%v: email without consent: %v", oidc, u["email"])
		}
		// A person without an email: nothing to ask for, so no needs_consent member at all.
		m = servertest.Decode(t, spaToken(t, s, s.SPACode(t, servertest.UserNoEmail, "profile_nickname")))
		if _, has := m["needs_consent"]; has {
			t.Errorf("oidc=%v: no email at all, needs_consent = %v", oidc, m["needs_consent"])
		}
	}
	// The scopes stay configuration: without KAKAOAUTH_KAKAO_SCOPES the authorize URL asks for
	// no account_email (KOE205 for apps without it) and nothing is reported.
	s := servertest.Start(t)
	u := s.StartLogin(t, servertest.NewBrowser(t), "")
	if strings.Contains(u.Query().Get("scope"), "account_email") {
		t.Errorf("authorize scope = %q: account_email forced", u.Query().Get("scope"))
	}
	m := servertest.Decode(t, spaToken(t, s, s.SPACode(t, servertest.UserWithEmail, "profile_nickname")))
	if _, has := m["needs_consent"]; has {
		t.Errorf("no scopes configured, needs_consent = %v", m["needs_consent"])
	}
}

// signedInWithoutEmail logs a browser in as the user with an email, unticking it.
func signedInWithoutEmail(t *testing.T, s *servertest.Server) *http.Client {
	t.Helper()
	c := servertest.NewBrowser(t)
	r := s.BrowserLogin(t, c, servertest.UserWithEmail, "profile_nickname")
	page := servertest.ReadBody(t, r)
	if r.StatusCode != 200 || !strings.Contains(page, "아직 동의하지 않은 항목") {
		t.Fatalf("signed-in page without the items not agreed: %d %.600s", r.StatusCode, page)
	}
	return c
}

func me(t *testing.T, s *servertest.Server, c *http.Client) map[string]any {
	t.Helper()
	r, m := servertest.GetJSON(t, c, s.BaseURL+"/auth/me", "")
	if r.StatusCode != 200 {
		t.Fatalf("/auth/me: %d %v", r.StatusCode, m)
	}
	return m["user"].(map[string]any)
}

func TestConsent_GrantedUpdatesProfile(t *testing.T) {
	s := startWantsEmail(t)
	c := signedInWithoutEmail(t, s)
	before := me(t, s, c)
	oldAccess := s.Cookie(c, "/", "accessToken")
	// The page links to the consent round trip for the email.
	r, err := c.Get(s.BaseURL + "/auth/kakao/consent?" + url.Values{"scope": {"account_email"}, "return_to": {"/"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Request.URL.String(), s.EmulatorURL+"/oauth/authorize") {
		t.Fatalf("consent went to %s", r.Request.URL)
	}
	if q := r.Request.URL.Query(); q.Get("scope") != "account_email,openid" {
		t.Errorf("authorize scope = %q, want account_email,openid", q.Get("scope"))
	}
	r = servertest.Consent(t, c, r, servertest.UserWithEmail, "agree", "account_email")
	page := servertest.ReadBody(t, r)
	if r.Request.URL.Query().Get("consent") != "granted" || !strings.Contains(page, "추가 항목에 동의했습니다") {
		t.Fatalf("after consent: %s %.400s", r.Request.URL, page)
	}
	if strings.Contains(page, "아직 동의하지 않은 항목") {
		t.Error("the page still lists the email as not agreed")
	}
	after := me(t, s, c)
	if after["id"] != before["id"] || after["email"] != "minjun.kim@example.com" {
		t.Errorf("after consent: %v (before %v)", after, before)
	}
	// The session was replaced: the old access token's session is over.
	if st := s.MeStatus(t, oldAccess); st != http.StatusUnauthorized {
		t.Errorf("old session after consent: %d", st)
	}
}

func TestConsent_DeclinedKeepsAccount(t *testing.T) {
	s := startWantsEmail(t)
	c := signedInWithoutEmail(t, s)
	before := me(t, s, c)
	r, err := c.Get(s.BaseURL + "/auth/kakao/consent?scope=account_email")
	if err != nil {
		t.Fatal(err)
	}
	r = servertest.Consent(t, c, r, servertest.UserWithEmail, "cancel")
	page := servertest.ReadBody(t, r)
	if r.Request.URL.Query().Get("consent") != "declined" || !strings.Contains(page, "추가 동의를 취소했습니다") {
		t.Fatalf("after declining: %s %.400s", r.Request.URL, page)
	}
	if after := me(t, s, c); after["id"] != before["id"] || after["email"] != nil {
		t.Errorf("declining changed the account: %v", after)
	}
	// Agreeing while unticking the item: partial, still signed in.
	r, _ = c.Get(s.BaseURL + "/auth/kakao/consent?scope=account_email")
	r = servertest.Consent(t, c, r, servertest.UserWithEmail, "agree")
	servertest.ReadBody(t, r)
	if r.Request.URL.Query().Get("consent") != "partial" {
		t.Errorf("unticked: %s", r.Request.URL)
	}
	me(t, s, c)
}

func TestConsent_065_AnotherKakaoAccountIsRefused(t *testing.T) {
	s := startWantsEmail(t)
	c := signedInWithoutEmail(t, s)
	before := me(t, s, c)
	r, _ := c.Get(s.BaseURL + "/auth/kakao/consent?scope=account_email")
	// At Kakao, another account answers the consent: nothing is linked, no user is made.
	r = servertest.Consent(t, c, r, "4217730412856391026", "agree", "account_email")
	page := servertest.ReadBody(t, r)
	if r.StatusCode != http.StatusForbidden && !strings.Contains(r.Request.URL.Path, "/auth/error") {
		t.Fatalf("another account's consent: %d %s %.300s", r.StatusCode, r.Request.URL, page)
	}
	if after := me(t, s, c); after["id"] != before["id"] || after["email"] != nil || after["kakao_id"] != servertest.UserWithEmail {
		t.Errorf("account changed: %v", after)
	}
	recs := mustListUsers(t, s)
	if recs != 1 {
		t.Errorf("%d users after another account's consent, want 1", recs)
	}
}

func TestConsent_BadRequests(t *testing.T) {
	s := startWantsEmail(t)
	nc := servertest.NoRedirects(servertest.NewBrowser(t))
	// Not signed in: a 401 page, no trip to Kakao.
	r, err := nc.Get(s.BaseURL + "/auth/kakao/consent?scope=account_email")
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("not signed in: %d", r.StatusCode)
	}
	c := servertest.NoRedirects(signedInWithoutEmail(t, s))
	var many []string
	for i := range 17 {
		many = append(many, "item_"+strconv.Itoa(i))
	}
	for _, q := range []string{"", "scope=", "scope=Account-Email", "scope=" + strings.Join(many, ","), "scope=%3Cscript%3E"} {
		r, err := c.Get(s.BaseURL + "/auth/kakao/consent?" + q)
		if err != nil {
			t.Fatal(err)
		}
		body := servertest.ReadBody(t, r)
		if r.StatusCode != http.StatusBadRequest || strings.Contains(body, "<script>") {
			t.Errorf("%q: %d", q, r.StatusCode)
		}
	}
	// A return_to off the allowlist comes back to / instead.
	b := signedInWithoutEmail(t, s)
	r, _ = b.Get(s.BaseURL + "/auth/kakao/consent?scope=account_email&return_to=https://evil.example/")
	r = servertest.Consent(t, b, r, servertest.UserWithEmail, "cancel")
	servertest.ReadBody(t, r)
	if got := r.Request.URL; got.Host != strings.TrimPrefix(s.BaseURL, "http://") || got.Path != "/" {
		t.Errorf("return_to off the allowlist: came back to %s", got)
	}
}

// mustListUsers counts the users in the server's store.
func mustListUsers(t *testing.T, s *servertest.Server) int {
	t.Helper()
	list, err := s.App.Store.ListUsers(t.Context(), auth.UserFilter{Limit: 100}, s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}
