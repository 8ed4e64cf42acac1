package main

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kakaoauth/kakaoauth/internal/web/browsertest"
)

// The page in a real browser (Debian's Chromium, headless), with the keyboard only: from
// "카카오 로그인" through the emulator's consent page back to the page, choosing a symbol,
// hearing the summary in the live region and reaching the player; axe-core on every state
// at 1280px and 320px, in Korean and in English. Run with CI=true and KAKAOAUTH_AXE_PATH set
// (see package browsertest); without Chromium or axe-core the test skips.

var pageTitles = map[string]map[string]string{
	"ko": {"signed-out": "로그인하고 차트 듣기 | 차트 듣기 예시", "signed-in": "주식 차트 듣기 | 차트 듣기 예시"},
	"en": {"signed-out": "Log in to listen to charts | Chart audio example", "signed-in": "Listen to a stock chart | Chart audio example"},
}

// audit checks the current page: its exact title; no axe-core violation, no CSP violation and
// no sideways scrolling at 1280px and at 320px; a screenshot of each width goes to
// testdata/screenshots (git-ignored).
func audit(t *testing.T, ctx context.Context, axe, what, wantTitle string) {
	t.Helper()
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != wantTitle {
		t.Errorf("%s: title %q (%v), want %q", what, title, err, wantTitle)
	}
	// One h1, first in main, with the words of the title; h2s below it.
	heads, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('h1, h2, h3')].map(h => h.tagName + ' ' + h.textContent.trim())`))
	h1 := "H1 " + strings.TrimPrefix(strings.SplitN(wantTitle, " | ", 2)[0], "오류: ")
	first, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').firstElementChild.id`))
	if err != nil || len(heads) == 0 || heads[0] != h1 || first != "page-heading" || strings.Count(strings.Join(heads, "\n"), "H1 ") != 1 {
		t.Errorf("%s: headings %q, first in main #%s (%v); want one %q first in main, then h2s", what, heads, first, err, h1)
	}
	for _, width := range []int64{1280, 320} {
		if err := browsertest.SetViewport(ctx, width, "", ""); err != nil {
			t.Fatal(err)
		}
		vs, err := browsertest.RunAxe(ctx, axe)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, v := range vs {
			t.Errorf("%s at %dpx: %s", what, width, v)
		}
		name := strings.ReplaceAll(what, " ", "-") + "-" + strconv.FormatInt(width, 10)
		if err := browsertest.Screenshot(ctx, browsertest.ScreenshotDir(t), name); err != nil {
			t.Errorf("%s: screenshot: %v", what, err)
		}
		csp, err := browsertest.CSPViolations(ctx)
		sw, _, oerr := browsertest.Overflow(ctx)
		if err != nil || oerr != nil || len(csp) > 0 || sw > width {
			t.Errorf("%s at %dpx: CSP violations %v (%v), scrollWidth %d (%v)", what, width, csp, err, sw, oerr)
		}
	}
	if err := browsertest.SetViewport(ctx, 1280, "", ""); err != nil {
		t.Fatal(err)
	}
}

// tabUntil presses Tab until match and returns the elements focused on the way.
func tabUntil(t *testing.T, ctx context.Context, what string, match func(browsertest.Focused) bool) []browsertest.Focused {
	t.Helper()
	seq, err := browsertest.TabTo(ctx, 30, match)
	if err != nil {
		t.Fatalf("Tab to %s: %v", what, err)
	}
	return seq
}

func key(t *testing.T, ctx context.Context, k string, navigates bool) {
	t.Helper()
	if err := browsertest.Press(ctx, k, navigates); err != nil {
		f, _ := browsertest.ActiveElement(ctx)
		t.Fatalf("key %q on %s: %v", k, f, err)
	}
}

// signInWithKeys walks from the signed-out page's "카카오 로그인" through the emulator's
// consent page (the first test user) back to the page.
func signInWithKeys(t *testing.T, ctx context.Context, label string) {
	t.Helper()
	seq := tabUntil(t, ctx, "the Kakao login link", func(f browsertest.Focused) bool { return f.Class == "kakao-login" })
	if seq[0].Class != "skip-link" || len(seq) != 3 || seq[2].Text != label {
		t.Errorf("Tab order %v, want the skip link, the language link, then %q", seq, label)
	}
	key(t, ctx, kb.Enter, true)
	tabUntil(t, ctx, "the first test user", func(f browsertest.Focused) bool { return f.Type == "radio" })
	key(t, ctx, browsertest.KeySpace, false)
	tabUntil(t, ctx, "the consent button", func(f browsertest.Focused) bool { return f.Tag == "BUTTON" && f.Value == "agree" })
	key(t, ctx, kb.Enter, true)
}

// listenWithKeys chooses a symbol with the keyboard (down presses of the arrow key in the
// picker), presses the button and checks what a screen reader user gets: the summary
// announced by the one live region, a named audio player that plays the chart, reached by Tab.
func listenWithKeys(t *testing.T, ctx context.Context, lang string, down int, symbol string) {
	t.Helper()
	tabUntil(t, ctx, "the symbol picker", func(f browsertest.Focused) bool { return f.ID == "symbol" })
	for range down {
		key(t, ctx, kb.ArrowDown, false)
	}
	if f, _ := browsertest.ActiveElement(ctx); f.Value != symbol {
		t.Fatalf("picker value %q after %d arrow presses, want %s", f.Value, down, symbol)
	}
	tabUntil(t, ctx, "the listen button", func(f browsertest.Focused) bool { return f.Tag == "BUTTON" })
	key(t, ctx, kb.Enter, false)

	s := catalogSeries(t, symbol)
	want := Summarize(s).Text.In(lang)
	var text string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if text, _, _ = browsertest.LiveText(ctx, "status"); text == want {
			break
		}
	}
	if text != want {
		t.Fatalf("live region says %q, want %q", text, want)
	}
	nodes, err := browsertest.AXTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live, named := 0, false
	audioName := strings.Replace(texts[lang]["audio_label"], "%s", s.NameIn(lang), 1)
	for _, n := range nodes {
		if !n.Ignored && (n.Live == "polite" || n.Live == "assertive") && (n.Role == "status" || n.Role == "alert") {
			live++
		}
		if !n.Ignored && n.Name == audioName {
			named = true
		}
	}
	if live != 1 || !named {
		t.Errorf("%d live regions (want 1 status); audio player named %q found: %v", live, audioName, named)
	}
	// The player loads the WAV with the access cookie and knows its length: 0.18 s a day.
	dur, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`new Promise(done => {
  const a = document.getElementById('chart-audio');
  a.addEventListener('loadedmetadata', () => done(a.duration), {once: true});
  a.addEventListener('error', () => done(-1), {once: true});
  a.preload = 'metadata'; a.load();
})`, chromedp.EvalAwaitPromise))
	if err != nil || math.Abs(dur-0.18*float64(len(s.Prices))) > 0.01 {
		t.Errorf("audio duration %v (%v), want %.1fs", dur, err, 0.18*float64(len(s.Prices)))
	}
	tabUntil(t, ctx, "the audio player", func(f browsertest.Focused) bool { return f.Tag == "AUDIO" })
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "symbol="+symbol) {
		t.Errorf("address %s does not name the chosen symbol, so a reload loses it", loc)
	}
}

func TestBrowser_PageWithKeyboardAndAxe(t *testing.T) {
	browser := browsertest.Start(t)
	axe := browsertest.AxeSource(t)
	s := startStack(t)

	ctx := browsertest.Timeout(t, browsertest.NewTab(t, browser, ""), 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL)); err != nil {
		t.Fatal(err)
	}
	audit(t, ctx, axe, "ko signed out", pageTitles["ko"]["signed-out"])
	signInWithKeys(t, ctx, texts["ko"]["kakao"])
	audit(t, ctx, axe, "ko signed in", pageTitles["ko"]["signed-in"])
	heads, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('h1, h2')].map(h => h.textContent.trim())`))
	if want := []string{"주식 차트 듣기", "종목 고르기", "차트 요약과 소리", "소리 읽는 법"}; err != nil || strings.Join(heads, "|") != strings.Join(want, "|") {
		t.Errorf("signed-in headings %q (%v), want %q", heads, err, want)
	}
	listenWithKeys(t, ctx, "ko", 1, "HANBIT") // BADA, HANBIT, SOOP
	audit(t, ctx, axe, "ko listening", pageTitles["ko"]["signed-in"])

	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	audit(t, ctx, axe, "en signed in", pageTitles["en"]["signed-in"])
	listenWithKeys(t, ctx, "en", 2, "SOOP")
	audit(t, ctx, axe, "en listening", pageTitles["en"]["signed-in"])

	fresh := browsertest.Timeout(t, browsertest.NewTab(t, browser, ""), 30*time.Second)
	if err := chromedp.Do(fresh, chromedp.Navigate(s.URL+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	audit(t, fresh, axe, "en signed out", pageTitles["en"]["signed-out"])
	signInWithKeys(t, fresh, texts["en"]["kakao"])
	audit(t, fresh, axe, "en signed in after login", pageTitles["en"]["signed-in"])

	// Without JavaScript the form reloads the page, with the focus on the chart's heading.
	if _, err := chromedp.Call(fresh, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(fresh, chromedp.Navigate(s.URL+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	tabUntil(t, fresh, "the symbol picker", func(f browsertest.Focused) bool { return f.ID == "symbol" })
	key(t, fresh, kb.ArrowDown, false)
	tabUntil(t, fresh, "the listen button", func(f browsertest.Focused) bool { return f.Tag == "BUTTON" })
	key(t, fresh, kb.Enter, true)
	// The reload and the fragment's focus land some time after the key press: wait for them
	// (up to 5 s) before judging.
	want := Summarize(catalogSeries(t, "HANBIT")).Text.En
	var f browsertest.Focused
	var text string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		f, _ = browsertest.ActiveElement(fresh)
		text, _, _ = browsertest.LiveText(fresh, "status")
		if (f.ID == "chart-heading" && text == want) || time.Now().After(deadline) {
			break
		}
	}
	if f.ID != "chart-heading" || text != want {
		t.Errorf("without JavaScript: focus on %s, summary %q; want h2#chart-heading and Hanbit's summary", f, text)
	}
}
