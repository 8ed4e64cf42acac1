package web

import (
	"bytes"
	"flag"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// pageCase is one page rendered for the golden, structure and title tests.
type pageCase struct {
	name      string // golden file stem
	render    func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string)
	status    int
	title     map[string]string // by language: the exact title
	h1        map[string]string // by language: the exact h1 text
	live      string            // "status", "alert" or "" (no live region)
	isError   bool
	actionURL string // error pages: the primary action's href
	action    map[string]string
}

func allPages() []pageCase {
	login := func(outcome string) func(*Renderer, http.ResponseWriter, *http.Request, string) {
		return func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
			r.Login(w, req, http.StatusOK, LoginPage{Lang: lang, LoginURL: "/auth/kakao/login", Outcome: outcome})
		}
	}
	errPage := func(code string, status int, p ErrorPage) func(*Renderer, http.ResponseWriter, *http.Request, string) {
		return func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
			p.Lang, p.Code = lang, code
			r.Error(w, req, status, p)
		}
	}
	pages := []pageCase{
		{name: "login", render: login(""), status: 200,
			title: map[string]string{"ko": "로그인 | kakaoauth", "en": "Log in | kakaoauth"}},
		{name: "signed-out", render: login("signed-out"), status: 200, live: "status",
			title: map[string]string{"ko": "로그아웃되었습니다 | kakaoauth", "en": "You are logged out | kakaoauth"}},
		{name: "signed-out-all", render: login("signed-out-all"), status: 200, live: "status",
			title: map[string]string{"ko": "모든 기기에서 로그아웃되었습니다 | kakaoauth", "en": "You are logged out on all devices | kakaoauth"}},
		{name: "account-signed-in", status: 200, live: "status",
			render: func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
				r.Account(w, req, http.StatusOK, AccountPage{Lang: lang, JustSignedIn: true, Nickname: "라이언", Email: "ryan@kakao.com", CSRF: "csrf-token-1"})
			},
			title: map[string]string{"ko": "로그인 완료 | kakaoauth", "en": "Login complete | kakaoauth"},
			h1:    map[string]string{"ko": "로그인되었습니다", "en": "You are logged in"}},
		{name: "account", status: 200,
			render: func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
				r.Account(w, req, http.StatusOK, AccountPage{Lang: lang, Nickname: "라이언", CSRF: "csrf-token-2", DeleteURL: "/account/delete"})
			},
			title: map[string]string{"ko": "내 계정 | kakaoauth", "en": "Your account | kakaoauth"}},
		{name: "account-held", status: 200,
			render: func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
				r.Account(w, req, http.StatusOK, AccountPage{Lang: lang, Nickname: "라이언", CSRF: "csrf-token-h", DeleteURL: "/account/delete",
					Held: &HeldInfo{Nickname: "라이언", KakaoID: "4217730412856391024", Agreed: []string{"profile_nickname"},
						NeedsConsent: []string{"account_email", "gender"}, ConsentURL: "/auth/kakao/consent", TokensKept: true}})
			},
			title: map[string]string{"ko": "내 계정 | kakaoauth", "en": "Your account | kakaoauth"}},
		{name: "consent-granted", status: 200, live: "status",
			render: func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
				r.Account(w, req, http.StatusOK, AccountPage{Lang: lang, Nickname: "라이언", Email: "ryan@kakao.com", CSRF: "csrf-token-g",
					ConsentOutcome: "granted", Held: &HeldInfo{Nickname: "라이언", Email: "ryan@kakao.com", KakaoID: "4217730412856391024",
						Agreed: []string{"profile_nickname", "account_email"}, ConsentURL: "/auth/kakao/consent"}})
			},
			title: map[string]string{"ko": "내 계정 | kakaoauth", "en": "Your account | kakaoauth"}},
		{name: "consent-declined", status: 200, live: "status",
			render: func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
				r.Account(w, req, http.StatusOK, AccountPage{Lang: lang, Nickname: "라이언", CSRF: "csrf-token-d",
					ConsentOutcome: "declined", Held: &HeldInfo{Nickname: "라이언", KakaoID: "4217730412856391024",
						Agreed: []string{"profile_nickname"}, NeedsConsent: []string{"account_email"}, ConsentURL: "/auth/kakao/consent"}})
			},
			title: map[string]string{"ko": "내 계정 | kakaoauth", "en": "Your account | kakaoauth"}},
		{name: "delete", status: 200,
			render: func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
				r.Delete(w, req, http.StatusOK, DeletePage{Lang: lang, CSRF: "csrf-token-3"})
			},
			title: map[string]string{"ko": "계정을 삭제할까요? | kakaoauth", "en": "Delete your account? | kakaoauth"}},
		{name: "deleted", status: 200,
			render: func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
				r.Deleted(w, req, http.StatusOK, DeletedPage{Lang: lang})
			},
			title: map[string]string{"ko": "계정 삭제 완료 | kakaoauth", "en": "Account deleted | kakaoauth"},
			h1:    map[string]string{"ko": "계정이 삭제되었습니다", "en": "Your account has been deleted"}},
		{name: "deleted-unlink-failed", status: 200,
			render: func(r *Renderer, w http.ResponseWriter, req *http.Request, lang string) {
				r.Deleted(w, req, http.StatusOK, DeletedPage{Lang: lang, UnlinkFailed: true})
			},
			title: map[string]string{"ko": "계정 삭제 완료 | kakaoauth", "en": "Account deleted | kakaoauth"},
			h1:    map[string]string{"ko": "계정이 삭제되었습니다", "en": "Your account has been deleted"}},
		{name: "error-cancelled", render: errPage("cancelled", 400, ErrorPage{}), status: 400,
			title:     map[string]string{"ko": "오류: 카카오 로그인을 취소했습니다 | kakaoauth", "en": "Error: You cancelled the Kakao login | kakaoauth"},
			actionURL: "/auth/kakao/login", action: map[string]string{"ko": "다시 로그인", "en": "Log in again"}},
		{name: "error-consent_required", render: errPage("consent_required", 400, ErrorPage{RetryURL: "/auth/kakao/login?prompt=consent"}), status: 400,
			title:     map[string]string{"ko": "오류: 닉네임 제공 동의가 필요합니다 | kakaoauth", "en": "Error: You need to agree to share your nickname | kakaoauth"},
			actionURL: "/auth/kakao/login?prompt=consent", action: map[string]string{"ko": "동의하고 다시 로그인", "en": "Agree and log in again"}},
		{name: "error-login_required", render: errPage("login_required", 400, ErrorPage{}), status: 400,
			title:     map[string]string{"ko": "오류: 카카오에 로그인되어 있지 않습니다 | kakaoauth", "en": "Error: You are not logged in to Kakao | kakaoauth"},
			actionURL: "/auth/kakao/login", action: map[string]string{"ko": "다시 로그인", "en": "Log in again"}},
		{name: "error-expired", render: errPage("expired", 400, ErrorPage{}), status: 400,
			title:     map[string]string{"ko": "오류: 로그인 요청이 만료되었습니다 | kakaoauth", "en": "Error: The login request has expired | kakaoauth"},
			actionURL: "/auth/kakao/login", action: map[string]string{"ko": "처음부터 다시 로그인", "en": "Start the login again"}},
		{name: "error-kakao_unavailable", render: errPage("kakao_unavailable", 503, ErrorPage{KakaoCode: "KOE320"}), status: 503,
			title:     map[string]string{"ko": "오류: 지금은 카카오에 연결할 수 없습니다 | kakaoauth", "en": "Error: Kakao cannot be reached right now | kakaoauth"},
			actionURL: "/auth/kakao/login", action: map[string]string{"ko": "다시 시도", "en": "Try again"}},
		{name: "error-rate_limited", render: errPage("rate_limited", 429, ErrorPage{RetryAfter: time.Minute, RetryURL: "/auth/kakao/login"}), status: 429,
			title:     map[string]string{"ko": "오류: 시도 횟수가 너무 많습니다 | kakaoauth", "en": "Error: There have been too many attempts | kakaoauth"},
			actionURL: "/", action: map[string]string{"ko": "처음 화면으로", "en": "Go to the start page"}},
		{name: "error-invalid_request", render: errPage("invalid_request", 400, ErrorPage{}), status: 400,
			title:     map[string]string{"ko": "오류: 요청을 처리할 수 없습니다 | kakaoauth", "en": "Error: The request cannot be processed | kakaoauth"},
			actionURL: "/", action: map[string]string{"ko": "처음 화면으로", "en": "Go to the start page"}},
		{name: "error-not_found", render: errPage("not_found", 404, ErrorPage{}), status: 404,
			title:     map[string]string{"ko": "오류: 페이지를 찾을 수 없습니다 | kakaoauth", "en": "Error: Page not found | kakaoauth"},
			actionURL: "/", action: map[string]string{"ko": "처음 화면으로", "en": "Go to the start page"}},
		{name: "error-disabled", render: errPage("disabled", 403, ErrorPage{RetryURL: "/auth/kakao/login"}), status: 403,
			title:     map[string]string{"ko": "오류: 사용이 중지된 계정입니다 | kakaoauth", "en": "Error: This account has been disabled | kakaoauth"},
			actionURL: "/", action: map[string]string{"ko": "처음 화면으로", "en": "Go to the start page"}},
		{name: "error-server", render: errPage("server", 500, ErrorPage{}), status: 500,
			title:     map[string]string{"ko": "오류: 서비스에 문제가 있습니다 | kakaoauth", "en": "Error: Sorry, there is a problem with the service | kakaoauth"},
			actionURL: "/", action: map[string]string{"ko": "처음 화면으로", "en": "Go to the start page"}},
	}
	for i := range pages {
		if strings.HasPrefix(pages[i].name, "error-") {
			pages[i].isError, pages[i].live = true, "alert"
		}
	}
	return pages
}

func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New(Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

var (
	reTitle    = regexp.MustCompile(`<title>([^<]*)</title>`)
	reH1       = regexp.MustCompile(`<h1[ >]`)
	reH1Full   = regexp.MustCompile(`<h1 id="page-heading" tabindex="-1">([^<]*)</h1>`)
	reVersion  = regexp.MustCompile(`app\.css\?v=[0-9a-f]+`)
	reFocusTag = regexp.MustCompile(`<(a|button|input|select|textarea)\b[^>]*>`)
	reLive     = regexp.MustCompile(`role="(status|alert)"`)
)

// unescape undoes html/template's escaping of the few characters our texts contain.
func unescape(s string) string {
	return strings.NewReplacer("&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`).Replace(s)
}

func TestPages(t *testing.T) {
	r := newRenderer(t)
	for _, pc := range allPages() {
		for _, lang := range []string{"ko", "en"} {
			t.Run(pc.name+"/"+lang, func(t *testing.T) {
				w := httptest.NewRecorder()
				// The query asks for the other language: the page's Lang field must win.
				req := httptest.NewRequest(http.MethodGet, "/page?x=1&lang="+otherLang(lang), nil)
				pc.render(r, w, req, lang)
				res := w.Result()
				body := w.Body.String()

				if res.StatusCode != pc.status {
					t.Errorf("status = %d, want %d", res.StatusCode, pc.status)
				}
				if got, want := res.Header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
					t.Errorf("Content-Type = %q, want %q", got, want)
				}
				if got := res.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", got)
				}
				if got := strings.Join(res.Header.Values("Vary"), ","); !strings.Contains(got, "Accept-Language") {
					t.Errorf("Vary = %q, want Accept-Language in it", got)
				}
				if got := res.Header.Get("Content-Language"); got != lang {
					t.Errorf("Content-Language = %q, want %q", got, lang)
				}

				if !strings.HasPrefix(body, "<!doctype html>\n<html lang=\""+lang+"\">") {
					t.Errorf("page does not start with doctype and html lang=%q: %.60q", lang, body)
				}
				m := reTitle.FindStringSubmatch(body)
				if m == nil {
					t.Fatal("no <title>")
				}
				title := unescape(m[1])
				if title != pc.title[lang] {
					t.Errorf("title = %q, want %q", title, pc.title[lang])
				}
				prefix := map[string]string{"ko": "오류: ", "en": "Error: "}[lang]
				if got := strings.HasPrefix(title, prefix); got != pc.isError {
					t.Errorf("title %q has error prefix %q = %v, want %v", title, prefix, got, pc.isError)
				}
				if n := len(reH1.FindAllString(body, -1)); n != 1 {
					t.Errorf("%d h1 elements, want 1", n)
				}
				if n := strings.Count(body, `id="page-heading"`); n != 1 {
					t.Errorf("%d elements with id page-heading, want 1", n)
				}
				h := reH1Full.FindStringSubmatch(body)
				if h == nil {
					t.Fatal(`no <h1 id="page-heading" tabindex="-1">`)
				}
				wantH1 := strings.TrimSuffix(strings.TrimPrefix(pc.title[lang], prefix), " | kakaoauth")
				if pc.h1 != nil {
					wantH1 = pc.h1[lang]
				}
				if got := unescape(h[1]); got != wantH1 {
					t.Errorf("h1 = %q, want %q", got, wantH1)
				}
				if !strings.Contains(body, "<main id=\"main\" class=\"wrap\">\n<h1 ") {
					t.Error("h1 is not the first thing in main")
				}
				for _, bad := range []string{"style=", "<style", "<script", "autofocus", "onclick", "javascript:", `http-equiv="refresh"`} {
					if strings.Contains(strings.ToLower(body), bad) {
						t.Errorf("page contains %q", bad)
					}
				}
				for _, el := range []string{"<header ", "<main ", "<footer "} {
					if strings.Count(body, el) != 1 {
						t.Errorf("want exactly one %s", el)
					}
				}
				// The skip link is the first focusable element, then the language link.
				tags := reFocusTag.FindAllString(body, -1)
				if len(tags) < 2 || !strings.Contains(tags[0], `class="skip-link" href="#page-heading"`) || !strings.Contains(tags[1], `class="lang-switch"`) {
					t.Errorf("first focusable elements = %q, want skip link then language link", tags[:min(2, len(tags))])
				}
				alt := otherLang(lang)
				wantSwitch := fmt.Sprintf(`<a class="lang-switch" href="/page?lang=%s&amp;x=1" hreflang="%s" lang="%s">%s</a>`, alt, alt, alt, Message(alt, "lang.name"))
				if !strings.Contains(body, wantSwitch) {
					t.Errorf("language link missing; want %s", wantSwitch)
				}
				if strings.Contains(body, "tabindex=\"") && strings.Count(body, "tabindex=") != 1 {
					t.Error("tabindex used on something other than the h1")
				}
				lives := reLive.FindAllStringSubmatch(body, -1)
				switch {
				case pc.live == "" && len(lives) != 0:
					t.Errorf("live regions %v, want none", lives)
				case pc.live != "" && (len(lives) != 1 || lives[0][1] != pc.live):
					t.Errorf("live regions %v, want one role=%q", lives, pc.live)
				}
				if pc.actionURL != "" {
					want := fmt.Sprintf(`<a class="button" href="%s">%s</a>`, template.HTMLEscapeString(pc.actionURL), pc.action[lang])
					if !strings.Contains(body, want) {
						t.Errorf("primary action missing; want %s", want)
					}
				}

				golden := filepath.Join("testdata", pc.name+"."+lang+".html")
				got := reVersion.ReplaceAllString(body, "app.css?v=VERSION")
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("read golden (run with -update): %v", err)
				}
				if got != string(want) {
					t.Errorf("page differs from %s (run with -update if intended):\n%s", golden, got)
				}
			})
		}
	}
}

func TestLoginPage_KakaoButton(t *testing.T) {
	r := newRenderer(t)
	for _, tc := range []struct{ lang, label, hint string }{
		{"ko", "카카오 로그인", "카카오 계정으로 로그인합니다. 처음이면 가입도 함께 됩니다."},
		{"en", "Login with Kakao", "You log in with your Kakao account. If you are new, this also creates your account."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.Login(w, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, LoginPage{Lang: tc.lang})
			body := w.Body.String()
			btn := regexp.MustCompile(`(?s)<a class="kakao-login" href="/auth/kakao/login">(.*?)</a>`).FindStringSubmatch(body)
			if btn == nil {
				t.Fatalf("no Kakao button linking to the default login URL in\n%s", body)
			}
			inner := btn[1]
			if !strings.Contains(inner, `<svg class="kakao-login__symbol" aria-hidden="true" focusable="false"`) || !strings.Contains(inner, `fill="currentColor"`) {
				t.Errorf("symbol is not a hidden currentColor SVG: %s", inner)
			}
			if !strings.Contains(inner, `<span class="kakao-login__label">`+tc.label+`</span>`) {
				t.Errorf("label %q missing: %s", tc.label, inner)
			}
			if strings.Contains(btn[0], "aria-label") || strings.Contains(btn[0], "role=") {
				t.Errorf("button must take its name from the visible label: %s", btn[0])
			}
			hint := strings.Index(body, `<p class="login-hint">`+tc.hint+`</p>`)
			if hint < 0 || hint > strings.Index(body, btn[0]) {
				t.Errorf("hint %q missing or after the button", tc.hint)
			}
		})
	}
}

func TestAccountPage_Forms(t *testing.T) {
	r := newRenderer(t)
	w := httptest.NewRecorder()
	r.Account(w, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, AccountPage{
		Lang: "ko", Nickname: "<script>alert(1)</script>", CSRF: `a"b`,
		LogoutURL: "/x/logout", LogoutAllURL: "/x/logout?all=true",
	})
	body := w.Body.String()
	for _, want := range []string{
		`<form method="post" action="/x/logout"><input type="hidden" name="csrf" value="a&#34;b"><button type="submit" class="button">로그아웃</button></form>`,
		`<form method="post" action="/x/logout?all=true"><input type="hidden" name="csrf" value="a&#34;b"><button type="submit" class="button button--secondary">모든 기기에서 로그아웃</button></form>`,
		`<dt>닉네임</dt><dd>&lt;script&gt;alert(1)&lt;/script&gt;</dd>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, unwanted := range []string{"<script", "계정 삭제", "<dt>이메일</dt>", `role="status"`} {
		if strings.Contains(body, unwanted) {
			t.Errorf("page contains %q", unwanted)
		}
	}

	w = httptest.NewRecorder()
	r.Account(w, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, AccountPage{Lang: "ko", JustSignedIn: true, DeleteURL: "/account/delete"})
	body = w.Body.String()
	for _, want := range []string{
		`<a class="link-action" href="/account/delete">계정 삭제</a>`,
		`<form method="post" action="/auth/logout">`,
		`<form method="post" action="/auth/logout?all=true">`,
		`<div class="notice notice--status" role="status"><p>카카오 계정으로 로그인했습니다.</p></div>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "<dl") {
		t.Error("empty details list rendered without nickname or email")
	}
}

func TestErrorPage(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name string
		p    ErrorPage
		want []string
		not  []string
	}{
		{"rate limited 1 minute", ErrorPage{Lang: "ko", Code: "rate_limited", RetryAfter: time.Minute},
			[]string{`<p>1분 후에 다시 시도해 주세요.</p>`}, nil},
		{"rate limited 30s en", ErrorPage{Lang: "en", Code: "rate_limited", RetryAfter: 30 * time.Second},
			[]string{`<p>Please try again in 30 seconds.</p>`}, nil},
		{"rate limited unknown wait", ErrorPage{Lang: "ko", Code: "rate_limited"},
			[]string{`<p>잠시 후 다시 시도해 주세요.</p>`}, []string{"분 후"}},
		{"kakao code shown", ErrorPage{Lang: "ko", Code: "cancelled", KakaoCode: "KOE320"},
			[]string{`<p class="support">문의할 때 알려 주세요: 오류 코드 KOE320</p>`}, nil},
		{"odd kakao code hidden", ErrorPage{Lang: "en", Code: "cancelled", KakaoCode: "<b>KOE</b>"},
			nil, []string{"support", "KOE"}},
		{"unknown code is the server page", ErrorPage{Lang: "ko", Code: "<nope>"},
			[]string{"<title>오류: 서비스에 문제가 있습니다 | kakaoauth</title>"}, []string{"nope"}},
		{"retry URL used by retry pages", ErrorPage{Lang: "ko", Code: "kakao_unavailable", RetryURL: "/auth/kakao/login?return_to=%2Fx"},
			[]string{`<a class="button" href="/auth/kakao/login?return_to=%2Fx">다시 시도</a>`}, nil},
		{"retry URL ignored by not_found", ErrorPage{Lang: "ko", Code: "not_found", RetryURL: "/auth/kakao/login"},
			[]string{`<a class="button" href="/">처음 화면으로</a>`}, []string{"/auth/kakao/login"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.Error(w, httptest.NewRequest(http.MethodGet, "/auth/error", nil), http.StatusBadRequest, tc.p)
			body := w.Body.String()
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %s", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(body, s) {
					t.Errorf("page contains %q", s)
				}
			}
		})
	}
}

func TestOptions_Service(t *testing.T) {
	r, err := New(Options{Service: " 소리 차트 "})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r.Login(w, httptest.NewRequest(http.MethodGet, "/", nil), 0, LoginPage{})
	if w.Code != http.StatusOK {
		t.Errorf("status 0 gave %d, want 200", w.Code)
	}
	if m := reTitle.FindStringSubmatch(w.Body.String()); m == nil || m[1] != "로그인 | 소리 차트" {
		t.Errorf("title = %v, want 로그인 | 소리 차트", m)
	}
}

func TestRender_TemplateErrorSendsNoHalfPage(t *testing.T) {
	r := newRenderer(t)
	r.pages["login"] = template.Must(template.New("x").Parse(`{{define "page"}}<p>half of a page{{.NoSuchField}}</p>{{end}}`))
	w := httptest.NewRecorder()
	r.Login(w, httptest.NewRequest(http.MethodGet, "/?lang=en", nil), http.StatusOK, LoginPage{})
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", w.Code)
	}
	if got := w.Body.String(); got != fallbackPage {
		t.Errorf("body = %q, want the fallback page", got)
	}
	if c := w.Header().Get("Set-Cookie"); c != "" {
		t.Errorf("failed render set a cookie: %q", c)
	}
}

func TestRender_LangCookie(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name, target, cookie string
		tls                  bool
		want                 string // expected Set-Cookie, "" for none
	}{
		{"chosen by query", "/?lang=en", "", false, "lang=en; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"},
		{"chosen over https", "/?lang=ko", "en", true, "lang=ko; Path=/; Max-Age=31536000; HttpOnly; Secure; SameSite=Lax"},
		{"already remembered", "/?lang=en", "en", false, ""},
		{"no choice", "/", "", false, ""},
		{"unknown value", "/?lang=fr", "", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "lang", Value: tc.cookie})
			}
			if tc.tls {
				req = httptest.NewRequest(http.MethodGet, "https://example.com"+tc.target, nil)
				req.AddCookie(&http.Cookie{Name: "lang", Value: tc.cookie})
			}
			w := httptest.NewRecorder()
			r.Login(w, req, http.StatusOK, LoginPage{})
			if got := w.Header().Get("Set-Cookie"); got != tc.want {
				t.Errorf("Set-Cookie = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStatic(t *testing.T) {
	r := newRenderer(t)
	h := r.Static()
	version := r.static["app.css"].version
	tests := []struct {
		name, method, target, ifNoneMatch string
		wantStatus                        int
		wantCache                         string
	}{
		{"css revalidates", "GET", "/static/app.css", "", 200, "public, no-cache"},
		{"versioned css is immutable", "GET", "/static/app.css?v=" + version, "", 200, "public, max-age=31536000, immutable"},
		{"old version revalidates", "GET", "/static/app.css?v=0000", "", 200, "public, no-cache"},
		{"head", "HEAD", "/static/app.css", "", 200, "public, no-cache"},
		{"etag match", "GET", "/static/app.css", `"` + version + `"`, 304, "public, no-cache"},
		{"no directory listing", "GET", "/static/", "", 404, ""},
		{"unknown file", "GET", "/static/x.css", "", 404, ""},
		{"no traversal", "GET", "/static/../web.go", "", 404, ""},
		{"post", "POST", "/static/app.css", "", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			if tc.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tc.ifNoneMatch)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if tc.wantCache != "" {
				if got := w.Header().Get("Cache-Control"); got != tc.wantCache {
					t.Errorf("Cache-Control = %q, want %q", got, tc.wantCache)
				}
			}
			if w.Code == 200 {
				if got := w.Header().Get("Content-Type"); got != "text/css; charset=utf-8" {
					t.Errorf("Content-Type = %q", got)
				}
				if tc.method == "GET" && !bytes.Contains(w.Body.Bytes(), []byte(".kakao-login")) {
					t.Error("body is not app.css")
				}
			}
		})
	}
}

func TestKnownErrorPage(t *testing.T) {
	for _, code := range []string{"cancelled", "consent_required", "login_required", "expired", "kakao_unavailable", "rate_limited", "invalid_request", "not_found", "disabled", "server"} {
		if !KnownErrorPage(code) {
			t.Errorf("KnownErrorPage(%q) = false", code)
		}
	}
	for _, code := range []string{"", "Cancelled", "access_denied", "<x>", "server "} {
		if KnownErrorPage(code) {
			t.Errorf("KnownErrorPage(%q) = true", code)
		}
	}
}

func TestWaitWords(t *testing.T) {
	tests := []struct {
		d      time.Duration
		ko, en string
	}{
		{0, "", ""},
		{-time.Second, "", ""},
		{time.Second, "1초", "1 second"},
		{1500 * time.Millisecond, "2초", "2 seconds"},
		{59 * time.Second, "59초", "59 seconds"},
		{time.Minute, "1분", "1 minute"},
		{61 * time.Second, "2분", "2 minutes"},
		{59 * time.Minute, "59분", "59 minutes"},
		{time.Hour, "1시간", "1 hour"},
		{90 * time.Minute, "1시간 30분", "1 hour and 30 minutes"},
		{2*time.Hour + time.Minute, "2시간 1분", "2 hours and 1 minute"},
	}
	for _, tc := range tests {
		if got := waitWords("ko", tc.d); got != tc.ko {
			t.Errorf("waitWords(ko, %v) = %q, want %q", tc.d, got, tc.ko)
		}
		if got := waitWords("en", tc.d); got != tc.en {
			t.Errorf("waitWords(en, %v) = %q, want %q", tc.d, got, tc.en)
		}
	}
}

func TestDeletePages(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range []string{"ko", "en"} {
		w := httptest.NewRecorder()
		r.Delete(w, httptest.NewRequest(http.MethodGet, "/account/delete", nil), http.StatusOK,
			DeletePage{Lang: lang, CSRF: "tok<&>", CancelURL: "/"})
		body := w.Body.String()
		// The form posts with the CSRF token; its button states the action; then the cancel link.
		wantForm := `<form class="confirm-form" method="post" action="/account/delete"><input type="hidden" name="csrf" value="tok&lt;&amp;&gt;"><button type="submit" class="button button--danger">` +
			Message(lang, "delete.confirm") + `</button></form>`
		if !strings.Contains(body, wantForm) {
			t.Errorf("%s: form missing; want %s", lang, wantForm)
		}
		iForm, iCancel := strings.Index(body, "<form"), strings.Index(body, `href="/">`+unescapeNot(Message(lang, "delete.cancel")))
		if iCancel < 0 || iCancel < iForm {
			t.Errorf("%s: cancel link missing or before the form", lang)
		}
		if n := strings.Count(body, "<li>"); n != 4 {
			t.Errorf("%s: %d consequences listed, want 4", lang, n)
		}
		if !strings.Contains(body, messagef(lang, "delete.data_erased", "service", "kakaoauth")) {
			t.Errorf("%s: service name not in the consequences", lang)
		}

		for _, failed := range []bool{false, true} {
			w := httptest.NewRecorder()
			r.Deleted(w, httptest.NewRequest(http.MethodGet, "/account/deleted", nil), http.StatusOK, DeletedPage{Lang: lang, UnlinkFailed: failed})
			body := w.Body.String()
			hint := messagef(lang, "deleted.unlink_failed", "service", "kakaoauth")
			if got := strings.Contains(unescape(body), hint); got != failed {
				t.Errorf("%s unlinkFailed=%v: unlink hint shown = %v", lang, failed, got)
			}
			if !strings.Contains(body, `href="/auth/kakao/login"`) {
				t.Errorf("%s: no sign-up-again link", lang)
			}
		}
	}
}

// unescapeNot returns s as html/template writes text that needs no escaping.
func unescapeNot(s string) string { return s }
