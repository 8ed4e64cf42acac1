package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/web/browsertest"
)

// consentUntickingEmail answers the emulator's consent page with keys: the test user number
// user (0 is the first; the arrow keys move within the radio group), the email unticked, then
// agree.
func consentUntickingEmail(t *testing.T, ctx context.Context, user int) {
	t.Helper()
	key := func(k string) {
		if err := browsertest.Press(ctx, k, false); err != nil {
			t.Fatal(err)
		}
	}
	for range 60 {
		key(browsertest.KeyTab)
		f, err := browsertest.ActiveElement(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == "radio" && f.ID == "user-first" {
			key(browsertest.KeySpace)
			for range user {
				key(kb.ArrowDown)
			}
		}
		if f.Type == "checkbox" && f.ID == "scope-account_email" && f.Check {
			key(browsertest.KeySpace)
		}
		if f.Tag == "BUTTON" && f.Value == "agree" {
			press(t, ctx, browsertest.KeyEnter, "consent agree")
			return
		}
	}
	t.Fatal("no agree button reached with Tab on the consent page")
}

// TestPages_ConsentWithKeyboard signs in without the email, finds the "what we hold" section,
// follows its link to Kakao's additional consent with the keyboard, and checks the signed-in
// page with each outcome (granted, declined): axe-core at 1280px and 320px, the focus on the
// h1 after each redirect, the outcome in the one status region.
func TestPages_ConsentWithKeyboard(t *testing.T) {
	browser, axe := skipOrStartBrowser(t)
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.Scopes = []string{"account_email"} }))
	for _, tc := range []struct {
		lang   string
		user   int // 0: 김민준, 2: 박지호 (both have an email)
		action string
		status string
	}{
		{"ko", 0, "agree", "추가 항목에 동의했습니다."},
		{"en", 2, "cancel", "You cancelled the additional consent."},
	} {
		t.Run(tc.lang+"-"+tc.action, func(t *testing.T) {
			tab := browsertest.NewTab(t, browser, map[string]string{"ko": "ko-KR,ko;q=0.9", "en": "en-US,en;q=0.9"}[tc.lang])
			ctx := browsertest.Timeout(t, tab, 3*time.Minute)
			a := newAuditor(t, ctx, axe, "consent-"+tc.lang)
			if err := chromedp.Do(ctx, chromedp.Navigate(s.BaseURL+"/?lang="+tc.lang)); err != nil {
				t.Fatal(err)
			}
			tabTo(t, ctx, "the Kakao button", isKakaoButton)
			press(t, ctx, browsertest.KeyEnter, "Kakao button")
			consentUntickingEmail(t, ctx, tc.user)
			a.check("signed-in-held", browserTitles[tc.lang]["signed-in"], true)
			held := map[string]string{"ko": "카카오계정(이메일) 제공에 동의하기", "en": "Agree to share Kakao Account (email)"}[tc.lang]
			// The logout button stays the first control after the h1; the consent link follows.
			tabTo(t, ctx, "the consent link", func(f browsertest.Focused) bool { return f.Tag == "A" && strings.HasPrefix(f.Text, held) })
			press(t, ctx, browsertest.KeyEnter, "consent link")
			if tc.action == "agree" {
				consentWithKeys(t, ctx, "agree")
			} else {
				consentWithKeys(t, ctx, "cancel")
			}
			title := map[string]string{"ko": "내 계정 | kakaoauth", "en": "Your account | kakaoauth"}[tc.lang]
			a.check("consent-"+tc.action, title, true)
			liveRegion(t, ctx, "consent-"+tc.action, "status", tc.status)
		})
	}
}
