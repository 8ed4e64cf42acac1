package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// spaToken posts a code to POST /auth/kakao/token as a frontend would.
func spaToken(t *testing.T, s *servertest.Server, code string) *http.Response {
	t.Helper()
	return servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": servertest.SPARedirect}, nil)
}

// TestSPALogin: a first login registers the user with one round trip to Kakao (two without
// OIDC), sets the session cookies and answers the golden shape; a second login is a returning
// user; a reused code is Kakao's KOE320 and answers 400 invalid_grant.
func TestSPALogin(t *testing.T) {
	for _, oidc := range []bool{true, false} {
		t.Run(fmt.Sprintf("oidc=%v", oidc), func(t *testing.T) {
			s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.OIDC = oidc }))
			code := s.SPACode(t, servertest.UserWithEmail, "profile_nickname", "account_email")
			s.Emulator.ResetCalls()
			r := spaToken(t, s, code)
			if r.StatusCode != 200 {
				t.Fatalf("token: %d %s", r.StatusCode, servertest.ReadBody(t, r))
			}
			setCookies := r.Header.Values("Set-Cookie")
			body := servertest.Decode(t, r)
			if body["message"] != "register success" || body["created"] != true {
				t.Fatalf("first login: %v", body)
			}
			// One round trip to Kakao with OIDC (the ID token carries the profile), two without.
			wantMe := 0
			if !oidc {
				wantMe = 1
			}
			if got := s.Emulator.Calls("/oauth/token"); got != 1 {
				t.Errorf("Kakao /oauth/token calls = %d, want 1", got)
			}
			if got := s.Emulator.Calls("/v2/user/me"); got != wantMe {
				t.Errorf("Kakao /v2/user/me calls = %d, want %d", got, wantMe)
			}
			joined := strings.Join(setCookies, "\n")
			for _, want := range []string{"accessToken=", "refreshToken=", "HttpOnly", "SameSite=Lax"} {
				if !strings.Contains(joined, want) {
					t.Errorf("Set-Cookie lacks %q:\n%s", want, joined)
				}
			}
			if oidc {
				servertest.CheckGolden(t, "spa_login.golden.json", body)
			}
			tok := body["token"].(map[string]any)
			_, me := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/me", tok["access"].(string))
			if me["user"].(map[string]any)["nickname"] != "김민준" {
				t.Fatalf("/auth/me = %v", me)
			}

			// Returning user.
			code = s.SPACode(t, servertest.UserWithEmail, "profile_nickname", "account_email")
			body = servertest.Decode(t, spaToken(t, s, code))
			if body["message"] != "login success" || body["created"] != false {
				t.Fatalf("second login: %v", body)
			}

			// A reused code is Kakao's KOE320: 400 invalid_grant, never 401 or 500.
			r = spaToken(t, s, code)
			body = servertest.Decode(t, r)
			if r.StatusCode != 400 || body["error"] != "invalid_grant" || body["kakao_error_code"] != "KOE320" {
				t.Fatalf("reused code: %d %v", r.StatusCode, body)
			}
		})
	}
}

// TestSPALogin_NoEmailUser: a user without an email answers "email": null (present, not left out).
func TestSPALogin_NoEmailUser(t *testing.T) {
	s := servertest.Start(t)
	r := spaToken(t, s, s.SPACode(t, servertest.UserNoEmail, "profile_nickname"))
	body := servertest.Decode(t, r)
	u := body["user"].(map[string]any)
	if r.StatusCode != 200 || u["email"] != nil || u["email_verified"] != nil {
		t.Fatalf("no-email user: %d %v", r.StatusCode, body)
	}
	if _, present := u["email"]; !present {
		t.Fatalf("email must be present as null: %v", u)
	}
}

// TestSPALogin_89_FirstLoginRace: 100 concurrent first logins of one Kakao user make one user.
func TestSPALogin_89_FirstLoginRace(t *testing.T) {
	s := servertest.Start(t)
	codes := make([]string, 100)
	for i := range codes {
		codes[i] = s.MintCode(t, 4217730412856391026)
	}
	var wg sync.WaitGroup
	ids := make([]string, len(codes))
	created := make([]bool, len(codes))
	errs := make(chan string, len(codes))
	for i, code := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, _ := json.Marshal(map[string]string{"code": code, "redirect_uri": servertest.SPARedirect})
			r, err := http.Post(s.BaseURL+"/auth/kakao/token", "application/json", bytes.NewReader(b))
			if err != nil {
				errs <- err.Error()
				return
			}
			var out struct {
				User    struct{ ID string } `json:"user"`
				Created bool                `json:"created"`
			}
			body, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
				errs <- fmt.Sprintf("%d %s", r.StatusCode, body)
				return
			}
			ids[i], created[i] = out.User.ID, out.Created
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("login failed: %s", e)
	}
	nCreated := 0
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("logins answered different users: %q and %q", ids[0], ids[i])
		}
		if created[i] {
			nCreated++
		}
	}
	if nCreated != 1 {
		t.Fatalf("%d logins said created, want exactly 1", nCreated)
	}
}

// TestSPALogin_82_86_KakaoFaults: Kakao outages answer 502/503/504, never 401 or 500, and
// nothing is written.
func TestSPALogin_82_86_KakaoFaults(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.KakaoTimeout = time.Second }))
	const user = 4217730412856391027
	cases := []struct {
		name     string
		endpoint string
		fault    kakaotest.Fault
		status   int
		code     string
	}{
		{"82 hang", "/oauth/token", kakaotest.Fault{Hang: true}, 504, "kakao_timeout"},
		{"83 5xx", "/oauth/token", kakaotest.Fault{Status: 503}, 503, "kakao_unavailable"},
		{"83 html", "/oauth/token", kakaotest.Fault{HTML: true, Status: 502}, 503, "kakao_unavailable"},
		{"84 truncated", "/oauth/token", kakaotest.Fault{TruncatedJSON: true}, 502, "kakao_error"},
		{"85 huge body", "/oauth/token", kakaotest.Fault{HugeBody: true}, 502, "kakao_error"},
		{"86 jwks outage cold", "/.well-known/jwks.json", kakaotest.Fault{Status: 500}, 503, "kakao_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Emulator.SetFault(tc.endpoint, tc.fault)
			defer s.Emulator.ClearFaults()
			r := spaToken(t, s, s.MintCode(t, user))
			m := servertest.Decode(t, r)
			if r.StatusCode != tc.status || m["error"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", r.StatusCode, m, tc.status, tc.code)
			}
			if len(r.Cookies()) != 0 {
				t.Errorf("cookies set on failure: %v", r.Cookies())
			}
		})
	}
	// After the faults, the user logs in for the first time: nothing was half-written by the
	// failed attempts. A failed JWKS fetch is retried after a short back-off (not the full
	// cooldown), so the first login after the outage may still be told to retry.
	var b map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; {
		r := spaToken(t, s, s.MintCode(t, user))
		b = servertest.Decode(t, r)
		if r.StatusCode != 503 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if b["created"] != true {
		t.Fatalf("first successful login after faults: %v", b)
	}
}

// TestSPALogin_077_085_LongNickname: a Kakao ID token carrying thousands of Hangul characters
// logs in, and the nickname is stored cut on a character boundary; an ID token past the
// client's cap is Kakao's fault (502 kakao_error), never a 401 with WWW-Authenticate about the
// client's token.
func TestSPALogin_077_085_LongNickname(t *testing.T) {
	s := servertest.Start(t)
	login := func(id int64, nick string) (*http.Response, map[string]any) {
		s.Emulator.AddUser(kakaotest.User{ID: id, Nickname: nick})
		r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/kakao/token",
			map[string]string{"code": s.MintCode(t, id), "redirect_uri": servertest.SPARedirect}, nil)
		return r, servertest.Decode(t, r)
	}
	nick := strings.Repeat("한", 3000)
	r, b := login(4217730412856390077, nick)
	if r.StatusCode != 200 {
		t.Fatalf("login with a 3000-character nickname: %d %v", r.StatusCode, b)
	}
	got, _ := b["user"].(map[string]any)["nickname"].(string)
	if got == "" || !strings.HasPrefix(nick, got) || len([]rune(got)) > 100 {
		t.Errorf("stored nickname %q: want a non-empty prefix of at most 100 characters", got)
	}
	r, b = login(4217730412856390085, strings.Repeat("한", 20000))
	if r.StatusCode != http.StatusBadGateway || b["error"] != "kakao_error" || r.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("ID token past the cap: %d %v (WWW-Authenticate %q); want 502 kakao_error without a challenge",
			r.StatusCode, b, r.Header.Get("WWW-Authenticate"))
	}
}
