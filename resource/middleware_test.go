package resource_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/go-jose/go-jose/v4"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/resource"
)

// checkAnswer checks an error answer: its status, its WWW-Authenticate challenge (exactly), and
// its JSON body's error code; it returns the body's error_description.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, status int, challenge, code string) string {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status %d, want %d (body %s)", rec.Code, status, rec.Body)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != challenge {
		t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error != code || body.Description == "" {
		t.Errorf("body %s (%v), want {error: %q, error_description: …}", rec.Body, err, code)
	}
	// Korean first, then the English of the challenge in parentheses.
	ko, _, _ := strings.Cut(body.Description, " (")
	if !strings.ContainsFunc(ko, func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) || !strings.HasSuffix(body.Description, ")") {
		t.Errorf("error_description %q, want Korean first, then (English)", body.Description)
	}
	if _, en, ok := strings.Cut(challenge, `error_description="`); ok {
		en, _, _ = strings.Cut(en, `"`)
		if !strings.Contains(body.Description, "("+en) {
			t.Errorf("error_description %q lacks the challenge's %q", body.Description, en)
		}
	}
	return body.Description
}

// whoAmI answers the caller's user id and scopes, as read from the context.
var whoAmI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := resource.FromContext(r.Context())
	if !ok {
		http.Error(w, "no claims in the context", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "%s %s", c.UserID, strings.Join(c.Scopes, ","))
})

// serve runs one request with header values (name: value) through h.
func serve(h http.Handler, target string, header map[string][]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", target, nil)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMiddleware(t *testing.T) {
	ti := newTestIssuer()
	defer ti.Close()
	v := newVerifier(t, resource.Config{Issuer: ti.URL, Cookie: "accessToken"})
	headerOnly := newVerifier(t, resource.Config{Issuer: ti.URL})
	good := ti.token(nil)
	expired := ti.token(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	const invalidChallenge = `Bearer error="invalid_token", error_description="`
	type hdr = map[string][]string
	tests := []struct {
		name      string
		v         *resource.Verifier
		target    string
		header    hdr
		status    int
		challenge string // for errors; "" then means the answer passes
		code      string
	}{
		{"Bearer header", v, "/", hdr{"Authorization": {"Bearer " + good}}, 200, "", ""},
		{"scheme in lower case", v, "/", hdr{"Authorization": {"bearer " + good}}, 200, "", ""},
		{"cookie", v, "/", hdr{"Cookie": {"accessToken=" + good}}, 200, "", ""},
		{"header before cookie", v, "/", hdr{"Authorization": {"Bearer " + good}, "Cookie": {"accessToken=" + expired}}, 200, "", ""},
		{"no token", v, "/", nil, 401, "Bearer", "unauthorized"},
		{"cookie not configured", headerOnly, "/", hdr{"Cookie": {"accessToken=" + good}}, 401, "Bearer", "unauthorized"},
		{"token in the query string", v, "/?access_token=" + good, nil, 401, "Bearer", "unauthorized"},
		{"Basic credentials", v, "/", hdr{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401, "Bearer", "unauthorized"},
		{"37 expired", v, "/", hdr{"Authorization": {"Bearer " + expired}}, 401, invalidChallenge + `token expired"`, "invalid_token"},
		{"expired cookie", v, "/", hdr{"Cookie": {"accessToken=" + expired}}, 401, invalidChallenge + `token expired"`, "invalid_token"},
		{"garbage", v, "/", hdr{"Authorization": {"Bearer not-a-jwt"}}, 401, invalidChallenge + `not a signed JWT (compact JWS)"`, "invalid_token"},
		{"empty Bearer", v, "/", hdr{"Authorization": {"Bearer "}}, 401, invalidChallenge + `empty Bearer token"`, "invalid_token"},
		{"two Authorization headers", v, "/", hdr{"Authorization": {"Bearer " + good, "Bearer " + expired}}, 401, invalidChallenge + `more than one Authorization header"`, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(tt.v.Middleware(whoAmI), tt.target, tt.header)
			if tt.challenge == "" {
				if rec.Code != tt.status || rec.Body.String() != "user-1 " {
					t.Errorf("answer %d %q, want %d %q", rec.Code, rec.Body, tt.status, "user-1 ")
				}
				return
			}
			checkAnswer(t, rec, tt.status, tt.challenge, tt.code)
		})
	}
}

func TestRequireScopes(t *testing.T) {
	ti := newTestIssuer()
	defer ti.Close()
	v := newVerifier(t, resource.Config{Issuer: ti.URL})
	scoped := ti.sign(jose.RS256, rsaKID, "at+jwt", ti.claims(map[string]any{"client_id": "chart-audio", "scope": "chart:read chart:listen"}))
	own := ti.token(nil) // like kakaoauth's own tokens: no scope
	bearer := func(tok string) map[string][]string { return map[string][]string{"Authorization": {"Bearer " + tok}} }
	const denied = `Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="chart:read chart:write"`

	tests := []struct {
		name      string
		h         http.Handler
		token     string
		status    int
		challenge string
	}{
		{"has the scope", v.Middleware(v.RequireScopes("chart:listen")(whoAmI)), scoped, 200, ""},
		{"has both scopes", v.Middleware(v.RequireScopes("chart:read", "chart:listen")(whoAmI)), scoped, 200, ""},
		{"lacks one scope", v.Middleware(v.RequireScopes("chart:read", "chart:write")(whoAmI)), scoped, 403, denied},
		{"kakaoauth's own token has no scopes", v.Middleware(v.RequireScopes("chart:read", "chart:write")(whoAmI)), own, 403, denied},
		{"alone, has the scope", v.RequireScopes("chart:read")(whoAmI), scoped, 200, ""},
		{"alone, no token", v.RequireScopes("chart:read")(whoAmI), "", 401, "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header map[string][]string
			if tt.token != "" {
				header = bearer(tt.token)
			}
			rec := serve(tt.h, "/", header)
			switch {
			case tt.status == 200:
				if rec.Code != 200 || rec.Body.String() != "user-1 chart:read,chart:listen" {
					t.Errorf("answer %d %q, want 200 with the claims", rec.Code, rec.Body)
				}
			case tt.status == 403:
				desc := checkAnswer(t, rec, 403, tt.challenge, "insufficient_scope")
				if !strings.Contains(desc, "chart:read chart:write") {
					t.Errorf("error_description %q does not name the scopes", desc)
				}
			default:
				checkAnswer(t, rec, tt.status, tt.challenge, "unauthorized")
			}
		})
	}
}

// TestMiddlewareWithKakaoauth protects a real HTTP API with tokens of a running kakaoauth, in
// the header and in kakaoauth's access cookie, and after a logout with CheckSession.
func TestMiddlewareWithKakaoauth(t *testing.T) {
	s, _ := startKakaoauth(t)
	offline := newVerifier(t, resource.Config{Issuer: s.BaseURL, Cookie: s.Config.AccessCookie})
	online := newVerifier(t, resource.Config{Issuer: s.BaseURL, Cookie: s.Config.AccessCookie, CheckSession: true, SessionCacheTTL: time.Nanosecond})
	mux := http.NewServeMux()
	mux.Handle("GET /offline", offline.Middleware(whoAmI))
	mux.Handle("GET /online", online.Middleware(whoAmI))
	api := httptest.NewServer(mux)
	defer api.Close()
	access, refresh := s.SPASignIn(t, testUser)
	_, me := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/me", access)
	userID := me["user"].(map[string]any)["id"].(string)

	get := func(path string, hdr map[string]string) (int, string, string) {
		t.Helper()
		r := servertest.Do(t, http.DefaultClient, "GET", api.URL+path, hdr, "")
		return r.StatusCode, r.Header.Get("WWW-Authenticate"), servertest.ReadBody(t, r)
	}
	for _, hdr := range []map[string]string{{"Authorization": "Bearer " + access}, {"Cookie": "accessToken=" + access}} {
		for _, path := range []string{"/offline", "/online"} {
			if status, _, body := get(path, hdr); status != 200 || body != userID+" " {
				t.Errorf("GET %s with %v: %d %q, want 200 %q", path, hdr, status, body, userID+" ")
			}
		}
	}
	logout(t, s, refresh)
	bearer := map[string]string{"Authorization": "Bearer " + access}
	if status, _, _ := get("/offline", bearer); status != 200 {
		t.Errorf("offline after logout: %d, want 200 (an offline check cannot see a logout)", status)
	}
	status, challenge, body := get("/online", bearer)
	if want := `Bearer error="invalid_token", error_description="the session has ended (signed out or revoked)"`; status != 401 || challenge != want {
		t.Errorf("online after logout: %d %q %s, want 401 %q", status, challenge, body, want)
	}
}
