package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kakaoauth/kakaoauth/internal/web/browsertest"
)

// TestPagesInBrowser renders every page in both languages under the server's CSP and checks
// them in headless Chromium: axe-core finds no violation (light at 1280px, dark at 320px), no
// CSP violation, no horizontal scroll at 320px, the #page-heading fragment focuses the h1,
// the Tab order starts skip link → language link with a visible ring, and the skip link moves
// the focus to the h1. It skips without Chromium or axe-core (fails when CI is set).
func TestPagesInBrowser(t *testing.T) {
	ctx := browsertest.Start(t)
	axe := browsertest.AxeSource(t)
	r := newRenderer(t)
	mux := http.NewServeMux()
	mux.Handle("/static/", r.Static())
	mux.HandleFunc("/p/{name}", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Security-Policy", browsertest.CSP)
		for _, pc := range allPages() {
			if pc.name == req.PathValue("name") {
				pc.render(r, w, req, "")
				return
			}
		}
		http.NotFound(w, req)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	shots := browsertest.ScreenshotDir(t)
	tab := browsertest.NewTab(t, ctx, "")

	for _, pc := range allPages() {
		for _, lang := range []string{"ko", "en"} {
			t.Run(pc.name+"/"+lang, func(t *testing.T) {
				tctx := browsertest.Timeout(t, tab, time.Minute)
				url := srv.URL + "/p/" + pc.name + "?lang=" + lang + "#page-heading"
				for _, vp := range []struct {
					width  int64
					scheme string
				}{{1280, "light"}, {320, "dark"}} {
					if err := browsertest.SetViewport(tctx, vp.width, vp.scheme, ""); err != nil {
						t.Fatal(err)
					}
					// A fresh document each time: about:blank first, since a fragment-only
					// change would not reload.
					if err := chromedp.Do(tctx, chromedp.Navigate("about:blank"), chromedp.Navigate(url)); err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("page-%s.%s.%d.%s", pc.name, lang, vp.width, vp.scheme)
					if f, err := browsertest.WaitHeadingFocus(tctx); err != nil {
						t.Errorf("%s: %v", name, err)
					} else if f.Text != wantHeading(pc, lang) {
						t.Errorf("%s: focused h1 %q, want %q", name, f.Text, wantHeading(pc, lang))
					}
					title, err := chromedp.Run(tctx, chromedp.Title())
					if err != nil || title != pc.title[lang] {
						t.Errorf("%s: title %q (%v), want %q", name, title, err, pc.title[lang])
					}
					vs, err := browsertest.RunAxe(tctx, axe)
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range vs {
						t.Errorf("%s: axe: %s", name, v)
					}
					if csp, err := browsertest.CSPViolations(tctx); err != nil || len(csp) != 0 {
						t.Errorf("%s: CSP violations %v (%v)", name, csp, err)
					}
					if sw, _, err := browsertest.Overflow(tctx); err != nil || sw > vp.width {
						t.Errorf("%s: scrollWidth %d > %d (%v)", name, sw, vp.width, err)
					}
					if err := browsertest.Screenshot(tctx, shots, name); err != nil {
						t.Errorf("%s: screenshot: %v", name, err)
					}
					if vp.width == 320 {
						clipped, err := browsertest.TextSpacingClipped(tctx)
						if err != nil {
							t.Fatal(err)
						}
						for _, c := range clipped {
							t.Errorf("%s with WCAG 1.4.12 text spacing: %s", name, c)
						}
					}
				}

				// Keyboard: from the top, Tab reaches the skip link, then the language link,
				// each with a focus ring; Enter on the skip link focuses the h1.
				if err := chromedp.Do(tctx, chromedp.Navigate("about:blank"), chromedp.Navigate(strings.TrimSuffix(url, "#page-heading"))); err != nil {
					t.Fatal(err)
				}
				var seq []string
				for i := range 2 {
					if err := browsertest.Press(tctx, browsertest.KeyTab, false); err != nil {
						t.Fatal(err)
					}
					f, _ := browsertest.ActiveElement(tctx)
					seq = append(seq, f.Class)
					if w, err := browsertest.OutlineWidth(tctx); err != nil || w < 2 {
						t.Errorf("Tab %d on %s: outline width %v (%v), want >= 2px", i+1, f, w, err)
					}
				}
				if want := []string{"skip-link", "lang-switch"}; strings.Join(seq, ",") != strings.Join(want, ",") {
					t.Errorf("Tab order %v, want %v", seq, want)
				}
				if err := chromedp.Do(tctx, chromedp.Navigate("about:blank"), chromedp.Navigate(strings.TrimSuffix(url, "#page-heading"))); err != nil {
					t.Fatal(err)
				}
				if err := browsertest.Press(tctx, browsertest.KeyTab, false); err != nil {
					t.Fatal(err)
				}
				if err := browsertest.Press(tctx, browsertest.KeyEnter, false); err != nil {
					t.Fatal(err)
				}
				if f, err := browsertest.WaitHeadingFocus(tctx); err != nil {
					t.Errorf("skip link: %v", err)
				} else if f.ID != "page-heading" {
					t.Errorf("skip link focused %s", f)
				}
			})
		}
	}
}

// wantHeading is the h1 text of a page case.
func wantHeading(pc pageCase, lang string) string {
	if pc.h1 != nil {
		return pc.h1[lang]
	}
	h := strings.TrimSuffix(pc.title[lang], " | kakaoauth")
	return strings.TrimPrefix(strings.TrimPrefix(h, "오류: "), "Error: ")
}

// TestLoginButtonInBrowser checks the Kakao button in the accessibility tree: a link named by
// its visible label, with the symbol hidden, in Korean and English, and that the outcome
// message is in a live region.
func TestLoginButtonInBrowser(t *testing.T) {
	ctx := browsertest.Start(t)
	r := newRenderer(t)
	mux := http.NewServeMux()
	mux.Handle("/static/", r.Static())
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Security-Policy", browsertest.CSP)
		r.Login(w, req, http.StatusOK, LoginPage{Outcome: req.URL.Query().Get("result")})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tab := browsertest.NewTab(t, ctx, "ko-KR,ko;q=0.9")
	tctx := browsertest.Timeout(t, tab, time.Minute)

	// Forced colours (Windows contrast themes): the transparent border becomes the button's
	// outline, so the button keeps a visible edge without its yellow background.
	if err := browsertest.SetViewport(tctx, 1280, "dark", "active"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	border, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(() => { const s = getComputedStyle(document.querySelector('.kakao-login')); return s.borderTopStyle + ' ' + s.borderTopWidth + ' ' + s.borderTopColor; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(border, "solid 2px ") || strings.HasSuffix(border, "rgba(0, 0, 0, 0)") {
		t.Errorf("Kakao button border in forced colours = %q, want a visible 2px solid border", border)
	}
	if err := browsertest.Screenshot(tctx, browsertest.ScreenshotDir(t), "page-login.ko.forced-colors"); err != nil {
		t.Error(err)
	}
	if err := browsertest.SetViewport(tctx, 1280, "", "none"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ query, name, status string }{
		{"", "카카오 로그인", ""},
		{"?lang=en&result=signed-out", "Login with Kakao", "You have logged out on this device."},
		{"?lang=ko&result=signed-out-all", "카카오 로그인", "로그인되어 있던 모든 기기에서 로그아웃했습니다."},
	} {
		if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/"+tc.query)); err != nil {
			t.Fatal(err)
		}
		nodes, err := browsertest.AXTree(tctx)
		if err != nil {
			t.Fatal(err)
		}
		var links, live []browsertest.AXNode
		for _, n := range nodes {
			if n.Role == "link" && strings.Contains(n.Name, "Kakao") || strings.Contains(n.Name, "카카오 로그인") && n.Role == "link" {
				links = append(links, n)
			}
			if n.Role == "status" || n.Role == "alert" {
				live = append(live, n)
			}
			if n.Role == "image" || n.Role == "graphics-document" || n.Role == "img" {
				if !n.Ignored {
					t.Errorf("%s: the symbol is exposed as %q %q", tc.query, n.Role, n.Name)
				}
			}
		}
		if len(links) != 1 || links[0].Name != tc.name {
			t.Errorf("%s: Kakao links %+v, want one link named %q", tc.query, links, tc.name)
		}
		if tc.status == "" {
			if len(live) != 0 {
				t.Errorf("%s: live regions %+v, want none", tc.query, live)
			}
			continue
		}
		if len(live) != 1 || live[0].Role != "status" || live[0].Live != "polite" {
			t.Errorf("%s: live regions %+v, want one polite status", tc.query, live)
		}
		if text, ok, err := browsertest.LiveText(tctx, "status"); err != nil || !ok || text != tc.status {
			t.Errorf("%s: status text %q (%v, %v), want %q", tc.query, text, ok, err, tc.status)
		}
	}
}
