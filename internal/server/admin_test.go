package server_test

// The operator's admin API under /admin/, and what disabling a user does to every login flow.

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

const adminToken = "kat_test-admin-token-0123456789"

// startAdmin runs a server whose admin API takes adminToken.
func startAdmin(t *testing.T) *servertest.Server {
	t.Helper()
	sum := sha256.Sum256([]byte(adminToken))
	return servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.AdminTokenSHA256 = sum[:] }))
}

// admin sends an admin API request with token ("" for none) and returns the response and its
// JSON body (nil for an empty one); the answer must match openapi.json.
func admin(t *testing.T, s *servertest.Server, method, path, token string) (*http.Response, map[string]any) {
	t.Helper()
	hdr := map[string]string{}
	if token != "" {
		hdr["Authorization"] = "Bearer " + token
	}
	r, body := loadAPIDoc(t).do(t, s.BaseURL, apiCall{method: method, path: path, hdr: hdr})
	var b map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %.300s", method, path, r.StatusCode, body)
		}
	}
	return r, b
}

func mustAdmin(t *testing.T, s *servertest.Server, method, path string, want int) map[string]any {
	t.Helper()
	r, b := admin(t, s, method, path, adminToken)
	if r.StatusCode != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, r.StatusCode, b, want)
	}
	return b
}

func TestAdmin_OffWithoutToken(t *testing.T) {
	s := servertest.Start(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/admin/users"}, {"GET", "/admin/users/x"}, {"POST", "/admin/users/x/disable"},
		{"DELETE", "/admin/sessions/x"}, {"PUT", "/admin/users"},
	} {
		r := servertest.Do(t, http.DefaultClient, tc.method, s.BaseURL+tc.path, map[string]string{"Authorization": "Bearer " + adminToken}, "")
		b := servertest.Decode(t, r)
		if r.StatusCode != 404 || b["error"] != "not_found" {
			t.Errorf("%s %s with the admin API off: %d %v, want 404 not_found", tc.method, tc.path, r.StatusCode, b)
		}
	}
}

func TestAdmin_67_RefusedWithoutOrWithWrongToken(t *testing.T) {
	s := startAdmin(t)
	_, _, userID := s.SDKSignIn(t, 4217730412856391024)
	for _, tc := range []struct{ name, authz string }{
		{"missing", ""},
		{"wrong", "Bearer " + adminToken + "x"},
		{"prefix", "Bearer " + adminToken[:len(adminToken)-1]},
		{"the hash itself", "Bearer " + strings.Repeat("0", 64)},
		{"another scheme", "Basic " + adminToken},
		{"empty bearer", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.authz != "" {
				hdr["Authorization"] = tc.authz
			}
			for _, path := range []string{"/admin/users", "/admin/users/" + userID + "/disable"} {
				method := "GET"
				if strings.HasSuffix(path, "/disable") {
					method = "POST"
				}
				r := servertest.Do(t, http.DefaultClient, method, s.BaseURL+path, hdr, "")
				b := servertest.Decode(t, r)
				if r.StatusCode != 401 || b["error"] != "unauthorized" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s %s: %d %v WWW-Authenticate %q; want 401 unauthorized with a Bearer challenge",
						method, path, r.StatusCode, b, r.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// Nothing was disabled by the refused requests.
	if u := mustAdmin(t, s, "GET", "/admin/users/"+userID, 200)["user"].(map[string]any); u["disabled_at"] != nil {
		t.Errorf("user after refused requests: %v", u)
	}
}

func TestAdmin_Endpoints(t *testing.T) {
	s := startAdmin(t)
	const minjun, seoyeon = 4217730412856391024, 4217730412856391025
	_, _, minjunID := s.SDKSignIn(t, minjun)
	s.SDKSignIn(t, minjun)
	_, _, seoyeonID := s.SDKSignIn(t, seoyeon)

	// List, newest first, paged with next_cursor.
	b := mustAdmin(t, s, "GET", "/admin/users", 200)
	users := b["users"].([]any)
	if len(users) != 2 || users[0].(map[string]any)["id"] != seoyeonID || b["next_cursor"] != nil {
		t.Fatalf("GET /admin/users = %v; want seoyeon then minjun, no next page", b)
	}
	b = mustAdmin(t, s, "GET", "/admin/users?limit=1", 200)
	if len(b["users"].([]any)) != 1 || b["next_cursor"] != seoyeonID {
		t.Fatalf("limit=1: %v; want one user and next_cursor %s", b, seoyeonID)
	}
	b = mustAdmin(t, s, "GET", "/admin/users?limit=1&cursor="+seoyeonID, 200)
	if u := b["users"].([]any); len(u) != 1 || u[0].(map[string]any)["id"] != minjunID {
		t.Fatalf("second page: %v; want minjun", b)
	}
	for _, bad := range []string{"limit=0", "limit=-1", "limit=x", "query=" + strings.Repeat("a", 201)} {
		if r, b := admin(t, s, "GET", "/admin/users?"+bad, adminToken); r.StatusCode != 400 || b["error"] != "invalid_request" {
			t.Errorf("GET /admin/users?%.20s: %d %v, want 400 invalid_request", bad, r.StatusCode, b)
		}
	}
	// Find by email, Kakao id and nickname.
	for _, q := range []string{"minjun.kim@example.com", "4217730412856391024", "민준"} {
		b := mustAdmin(t, s, "GET", "/admin/users?query="+url.QueryEscape(q), 200)
		if u := b["users"].([]any); len(u) != 1 || u[0].(map[string]any)["id"] != minjunID {
			t.Errorf("query %q: %v; want minjun only", q, b)
		}
	}

	// Show one, with counts.
	u := mustAdmin(t, s, "GET", "/admin/users/"+minjunID, 200)["user"].(map[string]any)
	if u["kakao_id"] != "4217730412856391024" || u["identities"] != 1.0 || u["active_sessions"] != 2.0 || u["disabled_at"] != nil {
		t.Fatalf("GET /admin/users/{id} = %v", u)
	}
	if b := mustAdmin(t, s, "GET", "/admin/users/nobody", 404); b["error"] != "not_found" {
		t.Errorf("unknown user: %v", b)
	}

	// Sessions: list, revoke one.
	ss := mustAdmin(t, s, "GET", "/admin/users/"+minjunID+"/sessions", 200)["sessions"].([]any)
	if len(ss) != 2 {
		t.Fatalf("sessions = %v, want 2", ss)
	}
	sid := ss[0].(map[string]any)["id"].(string)
	mustAdmin(t, s, "DELETE", "/admin/sessions/"+sid, 204)
	if ss := mustAdmin(t, s, "GET", "/admin/users/"+minjunID+"/sessions", 200)["sessions"].([]any); len(ss) != 1 {
		t.Errorf("sessions after revoking one = %v, want 1", ss)
	}
	mustAdmin(t, s, "DELETE", "/admin/sessions/no-such-session", 404)
	mustAdmin(t, s, "GET", "/admin/users/nobody/sessions", 404)

	// Disable and enable answer the user.
	if u := mustAdmin(t, s, "POST", "/admin/users/"+minjunID+"/disable", 200)["user"].(map[string]any); u["disabled_at"] == nil || u["active_sessions"] != 0.0 {
		t.Errorf("disable: %v; want disabled_at set and no session", u)
	}
	if u := mustAdmin(t, s, "POST", "/admin/users/"+minjunID+"/enable", 200)["user"].(map[string]any); u["disabled_at"] != nil {
		t.Errorf("enable: %v; want disabled_at null", u)
	}
	mustAdmin(t, s, "POST", "/admin/users/nobody/disable", 404)
	mustAdmin(t, s, "POST", "/admin/users/nobody/enable", 404)

	// Delete.
	mustAdmin(t, s, "DELETE", "/admin/users/"+seoyeonID, 204)
	mustAdmin(t, s, "GET", "/admin/users/"+seoyeonID, 404)
	mustAdmin(t, s, "DELETE", "/admin/users/"+seoyeonID, 404)
	if r := servertest.Do(t, http.DefaultClient, "PUT", s.BaseURL+"/admin/users/"+minjunID, map[string]string{"Authorization": "Bearer " + adminToken}, ""); r.StatusCode != 405 {
		t.Errorf("PUT /admin/users/{id}: %d, want 405", r.StatusCode)
	}
}

// TestAdmin_DisabledUserCannotLogIn: a disabled user's SPA, SDK and browser logins are refused
// with account_disabled (403, and the "disabled" page), their access and refresh tokens stop
// working, and enabling them restores login to the same account.
func TestAdmin_DisabledUserCannotLogIn(t *testing.T) {
	s := startAdmin(t)
	const minjun = 4217730412856391024
	access, refresh, userID := s.SDKSignIn(t, minjun)
	spaAccess, spaRefresh := s.SPASignIn(t, minjun)
	mustAdmin(t, s, "POST", "/admin/users/"+userID+"/disable", 200)

	for name, tok := range map[string]string{"sdk": access, "spa": spaAccess} {
		if st := s.MeStatus(t, tok); st != 401 {
			t.Errorf("/auth/me with the %s access token of a disabled user: %d, want 401", name, st)
		}
	}
	for name, tok := range map[string]string{"sdk": refresh, "spa": spaRefresh} {
		if st, code := s.RefreshStatus(t, tok); st != 400 && st != 401 {
			t.Errorf("refresh with the %s refresh token of a disabled user: %d %v, want refused", name, st, code)
		}
	}

	wantDisabled := func(flow string, r *http.Response, b map[string]any) {
		t.Helper()
		if r.StatusCode != 403 || b["error"] != "account_disabled" || !strings.Contains(b["error_description"].(string), "사용이 중지된") {
			t.Errorf("%s login of a disabled user: %d %v; want 403 account_disabled", flow, r.StatusCode, b)
		}
	}
	// The answers match openapi.json.
	doc := loadAPIDoc(t)
	login := func(flow, path string, body map[string]string) {
		t.Helper()
		r, raw := doc.do(t, s.BaseURL, apiCall{method: "POST", path: path, ctype: "application/json", body: apiJSON(body)})
		var b map[string]any
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatalf("%s login: %d, not JSON: %.300s", flow, r.StatusCode, raw)
		}
		wantDisabled(flow, r, b)
	}
	login("SPA", "/auth/kakao/token", map[string]string{"code": s.MintCode(t, minjun), "redirect_uri": servertest.SPARedirect})
	at, idt := s.SDKToken(t, minjun, nil)
	login("SDK", "/auth/kakao/sdk", map[string]string{"access_token": at, "id_token": idt})

	c := servertest.NewBrowser(t)
	r := s.BrowserLogin(t, c, servertest.UserWithEmail, "profile_nickname", "account_email")
	page := servertest.ReadBody(t, r)
	if r.StatusCode != 403 || r.Request.URL.Path != "/auth/error" || r.Request.URL.Query().Get("code") != "disabled" ||
		!strings.Contains(page, "사용이 중지된 계정입니다") {
		t.Errorf("browser login of a disabled user ended %d at %s: %.300s; want the 403 disabled page", r.StatusCode, r.Request.URL, page)
	}
	doc.do(t, s.BaseURL, apiCall{method: "GET", path: "/auth/error?code=disabled", want: 403})
	if s.Cookie(c, "/", "accessToken") != "" {
		t.Errorf("refused browser login set an access cookie")
	}

	// Enabled again: the same account, with its data, logs in.
	mustAdmin(t, s, "POST", "/admin/users/"+userID+"/enable", 200)
	access2, _, userID2 := s.SDKSignIn(t, minjun)
	if userID2 != userID || s.MeStatus(t, access2) != 200 {
		t.Errorf("login after enabling: user %s (want %s), /auth/me %d", userID2, userID, s.MeStatus(t, access2))
	}
	u := mustAdmin(t, s, "GET", "/admin/users/"+userID, 200)["user"].(map[string]any)
	if u["email"] != "minjun.kim@example.com" || u["disabled_at"] != nil {
		t.Errorf("user after enabling: %v", u)
	}
}
