package main

// The mobile SDK flow, account deletion, sessions and Kakao's unlink webhook, end to end through
// `kakaoauth dev` and its emulator. Security-checklist cases carry their numbers.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/web"
)

// The development app of the emulator (kakaotest.DefaultApp).
const (
	devAdminKey = "kakaoauth-dev-admin-key"
	devAppID    = "1234567"
)

// sdkToken mints Kakao SDK tokens for a user at the emulator; extra adds control fields
// ("app_id", "client_id").
func (d *devServer) sdkToken(t testing.TB, user int64, extra map[string]any) (access, idToken string) {
	t.Helper()
	body := map[string]any{"user_id": user}
	for k, v := range extra {
		body[k] = v
	}
	r := postJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/token", body, nil)
	m := decode(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("mint SDK token: %d %v", r.StatusCode, m)
	}
	id, _ := m["id_token"].(string)
	return m["access_token"].(string), id
}

// addUser adds a Kakao user to the emulator.
func (d *devServer) addUser(t testing.TB, id int64, nickname string) {
	t.Helper()
	r := postJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/users", map[string]any{"id": id, "nickname": nickname}, nil)
	readBody(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("add emulator user: %d", r.StatusCode)
	}
}

// settledLogs returns the server's log once its buffer (flushed every 100 ms) has been written:
// after at least 300 ms, when the log has not grown for four flush periods (at most 5 s), so a
// slow CI machine does not cut a late flush off.
func (d *devServer) settledLogs() string {
	start, last, stable := time.Now(), -1, 0
	for {
		time.Sleep(100 * time.Millisecond)
		n := len(d.Stderr.String())
		if n == last {
			stable++
		} else {
			last, stable = n, 0
		}
		if (stable >= 4 && time.Since(start) >= 300*time.Millisecond) || time.Since(start) > 5*time.Second {
			return d.Stderr.String()
		}
	}
}

func (d *devServer) clearFaults(t testing.TB) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", d.EmulatorURL+"/_emulator/faults", nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
}

// sdkLogin posts to /auth/kakao/sdk and returns the response and its JSON body.
func (d *devServer) sdkLogin(t testing.TB, c *http.Client, body map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	r := postJSON(t, c, d.BaseURL+"/auth/kakao/sdk", body, nil)
	return r, decode(t, r)
}

// sdkSignIn logs a user in through the SDK flow and returns the login body's token.
func (d *devServer) sdkSignIn(t testing.TB, user int64) (access, refresh, userID string) {
	t.Helper()
	at, idt := d.sdkToken(t, user, nil)
	r, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
	if r.StatusCode != 200 {
		t.Fatalf("SDK login of %d: %d %v", user, r.StatusCode, b)
	}
	tok := b["token"].(map[string]any)
	return tok["access"].(string), tok["refresh"].(string), b["user"].(map[string]any)["id"].(string)
}

// spaRegisters reports whether a first SPA login of user says "register success": the user did
// not exist before.
func (d *devServer) spaRegisters(t testing.TB, user int64) bool {
	t.Helper()
	b := decode(t, postJSON(t, http.DefaultClient, d.BaseURL+"/auth/kakao/token", map[string]string{"code": d.mintCode(t, user), "redirect_uri": spaRedirect}, nil))
	return b["created"] == true
}

func do(t testing.TB, c *http.Client, method, u string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if body == "" {
		req, _ = http.NewRequest(method, u, nil)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func meStatus(t testing.TB, d *devServer, access string) int {
	t.Helper()
	r, _ := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/me", access)
	return r.StatusCode
}

func refreshStatus(t testing.TB, d *devServer, refresh string) (int, any) {
	t.Helper()
	r := postJSON(t, http.DefaultClient, d.BaseURL+"/auth/token/refresh", map[string]string{"refresh": refresh}, nil)
	b := decode(t, r)
	return r.StatusCode, b["error"]
}

func TestSDK_LoginNewAndReturning(t *testing.T) {
	d := startDev(t, nil)
	const user = 4217730412856391024
	at, idt := d.sdkToken(t, user, nil)
	if idt == "" {
		t.Fatal("emulator minted no ID token (OIDC off?)")
	}
	d.resetCalls(t)
	r, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
	if r.StatusCode != 200 || b["message"] != "register success" || b["created"] != true {
		t.Fatalf("first SDK login: %d %v", r.StatusCode, b)
	}
	joined := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"accessToken=", "refreshToken=", "csrfToken=", "HttpOnly"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Set-Cookie lacks %q", want)
		}
	}
	checkGolden(t, "sdk_login.golden.json", b)
	// The same shape as the SPA flow's response.
	if got, want := keyPaths(mask(b, "")), keyPaths(goldenJSON(t, "spa_login.golden.json")); got != want {
		t.Errorf("SDK response keys %s, SPA response keys %s", got, want)
	}
	if got := d.emulatorCalls(t, "/v1/user/access_token_info"); got != 1 {
		t.Errorf("access_token_info calls = %d, want 1", got)
	}
	if got := d.emulatorCalls(t, "/v2/user/me"); got != 1 {
		t.Errorf("/v2/user/me calls = %d, want 1", got)
	}
	access := b["token"].(map[string]any)["access"].(string)
	if _, me := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/me", access); me["user"].(map[string]any)["kakao_id"] != "4217730412856391024" {
		t.Errorf("/auth/me = %v", me)
	}
	// Returning user, without an ID token this time: the same account.
	at2, _ := d.sdkToken(t, user, nil)
	r, b2 := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at2})
	if r.StatusCode != 200 || b2["message"] != "login success" || b2["created"] != false ||
		b2["user"].(map[string]any)["id"] != b["user"].(map[string]any)["id"] {
		t.Fatalf("returning SDK login: %d %v", r.StatusCode, b2)
	}
	// The session is marked as an SDK session.
	_, list := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/sessions", access)
	ss := list["sessions"].([]any)
	if len(ss) != 2 || ss[0].(map[string]any)["flow"] != "sdk" {
		t.Errorf("sessions = %v", list)
	}
	// Bad input is 400 before Kakao is asked.
	d.resetCalls(t)
	for _, body := range []map[string]string{{}, {"access_token": ""}, {"access_token": "a b"}, {"access_token": at, "nonce": "n"}} {
		if r, b := d.sdkLogin(t, http.DefaultClient, body); r.StatusCode != 400 || b["error"] != "invalid_request" {
			t.Errorf("%v: %d %v", body, r.StatusCode, b)
		}
	}
	if got := d.emulatorCalls(t, ""); got != 0 {
		t.Errorf("bad input reached Kakao %d times", got)
	}
}

func goldenJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	b := readFile(t, "testdata/"+name)
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

func TestSecurity_29_SubjectMismatch(t *testing.T) {
	d := startDev(t, nil)
	const alice, bob = 4217730412856391026, 4217730412856391027
	at, _ := d.sdkToken(t, alice, nil)
	_, bobID := d.sdkToken(t, bob, nil)
	r, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": bobID})
	if r.StatusCode != 401 || b["error"] != "invalid_token" || b["kakao_error_code"] != nil || len(r.Cookies()) != 0 {
		t.Fatalf("access token of one user with the ID token of another: %d %v", r.StatusCode, b)
	}
	if !d.spaRegisters(t, alice) || !d.spaRegisters(t, bob) {
		t.Errorf("a refused SDK login created a user")
	}
}

func TestSecurity_30_SDKTokenOtherApp(t *testing.T) {
	d := startDev(t, nil)
	const user = 4217730412856391026
	for _, appID := range []int64{7654321, 1234567 + 1<<32} { // another app; one equal in its low 32 bits
		at, idt := d.sdkToken(t, user, map[string]any{"app_id": appID})
		r, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
		if r.StatusCode != 401 || b["error"] != "invalid_token" || len(r.Cookies()) != 0 {
			t.Fatalf("token of app %d: %d %v", appID, r.StatusCode, b)
		}
		if b["error_description"] != web.Message("ko", "err.kakao_token_rejected") {
			t.Errorf("description %q", b["error_description"])
		}
	}
	if got := d.emulatorCalls(t, "/v2/user/me"); got != 0 {
		t.Errorf("profile read %d times for a foreign token", got)
	}
	if !d.spaRegisters(t, user) {
		t.Errorf("a foreign app's token created or linked a user")
	}
}

func TestSecurity_31_SDKTokenExpired(t *testing.T) {
	d := startDev(t, nil)
	at, _ := d.sdkToken(t, 4217730412856391026, nil)
	cases := []struct {
		name  string
		token string
		fault map[string]any
	}{
		{"unknown token", "not-a-kakao-token", nil},
		{"expired token", at, map[string]any{"status": 401, "times": 1, "body": `{"msg":"this access token is already expired","code":-401}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				d.setFault(t, "/v1/user/access_token_info", tc.fault)
				defer d.clearFaults(t)
			}
			r, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": tc.token})
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

func TestSecurity_32_SDKKakaoDown(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_KAKAO_TIMEOUT": "1s"})
	const user = 4217730412856391027
	at, idt := d.sdkToken(t, user, nil)
	cases := []struct {
		name     string
		endpoint string
		fault    map[string]any
		status   int
		code     string
	}{
		{"jwks down (cold cache)", "/.well-known/jwks.json", map[string]any{"status": 500}, 503, "kakao_unavailable"},
		{"access_token_info 503", "/v1/user/access_token_info", map[string]any{"status": 503}, 503, "kakao_unavailable"},
		{"access_token_info -1", "/v1/user/access_token_info", map[string]any{"status": 400, "body": `{"msg":"internal error","code":-1}`}, 503, "kakao_unavailable"},
		{"access_token_info hangs", "/v1/user/access_token_info", map[string]any{"hang": true}, 504, "kakao_timeout"},
		{"user/me 502", "/v2/user/me", map[string]any{"status": 502}, 503, "kakao_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d.setFault(t, tc.endpoint, tc.fault)
			defer d.clearFaults(t)
			r, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
			if r.StatusCode != tc.status || b["error"] != tc.code || len(r.Cookies()) != 0 {
				t.Fatalf("got %d %v, want %d %s", r.StatusCode, b, tc.status, tc.code)
			}
			if tc.status == 503 && r.Header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
		})
	}
	// The outage is not remembered as an invalid token: the same tokens work now (after the
	// JWKS client's short back-off).
	var r *http.Response
	var b map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		r, b = d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
		if r.StatusCode != 503 || time.Now().After(deadline) {
			break
		}
	}
	if r.StatusCode != 200 || b["created"] != true {
		t.Fatalf("after the outage: %d %v", r.StatusCode, b)
	}
}

func TestSecurity_33_LargeKakaoID(t *testing.T) {
	d := startDev(t, nil)
	for _, id := range []int64{9007199254740993, 9223372036854775807} {
		d.addUser(t, id, "큰번호")
		at, idt := d.sdkToken(t, id, nil)
		r, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
		if r.StatusCode != 200 {
			t.Fatalf("login of %d: %d %v", id, r.StatusCode, b)
		}
		if got := b["user"].(map[string]any)["kakao_id"]; got != strconv.FormatInt(id, 10) {
			t.Errorf("kakao_id = %v, want %d exactly", got, id)
		}
	}
	// 2^53+1 and 2^53 are different people.
	d.addUser(t, 9007199254740992, "이웃")
	at, _ := d.sdkToken(t, 9007199254740992, nil)
	if _, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at}); b["created"] != true {
		t.Errorf("user 2^53 merged with 2^53+1: %v", b)
	}
}

// webhook calls the unlink webhook; params go in the query (GET) or a form body (POST).
func (d *devServer) webhook(t testing.TB, method, authz string, params url.Values) *http.Response {
	t.Helper()
	u := d.BaseURL + "/auth/kakao/webhook/unlink"
	var req *http.Request
	if method == "GET" {
		req, _ = http.NewRequest("GET", u+"?"+params.Encode(), nil)
	} else {
		req, _ = http.NewRequest("POST", u, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	r, err := noRedirects(http.DefaultClient).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	return r
}

func hookParams(user int64, referrer string) url.Values {
	return url.Values{"app_id": {devAppID}, "user_id": {strconv.FormatInt(user, 10)}, "referrer_type": {referrer}}
}

func TestSecurity_67_WebhookAuth(t *testing.T) {
	d := startDev(t, nil)
	const user = 4217730412856391026
	access, _, _ := d.sdkSignIn(t, user)
	for _, tc := range []struct{ name, authz string }{
		{"missing", ""},
		{"wrong key", "KakaoAK wrong"},
		{"empty key", "KakaoAK "},
		{"bearer scheme", "Bearer " + devAdminKey},
		{"no scheme", devAdminKey},
		{"key and more", "KakaoAK " + devAdminKey + " x"},
		{"key prefix", "KakaoAK " + devAdminKey[:len(devAdminKey)-1]},
		{"two spaces", "KakaoAK  " + devAdminKey},
		{"client secret", "KakaoAK kakaoauth-dev-client-secret"},
	} {
		for _, method := range []string{"GET", "POST"} {
			r := d.webhook(t, method, tc.authz, hookParams(user, "UNLINK_FROM_APPS"))
			if r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "KakaoAK") {
				t.Errorf("%s %s: %d WWW-Authenticate %q, want 401 KakaoAK", tc.name, method, r.StatusCode, r.Header.Get("WWW-Authenticate"))
			}
		}
	}
	if got := meStatus(t, d, access); got != 200 {
		t.Fatalf("user after refused webhooks: /auth/me %d", got)
	}
	// HTTP itself drops trailing whitespace of a header value (RFC 9110 §5.5), so the key with a
	// trailing space is the key: it is accepted, and deletes.
	if r := d.webhook(t, "POST", "KakaoAK "+devAdminKey+" ", hookParams(user, "UNLINK_FROM_APPS")); r.StatusCode != 200 {
		t.Errorf("key with trailing whitespace: %d", r.StatusCode)
	}
	if got := meStatus(t, d, access); got != 401 {
		t.Errorf("user after the valid webhook: /auth/me %d", got)
	}
}

func TestSecurity_68_WebhookWrongAppID(t *testing.T) {
	d := startDev(t, nil)
	const user = 4217730412856391026
	access, _, _ := d.sdkSignIn(t, user)
	for _, appID := range []string{"7654321", "01234567", "1234567 ", "", "1234567.0"} {
		p := hookParams(user, "UNLINK_FROM_APPS")
		p.Set("app_id", appID)
		for _, method := range []string{"GET", "POST"} {
			if r := d.webhook(t, method, "KakaoAK "+devAdminKey, p); r.StatusCode != 403 {
				t.Errorf("app_id %q %s: %d, want 403", appID, method, r.StatusCode)
			}
		}
	}
	if got := meStatus(t, d, access); got != 200 {
		t.Fatalf("user after webhooks for another app: /auth/me %d", got)
	}
}

func TestSecurity_69_WebhookVariants(t *testing.T) {
	d := startDev(t, nil)
	types := []string{"ACCOUNT_DELETE", "FORCED_ACCOUNT_DELETE", "UNLINK_FROM_APPS", "UNLINK_FROM_ADMIN", "INCOMPLETE_SIGN_UP", "SOMETHING_NEW"}
	next := int64(5100000000000000000)
	for _, typ := range types {
		for _, method := range []string{"GET", "POST"} {
			t.Run(typ+"/"+method, func(t *testing.T) {
				next++
				d.addUser(t, next, "웹훅")
				access, refresh, _ := d.sdkSignIn(t, next)
				if r := d.webhook(t, method, "KakaoAK "+devAdminKey, hookParams(next, typ)); r.StatusCode != 200 {
					t.Fatalf("webhook: %d", r.StatusCode)
				}
				if got := meStatus(t, d, access); got != 401 {
					t.Errorf("/auth/me after unlink: %d, want 401", got)
				}
				if st, code := refreshStatus(t, d, refresh); st != 400 || code != "invalid_grant" {
					t.Errorf("refresh after unlink: %d %v", st, code)
				}
			})
		}
	}
	if !strings.Contains(d.settledLogs(), "unknown referrer_type") {
		t.Errorf("unknown referrer_type not logged")
	}
	// Unknown users, repeated deliveries and a missing referrer_type still answer 200.
	for _, method := range []string{"GET", "POST"} {
		if r := d.webhook(t, method, "KakaoAK "+devAdminKey, hookParams(5199999999999999999, "UNLINK_FROM_APPS")); r.StatusCode != 200 {
			t.Errorf("unknown user %s: %d", method, r.StatusCode)
		}
		p := hookParams(5199999999999999998, "")
		p.Del("referrer_type")
		if r := d.webhook(t, method, "KakaoAK "+devAdminKey, p); r.StatusCode != 200 {
			t.Errorf("no referrer_type %s: %d", method, r.StatusCode)
		}
	}
	// Malformed user ids are the sender's error.
	for _, id := range []string{"", "abc", "-5", "012", "99999999999999999999"} {
		p := hookParams(0, "UNLINK_FROM_APPS")
		p.Set("user_id", id)
		if r := d.webhook(t, "POST", "KakaoAK "+devAdminKey, p); r.StatusCode != 400 {
			t.Errorf("user_id %q: %d, want 400", id, r.StatusCode)
		}
	}
	// A JSON body is not what Kakao sends.
	r := do(t, http.DefaultClient, "POST", d.BaseURL+"/auth/kakao/webhook/unlink",
		map[string]string{"Authorization": "KakaoAK " + devAdminKey, "Content-Type": "application/json"}, `{"user_id":"1"}`)
	readBody(t, r)
	if r.StatusCode != 415 {
		t.Errorf("JSON body: %d, want 415", r.StatusCode)
	}
}

func TestSecurity_70_WebhookDuplicate(t *testing.T) {
	d := startDev(t, map[string]string{"KAKAOAUTH_LOG_LEVEL": "info"})
	const user = 4217730412856391027
	access, _, _ := d.sdkSignIn(t, user)
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = d.webhook(t, "POST", "KakaoAK "+devAdminKey, hookParams(user, "UNLINK_FROM_APPS")).StatusCode
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Errorf("delivery %d: %d", i, st)
		}
	}
	if got := meStatus(t, d, access); got != 401 {
		t.Errorf("/auth/me after unlink: %d", got)
	}
	logs := d.settledLogs()
	// The dev server logs as text.
	if n := strings.Count(logs, "deleted=true"); n != 1 {
		t.Errorf("%d deliveries deleted the user, want exactly 1", n)
	}
	if n := strings.Count(logs, `msg="kakao unlink webhook"`); n != 3 {
		t.Errorf("%d deliveries handled, want 3", n)
	}
}

// TestE2E_EmulatorUnlinkWebhook: the person unlinks the app on Kakao's side; the emulator calls
// our webhook as Kakao does and our account is gone.
func TestE2E_EmulatorUnlinkWebhook(t *testing.T) {
	d := startDev(t, nil)
	const user = 4217730412856391024
	access, refresh, oldID := d.sdkSignIn(t, user)
	r := postJSON(t, http.DefaultClient, d.EmulatorURL+"/_emulator/unlink", map[string]any{"user_id": user, "referrer_type": "ACCOUNT_DELETE"}, nil)
	if body := readBody(t, r); r.StatusCode != 204 {
		t.Fatalf("emulator unlink (our webhook must answer 200): %d %s", r.StatusCode, body)
	}
	if got := meStatus(t, d, access); got != 401 {
		t.Errorf("/auth/me after unlink: %d", got)
	}
	if st, _ := refreshStatus(t, d, refresh); st != 400 {
		t.Errorf("refresh after unlink: %d", st)
	}
	// 66: logging in again is a new account.
	_, _, newID := d.sdkSignIn(t, user)
	if newID == oldID {
		t.Errorf("re-login after unlink got the old account %s", oldID)
	}
}

func TestSecurity_66_ReloginAfterDeletion(t *testing.T) {
	d := startDev(t, nil)
	const user = 4217730412856391024
	access, refresh, oldID := d.sdkSignIn(t, user)
	d.resetCalls(t)
	r := do(t, http.DefaultClient, "DELETE", d.BaseURL+"/auth/me", map[string]string{"Authorization": "Bearer " + access}, "")
	readBody(t, r)
	if r.StatusCode != 204 {
		t.Fatalf("DELETE /auth/me: %d", r.StatusCode)
	}
	for _, sc := range r.Header.Values("Set-Cookie") {
		if !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("cookie not cleared: %s", sc)
		}
	}
	if got := d.emulatorCalls(t, "/v1/user/unlink"); got != 1 {
		t.Errorf("Kakao unlink calls = %d, want 1", got)
	}
	if got := meStatus(t, d, access); got != 401 {
		t.Errorf("/auth/me after deletion: %d", got)
	}
	if st, code := refreshStatus(t, d, refresh); st != 400 || code != "invalid_grant" {
		t.Errorf("refresh after deletion: %d %v", st, code)
	}
	// Deleting again with the old token: the session is gone.
	r = do(t, http.DefaultClient, "DELETE", d.BaseURL+"/auth/me", map[string]string{"Authorization": "Bearer " + access}, "")
	readBody(t, r)
	if r.StatusCode != 401 {
		t.Errorf("second DELETE: %d", r.StatusCode)
	}
	// The old Kakao token died with the unlink; a new Kakao login is a new account.
	at, idt := d.sdkToken(t, user, nil)
	_, b := d.sdkLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
	if b["created"] != true || b["user"].(map[string]any)["id"] == oldID {
		t.Fatalf("login after deletion: %v (old id %s)", b, oldID)
	}
}

func TestSecurity_72_DeleteWithUnlinkFailing(t *testing.T) {
	d := startDev(t, nil)
	cases := []struct {
		name        string
		fault       map[string]any
		form        bool
		wantLoc     string
		wantFailLog bool
	}{
		{"5xx api", map[string]any{"status": 500}, false, "", true},
		{"5xx form", map[string]any{"status": 500}, true, "/account/deleted?unlink=failed#page-heading", true},
		{"not linked (-101) counts as done", map[string]any{"status": 400, "body": `{"msg":"not registered user","code":-101}`}, true, "/account/deleted#page-heading", false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user := int64(5200000000000000000 + i)
			d.addUser(t, user, "삭제")
			c := newBrowser(t)
			at, _ := d.sdkToken(t, user, nil)
			r, b := d.sdkLogin(t, c, map[string]string{"access_token": at})
			if r.StatusCode != 200 {
				t.Fatalf("login: %d %v", r.StatusCode, b)
			}
			tok := b["token"].(map[string]any)
			access, refresh := tok["access"].(string), tok["refresh"].(string)
			before := strings.Count(d.settledLogs(), "unlink at Kakao failed")
			d.setFault(t, "/v1/user/unlink", tc.fault)
			defer d.clearFaults(t)
			if tc.form {
				r = do(t, noRedirects(c), "POST", d.BaseURL+"/account/delete", map[string]string{
					"Origin": d.BaseURL, "Content-Type": "application/x-www-form-urlencoded"},
					url.Values{"csrf": {d.cookie(c, "/", "csrfToken")}}.Encode())
				readBody(t, r)
				if r.StatusCode != 303 || r.Header.Get("Location") != tc.wantLoc {
					t.Fatalf("form delete: %d Location %q, want 303 %q", r.StatusCode, r.Header.Get("Location"), tc.wantLoc)
				}
			} else {
				r = do(t, http.DefaultClient, "DELETE", d.BaseURL+"/auth/me", map[string]string{"Authorization": "Bearer " + access}, "")
				readBody(t, r)
				if r.StatusCode != 204 {
					t.Fatalf("DELETE /auth/me with Kakao failing: %d, want 204 (deleted here)", r.StatusCode)
				}
			}
			if got := meStatus(t, d, access); got != 401 {
				t.Errorf("/auth/me after deletion: %d", got)
			}
			if st, code := refreshStatus(t, d, refresh); st != 400 || code != "invalid_grant" {
				t.Errorf("refresh after deletion: %d %v", st, code)
			}
			if got := strings.Count(d.settledLogs(), "unlink at Kakao failed") > before; got != tc.wantFailLog {
				t.Errorf("unlink failure logged = %v, want %v", got, tc.wantFailLog)
			}
			if tc.form {
				r, err := c.Get(d.BaseURL + tc.wantLoc)
				if err != nil {
					t.Fatal(err)
				}
				page := readBody(t, r)
				if !strings.Contains(page, "<title>계정 삭제 완료 | ") || !strings.Contains(page, ">계정이 삭제되었습니다</h1>") {
					t.Errorf("result page: %.400s", page)
				}
				if got := strings.Contains(page, "연결된 서비스 관리"); got != tc.wantFailLog {
					t.Errorf("page tells the unlink failed = %v, want %v", got, tc.wantFailLog)
				}
			}
		})
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestSecurity_73_DeleteCSRF(t *testing.T) {
	d := startDev(t, nil)
	c := newBrowser(t)
	readBody(t, d.browserLogin(t, c, userNoEmail, "profile_nickname"))
	csrf := d.cookie(c, "/", "csrfToken")
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"no csrf", map[string]string{"Origin": d.BaseURL}},
		{"wrong csrf", map[string]string{"Origin": d.BaseURL, "X-CSRF-Token": "x" + csrf}},
		{"no origin", map[string]string{"X-CSRF-Token": csrf}},
		{"evil origin", map[string]string{"Origin": "https://evil.example", "X-CSRF-Token": csrf}},
	} {
		r := do(t, c, "DELETE", d.BaseURL+"/auth/me", tc.hdr, "")
		if b := decode(t, r); r.StatusCode != 403 || b["error"] != "forbidden" {
			t.Errorf("DELETE /auth/me %s: %d %v", tc.name, r.StatusCode, b)
		}
		hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range tc.hdr {
			if k != "X-CSRF-Token" {
				hdr[k] = v
			}
		}
		form := url.Values{}
		if v := tc.hdr["X-CSRF-Token"]; v != "" {
			form.Set("csrf", v)
		}
		r = do(t, noRedirects(c), "POST", d.BaseURL+"/account/delete", hdr, form.Encode())
		if page := readBody(t, r); r.StatusCode != 403 || !strings.Contains(page, "<title>오류: ") {
			t.Errorf("POST /account/delete %s: %d %.200s", tc.name, r.StatusCode, page)
		}
	}
	if r, _ := getJSON(t, c, d.BaseURL+"/auth/me", ""); r.StatusCode != 200 {
		t.Fatalf("still signed in after refused deletions? /auth/me %d", r.StatusCode)
	}

	// The signed-in page links to the confirmation page, whose form deletes.
	r, err := c.Get(d.BaseURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if page := readBody(t, r); !strings.Contains(page, `href="/account/delete"`) {
		t.Errorf("signed-in page has no link to /account/delete")
	}
	r, err = c.Get(d.BaseURL + "/account/delete")
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, r)
	if !strings.Contains(page, "<title>계정을 삭제할까요? | ") || !strings.Contains(page, `action="/account/delete"`) || !strings.Contains(page, `<a class="link-action" href="/">`) {
		t.Fatalf("confirmation page: %.600s", page)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no csrf field on the confirmation page")
	}
	r = do(t, noRedirects(c), "POST", d.BaseURL+"/account/delete", map[string]string{
		"Origin": d.BaseURL, "Content-Type": "application/x-www-form-urlencoded"}, url.Values{"csrf": {m[1]}}.Encode())
	readBody(t, r)
	if r.StatusCode != 303 || r.Header.Get("Location") != "/account/deleted#page-heading" {
		t.Fatalf("confirmed deletion: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r, _ := getJSON(t, c, d.BaseURL+"/auth/me", ""); r.StatusCode != 401 {
		t.Errorf("/auth/me after deletion: %d", r.StatusCode)
	}
	// Without a session the confirmation page sends the browser to the login page.
	r, err = noRedirects(c).Get(d.BaseURL + "/account/delete")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, r)
	if r.StatusCode != 303 || r.Header.Get("Location") != "/" {
		t.Errorf("confirmation page without a session: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestE2E_Sessions(t *testing.T) {
	d := startDev(t, nil)
	const alice, bob = 4217730412856391026, 4217730412856391027
	a1, _, _ := d.sdkSignIn(t, alice)
	a2, a2refresh, _ := d.sdkSignIn(t, alice)
	b1, _, _ := d.sdkSignIn(t, bob)

	list := func(access string) []map[string]any {
		t.Helper()
		r, m := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/sessions", access)
		if r.StatusCode != 200 {
			t.Fatalf("GET /auth/sessions: %d %v", r.StatusCode, m)
		}
		var out []map[string]any
		for _, s := range m["sessions"].([]any) {
			out = append(out, s.(map[string]any))
		}
		return out
	}
	ss := list(a1)
	if len(ss) != 2 {
		t.Fatalf("alice's sessions = %v, want 2", ss)
	}
	var current, other string
	for _, s := range ss {
		if s["current"] == true {
			current = s["id"].(string)
		} else {
			other = s["id"].(string)
		}
		if s["flow"] != "sdk" || s["ip"] != "127.0.0.1" {
			t.Errorf("session %v", s)
		}
	}
	if current == "" || other == "" {
		t.Fatalf("current not marked exactly once: %v", ss)
	}
	bobSession := list(b1)[0]["id"].(string)

	del := func(access, id string) int {
		t.Helper()
		r := do(t, http.DefaultClient, "DELETE", d.BaseURL+"/auth/sessions/"+url.PathEscape(id), map[string]string{"Authorization": "Bearer " + access}, "")
		readBody(t, r)
		return r.StatusCode
	}
	// Another user's session, or an unknown one: 404, and bob stays signed in.
	if got := del(a1, bobSession); got != 404 {
		t.Errorf("delete bob's session as alice: %d, want 404", got)
	}
	if got := del(a1, "no-such-session"); got != 404 {
		t.Errorf("delete unknown session: %d, want 404", got)
	}
	if got := meStatus(t, d, b1); got != 200 {
		t.Errorf("bob after alice's attempt: %d", got)
	}
	// Alice signs her other device out.
	if got := del(a1, other); got != 204 {
		t.Fatalf("delete own other session: %d", got)
	}
	if got := meStatus(t, d, a2); got != 401 {
		t.Errorf("signed-out device /auth/me: %d", got)
	}
	if st, _ := refreshStatus(t, d, a2refresh); st != 400 {
		t.Errorf("signed-out device refresh: %d", st)
	}
	if ss := list(a1); len(ss) != 1 || ss[0]["id"] != current {
		t.Errorf("sessions after sign-out = %v", ss)
	}
	if r, _ := getJSON(t, http.DefaultClient, d.BaseURL+"/auth/sessions", ""); r.StatusCode != 401 {
		t.Errorf("GET /auth/sessions without a token: %d", r.StatusCode)
	}

	// Cookie mode needs Origin and CSRF.
	c := newBrowser(t)
	readBody(t, d.browserLogin(t, c, userNoEmail, "profile_nickname"))
	r := do(t, c, "GET", d.BaseURL+"/auth/sessions", nil, "")
	m := decode(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("cookie GET /auth/sessions: %d %v", r.StatusCode, m)
	}
	own := m["sessions"].([]any)[0].(map[string]any)["id"].(string)
	r = do(t, c, "DELETE", d.BaseURL+"/auth/sessions/"+own, map[string]string{"Origin": d.BaseURL}, "")
	if readBody(t, r); r.StatusCode != 403 {
		t.Errorf("cookie DELETE without CSRF: %d", r.StatusCode)
	}
	r = do(t, c, "DELETE", d.BaseURL+"/auth/sessions/"+own, map[string]string{"Origin": d.BaseURL, "X-CSRF-Token": d.cookie(c, "/", "csrfToken")}, "")
	readBody(t, r)
	if r.StatusCode != 204 || !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), "Max-Age=0") {
		t.Errorf("cookie DELETE of the current session: %d, cookies %v", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(fmt.Errorf("%s: %w", name, err))
	}
	return b
}
