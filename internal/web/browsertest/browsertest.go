// Package browsertest drives a headless Chromium for the accessibility tests of the pages:
// it starts the browser, runs axe-core in a page, reads the accessibility tree, types keys
// and takes screenshots. It is for tests only.
//
// Without Chromium or axe-core the tests skip with a message that says how to install them;
// when the environment variable CI is set they fail instead, so a CI run never passes
// without having looked at the pages.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// AxeTags are the axe-core rule tags every page is checked against. best-practice brings the
// landmark and h1 rules; wcag22aa brings target-size.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

// CSP is the Content-Security-Policy the server sends with every page.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const installHint = "install it with: apt-get install -y chromium fonts-noto-cjk"

// unavailable skips the test, or fails it when the environment variable CI is set.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this fails instead of skipping)", msg)
	}
	t.Skip(msg)
}

// ChromiumPath returns the browser to drive: $KAKAOAUTH_CHROMIUM, else Debian's
// /usr/bin/chromium, else the first of chromium, chromium-browser, google-chrome on $PATH.
func ChromiumPath() (string, bool) {
	if p := os.Getenv("KAKAOAUTH_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		return "", false
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Start launches a headless Chromium with a fresh profile for the test and returns a chromedp
// context of its first tab. The browser stops when the test ends. Start skips (or fails in CI)
// when no Chromium is installed.
func Start(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path, ok := ChromiumPath()
	if !ok {
		unavailable(t, "no Chromium found; %s", installHint)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// NewTab returns a context of a new tab in a fresh browser context (its own cookies) of the
// browser of parent, with Accept-Language set to acceptLanguage when it is not empty. The tab
// closes when the test ends.
func NewTab(t testing.TB, parent context.Context, acceptLanguage string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	if acceptLanguage != "" {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatalf("network.enable: %v", err)
		}
		if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": acceptLanguage},
		}); err != nil {
			t.Fatalf("set Accept-Language: %v", err)
		}
	}
	// Record violations of the Content-Security-Policy in every document of the tab.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));`,
	}); err != nil {
		t.Fatalf("add CSP listener: %v", err)
	}
	return ctx
}

// Timeout derives a context that limits the actions run with it, never the browser.
func Timeout(t testing.TB, ctx context.Context, d time.Duration) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return c
}

// SetViewport sets the width of the layout viewport (height 800) and the colour scheme and
// forced-colours mode ("" leaves the browser's default).
func SetViewport(ctx context.Context, width int64, colorScheme, forcedColors string) error {
	var features []*emulation.MediaFeature
	if colorScheme != "" {
		features = append(features, &emulation.MediaFeature{Name: "prefers-color-scheme", Value: colorScheme})
	}
	if forcedColors != "" {
		features = append(features, &emulation.MediaFeature{Name: "forced-colors", Value: forcedColors})
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features}); err != nil {
		return err
	}
	return chromedp.Do(ctx, chromedp.EmulateViewport(width, 800))
}

// AxeSource returns the text of axe.min.js: $KAKAOAUTH_AXE_PATH (the file, or a folder that
// holds node_modules/axe-core), else node_modules/axe-core/axe.min.js or
// .cache/axe/node_modules/axe-core/axe.min.js in the working directory or any parent.
// It skips (or fails in CI) when none is found.
func AxeSource(t testing.TB) string {
	t.Helper()
	path, err := findAxe()
	if err != nil {
		unavailable(t, "%v; install it with: npm install --no-save --prefix .cache/axe axe-core (in the module root), or set KAKAOAUTH_AXE_PATH", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	return string(b)
}

func findAxe() (string, error) {
	const rel = "node_modules/axe-core/axe.min.js"
	if p := os.Getenv("KAKAOAUTH_AXE_PATH"); p != "" {
		for _, c := range []string{p, filepath.Join(p, rel), filepath.Join(p, "axe.min.js")} {
			if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
				return c, nil
			}
		}
		return "", fmt.Errorf("KAKAOAUTH_AXE_PATH=%s holds no axe.min.js", p)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, c := range []string{filepath.Join(dir, rel), filepath.Join(dir, ".cache", "axe", rel)} {
			if _, err := os.Stat(c); err == nil {
				return c, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("axe-core not found (no node_modules/axe-core/axe.min.js here or above)")
		}
		dir = parent
	}
}

// Violation is one failed axe-core rule with the elements that fail it.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []string `json:"target"`
		HTML    string   `json:"html"`
		Summary string   `json:"failureSummary"`
	} `json:"nodes"`
}

// String names the rule and each failing element, for test failure messages.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    at %s: %s\n      %s", strings.Join(n.Target, " "), n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      "))
	}
	return b.String()
}

// RunAxe injects axe-core (src, from AxeSource) into the current page, unless it is there
// already, and returns the violations of the AxeTags rules.
func RunAxe(ctx context.Context, src string) ([]Violation, error) {
	has, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		return nil, err
	}
	if !has {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			return nil, fmt.Errorf("inject axe-core: %w", err)
		}
	}
	tags, _ := json.Marshal(AxeTags)
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {runOnly: {type: 'tag', values: `+string(tags)+`}, resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		return nil, fmt.Errorf("decode axe-core result: %w", err)
	}
	return vs, nil
}

// CSPViolations returns the Content-Security-Policy violations the current document reported.
func CSPViolations(ctx context.Context) ([]string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__cspViolations || []`))
}

// AXNode is a node of the accessibility tree, reduced to what the tests look at.
type AXNode struct {
	Role    string
	Name    string
	Live    string // the live property: "polite", "assertive" or ""
	Ignored bool
}

// AXTree returns the nodes of the full accessibility tree of the current page
// (CDP Accessibility.getFullAXTree), in document order.
func AXTree(ctx context.Context) ([]AXNode, error) {
	res, err := chromedp.Call(ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		return nil, err
	}
	str := func(v *accessibility.Value) string {
		if v == nil || len(v.Value) == 0 {
			return ""
		}
		var s string
		if json.Unmarshal([]byte(v.Value), &s) != nil {
			return strings.Trim(string(v.Value), `"`)
		}
		return s
	}
	nodes := make([]AXNode, 0, len(res.Nodes))
	for _, n := range res.Nodes {
		an := AXNode{Role: str(n.Role), Name: str(n.Name), Ignored: n.Ignored}
		for _, p := range n.Properties {
			if p.Name == "live" {
				an.Live = str(p.Value)
			}
		}
		nodes = append(nodes, an)
	}
	return nodes, nil
}

// LiveText returns the text inside the first live region of the page with the given role
// ("status" or "alert"), and whether there is one.
func LiveText(ctx context.Context, role string) (string, bool, error) {
	type out struct {
		Found bool   `json:"found"`
		Text  string `json:"text"`
	}
	o, err := chromedp.Run(ctx, chromedp.Evaluate[out](fmt.Sprintf(
		`(() => { const e = document.querySelector('[role=%q]'); return {found: !!e, text: e ? e.textContent.trim() : ''}; })()`, role)))
	return o.Text, o.Found, err
}

// Focused describes document.activeElement: its id, tag, class and text, for checks and for
// failure messages.
type Focused struct {
	ID    string `json:"id"`
	Tag   string `json:"tag"`
	Class string `json:"class"`
	Text  string `json:"text"`
	Value string `json:"value"`
	Href  string `json:"href"`
	Type  string `json:"type"`    // the type attribute of an input
	Check bool   `json:"checked"` // whether a checkbox or radio is checked
}

func (f Focused) String() string {
	s := strings.ToLower(f.Tag)
	if f.ID != "" {
		s += "#" + f.ID
	}
	if f.Class != "" {
		s += "." + strings.ReplaceAll(f.Class, " ", ".")
	}
	return fmt.Sprintf("%s %q", s, f.Text)
}

// ActiveElement returns the focused element of the current page.
func ActiveElement(ctx context.Context) (Focused, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[Focused](`(() => { const e = document.activeElement || document.body;
return {id: e.id || '', tag: e.tagName || '', class: (typeof e.className === 'string' ? e.className : ''), text: (e.innerText || e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 80), value: e.value || '', href: e.getAttribute && (e.getAttribute('href') || '') || '', type: e.type || '', checked: !!e.checked}; })()`))
}

// WaitHeadingFocus waits until the page has loaded and its h1#page-heading has the focus, as
// it should after every redirect that ends in #page-heading; it returns the focused element
// and an error when that does not happen within two seconds.
func WaitHeadingFocus(ctx context.Context) (Focused, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.readyState === 'complete' && !!document.activeElement && document.activeElement.id === 'page-heading'`))
		if err == nil && ok {
			return ActiveElement(ctx)
		}
		if time.Now().After(deadline) {
			f, ferr := ActiveElement(ctx)
			if ferr != nil {
				return f, ferr
			}
			return f, fmt.Errorf("focus is on %s, not on h1#page-heading", f)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Press sends one key (kb.Tab, kb.Enter, " ") as the browser's key events and waits for a
// navigation it starts to finish loading when navigates is true.
func Press(ctx context.Context, key string, navigates bool) error {
	if !navigates {
		return chromedp.Do(ctx, chromedp.KeyEvent(key))
	}
	_, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(key)))
	return err
}

// TabTo presses Tab until the focused element satisfies match, at most limit times, and
// returns the elements focused on the way (the Tab sequence).
func TabTo(ctx context.Context, limit int, match func(Focused) bool) ([]Focused, error) {
	var seq []Focused
	for range limit {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			return seq, err
		}
		f, err := ActiveElement(ctx)
		if err != nil {
			return seq, err
		}
		seq = append(seq, f)
		if match(f) {
			return seq, nil
		}
	}
	return seq, fmt.Errorf("no match after %d Tab presses; focus went %v", limit, seq)
}

// OutlineWidth returns the computed outline width, in CSS pixels, of the focused element: the
// focus ring that WCAG 2.4.7 asks for (the reference wants 3px; 2px is the floor).
func OutlineWidth(ctx context.Context) (float64, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth) || 0; })()`))
}

// TextSpacingClipped applies the WCAG 1.4.12 text spacing (line height 1.5, paragraph spacing
// 2em, letter spacing 0.12em, word spacing 0.16em) to every element through the CSSOM, which a
// strict CSP allows, and returns the controls and text blocks whose content no longer fits
// their box (scroll size larger than client size), described for a failure message.
func TextSpacingClipped(ctx context.Context) ([]string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
for (const e of document.querySelectorAll('body *')) {
  e.style.setProperty('line-height', '1.5', 'important');
  e.style.setProperty('letter-spacing', '0.12em', 'important');
  e.style.setProperty('word-spacing', '0.16em', 'important');
  if (e.tagName === 'P') e.style.setProperty('margin-bottom', '2em', 'important');
}
const out = [];
for (const e of document.querySelectorAll('a, button, label, h1, h2, p, dt, dd, li, legend, div, fieldset')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || getComputedStyle(e).display === 'inline') continue;
  if (e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1) {
    out.push(e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' "' + e.textContent.trim().slice(0, 40) + '" ' +
      e.scrollWidth + 'x' + e.scrollHeight + ' in ' + e.clientWidth + 'x' + e.clientHeight);
  }
}
if (document.documentElement.scrollWidth > document.documentElement.clientWidth) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth);
return out;
})()`))
}

// ScreenshotDir returns the folder for screenshots: $KAKAOAUTH_SCREENSHOTS, else
// testdata/screenshots in the test's package folder (git-ignored). It creates the folder.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KAKAOAUTH_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot folder: %v", err)
	}
	return dir
}

// Screenshot writes a PNG of the whole current page to dir/name.png.
func Screenshot(ctx context.Context, dir, name string) error {
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
}

// Overflow returns document.documentElement.scrollWidth and clientWidth; at a 320px viewport
// scrollWidth must not exceed 320 (reflow, WCAG 1.4.10).
func Overflow(ctx context.Context) (scrollWidth, clientWidth int64, err error) {
	type sizes struct {
		S int64 `json:"s"`
		C int64 `json:"c"`
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[sizes](`({s: document.documentElement.scrollWidth, c: document.documentElement.clientWidth})`))
	return s.S, s.C, err
}

// Keys re-exports the keys the tests use, so callers need not import chromedp/kb.
const (
	KeyTab   = kb.Tab
	KeyEnter = kb.Enter
	KeySpace = " "
)
