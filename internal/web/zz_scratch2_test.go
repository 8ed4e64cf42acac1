package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func TestScratchFocus(t *testing.T) {
	r := newRenderer(t)
	mux := http.NewServeMux()
	mux.Handle("/static/", r.Static())
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) { r.Login(w, req, 200, LoginPage{}) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	for _, mode := range []string{"none", "active"} {
		for _, scheme := range []string{"light", "dark"} {
			chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "forced-colors", Value: mode}, {Name: "prefers-color-scheme", Value: scheme}}})
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(400, 300), chromedp.Navigate(srv.URL+"/"), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab)); err != nil {
				t.Fatal(err)
			}
			id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className`))
			t.Log(mode, scheme, id)
			buf, err := chromedp.Run(ctx, chromedp.ScreenshotScale(chromedp.CSS("main"), 2))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile("/tmp/shots/focus-"+mode+"-"+scheme+".png", buf, 0o644)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	buf, _ := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	os.WriteFile("/tmp/shots/skip.png", buf, 0o644)
}
