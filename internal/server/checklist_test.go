package server_test

// Security-checklist cases that had no test of their own (reference/security-checklist.md);
// each test carries its case number. SECURITY.md lists every case and its tests.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/server"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// TestChecklist_008_CodeInjectionAcrossFlows: a callback carrying flow A's state and a code
// obtained in flow B (another PKCE challenge) sends A's verifier; Kakao refuses it, the answer
// is a 4xx (no 5xx, no session), and flow A's state is spent.
func TestChecklist_008_CodeInjectionAcrossFlows(t *testing.T) {
	s := servertest.Start(t)
	c := servertest.NewBrowser(t)
	authz := s.StartLogin(t, c, "")
	stateA := authz.Query().Get("state")
	flowA := s.Cookie(c, "/", "kakaoauth-flow")

	verifierB := make([]byte, 32)
	rand.Read(verifierB)
	sum := sha256.Sum256([]byte(base64.RawURLEncoding.EncodeToString(verifierB)))
	id, _ := strconv.ParseInt(servertest.UserNoEmail, 10, 64)
	codeB, err := s.Emulator.IssueCode(id, s.BaseURL+"/auth/kakao/callback", "", base64.RawURLEncoding.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	s.Emulator.ResetCalls()
	cb := s.BaseURL + "/auth/kakao/callback?" + url.Values{"code": {codeB}, "state": {stateA}}.Encode()
	r := getNoRedirect(t, c, cb)
	if r.StatusCode >= 500 || (r.StatusCode != 303 && r.StatusCode < 400) {
		t.Fatalf("injected code: %d", r.StatusCode)
	}
	if r.StatusCode == 303 && !strings.Contains(r.Header.Get("Location"), "/auth/error") {
		t.Fatalf("injected code redirected to %q, want the error page", r.Header.Get("Location"))
	}
	for _, ck := range r.Cookies() {
		if (ck.Name == "accessToken" || ck.Name == "refreshToken") && ck.Value != "" {
			t.Fatalf("injected code set %s", ck.Name)
		}
	}
	if got := s.Emulator.Calls("/oauth/token"); got != 1 {
		t.Errorf("token calls = %d, want 1 (refused by Kakao for the wrong verifier)", got)
	}
	// Flow A's state is spent: the same callback again is refused before Kakao.
	s.Emulator.ResetCalls()
	req, _ := http.NewRequest("GET", cb, nil)
	req.AddCookie(&http.Cookie{Name: "kakaoauth-flow", Value: flowA})
	r2, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r2)
	if r2.StatusCode != 400 || s.Emulator.Calls("/oauth/token") != 0 {
		t.Fatalf("flow A's state after the injection: %d, token calls %d", r2.StatusCode, s.Emulator.Calls("/oauth/token"))
	}
}

// TestChecklist_009_RedirectURIExact: the SPA flow accepts only a redirect URI on the allowlist,
// byte for byte (a trailing slash, another scheme or case is refused before Kakao), and the
// browser flow sends Kakao the same callback URI in the authorize request and the exchange
// (the emulator refuses a mismatch, so a completed login proves it).
func TestChecklist_009_RedirectURIExact(t *testing.T) {
	s := servertest.Start(t)
	for _, uri := range []string{
		servertest.SPARedirect + "/", strings.Replace(servertest.SPARedirect, "http://", "https://", 1),
		strings.ToUpper(servertest.SPARedirect), servertest.SPARedirect + "?x=1", servertest.SPARedirect + "#",
	} {
		s.Emulator.ResetCalls()
		r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/kakao/token", map[string]string{"code": "X", "redirect_uri": uri}, nil)
		b := servertest.Decode(t, r)
		if r.StatusCode != 400 || b["error"] != "invalid_request" || s.Emulator.Calls("/oauth/token") != 0 {
			t.Errorf("redirect_uri %q: %d %v, token calls %d", uri, r.StatusCode, b, s.Emulator.Calls("/oauth/token"))
		}
	}
	c := servertest.NewBrowser(t)
	authz := s.StartLogin(t, c, "")
	if got := authz.Query().Get("redirect_uri"); got != s.BaseURL+"/auth/kakao/callback" {
		t.Fatalf("authorize redirect_uri = %q", got)
	}
	if r := s.BrowserLogin(t, c, servertest.UserNoEmail, "profile_nickname"); r.StatusCode != 200 {
		t.Fatalf("browser login: %d", r.StatusCode)
	}
}

// TestChecklist_042_AccessTokenAfterLogout: after logout, the session's access token is refused
// by every route that checks the session (/auth/me, /auth/sessions, DELETE /auth/me); token
// verification is stateless and the token dies within the access TTL (15 minutes).
func TestChecklist_042_AccessTokenAfterLogout(t *testing.T) {
	s := servertest.Start(t)
	access, _ := s.SPASignIn(t, 4217730412856391024)
	r := servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+"/auth/logout", map[string]string{"Authorization": "Bearer " + access}, "")
	if servertest.ReadBody(t, r); r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if st := s.MeStatus(t, access); st != 401 {
		t.Errorf("/auth/me after logout: %d", st)
	}
	if r, _ := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/sessions", access); r.StatusCode != 401 {
		t.Errorf("/auth/sessions after logout: %d", r.StatusCode)
	}
	if r := deleteMe(t, s, access); r.StatusCode != 401 {
		t.Errorf("DELETE /auth/me after logout: %d", r.StatusCode)
	}
	r = servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/verify", map[string]string{"token": access}, nil)
	b := servertest.Decode(t, r)
	if r.StatusCode == 200 {
		exp, _ := b["exp"].(float64)
		iat, _ := b["iat"].(float64)
		if exp-iat > (15 * time.Minute).Seconds() {
			t.Errorf("a logged-out access token verifies for %v s", exp-iat)
		}
	} else if r.StatusCode != 401 {
		t.Errorf("verify after logout: %d %v", r.StatusCode, b)
	}
	s.Clock.Advance(16 * time.Minute)
	r = servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/verify", map[string]string{"token": access}, nil)
	if servertest.ReadBody(t, r); r.StatusCode != 401 {
		t.Errorf("verify 16 minutes later: %d", r.StatusCode)
	}
}

// TestChecklist_052_RevokeOtherUsersSession: user A cannot end user B's session (404, B
// unaffected); a garbage refresh token in a logout body is no oracle and no 5xx.
func TestChecklist_052_RevokeOtherUsersSession(t *testing.T) {
	s := servertest.Start(t)
	accessA, _ := s.SPASignIn(t, 4217730412856391024)
	accessB, refreshB := s.SPASignIn(t, 4217730412856391025)
	_, list := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/sessions", accessB)
	sessions, _ := list["sessions"].([]any)
	if len(sessions) != 1 {
		t.Fatalf("B's sessions: %v", list)
	}
	sidB, _ := sessions[0].(map[string]any)["id"].(string)
	r := servertest.Do(t, http.DefaultClient, "DELETE", s.BaseURL+"/auth/sessions/"+url.PathEscape(sidB), map[string]string{"Authorization": "Bearer " + accessA}, "")
	if b := servertest.Decode(t, r); r.StatusCode != 404 {
		t.Fatalf("A ending B's session: %d %v", r.StatusCode, b)
	}
	if st := s.MeStatus(t, accessB); st != 200 {
		t.Fatalf("B after A's attempt: /auth/me %d", st)
	}
	r = servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/logout", map[string]string{"refresh": "kar_garbage"}, map[string]string{"Authorization": "Bearer " + accessA})
	if servertest.ReadBody(t, r); r.StatusCode >= 500 {
		t.Fatalf("logout with a garbage refresh token: %d", r.StatusCode)
	}
	if st, b := s.Refresh(t, refreshB); st != 200 {
		t.Fatalf("B's refresh after A's attempts: %d %v", st, b)
	}
}

// TestChecklist_059_PlantedCookiesIgnored: session cookies planted before a browser login
// (session fixation) are replaced by fresh ones, and the planted values authenticate nothing.
func TestChecklist_059_PlantedCookiesIgnored(t *testing.T) {
	s := servertest.Start(t)
	// The planted refresh token is a real one of another person's session.
	_, victimOfPlant := s.SPASignIn(t, 4217730412856391024)
	c := servertest.NewBrowser(t)
	base, _ := url.Parse(s.BaseURL)
	c.Jar.SetCookies(base, []*http.Cookie{
		{Name: "refreshToken", Value: victimOfPlant, Path: "/"},
		{Name: "accessToken", Value: "planted.access.token", Path: "/"},
		{Name: "csrfToken", Value: "planted", Path: "/"},
	})
	if r := s.BrowserLogin(t, c, servertest.UserNoEmail, "profile_nickname"); r.StatusCode != 200 {
		t.Fatalf("browser login: %d", r.StatusCode)
	}
	var refresh, csrf string
	refreshURL, _ := url.Parse(s.BaseURL + "/auth/token/refresh")
	for _, ck := range c.Jar.Cookies(refreshURL) {
		switch ck.Name {
		case "refreshToken":
			if ck.Value != victimOfPlant {
				refresh = ck.Value
			}
		case "csrfToken":
			csrf = ck.Value
		}
	}
	if refresh == "" || csrf == "planted" {
		t.Fatalf("login did not replace the planted cookies: %v", c.Jar.Cookies(refreshURL))
	}
	_, me := servertest.GetJSON(t, c, s.BaseURL+"/auth/me", "")
	if u, _ := me["user"].(map[string]any); u == nil || u["kakao_id"] != servertest.UserNoEmail {
		t.Fatalf("/auth/me after login over planted cookies: %v", me)
	}
	// A cookie refresh (the planted refresh cookie, at Path=/, is sent too) stays in the
	// person's own session.
	r := servertest.Do(t, c, "POST", s.BaseURL+"/auth/token/refresh", map[string]string{"Origin": s.BaseURL, "X-CSRF-Token": csrf}, "")
	if servertest.ReadBody(t, r); r.StatusCode != 200 {
		t.Fatalf("cookie refresh: %d", r.StatusCode)
	}
	_, me = servertest.GetJSON(t, c, s.BaseURL+"/auth/me", "")
	if u, _ := me["user"].(map[string]any); u == nil || u["kakao_id"] != servertest.UserNoEmail {
		t.Fatalf("/auth/me after a cookie refresh over planted cookies: %v", me)
	}
}

// TestChecklist_062_063_064_EmailNeverLinks: accounts are found by Kakao id only (and Kakao is
// the only way to sign up, so no unverified local account can be pre-registered: 063); another Kakao
// account with the same email (verified or not) is another user; the same Kakao id with a
// new email is the same user, the email updated.
func TestChecklist_062_063_064_EmailNeverLinks(t *testing.T) {
	emailNeverLinks(t, servertest.Start(t))
}

// emailNeverLinks runs cases 62–64 on s.
func emailNeverLinks(t *testing.T, s *servertest.Server) {
	agreed := []string{"profile_nickname", "account_email"}
	login := func(id int64) map[string]any {
		t.Helper()
		r := spaToken(t, s, s.MintCode(t, id))
		b := servertest.Decode(t, r)
		if r.StatusCode != 200 {
			t.Fatalf("login of %d: %d %v", id, r.StatusCode, b)
		}
		return b
	}
	const alice, mallory, other = 5300000000000000001, 5300000000000000002, 5300000000000000003
	s.Emulator.AddUser(kakaotest.User{ID: alice, Nickname: "앨리스", Email: "alice@example.com", EmailValid: true, EmailVerified: true, Agreed: agreed})
	s.Emulator.AddUser(kakaotest.User{ID: mallory, Nickname: "말로리", Email: "alice@example.com", EmailValid: true, EmailVerified: false, Agreed: agreed})
	s.Emulator.AddUser(kakaotest.User{ID: other, Nickname: "또다른", Email: "alice@example.com", EmailValid: true, EmailVerified: true, Agreed: agreed})
	a := login(alice)
	aliceID := a["user"].(map[string]any)["id"]

	t.Run("062_unverified_same_email", func(t *testing.T) {
		m := login(mallory)
		u := m["user"].(map[string]any)
		if m["created"] != true || u["id"] == aliceID || u["email"] != nil {
			t.Fatalf("unverified same email: %v (alice %v)", m, aliceID)
		}
	})
	t.Run("064_other_kakao_id_same_verified_email", func(t *testing.T) {
		m := login(other)
		if m["created"] != true || m["user"].(map[string]any)["id"] == aliceID {
			t.Fatalf("another Kakao id with alice's email: %v", m)
		}
	})
	t.Run("064_email_changed_at_kakao", func(t *testing.T) {
		s.Emulator.AddUser(kakaotest.User{ID: alice, Nickname: "앨리스", Email: "alice@new.example", EmailValid: true, EmailVerified: true, Agreed: agreed})
		m := login(alice)
		u := m["user"].(map[string]any)
		if m["created"] != false || u["id"] != aliceID || u["email"] != "alice@new.example" {
			t.Fatalf("same Kakao id, new email: %v", m)
		}
	})
}

// leakyStore fails reads of a user by session with an error whose text is internal detail.
type leakyStore struct {
	app.Store
	fail atomic.Bool
}

const leakText = "SQL: SELECT secret_column FROM users WHERE password_hash = 'x' (db 10.9.8.7)"

func (l *leakyStore) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (auth.User, error) {
	if l.fail.Load() {
		return auth.User{}, errors.New(leakText)
	}
	return l.Store.UserBySession(ctx, userID, sessionID, now)
}

// TestChecklist_078_ErrorsLeakNothing: a database error and a Kakao error body reach the client
// as a generic JSON error (503, 502/503), without the SQL, the upstream body or any token.
func TestChecklist_078_ErrorsLeakNothing(t *testing.T) {
	st, err := app.OpenStore(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	leaky := &leakyStore{Store: st}
	s := servertest.Start(t, func(o *servertest.Options) { o.Store = leaky })
	access, _ := s.SPASignIn(t, 4217730412856391024)
	leaky.fail.Store(true)
	r, err := http.NewRequest("GET", s.BaseURL+"/auth/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body := servertest.ReadBody(t, resp)
	if resp.StatusCode != 503 || strings.Contains(body, "SQL") || strings.Contains(body, "10.9.8.7") || strings.Contains(body, access) {
		t.Errorf("database error: %d %s", resp.StatusCode, body)
	}
	leaky.fail.Store(false)

	const upstream = "UPSTREAM-INTERNAL-TRACE java.lang.NullPointerException at kauth-7f"
	for _, f := range []kakaotest.Fault{
		{Status: 500, Body: `{"error":"server_error","error_description":"` + upstream + `","error_code":"KOE003"}`},
		{Status: 400, Body: `{"error":"invalid_grant","error_description":"` + upstream + `","error_code":"KOE320"}`},
		{Status: 502, HTML: true},
	} {
		s.Emulator.SetFault("/oauth/token", f)
		code := s.MintCode(t, 4217730412856391025)
		resp := spaToken(t, s, code)
		body := servertest.ReadBody(t, resp)
		s.Emulator.ClearFaults()
		if resp.StatusCode >= 500 && resp.StatusCode != 502 && resp.StatusCode != 503 {
			t.Errorf("Kakao %d: our %d", f.Status, resp.StatusCode)
		}
		if strings.Contains(body, "UPSTREAM") || strings.Contains(body, "<html") || strings.Contains(body, code) {
			t.Errorf("Kakao %d: our answer leaks the upstream body: %s", f.Status, body)
		}
	}
}

// TestChecklist_081_LoginStartFloodBounded: a flood of login starts and of random SDK tokens
// from one address is rate limited (429 with Retry-After); a login start stores nothing and
// calls no Kakao endpoint (its state lives in the sealed flow cookie), and the random tokens
// reach Kakao at most as often as the limit lets them through.
func TestChecklist_081_LoginStartFloodBounded(t *testing.T) {
	const burst = 5
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.RateLimit = server.RateLimit{Burst: burst, Per: time.Minute} }))
	s.Emulator.ResetCalls()
	c := servertest.NoRedirects(&http.Client{})
	var limited *http.Response
	for i := 0; i < 3*burst && limited == nil; i++ {
		r, err := c.Get(s.BaseURL + "/auth/kakao/login")
		if err != nil {
			t.Fatal(err)
		}
		servertest.ReadBody(t, r)
		switch {
		case r.StatusCode == 429:
			limited = r
		case r.StatusCode != 302:
			t.Fatalf("login start %d: %d", i, r.StatusCode)
		}
	}
	if limited == nil || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("login starts not limited: %v", limited)
	}
	if n := len(s.Emulator.CallLog()); n != 0 {
		t.Errorf("login starts called Kakao %d times", n)
	}
	var sdkLimited bool
	for i := 0; i < 3*burst; i++ {
		r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/kakao/sdk", map[string]string{"access_token": "random-" + strconv.Itoa(i)}, nil)
		servertest.ReadBody(t, r)
		if r.StatusCode == 429 {
			sdkLimited = true
		} else if r.StatusCode != 401 {
			t.Fatalf("random SDK token %d: %d", i, r.StatusCode)
		}
	}
	if !sdkLimited {
		t.Fatal("random SDK tokens not limited")
	}
	if n := s.Emulator.Calls("/v1/user/access_token_info"); n > burst {
		t.Errorf("random SDK tokens reached Kakao %d times, more than the burst %d", n, burst)
	}
}

// TestChecklist_095_TokensAtRest: after logins (SPA, SDK) and refreshes, the SQLite files
// (database and WAL) hold no refresh token, access token, Kakao token or code: refresh tokens
// are stored as hashes, Kakao's tokens not at all. TestChecklist_095_TokensAtRestPostgreSQL
// checks the same on PostgreSQL.
func TestChecklist_095_TokensAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kakaoauth.db")
	s := servertest.Start(t, func(o *servertest.Options) { o.DatabasePath = path })
	tokensAtRest(t, s, func() []byte {
		var all []byte
		for _, suffix := range []string{"", "-wal"} {
			if raw, err := os.ReadFile(path + suffix); err == nil {
				all = append(all, raw...)
			}
		}
		return all
	})
}

// tokensAtRest runs the flows of case 95 on s and checks that dump (the whole database)
// holds none of their secrets.
func tokensAtRest(t *testing.T, s *servertest.Server, dump func() []byte) {
	t.Helper()
	var secrets []string
	code := s.MintCode(t, 4217730412856391024)
	r := spaToken(t, s, code)
	b := servertest.Decode(t, r)
	tok := b["token"].(map[string]any)
	secrets = append(secrets, code, tok["access"].(string), tok["refresh"].(string))
	st, rb := s.Refresh(t, tok["refresh"].(string))
	if st != 200 {
		t.Fatalf("refresh: %d", st)
	}
	secrets = append(secrets, rb["token"].(map[string]any)["refresh"].(string))
	kat, kid := s.SDKToken(t, 4217730412856391025, nil)
	r, sb := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": kat, "id_token": kid})
	if r.StatusCode != 200 {
		t.Fatalf("SDK login: %d %v", r.StatusCode, sb)
	}
	secrets = append(secrets, kat, kid, sb["token"].(map[string]any)["refresh"].(string))

	raw := dump()
	// What was read is the database: it holds the first user's nickname.
	if !bytes.Contains(raw, []byte("김민준")) {
		t.Fatal("the database dump does not hold the users")
	}
	for _, sec := range secrets {
		// The part after a prefix such as kar_, and the token itself.
		probe := sec
		if i := strings.IndexByte(sec, '_'); i >= 0 && i < 8 {
			probe = sec[i+1:]
		}
		if bytes.Contains(raw, []byte(probe)) {
			t.Errorf("the database holds a secret in clear: %.12s…", sec)
		}
	}
}

// kakaoTokensWithNonce gets Kakao tokens for user whose ID token carries nonce, as an app's
// Kakao login would (a code with the nonce, exchanged at the emulator's /oauth/token).
func kakaoTokensWithNonce(t *testing.T, s *servertest.Server, user int64, nonce string) (access, idToken string) {
	t.Helper()
	r := servertest.PostJSON(t, http.DefaultClient, s.EmulatorURL+"/_emulator/code",
		map[string]any{"user_id": user, "redirect_uri": servertest.SPARedirect, "nonce": nonce}, nil)
	code, _ := servertest.Decode(t, r)["code"].(string)
	app := s.Emulator.App()
	tr, err := http.PostForm(s.EmulatorURL+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {app.RESTKey}, "client_secret": {app.ClientSecret},
		"redirect_uri": {servertest.SPARedirect}, "code": {code},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := servertest.Decode(t, tr)
	access, _ = m["access_token"].(string)
	idToken, _ = m["id_token"].(string)
	if tr.StatusCode != 200 || access == "" || idToken == "" {
		t.Fatalf("Kakao tokens with a nonce: %d %v", tr.StatusCode, m)
	}
	return access, idToken
}

// TestChecklist_023_SDKNonceSingleUse: an SDK login whose ID token carries a nonce consumes
// it: the same tokens and nonce again are 401 invalid_token, as is another ID token with the
// same nonce; a wrong nonce is 401 and does not spend the right one; a new nonce logs in.
func TestChecklist_023_SDKNonceSingleUse(t *testing.T) {
	s := servertest.Start(t)
	const user = 4217730412856391024
	login := func(access, idToken, nonce string) (int, map[string]any) {
		r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": access, "id_token": idToken, "nonce": nonce})
		return r.StatusCode, b
	}
	at, idt := kakaoTokensWithNonce(t, s, user, "nonce-one-0123456789")
	if st, b := login(at, idt, "another-nonce-000000"); st != 401 || b["error"] != "invalid_token" {
		t.Fatalf("wrong nonce: %d %v", st, b)
	}
	if st, b := login(at, idt, "nonce-one-0123456789"); st != 200 {
		t.Fatalf("first login with the nonce: %d %v", st, b)
	}
	if st, b := login(at, idt, "nonce-one-0123456789"); st != 401 || b["error"] != "invalid_token" {
		t.Fatalf("replayed nonce: %d %v", st, b)
	}
	at2, idt2 := kakaoTokensWithNonce(t, s, user, "nonce-one-0123456789")
	if st, b := login(at2, idt2, "nonce-one-0123456789"); st != 401 {
		t.Fatalf("another ID token with a used nonce: %d %v", st, b)
	}
	at3, idt3 := kakaoTokensWithNonce(t, s, user, "nonce-two-0123456789")
	if st, b := login(at3, idt3, "nonce-two-0123456789"); st != 200 {
		t.Fatalf("a new nonce: %d %v", st, b)
	}
}

// TestChecklist_075_NoTokensInURLNoRepeats: tokens are read only from Authorization: Bearer,
// the JSON body or our cookies — never from the query (a valid access token or Kakao token in
// the URL authenticates nothing) — and repeated callback parameters are refused before Kakao.
func TestChecklist_075_NoTokensInURLNoRepeats(t *testing.T) {
	s := servertest.Start(t)
	access, refresh := s.SPASignIn(t, 4217730412856391024)
	for _, u := range []string{"/auth/me?access_token=", "/auth/me?token=", "/auth/sessions?access_token="} {
		r, b := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+u+url.QueryEscape(access), "")
		if r.StatusCode != 401 {
			t.Errorf("GET %s<valid token>: %d %v", u, r.StatusCode, b)
		}
	}
	r := servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+"/auth/token/refresh?refresh="+url.QueryEscape(refresh), map[string]string{"Content-Type": "application/json"}, `{}`)
	if b := servertest.Decode(t, r); r.StatusCode == 200 {
		t.Errorf("refresh token in the query was used: %v", b)
	}
	kat, _ := s.SDKToken(t, 4217730412856391025, nil)
	r = servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+"/auth/kakao/sdk?access_token="+url.QueryEscape(kat), map[string]string{"Content-Type": "application/json"}, `{}`)
	if b := servertest.Decode(t, r); r.StatusCode != 400 {
		t.Errorf("Kakao token in the query: %d %v", r.StatusCode, b)
	}
	c := servertest.NewBrowser(t)
	authz := s.StartLogin(t, c, "")
	state := authz.Query().Get("state")
	s.Emulator.ResetCalls()
	for _, q := range []string{"code=a&code=b&state=" + state, "code=a&state=" + state + "&state=" + state, "code=a&state=" + state + "&error=x&error=y"} {
		r := getNoRedirect(t, c, s.BaseURL+"/auth/kakao/callback?"+q)
		if r.StatusCode != 400 {
			t.Errorf("callback ?%s: %d, want 400", q, r.StatusCode)
		}
	}
	if n := s.Emulator.Calls("/oauth/token"); n != 0 {
		t.Errorf("repeated parameters reached Kakao %d times", n)
	}
}

// TestChecklist_081_RefusedSDKTokenRemembered: an SDK token Kakao refused is refused again
// for a while without asking Kakao (a flood of one bad token costs one Kakao call), with the
// same answer; an outage is not remembered, so the same token works once Kakao is back (32).
func TestChecklist_081_RefusedSDKTokenRemembered(t *testing.T) {
	s := servertest.Start(t)
	s.Emulator.ResetCalls()
	for i := 0; i < 5; i++ {
		r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": "not-a-kakao-token"})
		if r.StatusCode != 401 || b["error"] != "invalid_token" || b["kakao_error_code"] != "-401" {
			t.Fatalf("bad token, try %d: %d %v", i, r.StatusCode, b)
		}
	}
	if n := s.Emulator.Calls("/v1/user/access_token_info"); n != 1 {
		t.Errorf("one bad token sent 5 times asked Kakao %d times, want 1", n)
	}
	at, _ := s.SDKToken(t, 4217730412856391025, nil)
	s.Emulator.SetFault("/v1/user/access_token_info", kakaotest.Fault{Status: 503})
	if r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at}); r.StatusCode != 503 {
		t.Fatalf("Kakao down: %d %v", r.StatusCode, b)
	}
	s.Emulator.ClearFaults()
	if r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at}); r.StatusCode != 200 {
		t.Fatalf("the same token once Kakao is back: %d %v", r.StatusCode, b)
	}
}
