package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/web/browsertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// The pages in a real browser: these tests drive Debian's Chromium (headless) against the
// server and its emulator, with the keyboard only, and check every page they meet with
// axe-core at 1280px and 320px. They skip without Chromium or axe-core, and fail instead when
// CI is set; see package browsertest for how both are found. Screenshots go to
// $KAKAOAUTH_SCREENSHOTS or testdata/screenshots.

// browserTitles are the exact page titles of the accessibility reference (§0.2, §1), by
// language and page.
var browserTitles = map[string]map[string]string{
	"ko": {
		"login":                   "로그인 | kakaoauth",
		"signed-in":               "로그인 완료 | kakaoauth",
		"signed-out":              "로그아웃되었습니다 | kakaoauth",
		"signed-out-all":          "모든 기기에서 로그아웃되었습니다 | kakaoauth",
		"consent":                 "동의 화면 (개발용 카카오 에뮬레이터) | kakaoauth",
		"error-cancelled":         "오류: 카카오 로그인을 취소했습니다 | kakaoauth",
		"error-consent_required":  "오류: 닉네임 제공 동의가 필요합니다 | kakaoauth",
		"error-login_required":    "오류: 카카오에 로그인되어 있지 않습니다 | kakaoauth",
		"error-expired":           "오류: 로그인 요청이 만료되었습니다 | kakaoauth",
		"error-kakao_unavailable": "오류: 지금은 카카오에 연결할 수 없습니다 | kakaoauth",
		"error-rate_limited":      "오류: 시도 횟수가 너무 많습니다 | kakaoauth",
		"error-invalid_request":   "오류: 요청을 처리할 수 없습니다 | kakaoauth",
		"error-not_found":         "오류: 페이지를 찾을 수 없습니다 | kakaoauth",
		"error-server":            "오류: 서비스에 문제가 있습니다 | kakaoauth",
	},
	"en": {
		"login":                   "Log in | kakaoauth",
		"signed-in":               "Login complete | kakaoauth",
		"signed-out":              "You are logged out | kakaoauth",
		"signed-out-all":          "You are logged out on all devices | kakaoauth",
		"consent":                 "동의 화면 (개발용 카카오 에뮬레이터) | kakaoauth",
		"error-cancelled":         "Error: You cancelled the Kakao login | kakaoauth",
		"error-consent_required":  "Error: You need to agree to share your nickname | kakaoauth",
		"error-login_required":    "Error: You are not logged in to Kakao | kakaoauth",
		"error-expired":           "Error: The login request has expired | kakaoauth",
		"error-kakao_unavailable": "Error: Kakao cannot be reached right now | kakaoauth",
		"error-rate_limited":      "Error: There have been too many attempts | kakaoauth",
		"error-invalid_request":   "Error: The request cannot be processed | kakaoauth",
		"error-not_found":         "Error: Page not found | kakaoauth",
		"error-server":            "Error: Sorry, there is a problem with the service | kakaoauth",
	},
}

// browserTexts are the visible names the keyboard walks look for, by language.
var browserTexts = map[string]map[string]string{
	"ko": {"kakao": "카카오 로그인", "logout": "로그아웃", "logout-all": "모든 기기에서 로그아웃", "retry": "다시 로그인",
		"signed-in": "카카오 계정으로 로그인했습니다.", "signed-out": "이 기기에서 로그아웃했습니다.",
		"signed-out-all": "로그인되어 있던 모든 기기에서 로그아웃했습니다.",
		"cancelled":      "로그인하려면 카카오 화면에서 ‘동의하고 계속하기’를 선택해 주세요."},
	"en": {"kakao": "Login with Kakao", "logout": "Log out", "logout-all": "Log out on all devices", "retry": "Log in again",
		"signed-in": "you logged in with your Kakao account.", "signed-out": "You have logged out on this device.",
		"signed-out-all": "You have logged out on every device where you were logged in.",
		"cancelled":      "To log in, choose ‘Agree and continue’ on the Kakao screen."},
}

// auditor checks pages as a browser test meets them and numbers their screenshots.
type auditor struct {
	t      *testing.T
	ctx    context.Context
	axe    string
	dir    string
	prefix string
	n      int
}

func newAuditor(t *testing.T, ctx context.Context, axe, prefix string) *auditor {
	return &auditor{t: t, ctx: ctx, axe: axe, dir: browsertest.ScreenshotDir(t), prefix: prefix}
}

// check audits the current page: after a redirect (focusHeading) the h1 has the focus; the
// title is exact; axe-core finds nothing at 1280px and at 320px; no CSP violation; no
// horizontal scroll at 320px; a screenshot at each width. It leaves the viewport at 1280px
// and the focus where it was.
func (a *auditor) check(page, wantTitle string, focusHeading bool) {
	t := a.t
	t.Helper()
	a.n++
	name := fmt.Sprintf("%s-%02d-%s", a.prefix, a.n, page)
	if focusHeading {
		if _, err := browsertest.WaitHeadingFocus(a.ctx); err != nil {
			t.Errorf("%s: after the redirect: %v", name, err)
		}
	}
	title, err := chromedp.Run(a.ctx, chromedp.Title())
	if err != nil {
		t.Fatalf("%s: title: %v", name, err)
	}
	if title != wantTitle {
		loc, _ := chromedp.Run(a.ctx, chromedp.Location())
		t.Errorf("%s: title %q at %s, want %q", name, title, loc, wantTitle)
	}
	for _, width := range []int64{1280, 320} {
		if err := browsertest.SetViewport(a.ctx, width, "", ""); err != nil {
			t.Fatalf("%s: viewport: %v", name, err)
		}
		vs, err := browsertest.RunAxe(a.ctx, a.axe)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, v := range vs {
			t.Errorf("%s at %dpx: axe violation %s", name, width, v)
		}
		if csp, err := browsertest.CSPViolations(a.ctx); err != nil || len(csp) > 0 {
			t.Errorf("%s: Content-Security-Policy violations %v (%v)", name, csp, err)
		}
		if width == 320 {
			if sw, _, err := browsertest.Overflow(a.ctx); err != nil || sw > 320 {
				t.Errorf("%s at 320px: scrollWidth %d > 320 (%v): the page does not reflow", name, sw, err)
			}
		}
		if err := browsertest.Screenshot(a.ctx, a.dir, fmt.Sprintf("%s-%d", name, width)); err != nil {
			t.Errorf("%s: screenshot: %v", name, err)
		}
	}
	if err := browsertest.SetViewport(a.ctx, 1280, "", ""); err != nil {
		t.Fatalf("%s: viewport: %v", name, err)
	}
}

// liveRegion asserts that the page has exactly one live region, of role ("status" or
// "alert") in the accessibility tree, whose text contains want.
func liveRegion(t *testing.T, ctx context.Context, page, role, want string) {
	t.Helper()
	nodes, err := browsertest.AXTree(ctx)
	if err != nil {
		t.Fatalf("%s: accessibility tree: %v", page, err)
	}
	var live []browsertest.AXNode
	for _, n := range nodes {
		if !n.Ignored && (n.Role == "status" || n.Role == "alert") {
			live = append(live, n)
		}
	}
	wantLive := map[string]string{"status": "polite", "alert": "assertive"}[role]
	if len(live) != 1 || live[0].Role != role || live[0].Live != wantLive {
		t.Errorf("%s: live regions in the accessibility tree %+v, want one %s (%s)", page, live, role, wantLive)
	}
	if text, ok, err := browsertest.LiveText(ctx, role); err != nil || !ok || !strings.Contains(text, want) {
		t.Errorf("%s: %s region text %q (%v, %v), want it to contain %q", page, role, text, ok, err, want)
	}
}

// kakaoButtonInAXTree asserts that the accessibility tree has the Kakao button as one link
// named exactly by its visible label, with no image or graphic exposed in it.
func kakaoButtonInAXTree(t *testing.T, ctx context.Context, label string) {
	t.Helper()
	nodes, err := browsertest.AXTree(ctx)
	if err != nil {
		t.Fatalf("accessibility tree: %v", err)
	}
	var links []browsertest.AXNode
	for _, n := range nodes {
		if n.Ignored {
			continue
		}
		if n.Role == "link" && strings.Contains(strings.ToLower(n.Name), "kakao") || n.Role == "link" && strings.Contains(n.Name, "카카오") {
			links = append(links, n)
		}
		switch n.Role {
		case "image", "img", "graphics-document", "graphics-symbol":
			t.Errorf("the accessibility tree exposes a graphic %q: the Kakao symbol must be hidden", n.Name)
		}
	}
	if len(links) != 1 || links[0].Name != label {
		t.Errorf("Kakao links in the accessibility tree %+v, want one link named %q", links, label)
	}
}

// tabTo presses Tab until match, failing the test when it does not get there.
func tabTo(t *testing.T, ctx context.Context, what string, match func(browsertest.Focused) bool) []browsertest.Focused {
	t.Helper()
	seq, err := browsertest.TabTo(ctx, 40, match)
	if err != nil {
		t.Fatalf("Tab to %s: %v", what, err)
	}
	return seq
}

// press presses key on the focused element and waits for the page it leads to.
func press(t *testing.T, ctx context.Context, key, what string) {
	t.Helper()
	if err := browsertest.Press(ctx, key, true); err != nil {
		f, _ := browsertest.ActiveElement(ctx)
		t.Fatalf("%s: pressing %q on %s did not load a page: %v", what, key, f, err)
	}
}

func isKakaoButton(f browsertest.Focused) bool { return f.Tag == "A" && f.Class == "kakao-login" }

func isButton(text string) func(browsertest.Focused) bool {
	return func(f browsertest.Focused) bool { return f.Tag == "BUTTON" && f.Text == text }
}

// consentWithKeys answers the emulator's consent page with keys: Tab through it, pressing
// Space on an unchecked radio button (the test user), until the button whose value is action
// ("agree" or "cancel"), then Enter.
func consentWithKeys(t *testing.T, ctx context.Context, action string) {
	t.Helper()
	for range 40 {
		if err := browsertest.Press(ctx, browsertest.KeyTab, false); err != nil {
			t.Fatal(err)
		}
		f, err := browsertest.ActiveElement(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Tag == "INPUT" && f.Type == "radio" && !f.Check {
			if err := browsertest.Press(ctx, browsertest.KeySpace, false); err != nil {
				t.Fatal(err)
			}
		}
		if f.Tag == "BUTTON" && f.Value == action {
			press(t, ctx, browsertest.KeyEnter, "consent "+action)
			return
		}
	}
	t.Fatalf("no %q button reached with Tab on the consent page", action)
}

func skipOrStartBrowser(t *testing.T) (context.Context, string) {
	t.Helper()
	ctx := browsertest.Start(t)
	return ctx, browsertest.AxeSource(t)
}

// TestPages_KeyboardLoginLogout logs in and out with the keyboard alone, in Korean and in
// English (chosen with the language link), checking every page on the way.
func TestPages_KeyboardLoginLogout(t *testing.T) {
	browser, axe := skipOrStartBrowser(t)
	s := servertest.Start(t)
	for _, lang := range []string{"ko", "en"} {
		t.Run(lang, func(t *testing.T) {
			// The browser asks for Korean; the English run switches with the language link.
			tab := browsertest.NewTab(t, browser, "ko-KR,ko;q=0.9")
			ctx := browsertest.Timeout(t, tab, 3*time.Minute)
			a := newAuditor(t, ctx, axe, "flow-"+lang)
			titles, texts := browserTitles[lang], browserTexts[lang]

			if err := chromedp.Do(ctx, chromedp.Navigate(s.BaseURL+"/")); err != nil {
				t.Fatal(err)
			}
			a.check("login", browserTitles["ko"]["login"], false)
			if lang == "en" {
				tabTo(t, ctx, "the language link", func(f browsertest.Focused) bool { return f.Class == "lang-switch" && f.Text == "English" })
				press(t, ctx, browsertest.KeyEnter, "language link")
				a.check("login", titles["login"], false)
			}

			// Tab order from the top: skip link, language link, Kakao button (§1.1).
			seq := tabTo(t, ctx, "the Kakao button", isKakaoButton)
			var classes []string
			for _, f := range seq {
				classes = append(classes, f.Class)
			}
			if got, want := strings.Join(classes, " → "), "skip-link → lang-switch → kakao-login"; got != want {
				t.Errorf("Tab order %s, want %s", got, want)
			}
			if w, err := browsertest.OutlineWidth(ctx); err != nil || w < 2 {
				t.Errorf("focused Kakao button: outline %vpx (%v), want a visible ring >= 2px", w, err)
			}
			kakaoButtonInAXTree(t, ctx, texts["kakao"])

			// Kakao button → the emulator's consent page.
			press(t, ctx, browsertest.KeyEnter, "Kakao button")
			a.check("consent", titles["consent"], false)
			consentWithKeys(t, ctx, "agree")

			// Back at the service: signed in, focus on the h1, the result in a status region.
			a.check("signed-in", titles["signed-in"], true)
			liveRegion(t, ctx, "signed-in", "status", texts["signed-in"])

			// Log out: from the h1, Tab reaches the first control in main, the logout button.
			seq = tabTo(t, ctx, "the logout button", isButton(texts["logout"]))
			if len(seq) != 1 {
				t.Errorf("from the focused h1, Tab went %v before the logout button, want it first", seq)
			}
			press(t, ctx, browsertest.KeyEnter, "logout button")
			a.check("signed-out", titles["signed-out"], true)
			liveRegion(t, ctx, "signed-out", "status", texts["signed-out"])

			// Log in again: a returning browser goes through Kakao without a stop.
			tabTo(t, ctx, "the Kakao button", isKakaoButton)
			press(t, ctx, browsertest.KeyEnter, "Kakao button (returning)")
			if title, _ := chromedp.Run(ctx, chromedp.Title()); title == titles["consent"] {
				consentWithKeys(t, ctx, "agree")
			}
			a.check("signed-in-again", titles["signed-in"], true)

			// Log out on all devices.
			tabTo(t, ctx, "the log-out-everywhere button", isButton(texts["logout-all"]))
			press(t, ctx, browsertest.KeyEnter, "log-out-everywhere button")
			a.check("signed-out-all", titles["signed-out-all"], true)
			liveRegion(t, ctx, "signed-out-all", "status", texts["signed-out-all"])
		})
	}
}

// TestPages_KeyboardCancelAndRetry cancels at the emulator with the keyboard, lands on the
// error page with the focus on its h1 and the message in an alert region, and restarts the
// login with one Enter.
func TestPages_KeyboardCancelAndRetry(t *testing.T) {
	browser, axe := skipOrStartBrowser(t)
	s := servertest.Start(t)
	for _, lang := range []string{"ko", "en"} {
		t.Run(lang, func(t *testing.T) {
			accept := map[string]string{"ko": "ko-KR,ko;q=0.9", "en": "en-US,en;q=0.9"}[lang]
			tab := browsertest.NewTab(t, browser, accept)
			ctx := browsertest.Timeout(t, tab, 2*time.Minute)
			a := newAuditor(t, ctx, axe, "cancel-"+lang)
			titles, texts := browserTitles[lang], browserTexts[lang]

			if err := chromedp.Do(ctx, chromedp.Navigate(s.BaseURL+"/")); err != nil {
				t.Fatal(err)
			}
			a.check("login", titles["login"], false)
			tabTo(t, ctx, "the Kakao button", isKakaoButton)
			press(t, ctx, browsertest.KeyEnter, "Kakao button")
			a.check("consent", titles["consent"], false)
			consentWithKeys(t, ctx, "cancel")

			a.check("error-cancelled", titles["error-cancelled"], true)
			liveRegion(t, ctx, "error-cancelled", "alert", texts["cancelled"])
			seq := tabTo(t, ctx, "the retry link", func(f browsertest.Focused) bool { return f.Tag == "A" && f.Text == texts["retry"] })
			if len(seq) != 1 {
				t.Errorf("from the focused h1, Tab went %v before the retry link, want it first", seq)
			}
			press(t, ctx, browsertest.KeyEnter, "retry link")
			if title, _ := chromedp.Run(ctx, chromedp.Title()); title != titles["consent"] {
				t.Errorf("retry led to %q, want the consent page %q", title, titles["consent"])
			}
		})
	}
}

// TestPages_KakaoUnavailable makes the emulator's token endpoint fail, logs in with the
// keyboard and checks the error page the callback redirects to.
func TestPages_KakaoUnavailable(t *testing.T) {
	browser, axe := skipOrStartBrowser(t)
	s := servertest.Start(t)
	s.Emulator.SetFault("/oauth/token", kakaotest.Fault{Status: 503})
	t.Cleanup(s.Emulator.ClearFaults)

	tab := browsertest.NewTab(t, browser, "ko-KR,ko;q=0.9")
	ctx := browsertest.Timeout(t, tab, 2*time.Minute)
	a := newAuditor(t, ctx, axe, "unavailable-ko")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.BaseURL+"/")); err != nil {
		t.Fatal(err)
	}
	tabTo(t, ctx, "the Kakao button", isKakaoButton)
	press(t, ctx, browsertest.KeyEnter, "Kakao button")
	consentWithKeys(t, ctx, "agree")
	a.check("error-kakao_unavailable", browserTitles["ko"]["error-kakao_unavailable"], true)
	liveRegion(t, ctx, "error-kakao_unavailable", "alert", "잠시 후 다시 시도해 주세요.")
}

// TestPages_ErrorPages opens every error page as the callback's redirect leaves it
// (/auth/error?code=…#page-heading) in both languages and audits it.
func TestPages_ErrorPages(t *testing.T) {
	browser, axe := skipOrStartBrowser(t)
	s := servertest.Start(t)
	codes := []string{"cancelled", "consent_required", "login_required", "expired", "kakao_unavailable",
		"rate_limited", "invalid_request", "not_found", "server"}
	for _, lang := range []string{"ko", "en"} {
		t.Run(lang, func(t *testing.T) {
			tab := browsertest.NewTab(t, browser, "")
			ctx := browsertest.Timeout(t, tab, 3*time.Minute)
			a := newAuditor(t, ctx, axe, "errors-"+lang)
			for _, code := range codes {
				url := s.BaseURL + "/auth/error?code=" + code + "&lang=" + lang + "#page-heading"
				if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(url)); err != nil {
					t.Fatal(err)
				}
				a.check("error-"+code, browserTitles[lang]["error-"+code], true)
				if text, ok, err := browsertest.LiveText(ctx, "alert"); err != nil || !ok || text == "" {
					t.Errorf("error-%s: no alert region with text (%q, %v, %v)", code, text, ok, err)
				}
			}
		})
	}
}
