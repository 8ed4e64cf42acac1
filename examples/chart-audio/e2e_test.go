package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// stack is a real kakaoauth (with the Kakao emulator) and the chart service in front of it,
// both on 127.0.0.1: a browser sends kakaoauth's cookies to both, as cookies ignore ports.
type stack struct {
	auth *servertest.Server
	URL  string // the chart service's page, ending in "/"
}

func startStack(t *testing.T) *stack {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	page := "http://" + ts.Listener.Addr().String() + "/"
	auth := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.ReturnTo = []string{page, page + "?lang=en"} }))
	protect, err := Protector(context.Background(), auth.BaseURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = NewHandler(Config{
		Issuer: auth.BaseURL, PublicURL: page, Protect: protect, Catalog: catalog,
		Sound: DefaultSound, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ts.Start()
	t.Cleanup(ts.Close)
	return &stack{auth: auth, URL: page}
}

// get fetches path of the chart service with the Bearer token (none when empty) through c.
func (s *stack) get(t *testing.T, c *http.Client, path, bearer string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", strings.TrimSuffix(s.URL, "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

func TestE2E_WAVWithToken(t *testing.T) {
	s := startStack(t)
	access, _ := s.auth.SPASignIn(t, 4217730412856391024)
	r, b := s.get(t, http.DefaultClient, "/charts/HANBIT.wav", access)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("GET .wav: %d %q, want 200 audio/wav", r.StatusCode, r.Header.Get("Content-Type"))
	}
	d, samples := decode(t, b)
	if string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Errorf("header %q…%q, want RIFF…WAVE", b[:4], b[8:12])
	}
	dur := seconds(d, samples)
	if d.SampleRate != 22050 || d.NumChans != 1 || d.BitDepth != 16 || len(samples) != 60*3969 || math.Abs(dur-10.8) > 1.0/22050 {
		t.Errorf("%d Hz, %d channels, %d bits, %d samples, %.6fs; want 22050 Hz mono 16-bit, 60 days × 3969 samples = 10.8s",
			d.SampleRate, d.NumChans, d.BitDepth, len(samples), dur)
	}
}

func TestE2E_SummaryMatchesTheData(t *testing.T) {
	s := startStack(t)
	access, _ := s.auth.SPASignIn(t, 4217730412856391024)
	for _, file := range []string{"bada.json", "hanbit.json", "soop.json"} {
		raw := rawSeries(t, file)
		r, b := s.get(t, http.DefaultClient, "/charts/"+strings.ToLower(raw.Symbol), access)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %q %s", file, r.StatusCode, r.Header.Get("Content-Type"), b)
		}
		var got Summary
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		start, end, high, low, pct := wantSummary(raw)
		if got.Symbol != raw.Symbol || got.Name != raw.Name || got.Start != start || got.End != end || got.High != high || got.Low != low || got.ChangePercent != pct || got.Days != len(raw.Prices) {
			t.Errorf("%s: got %+v; want start %v end %v high %v low %v change %v over %d days", file, got, start, end, high, low, pct, len(raw.Prices))
		}
		if got.AudioURL != "/charts/"+raw.Symbol+".wav" || got.Text.Ko == "" || got.Text.En == "" {
			t.Errorf("%s: audio_url %q, summary %+v", file, got.AudioURL, got.Text)
		}
	}
}

func TestE2E_401WithoutAValidToken(t *testing.T) {
	s := startStack(t)
	access, _ := s.auth.SPASignIn(t, 4217730412856391024)
	forged := access[:len(access)-4] + "AAAA"
	for _, c := range []struct{ name, path, token string }{
		{"WAV without a token", "/charts/HANBIT.wav", ""},
		{"summary without a token", "/charts/HANBIT", ""},
		{"unknown symbol without a token", "/charts/NOPE", ""},
		{"WAV with a forged signature", "/charts/HANBIT.wav", forged},
		{"summary with a refresh token", "/charts/HANBIT", "kar_not-an-access-token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, b := s.get(t, http.DefaultClient, c.path, c.token)
			if r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%d, WWW-Authenticate %q, want 401 with a Bearer challenge", r.StatusCode, r.Header.Get("WWW-Authenticate"))
			}
			if strings.HasPrefix(string(b), "RIFF") || strings.Contains(string(b), "summary") {
				t.Errorf("the refusal carries the chart: %.80q", b)
			}
		})
	}
}

func TestE2E_UnknownSymbolIs404JSON(t *testing.T) {
	s := startStack(t)
	access, _ := s.auth.SPASignIn(t, 4217730412856391024)
	for _, path := range []string{"/charts/NOPE", "/charts/NOPE.wav", "/charts/.wav", "/charts/HANBIT.mp3"} {
		r, b := s.get(t, http.DefaultClient, path, access)
		var body map[string]string
		if err := json.Unmarshal(b, &body); err != nil || r.StatusCode != 404 || body["error"] != "not_found" || body["error_description"] == "" {
			t.Errorf("%s: %d %s (%v), want 404 JSON not_found", path, r.StatusCode, b, err)
		}
	}
}

var loginLink = regexp.MustCompile(`class="kakao-login" href="([^"]+)"`)

func TestE2E_BrowserLoginWithCookies(t *testing.T) {
	s := startStack(t)
	c := servertest.NewBrowser(t)
	r, b := s.get(t, c, "/", "")
	m := loginLink.FindStringSubmatch(string(b))
	if r.StatusCode != 200 || m == nil || strings.Contains(string(b), `<select`) || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("signed-out page: %d, WWW-Authenticate %q: %.600s", r.StatusCode, r.Header.Get("WWW-Authenticate"), b)
	}
	login := strings.ReplaceAll(m[1], "&amp;", "&")
	if want := s.auth.BaseURL + "/auth/kakao/login?return_to=" + url.QueryEscape(s.URL); login != want {
		t.Errorf("login link %q, want %q", login, want)
	}
	// 카카오 로그인 → the emulator's consent page → kakaoauth's callback → back to the page.
	r, err := c.Get(login)
	if err != nil {
		t.Fatal(err)
	}
	r = servertest.Consent(t, c, r, servertest.UserWithEmail, "agree")
	page := servertest.ReadBody(t, r)
	if r.Request.URL.String() != s.URL || !strings.Contains(page, `<select id="symbol" name="symbol">`) {
		t.Fatalf("after the login: %s %d: %.600s", r.Request.URL, r.StatusCode, page)
	}
	// Without JavaScript the form reloads the page with the summary and the sound.
	r, b = s.get(t, c, "/?symbol=HANBIT", "")
	want := Summarize(catalogSeries(t, "HANBIT"))
	for _, part := range []string{
		`role="status" data-failed="요약을 불러오지 못했습니다. 잠시 후 다시 시도해 주세요.">` + want.Text.Ko + `</p>`,
		`<audio id="chart-audio" controls preload="none" src="/charts/HANBIT.wav" aria-label="한빛전자 차트 소리"`,
		`<option value="HANBIT" selected>`,
	} {
		if !strings.Contains(string(b), part) {
			t.Errorf("the page with a chosen symbol lacks %q: %s", part, b)
		}
	}
	// The audio element's request carries the access cookie.
	r, b = s.get(t, c, "/charts/HANBIT.wav", "")
	if r.StatusCode != 200 || string(b[:4]) != "RIFF" {
		t.Errorf("WAV with the access cookie: %d %.20q", r.StatusCode, b)
	}
	// An unknown symbol on the page is said in words, with an error title.
	_, b = s.get(t, c, "/?symbol=NOPE", "")
	if !strings.Contains(string(b), "<title>오류: 주식 차트 듣기 | 차트 듣기 예시</title>") || !strings.Contains(string(b), texts["ko"]["unknown"]) {
		t.Errorf("unknown symbol page: %s", b)
	}
}

func TestRun_ServesUntilCancelled(t *testing.T) {
	auth := servertest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	var stdout strings.Builder
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, env{"CHARTAUDIO_ISSUER": auth.BaseURL}.get, &stdout, io.Discard, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	r, err := http.Get("http://" + addr + "/static/chart.css")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Errorf("GET /static/chart.css: %d", r.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
	if !strings.Contains(stdout.String(), "open http://"+addr+"/") {
		t.Errorf("stdout %q does not say where to open the page", stdout.String())
	}
}

func TestRun_RefusesAnUnreachableIssuer(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler()) // no discovery document here
	defer ts.Close()
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-issuer", ts.URL}, env{}.get, io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "kakaoauth at "+ts.URL) {
		t.Errorf("run: %v, want an error naming the issuer", err)
	}
	if err := run(context.Background(), []string{"extra"}, env{}.get, io.Discard, io.Discard, nil); err == nil {
		t.Error("run accepted an unexpected argument")
	}
}

// env is a fake environment for run.
type env map[string]string

func (e env) get(k string) string { return e[k] }
