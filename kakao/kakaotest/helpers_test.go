package kakaotest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

const redirectURI = "http://127.0.0.1:9/callback"

// Seeded user IDs of DefaultUsers.
const (
	userVerified   int64 = 4217730412856391024 // verified email, own image
	userNoEmail    int64 = 4217730412856391025
	userUnverified int64 = 4217730412856391026
	userInvalid    int64 = 4217730412856391027
)

// clock is the emulator's settable clock.
type clock = kakaotest.Clock

func newClock() *clock { return kakaotest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

func testApp() kakaotest.App {
	app := kakaotest.DefaultApp()
	app.RedirectURIs = []string{redirectURI}
	app.LogoutRedirectURIs = []string{"http://127.0.0.1:9/"}
	return app
}

// newEmu starts an emulator with the test app, the default users and a test clock.
func newEmu(t *testing.T) (*kakaotest.Server, *clock) {
	t.Helper()
	s := kakaotest.NewServer(t, testApp(), kakaotest.DefaultUsers())
	c := newClock()
	s.SetNow(c.Now)
	return s, c
}

// noRedirect is a client that returns redirects instead of following them.
func noRedirect(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return m
}

func do(t *testing.T, s *kakaotest.Server, method, path, auth string, form url.Values) response {
	t.Helper()
	var body io.Reader
	target := s.URL + path
	if form != nil && (method == http.MethodGet) {
		target += "?" + form.Encode()
	} else if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := noRedirect(s.Client()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// exchange trades a fresh code of user for tokens with the test app's credentials.
func exchange(t *testing.T, s *kakaotest.Server, user int64) map[string]any {
	t.Helper()
	code, err := s.IssueCode(user, redirectURI, "", "")
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(code))
	if r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func tokenForm(code string) url.Values {
	app := testApp()
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {app.RESTKey},
		"client_secret": {app.ClientSecret}, "redirect_uri": {redirectURI}, "code": {code}}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// wantKauthError checks a kauth error answer.
func wantKauthError(t *testing.T, r response, status int, errCode, desc, koe string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status = %d, want %d (%s)", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	m := r.JSON(t)
	if got := str(m, "error"); got != errCode {
		t.Errorf("error = %q, want %q", got, errCode)
	}
	if desc != "" && str(m, "error_description") != desc {
		t.Errorf("error_description = %q, want %q", str(m, "error_description"), desc)
	}
	if got := str(m, "error_code"); got != koe {
		t.Errorf("error_code = %q, want %q", got, koe)
	}
}

// wantKapiError checks a kapi error answer.
func wantKapiError(t *testing.T, r response, status, code int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Errorf("status = %d, want %d (%s)", r.Status, status, r.Body)
	}
	m := r.JSON(t)
	if got := m["code"]; got != json.Number(strconv.Itoa(code)) {
		t.Errorf("code = %v, want %d (%s)", got, code, r.Body)
	}
	if _, ok := m["msg"].(string); !ok {
		t.Errorf("msg missing: %s", r.Body)
	}
	if code == -401 && r.Header.Get("WWW-Authenticate") != "Bearer error=invalid_token" && status == 401 {
		t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	return m
}

func getPage(t *testing.T, c *http.Client, target string) string {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, resp.StatusCode, body)
	}
	return body
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func equal(a, b []string) bool { return slices.Equal(a, b) }

func newJar() http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err)
	}
	return jar
}

// codeViaPage walks the consent page as user, ticking scopes, and returns the code.
func codeViaPage(t *testing.T, s *kakaotest.Server, user int64, scopes []string) string {
	t.Helper()
	b := noRedirect(s.Client())
	b.Jar = newJar()
	page := getPage(t, b, s.URL+"/oauth/authorize?"+url.Values{"client_id": {testApp().RESTKey},
		"redirect_uri": {redirectURI}, "response_type": {"code"}}.Encode())
	m := requestRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no consent form")
	}
	resp, err := b.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {m[1]},
		"user": {strconv.FormatInt(user, 10)}, "scope": scopes, "action": {"agree"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code := callbackParams(t, resp).Get("code")
	if code == "" {
		t.Fatal("no code")
	}
	return code
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
