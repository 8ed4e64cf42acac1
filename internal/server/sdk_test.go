package server_test

// The mobile SDK flow (POST /auth/kakao/sdk) against the Kakao emulator. Security-checklist
// cases carry their numbers.

import (
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/web"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

func TestSDK_LoginNewAndReturning(t *testing.T) {
	s := servertest.Start(t)
	const user = 4217730412856391024
	at, idt := s.SDKToken(t, user, nil)
	if idt == "" {
		t.Fatal("emulator minted no ID token (OIDC off?)")
	}
	s.Emulator.ResetCalls()
	r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
	if r.StatusCode != 200 || b["message"] != "register success" || b["created"] != true {
		t.Fatalf("first SDK login: %d %v", r.StatusCode, b)
	}
	joined := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"accessToken=", "refreshToken=", "csrfToken=", "HttpOnly"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Set-Cookie lacks %q", want)
		}
	}
	servertest.CheckGolden(t, "sdk_login.golden.json", b)
	// The same shape as the SPA flow's response.
	if got, want := keyPaths(servertest.Mask(b, "")), keyPaths(goldenJSON(t, "spa_login.golden.json")); got != want {
		t.Errorf("SDK response keys %s, SPA response keys %s", got, want)
	}
	if got := s.Emulator.Calls("/v1/user/access_token_info"); got != 1 {
		t.Errorf("access_token_info calls = %d, want 1", got)
	}
	if got := s.Emulator.Calls("/v2/user/me"); got != 1 {
		t.Errorf("/v2/user/me calls = %d, want 1", got)
	}
	access := b["token"].(map[string]any)["access"].(string)
	if _, me := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/me", access); me["user"].(map[string]any)["kakao_id"] != "4217730412856391024" {
		t.Errorf("/auth/me = %v", me)
	}
	// Returning user, without an ID token this time: the same account.
	at2, _ := s.SDKToken(t, user, nil)
	r, b2 := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at2})
	if r.StatusCode != 200 || b2["message"] != "login success" || b2["created"] != false ||
		b2["user"].(map[string]any)["id"] != b["user"].(map[string]any)["id"] {
		t.Fatalf("returning SDK login: %d %v", r.StatusCode, b2)
	}
	// The session is marked as an SDK session.
	_, list := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/sessions", access)
	ss := list["sessions"].([]any)
	if len(ss) != 2 || ss[0].(map[string]any)["flow"] != "sdk" {
		t.Errorf("sessions = %v", list)
	}
	// Bad input is 400 before Kakao is asked.
	s.Emulator.ResetCalls()
	for _, body := range []map[string]string{{}, {"access_token": ""}, {"access_token": "a b"}, {"access_token": at, "nonce": "n"}} {
		if r, b := s.SDKLogin(t, http.DefaultClient, body); r.StatusCode != 400 || b["error"] != "invalid_request" {
			t.Errorf("%v: %d %v", body, r.StatusCode, b)
		}
	}
	if got := s.Emulator.Calls(""); got != 0 {
		t.Errorf("bad input reached Kakao %d times", got)
	}
}

// goldenJSON reads testdata/name as a JSON object.
func goldenJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// keyPaths lists every key path of a JSON object, sorted.
func keyPaths(v any) string {
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				out = append(out, prefix+k)
				walk(prefix+k+".", x)
			}
		}
	}
	walk("", v)
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestSDK_29_SubjectMismatch(t *testing.T) {
	s := servertest.Start(t)
	const alice, bob = 4217730412856391026, 4217730412856391027
	at, _ := s.SDKToken(t, alice, nil)
	_, bobID := s.SDKToken(t, bob, nil)
	r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": bobID})
	if r.StatusCode != 401 || b["error"] != "invalid_token" || b["kakao_error_code"] != nil || len(r.Cookies()) != 0 {
		t.Fatalf("access token of one user with the ID token of another: %d %v", r.StatusCode, b)
	}
	if !s.SPARegisters(t, alice) || !s.SPARegisters(t, bob) {
		t.Errorf("a refused SDK login created a user")
	}
}

func TestSDK_30_TokenOtherApp(t *testing.T) {
	s := servertest.Start(t)
	const user = 4217730412856391026
	for _, appID := range []int64{7654321, 1234567 + 1<<32} { // another app; one equal in its low 32 bits
		at, idt := s.SDKToken(t, user, map[string]any{"app_id": appID})
		r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
		if r.StatusCode != 401 || b["error"] != "invalid_token" || len(r.Cookies()) != 0 {
			t.Fatalf("token of app %d: %d %v", appID, r.StatusCode, b)
		}
		if b["error_description"] != web.Message("ko", "err.kakao_token_rejected") {
			t.Errorf("description %q", b["error_description"])
		}
	}
	if got := s.Emulator.Calls("/v2/user/me"); got != 0 {
		t.Errorf("profile read %d times for a foreign token", got)
	}
	if !s.SPARegisters(t, user) {
		t.Errorf("a foreign app's token created or linked a user")
	}
}

func TestSDK_31_TokenExpired(t *testing.T) {
	s := servertest.Start(t)
	at, _ := s.SDKToken(t, 4217730412856391026, nil)
	cases := []struct {
		name  string
		token string
		fault kakaotest.Fault
	}{
		{"unknown token", "not-a-kakao-token", kakaotest.Fault{}},
		{"expired token", at, kakaotest.Fault{Status: 401, Times: 1, Body: `{"msg":"this access token is already expired","code":-401}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Emulator.SetFault("/v1/user/access_token_info", tc.fault)
			defer s.Emulator.ClearFaults()
			r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": tc.token})
			if r.StatusCode != 401 || b["error"] != "invalid_token" || b["kakao_error_code"] != "-401" {
				t.Fatalf("got %d %v", r.StatusCode, b)
			}
			if b["error_description"] != web.Message("ko", "err.kakao_token_expired") || b["error_description"] == web.Message("ko", "err.invalid_token") {
				t.Errorf("description %q is not the distinct Kakao-token text", b["error_description"])
			}
			if !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestSDK_32_KakaoDown(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.KakaoTimeout = time.Second }))
	const user = 4217730412856391027
	at, idt := s.SDKToken(t, user, nil)
	cases := []struct {
		name     string
		endpoint string
		fault    kakaotest.Fault
		status   int
		code     string
	}{
		{"jwks down (cold cache)", "/.well-known/jwks.json", kakaotest.Fault{Status: 500}, 503, "kakao_unavailable"},
		{"access_token_info 503", "/v1/user/access_token_info", kakaotest.Fault{Status: 503}, 503, "kakao_unavailable"},
		{"access_token_info -1", "/v1/user/access_token_info", kakaotest.Fault{Status: 400, Body: `{"msg":"internal error","code":-1}`}, 503, "kakao_unavailable"},
		{"access_token_info hangs", "/v1/user/access_token_info", kakaotest.Fault{Hang: true}, 504, "kakao_timeout"},
		{"user/me 502", "/v2/user/me", kakaotest.Fault{Status: 502}, 503, "kakao_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Emulator.SetFault(tc.endpoint, tc.fault)
			defer s.Emulator.ClearFaults()
			r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
			if r.StatusCode != tc.status || b["error"] != tc.code || len(r.Cookies()) != 0 {
				t.Fatalf("got %d %v, want %d %s", r.StatusCode, b, tc.status, tc.code)
			}
			if tc.status == 503 && r.Header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
		})
	}
	// The outage is not remembered as an invalid token: the same tokens work now, after the
	// JWKS client's short back-off (on the Kakao client's own clock, real time: it is waited).
	var r *http.Response
	var b map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		r, b = s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
		if r.StatusCode != 503 || time.Now().After(deadline) {
			break
		}
	}
	if r.StatusCode != 200 || b["created"] != true {
		t.Fatalf("after the outage: %d %v", r.StatusCode, b)
	}
}

func TestSDK_33_LargeKakaoID(t *testing.T) {
	s := servertest.Start(t)
	for _, id := range []int64{9007199254740993, 9223372036854775807} {
		s.AddUser(t, id, "큰번호")
		at, idt := s.SDKToken(t, id, nil)
		r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
		if r.StatusCode != 200 {
			t.Fatalf("login of %d: %d %v", id, r.StatusCode, b)
		}
		if got := b["user"].(map[string]any)["kakao_id"]; got != strconv.FormatInt(id, 10) {
			t.Errorf("kakao_id = %v, want %d exactly", got, id)
		}
	}
	// 2^53+1 and 2^53 are different people.
	s.AddUser(t, 9007199254740992, "이웃")
	at, _ := s.SDKToken(t, 9007199254740992, nil)
	if _, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at}); b["created"] != true {
		t.Errorf("user 2^53 merged with 2^53+1: %v", b)
	}
}
