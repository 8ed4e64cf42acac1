package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestBadInput_74_75: every malformed request gets a clear 4xx in JSON, never a 500; unknown
// paths and methods answer JSON too.
func TestBadInput_74_75(t *testing.T) {
	s := servertest.Start(t)
	send := func(path, ctype, body string) (int, map[string]any) {
		hdr := map[string]string{}
		if ctype != "" {
			hdr["Content-Type"] = ctype
		}
		r := servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+path, hdr, body)
		raw := servertest.ReadBody(t, r)
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("%s: %d non-JSON error %.200s", path, r.StatusCode, raw)
		}
		return r.StatusCode, m
	}
	big := `{"refresh":"` + strings.Repeat("a", 1<<20) + `"}`
	spa := servertest.SPARedirect
	cases := []struct {
		name, path, ctype, body string
		status                  int
		code                    string
	}{
		{"74 oversized", "/auth/token/refresh", "application/json", big, 413, "request_too_large"},
		{"74 oversized token", "/auth/kakao/token", "application/json", big, 413, "request_too_large"},
		{"truncated", "/auth/token/refresh", "application/json", `{"refresh":`, 400, "invalid_request"},
		{"two objects", "/auth/token/refresh", "application/json", `{}{}`, 400, "invalid_request"},
		{"wrong type", "/auth/token/refresh", "application/json", `{"refresh":123}`, 400, "invalid_request"},
		{"unknown field", "/auth/token/refresh", "application/json", `{"refresh_token":"x"}`, 400, "invalid_request"},
		{"array", "/auth/kakao/token", "application/json", `{"code":["a","b"],"redirect_uri":"x"}`, 400, "invalid_request"},
		{"NUL", "/auth/kakao/token", "application/json", `{"code":"a\u0000b","redirect_uri":"` + spa + `"}`, 400, "invalid_request"},
		{"form", "/auth/token/refresh", "application/x-www-form-urlencoded", "refresh=x", 415, "unsupported_media"},
		{"text", "/auth/kakao/token", "text/plain", `{"code":"x"}`, 415, "unsupported_media"},
		{"no type", "/auth/token/verify", "", `{"token":"x"}`, 415, "unsupported_media"},
		{"empty code", "/auth/kakao/token", "application/json", `{"code":"","redirect_uri":"` + spa + `"}`, 400, "invalid_request"},
		{"redirect not allowed", "/auth/kakao/token", "application/json", `{"code":"x","redirect_uri":"https://evil.example/cb"}`, 400, "invalid_request"},
		{"bad verifier", "/auth/kakao/token", "application/json", `{"code":"x","redirect_uri":"` + spa + `","code_verifier":"short"}`, 400, "invalid_request"},
		{"garbage token", "/auth/token/verify", "application/json", `{"token":"a.b.c"}`, 401, "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, m := send(tc.path, tc.ctype, tc.body)
			if st != tc.status || m["error"] != tc.code || m["error_description"] == "" {
				t.Fatalf("got %d %v, want %d %s", st, m, tc.status, tc.code)
			}
		})
	}
	// Unknown paths and methods answer JSON too.
	r, m := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/nope", "")
	if r.StatusCode != 404 || m["error"] != "not_found" {
		t.Errorf("unknown path: %d %v", r.StatusCode, m)
	}
	r, m = servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/refresh", "")
	if r.StatusCode != 405 || m["error"] != "method_not_allowed" || r.Header.Get("Allow") == "" {
		t.Errorf("GET refresh: %d %v", r.StatusCode, m)
	}
	// English by Accept-Language.
	r = servertest.Do(t, http.DefaultClient, "GET", s.BaseURL+"/auth/me", map[string]string{"Accept-Language": "en-US,en;q=0.9"}, "")
	var em map[string]any
	json.Unmarshal([]byte(servertest.ReadBody(t, r)), &em)
	if r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" || em["error"] != "unauthorized" {
		t.Errorf("/auth/me without token: %d %v", r.StatusCode, em)
	}
}

// TestCORS_57_Preflight: a preflight is answered with CORS headers only for an allowed origin,
// never for another or the null origin.
func TestCORS_57_Preflight(t *testing.T) {
	s := servertest.Start(t)
	pre := func(origin string) *http.Response {
		r := servertest.Do(t, http.DefaultClient, "OPTIONS", s.BaseURL+"/auth/token/refresh", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST",
		}, "")
		servertest.ReadBody(t, r)
		return r
	}
	if r := pre("https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from evil origin allowed: %v", r.Header)
	}
	if r := pre("null"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from null origin allowed")
	}
	if r := pre("http://localhost:3000"); r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight from allowed origin: %d %v", r.StatusCode, r.Header)
	}
}
