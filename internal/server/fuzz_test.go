package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// Fuzz targets for what a client sends: the callback query, every JSON body, cookies and the
// unlink webhook form. Each runs the whole handler (middleware, decoders, the store on a SQLite
// file, the Kakao emulator behind it) in process and checks the invariants every request keeps:
// no panic, never a 5xx for client input, every error answered as JSON {error,
// error_description} or a page, and no Set-Cookie that sets a session on a failed request.
// `go test` runs the seeds (f.Add and testdata/fuzz/FuzzXxx); `go test -fuzz=^FuzzXxx$` explores.

// fuzzServer is the server a fuzz target sends its inputs to.
type fuzzServer struct {
	s    *servertest.Server
	host string
}

func startFuzzServer(f *testing.F) *fuzzServer {
	// One server per target (and per fuzz worker process); it stops when the target ends.
	s := servertest.Start(f)
	u, _ := url.Parse(s.BaseURL)
	return &fuzzServer{s: s, host: u.Host}
}

// serve runs one request through the server's handler, without a socket.
func (fs *fuzzServer) serve(req *http.Request) *httptest.ResponseRecorder {
	req.Host = fs.host
	req.RemoteAddr = "192.0.2.10:4711"
	w := httptest.NewRecorder()
	fs.s.App.Server.ServeHTTP(w, req)
	return w
}

// checkAnswer asserts the invariants of any answer to client input.
func checkAnswer(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s: status %d for client input: %.300s", what, w.Code, w.Body.String())
	}
	ct := w.Header().Get("Content-Type")
	if w.Code >= 400 && strings.HasPrefix(ct, "application/json") {
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: %d error body is not JSON: %.300s", what, w.Code, w.Body.String())
		}
		if s, _ := m["error"].(string); s == "" {
			t.Fatalf("%s: %d error body without error code: %.300s", what, w.Code, w.Body.String())
		}
	}
	if w.Code >= 400 {
		for _, c := range w.Result().Cookies() {
			if (c.Name == "accessToken" || c.Name == "refreshToken") && c.Value != "" && c.MaxAge >= 0 {
				t.Fatalf("%s: %d sets session cookie %s", what, w.Code, c.Name)
			}
		}
	}
}

// jsonRoutes are the routes that read a JSON body, by index (the fuzzer picks one).
var jsonRoutes = []struct{ method, path string }{
	{"POST", "/auth/kakao/token"},
	{"POST", "/auth/kakao/sdk"},
	{"POST", "/auth/token/refresh"},
	{"POST", "/auth/token/verify"},
	{"POST", "/auth/logout"},
	{"DELETE", "/auth/me"},
}

// FuzzJSONBodies sends any bytes as the JSON body of every route that reads one.
func FuzzJSONBodies(f *testing.F) {
	spa := servertest.SPARedirect
	for i := range jsonRoutes {
		for _, b := range []string{
			`{}`, `{"code":"x","redirect_uri":"` + spa + `"}`,
			`{"code":"bogus","code":"good","redirect_uri":"` + spa + `"}`,
			`{"CODE":"x","redirect_uri":"` + spa + `"}`,
			`{"code":"x","redirect_uri":"` + spa + `","code_verifier":"` + strings.Repeat("a", 43) + `","nonce":"n"}`,
			`{"access_token":"x","id_token":"a.b.c","nonce":"n"}`,
			`{"refresh":"kar_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
			`{"Refresh":"x"}`, `{"token":"a.b.c"}`, `{"refresh":123}`, `{}{}`, `[]`, `null`, `"x"`,
			`{"refresh":"a\u0000b"}`, "{\"refresh\":\"\xff\"}", `{"token":"` + strings.Repeat("x", 9000) + `"}`,
		} {
			f.Add(uint8(i), "application/json", []byte(b))
		}
	}
	f.Add(uint8(0), "application/json; charset=utf-8", []byte(`{"code":1}`))
	f.Add(uint8(2), "text/plain", []byte(`{"refresh":"x"}`))
	f.Add(uint8(2), "application/x-www-form-urlencoded", []byte(`refresh=x`))
	fs := startFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, ctype string, body []byte) {
		rt := jsonRoutes[int(route)%len(jsonRoutes)]
		req := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
		if ctype != "" {
			req.Header["Content-Type"] = []string{ctype}
		}
		w := fs.serve(req)
		checkAnswer(t, rt.method+" "+rt.path, w)
		if w.Code == 200 && rt.path != "/auth/token/verify" {
			// Nothing here is a valid credential: only verify may answer 200 (never, with
			// these bodies, since no seed carries a token we signed), and logout 204.
			t.Fatalf("%s %s answered 200 to a fuzzed body %q", rt.method, rt.path, body)
		}
	})
}

// FuzzCallbackQuery sends any query (and any flow cookie) to the browser callback.
func FuzzCallbackQuery(f *testing.F) {
	for _, q := range []string{
		"", "code=X", "state=" + strings.Repeat("A", 43), "code=X&state=" + strings.Repeat("A", 43),
		"code=X&state=a&state=b", "code=a&code=b&state=s", "error=access_denied&error_description=%3Cscript%3E&state=s",
		"error=consent_required&state=s", "code=X&state=s&return_to=https://evil.example",
		"%zz", "code=%00&state=%ff", ";;;&&&==",
	} {
		f.Add(q, "")
		f.Add(q, "kakaoauth-flow=AAAA")
	}
	fs := startFuzzServer(f)
	f.Fuzz(func(t *testing.T, query, cookie string) {
		req := httptest.NewRequest("GET", "/auth/kakao/callback", nil)
		req.URL.RawQuery = query
		if cookie != "" {
			req.Header["Cookie"] = []string{cookie}
		}
		w := fs.serve(req)
		checkAnswer(t, "callback", w)
		if w.Code == http.StatusSeeOther {
			// Without a flow cookie this server sealed, a callback never signs anyone in.
			loc := w.Header().Get("Location")
			if !strings.Contains(loc, "/auth/error") && !strings.HasPrefix(loc, fs.s.EmulatorURL) {
				t.Fatalf("callback %q redirected to %q", query, loc)
			}
		}
		for _, c := range w.Result().Cookies() {
			if (c.Name == "accessToken" || c.Name == "refreshToken") && c.Value != "" {
				t.Fatalf("callback %q set %s", query, c.Name)
			}
		}
	})
}

// FuzzCookies sends any Cookie header to the routes that read cookies.
func FuzzCookies(f *testing.F) {
	for _, c := range []string{
		"", "accessToken=x", "accessToken=a.b.c; refreshToken=kar_x; csrfToken=y",
		"refreshToken=kar_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; csrfToken=a",
		"accessToken=1; accessToken=2", "=; ;=;", "accessToken=\"quoted\"", "lang=en; kakaoauth-flow=zz",
		"accessToken=" + strings.Repeat("A", 5000),
	} {
		f.Add(uint8(0), c, "")
		f.Add(uint8(1), c, "y")
	}
	routes := []struct{ method, path string }{
		{"GET", "/auth/me"}, {"POST", "/auth/token/refresh"}, {"POST", "/auth/logout"},
		{"GET", "/auth/sessions"}, {"GET", "/"}, {"GET", "/account/delete"}, {"DELETE", "/auth/me"},
	}
	fs := startFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, cookie, csrf string) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequest(rt.method, rt.path, nil)
		req.Header["Cookie"] = []string{cookie}
		req.Header["Origin"] = []string{"http://" + fs.host}
		if csrf != "" {
			req.Header["X-Csrf-Token"] = []string{csrf}
		}
		w := fs.serve(req)
		checkAnswer(t, rt.method+" "+rt.path, w)
		if rt.path != "/" && rt.path != "/account/delete" && rt.method != "POST" && w.Code < 300 {
			t.Fatalf("%s %s answered %d to cookie %q", rt.method, rt.path, w.Code, cookie)
		}
	})
}

// FuzzWebhookForm sends any form body, query and Authorization to the unlink webhook.
func FuzzWebhookForm(f *testing.F) {
	good := servertest.HookParams(4217730412856391099, "UNLINK_FROM_APPS").Encode()
	for _, b := range []string{
		good, "app_id=1&user_id=2", "app_id=" + servertest.DevAppID + "&user_id=-1",
		"app_id=" + servertest.DevAppID + "&user_id=01", "app_id=" + servertest.DevAppID + "&user_id=99999999999999999999",
		"%zz", "app_id=a&app_id=b", "user_id=" + strings.Repeat("9", 500),
	} {
		f.Add(b, "", true)
		f.Add("", b, true)
		f.Add(b, "", false)
	}
	fs := startFuzzServer(f)
	adminKey := fs.s.Config.AdminKey
	f.Fuzz(func(t *testing.T, body, query string, withKey bool) {
		method := "POST"
		if body == "" {
			method = "GET"
		}
		req := httptest.NewRequest(method, "/auth/kakao/webhook/unlink", strings.NewReader(body))
		req.URL.RawQuery = query
		if method == "POST" {
			req.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
		}
		if withKey {
			req.Header["Authorization"] = []string{"KakaoAK " + adminKey}
		}
		w := fs.serve(req)
		checkAnswer(t, "webhook", w)
		if !withKey && w.Code != http.StatusUnauthorized {
			t.Fatalf("webhook without the admin key answered %d", w.Code)
		}
	})
}
