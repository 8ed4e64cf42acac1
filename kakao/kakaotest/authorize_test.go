package kakaotest_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func authorizeURL(s string, params url.Values) string {
	base := url.Values{"client_id": {testApp().RESTKey}, "redirect_uri": {redirectURI},
		"response_type": {"code"}, "state": {"xyz"}}
	for k, v := range params {
		base[k] = v
	}
	for k, v := range base {
		if len(v) == 1 && v[0] == "-" {
			delete(base, k)
		}
	}
	return s + "/oauth/authorize?" + base.Encode()
}

func TestAuthorize_ErrorPagesNeverRedirect(t *testing.T) {
	s, _ := newEmu(t)
	tests := []struct {
		name   string
		params url.Values
		code   string
	}{
		{"unknown client", url.Values{"client_id": {"nope"}}, "KOE101"},
		{"missing client", url.Values{"client_id": {"-"}}, "KOE101"},
		{"unregistered redirect", url.Values{"redirect_uri": {"https://evil.example/cb"}}, "KOE006"},
		{"missing redirect", url.Values{"redirect_uri": {"-"}}, "KOE006"},
		{"implicit", url.Values{"response_type": {"token"}}, "KOE202"},
		{"bad response type", url.Values{"response_type": {"id_token"}}, "KOE201"},
		{"missing response type", url.Values{"response_type": {"-"}}, "KOE201"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := noRedirect(s.Client()).Get(authorizeURL(s.URL, tt.params))
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", resp.StatusCode)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %q", loc)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, tt.code) {
				t.Errorf("page lacks %s (%s): %.200s", tt.code, resp.Header.Get("Content-Type"), body)
			}
			if !strings.Contains(body, "<title>오류: ") {
				t.Error("title lacks the error prefix")
			}
		})
	}
}

func TestAuthorize_RedirectedErrors(t *testing.T) {
	s, _ := newEmu(t)
	tests := []struct {
		name    string
		params  url.Values
		errCode string
	}{
		{"pkce plain", url.Values{"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"plain"}}, "invalid_request"},
		{"pkce no method", url.Values{"code_challenge": {strings.Repeat("a", 43)}}, "invalid_request"},
		{"pkce bad challenge", url.Values{"code_challenge": {"short"}, "code_challenge_method": {"S256"}}, "invalid_request"},
		{"unknown scope", url.Values{"scope": {"account_email,telepathy"}}, "invalid_scope"},
		{"prompt none without session", url.Values{"prompt": {"none"}}, "login_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := noRedirect(s.Client()).Get(authorizeURL(s.URL, tt.params))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			q := callbackParams(t, resp)
			if q.Get("error") != tt.errCode || q.Get("state") != "xyz" || q.Get("error_description") == "" || q.Has("code") {
				t.Errorf("redirect query = %v, want error=%s", q, tt.errCode)
			}
		})
	}
}

// linkedBrowser logs userVerified in through the page (nickname only) and returns the browser.
func linkedBrowser(t *testing.T, s interface {
	Client() *http.Client
}, base string, scopes ...string) *http.Client {
	t.Helper()
	jar := newJar()
	b := noRedirect(s.Client())
	b.Jar = jar
	page := getPage(t, b, authorizeURL(base, nil))
	id := requestRE.FindStringSubmatch(page)[1]
	resp, err := b.PostForm(base+"/oauth/authorize", url.Values{"request": {id},
		"user": {strconv.FormatInt(userVerified, 10)}, "scope": scopes, "decision": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if q := callbackParams(t, resp); q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return b
}

func TestAuthorize_PromptAndAdditionalConsent(t *testing.T) {
	s, _ := newEmu(t)
	b := linkedBrowser(t, s, s.URL) // nickname only

	get := func(params url.Values) *http.Response {
		t.Helper()
		resp, err := b.Get(authorizeURL(s.URL, params))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// Comma- or space-separated prompt values.
	for _, p := range []string{"select_account,login", "login select_account"} {
		if resp := get(url.Values{"prompt": {p}}); resp.StatusCode != http.StatusOK {
			t.Errorf("prompt=%q: %d, want the page", p, resp.StatusCode)
		}
	}
	// Additional consent with prompt=none: consent_required.
	q := callbackParams(t, get(url.Values{"prompt": {"none"}, "scope": {"account_email"}}))
	if q.Get("error") != "consent_required" || q.Get("error_description") != "user consent required." {
		t.Errorf("prompt=none with missing item: %v", q)
	}

	// Additional consent page asks for the item; with openid in scope an ID token follows.
	for _, tc := range []struct {
		scope  string
		openid bool
	}{{"account_email openid", true}, {"profile_image", false}} {
		resp, err := b.Get(authorizeURL(s.URL, url.Values{"scope": {tc.scope}}))
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		item := strings.Fields(tc.scope)[0]
		if !strings.Contains(page, `value="`+item+`"`) {
			t.Fatalf("page does not ask for %s", item)
		}
		id := requestRE.FindStringSubmatch(page)[1]
		resp, err = b.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {id},
			"user": {strconv.FormatInt(userVerified, 10)}, "scope": {item}, "action": {"agree"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		r := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(callbackParams(t, resp).Get("code")))
		m := r.JSON(t)
		if _, has := m["id_token"]; has != tc.openid {
			t.Errorf("scope=%q: id_token present = %v, want %v", tc.scope, has, tc.openid)
		}
		if !strings.Contains(str(m, "scope"), item) {
			t.Errorf("scope = %q lacks %s", str(m, "scope"), item)
		}
	}
}

func TestAuthorize_KakaoLogout(t *testing.T) {
	s, _ := newEmu(t)
	b := linkedBrowser(t, s, s.URL)
	resp, err := b.Get(s.URL + "/oauth/logout?" + url.Values{"client_id": {testApp().RESTKey},
		"logout_redirect_uri": {"http://127.0.0.1:9/"}, "state": {"s1"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:9/?state=s1" {
		t.Errorf("logout = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The Kakao session is over: prompt=none needs a login.
	resp, err = b.Get(authorizeURL(s.URL, url.Values{"prompt": {"none"}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if q := callbackParams(t, resp); q.Get("error") != "login_required" {
		t.Errorf("after logout: %v", q)
	}
	resp, err = b.Get(s.URL + "/oauth/logout?" + url.Values{"client_id": {testApp().RESTKey},
		"logout_redirect_uri": {"https://evil.example/"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 400 || !strings.Contains(body, "KOE007") {
		t.Errorf("unregistered logout redirect: %d", resp.StatusCode)
	}
}

func TestConsentPage_Accessibility(t *testing.T) {
	s, _ := newEmu(t)
	resp, err := s.Client().Get(authorizeURL(s.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	mustHave := []string{
		`<html lang="ko">`,
		`<title>동의 화면 (개발용 카카오 에뮬레이터) | kakaoauth</title>`,
		`<link rel="stylesheet" href="/_emulator/static/consent.css">`,
		`<header`, `<main id="main">`, `<footer`,
		`<h1 id="page-heading" tabindex="-1">`,
		`<fieldset>`, `<legend>테스트 사용자`, `<legend>제공할 정보`,
		`name="action" value="agree"`, `name="action" value="cancel"`,
		`(필수`, `lang="en"`,
	}
	for _, want := range mustHave {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<style", "style=", "autofocus", "onclick", `tabindex="1"`} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %q", bad)
		}
	}
	if n := strings.Count(page, "<h1"); n != 1 {
		t.Errorf("h1 count = %d", n)
	}
	// The skip link is the first focusable element, inside body before the header.
	body := page[strings.Index(page, "<body>"):]
	if !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(body, "<body>")), `<a class="skip-link" href="#page-heading">`) {
		t.Errorf("skip link is not first: %.120s", body)
	}
	// Every radio, checkbox and text input has a <label for>.
	ids := regexp.MustCompile(`<input type="(?:radio|checkbox|text|email)"[^>]* id="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(ids) < 6 {
		t.Fatalf("only %d labelled inputs found", len(ids))
	}
	for _, m := range ids {
		if !strings.Contains(page, `<label for="`+m[1]+`">`) {
			t.Errorf("input %q has no label", m[1])
		}
	}
	// The stylesheet is served, not logged as a Kakao call, and keeps targets and focus visible.
	calls := s.Calls("")
	css := do(t, s, http.MethodGet, "/_emulator/static/consent.css", "", nil)
	if css.Status != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %q", css.Status, css.Header.Get("Content-Type"))
	}
	for _, want := range []string{":focus-visible { outline:3px solid", "width:1.5rem; height:1.5rem", "min-height:2.75rem", "prefers-color-scheme: dark", "forced-colors"} {
		if !strings.Contains(string(css.Body), want) {
			t.Errorf("css lacks %q", want)
		}
	}
	if s.Calls("") != calls {
		t.Error("stylesheet request was logged as a Kakao call")
	}
}
