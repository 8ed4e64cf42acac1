package oidcop_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kakaoauth/kakaoauth/internal/oidcop"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/web/browsertest"
)

// TestOIDCConsentPage_Keyboard signs in to a third-party app in a real browser with the keyboard
// alone: the Kakao (emulator) consent, then our consent page, which axe-core finds clean at
// 1280 and 320 px, in Korean with one h1, its buttons reachable with Tab; Enter on "동의하고
// 계속하기" lands at the app with a code.
func TestOIDCConsentPage_Keyboard(t *testing.T) {
	browser := browsertest.Start(t)
	axe := browsertest.AxeSource(t)
	s := servertest.Start(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><title>app</title><h1>app callback</h1></html>`))
	}))
	t.Cleanup(app.Close)
	id, _ := newClient(t, s, oidcop.ClientSpec{Name: "사내 위키", RedirectURIs: []string{app.URL + "/cb"}})
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {app.URL + "/cb"},
		"scope": {"openid profile email"}, "state": {"st-1"}}

	tab := browsertest.NewTab(t, browser, "ko-KR,ko;q=0.9")
	ctx := browsertest.Timeout(t, tab, 2*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.BaseURL+"/oauth2/authorize?"+q.Encode())); err != nil {
		t.Fatal(err)
	}
	// Kakao's (the emulator's) consent, by keyboard.
	emulatorConsent(t, ctx)

	// Our consent page.
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "앱 연결 동의 | kakaoauth" {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("title %q at %s, want the consent page", title, loc)
	}
	facts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.documentElement.lang,
		String(document.querySelectorAll('h1').length), document.querySelector('h1').textContent,
		document.querySelector('main').innerText]`))
	if err != nil {
		t.Fatal(err)
	}
	if facts[0] != "ko" || facts[1] != "1" || !strings.Contains(facts[2], "사내 위키") ||
		!strings.Contains(facts[3], "닉네임과 프로필 사진") || !strings.Contains(facts[3], "이메일") {
		t.Errorf("consent page: lang %q, %s h1 %q, text %q", facts[0], facts[1], facts[2], facts[3])
	}
	for _, width := range []int64{1280, 320} {
		if err := browsertest.SetViewport(ctx, width, "", ""); err != nil {
			t.Fatal(err)
		}
		vs, err := browsertest.RunAxe(ctx, axe)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			t.Errorf("consent page at %dpx: axe violation %s", width, v)
		}
		if sw, _, err := browsertest.Overflow(ctx); width == 320 && (err != nil || sw > 320) {
			t.Errorf("consent page at 320px: scrollWidth %d (%v)", sw, err)
		}
	}
	if err := browsertest.SetViewport(ctx, 1280, "", ""); err != nil {
		t.Fatal(err)
	}
	// From the top, Tab reaches 동의하고 계속하기 (then 취소); Enter on it goes to the app.
	seq, err := browsertest.TabTo(ctx, 20, func(f browsertest.Focused) bool { return f.Tag == "BUTTON" && f.Value == "agree" })
	if err != nil {
		t.Fatal(err)
	}
	if f := seq[len(seq)-1]; f.Text != "동의하고 계속하기" {
		t.Errorf("agree button text %q", f.Text)
	}
	if w, err := browsertest.OutlineWidth(ctx); err != nil || w < 2 {
		t.Errorf("focused button: outline %vpx (%v), want a visible focus ring", w, err)
	}
	if err := browsertest.Press(ctx, browsertest.KeyEnter, true); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	if !strings.HasPrefix(loc, app.URL+"/cb?") || u.Query().Get("code") == "" || u.Query().Get("state") != "st-1" {
		t.Errorf("after agreeing: at %s, want the app's redirect URI with a code and the state", loc)
	}

	// The signed-in page lists the app under 연결된 앱, axe-clean; its disconnect button works
	// by keyboard.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.BaseURL+"/")); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	if err != nil || !strings.Contains(text, "연결된 앱") || !strings.Contains(text, "사내 위키") {
		t.Fatalf("signed-in page: %q (%v)", text, err)
	}
	vs, err := browsertest.RunAxe(ctx, axe)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("signed-in page with a connected app: axe violation %s", v)
	}
	if _, err := browsertest.TabTo(ctx, 30, func(f browsertest.Focused) bool { return f.Tag == "BUTTON" && f.Text == "사내 위키 연결 끊기" }); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.Press(ctx, browsertest.KeyEnter, true); err != nil {
		t.Fatal(err)
	}
	text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
	if err != nil || strings.Contains(text, "사내 위키") {
		t.Errorf("after disconnecting, the page still lists the app: %q (%v)", text, err)
	}
}

// emulatorConsent answers the emulator's consent page with keys (a test user, then agree).
func emulatorConsent(t *testing.T, ctx context.Context) {
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
		if f.Tag == "BUTTON" && f.Value == "agree" {
			if err := browsertest.Press(ctx, browsertest.KeyEnter, true); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no agree button on the emulator's consent page")
}
