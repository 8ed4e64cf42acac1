package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

func TestScratchBrowser(t *testing.T) {
	r := newRenderer(t)
	mux := http.NewServeMux()
	mux.Handle("/static/", r.Static())
	mux.HandleFunc("/p/{name}", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		lang := Lang(req)
		for _, pc := range allPages() {
			if pc.name == req.PathValue("name") {
				pc.render(r, w, req, lang)
				return
			}
		}
		http.NotFound(w, req)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	axe, err := os.ReadFile("/work/main/.cache/axe/node_modules/axe-core/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll("/tmp/shots", 0o755)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__csp=[];document.addEventListener('securitypolicyviolation',e=>window.__csp.push(e.violatedDirective+' '+e.blockedURI))`}); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 4*time.Minute)
	defer tcancel()
	for _, pc := range allPages() {
		for _, lang := range []string{"ko", "en"} {
			for _, width := range []int64{1280, 320} {
				for _, scheme := range []string{"light", "dark"} {
					name := fmt.Sprintf("%s.%s.%d.%s", pc.name, lang, width, scheme)
					if _, err := chromedp.Call(tctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
						t.Fatal(err)
					}
					if err := chromedp.Do(tctx, chromedp.EmulateViewport(width, 800), chromedp.Navigate(srv.URL+"/p/"+pc.name+"?lang="+lang), chromedp.Evaluate[chromedp.Void](string(axe))); err != nil {
						t.Fatal(err)
					}
					res, err := chromedp.Run(tctx, chromedp.Evaluate[string](`axe.run(document,{runOnly:{type:'tag',values:['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa','best-practice']}}).then(r=>JSON.stringify(r.violations.map(v=>({id:v.id,nodes:v.nodes.map(n=>n.target.join(' ')+' '+n.failureSummary)}))))`, chromedp.EvalAwaitPromise))
					if err != nil {
						t.Fatal(err)
					}
					sw, _ := chromedp.Run(tctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
					csp, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.stringify(window.__csp)`))
					buf, _ := chromedp.Run(tctx, chromedp.FullScreenshot(100))
					os.WriteFile("/tmp/shots/"+name+".png", buf, 0o644)
					if res != "[]" {
						t.Errorf("%s: axe %s", name, res)
					}
					if sw > width {
						t.Errorf("%s: scrollWidth %d", name, sw)
					}
					if csp != "[]" {
						t.Errorf("%s: csp %s", name, csp)
					}
				}
			}
		}
	}
}
