package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kakaoauth/kakaoauth/internal/web/browsertest"
)

// TestBrowser_KeyboardLoginGreetLogout walks the program in Chromium with the keyboard alone:
// its page → "카카오 로그인" → the emulator's consent → its page greeting the person → the
// logout button → kakaoauth's signed-out page under /login/. Every page of the program, and
// kakaoauth's page under the prefix (its stylesheet and CSP included), is checked with axe-core
// at 1280px and 320px. It skips without Chromium or axe-core, and fails instead when CI is set.
func TestBrowser_KeyboardLoginGreetLogout(t *testing.T) {
	browser := browsertest.Start(t)
	axe := browsertest.AxeSource(t)
	base, _ := startProgram(t)
	ctx := browsertest.Timeout(t, browsertest.NewTab(t, browser, "ko-KR,ko;q=0.9"), 2*time.Minute)

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	audit(t, ctx, axe, "로그인이 필요합니다 | embed")
	tab(t, ctx, "the Kakao login link", func(f browsertest.Focused) bool {
		return f.Tag == "A" && strings.Contains(f.Href, "/login/auth/kakao/login")
	})
	enter(t, ctx)
	// The emulator's consent page: pick the first user, then agree.
	tab(t, ctx, "the agree button", func(f browsertest.Focused) bool {
		if f.Tag == "INPUT" && f.Type == "radio" && !f.Check {
			if err := browsertest.Press(ctx, browsertest.KeySpace, false); err != nil {
				t.Fatal(err)
			}
		}
		return f.Tag == "BUTTON" && f.Value == "agree"
	})
	enter(t, ctx)

	audit(t, ctx, axe, "김민준님, 안녕하세요 | embed")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/" {
		t.Errorf("after login the browser is at %s, want the program's page %s/", loc, base)
	}
	tab(t, ctx, "the logout button", func(f browsertest.Focused) bool {
		return f.Tag == "BUTTON" && strings.HasPrefix(f.Text, "로그아웃")
	})
	enter(t, ctx)
	audit(t, ctx, axe, "로그아웃되었습니다 | kakaoauth")
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, base+"/login/?result=signed-out") {
		t.Errorf("after logout the browser is at %s, want kakaoauth's signed-out page under /login/", loc)
	}
}

// audit checks the current page's exact title and runs axe-core at 1280px and 320px, with no
// CSP violation.
func audit(t *testing.T, ctx context.Context, axe, wantTitle string) {
	t.Helper()
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != wantTitle {
		t.Errorf("title %q (%v), want %q", title, err, wantTitle)
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
			t.Errorf("%s at %dpx: axe violation %s", wantTitle, width, v)
		}
		if csp, err := browsertest.CSPViolations(ctx); err != nil || len(csp) > 0 {
			t.Errorf("%s: Content-Security-Policy violations %v (%v)", wantTitle, csp, err)
		}
	}
}

// tab presses Tab until match.
func tab(t *testing.T, ctx context.Context, what string, match func(browsertest.Focused) bool) {
	t.Helper()
	if _, err := browsertest.TabTo(ctx, 40, match); err != nil {
		t.Fatalf("Tab to %s: %v", what, err)
	}
}

// enter presses Enter on the focused element and waits for the page it leads to.
func enter(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := browsertest.Press(ctx, browsertest.KeyEnter, true); err != nil {
		f, _ := browsertest.ActiveElement(ctx)
		t.Fatalf("Enter on %s did not load a page: %v", f, err)
	}
}
