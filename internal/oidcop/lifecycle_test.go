package oidcop_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/kakaoauth/kakaoauth/internal/oidcop"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// step follows redirects of the signed-in browser by hand until one leaves our server or a
// page is shown, and returns that last response.
func step(t *testing.T, s *servertest.Server, c *http.Client, u string) (*http.Response, []string) {
	t.Helper()
	var seen []string
	for range 8 {
		resp, err := servertest.NoRedirects(c).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, u)
		loc, _ := resp.Location()
		if loc == nil || !strings.HasPrefix(loc.String(), s.BaseURL) && !strings.HasPrefix(loc.String(), "/") {
			return resp, seen // the caller reads the body
		}
		resp.Body.Close()
		u = resp.Request.URL.ResolveReference(loc).String()
	}
	t.Fatalf("redirect loop: %v", seen)
	return nil, nil
}

func TestOIDCPersonSide(t *testing.T) {
	s := servertest.Start(t)
	third := signedIn(t, s, oidcop.ClientSpec{Name: "외부 위키"})
	first := newRP(t, s, oidcop.ClientSpec{Name: "우리 앱", FirstParty: true})
	first.browser = third.browser // the same signed-in browser

	t.Run("first-party-no-consent-no-kakao", func(t *testing.T) {
		before := s.EmulatorCalls(t, "/oauth/authorize")
		resp, seen := step(t, s, first.browser, first.authURL("fp", nil))
		loc, _ := resp.Location()
		if loc == nil || !strings.HasPrefix(loc.String(), rpRedirect) || loc.Query().Get("code") == "" {
			t.Fatalf("first-party client, signed in: %d %v via %v, want a code at once", resp.StatusCode, loc, seen)
		}
		if after := s.EmulatorCalls(t, "/oauth/authorize"); after != before {
			t.Errorf("signed in, yet Kakao was asked again (%d → %d)", before, after)
		}
	})

	t.Run("consent-remembered", func(t *testing.T) {
		resp, _ := step(t, s, third.browser, third.authURL("c1", url.Values{"prompt": {"none"}}))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("code") == "" {
			t.Errorf("after agreeing once, prompt=none → %d %v, want a code", resp.StatusCode, loc)
		}
	})

	t.Run("prompt-consent-shows-the-page", func(t *testing.T) {
		resp, _ := step(t, s, third.browser, third.authURL("c2", url.Values{"prompt": {"consent"}}))
		body := servertest.ReadBody(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(body, "외부 위키") || !strings.Contains(body, `value="agree"`) {
			t.Errorf("prompt=consent: %d %.300s", resp.StatusCode, body)
		}
	})

	t.Run("consent-required-for-new-scopes-with-prompt-none", func(t *testing.T) {
		other := newRP(t, s, oidcop.ClientSpec{Name: "처음 보는 앱"})
		resp, _ := step(t, s, third.browser, other.authURL("cr", url.Values{"prompt": {"none"}}))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "consent_required" || loc.Query().Get("state") != "cr" {
			t.Errorf("prompt=none without consent → %v, want consent_required", loc)
		}
	})

	t.Run("consent-cancel-is-access-denied", func(t *testing.T) {
		other := newRP(t, s, oidcop.ClientSpec{Name: "거절할 앱"})
		resp, _ := step(t, s, third.browser, other.authURL("cd", nil))
		body := servertest.ReadBody(t, resp)
		f := url.Values{"id": {hidden(body, "id")}, "csrf": {hidden(body, "csrf")}, "action": {"cancel"}}
		r2, err := servertest.NoRedirects(third.browser).PostForm(s.BaseURL+"/auth/oidc/consent", f)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		loc, _ := r2.Location()
		if loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
			t.Errorf("cancel → %v, want access_denied", loc)
		}
		// A forged consent (no CSRF token) is refused.
		f.Set("csrf", "forged")
		f.Set("action", "agree")
		r3, _ := servertest.NoRedirects(third.browser).PostForm(s.BaseURL+"/auth/oidc/consent", f)
		r3.Body.Close()
		if r3.StatusCode < 400 {
			t.Errorf("forged consent: %d", r3.StatusCode)
		}
	})

	t.Run("oidcc-prompt-login", func(t *testing.T) {
		resp, seen := step(t, s, third.browser, third.authURL("pl", url.Values{"prompt": {"login"}}))
		last := seen[len(seen)-1]
		loc, _ := resp.Location()
		if !strings.Contains(last, "/auth/kakao/login") || !strings.Contains(last, "prompt=login") || loc == nil ||
			!strings.HasPrefix(loc.String(), s.EmulatorURL) {
			t.Errorf("prompt=login went %v → %v, want a fresh Kakao login", seen, loc)
		}
	})

	t.Run("oidcc-max-age-1", func(t *testing.T) {
		s.Clock.Advance(2 * time.Second)
		_, seen := step(t, s, third.browser, third.authURL("ma", url.Values{"max_age": {"1"}}))
		if !strings.Contains(seen[len(seen)-1], "/auth/kakao/login") {
			t.Errorf("max_age=1 after 2 s went %v, want a new login", seen)
		}
		resp, _ := step(t, s, third.browser, third.authURL("ma2", url.Values{"max_age": {"10000"}}))
		if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") == "" {
			t.Errorf("max_age=10000: %v, want a code without a login", loc)
		}
	})

	t.Run("connected-apps-listed-and-revocable", func(t *testing.T) {
		code := third.codeFor(t, "", nil)
		_, tok := third.exchange(t, code, "")
		resp, body := get(t, third.browser, s.BaseURL+"/")
		if !strings.Contains(body, "연결된 앱") || !strings.Contains(body, "외부 위키") {
			t.Fatalf("signed-in page lists no connected app: %d %.500s", resp.StatusCode, body)
		}
		i := strings.Index(body, third.id)
		csrf := hidden(body[strings.LastIndex(body[:i], "<form"):], "csrf")
		r2, err := servertest.NoRedirects(third.browser).PostForm(s.BaseURL+"/auth/oidc/apps/revoke", url.Values{"csrf": {csrf}, "client_id": {third.id}})
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r2.StatusCode)
		}
		st, b, _ := form(t, third.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, third.id, third.secret)
		wantOAuthError(t, st, b, 400, "invalid_grant")
		if _, body := get(t, third.browser, s.BaseURL+"/"); strings.Contains(body, "외부 위키") {
			t.Error("the revoked app is still listed")
		}
	})
}

// TestOIDCGrantsEnd: every path that ends a person's sessions ends a client's tokens too.
func TestOIDCGrantsEnd(t *testing.T) {
	const kakaoUser = 4217730412856391024
	cases := []struct {
		name string
		end  func(t *testing.T, s *servertest.Server, r *rp, userID string)
	}{
		{"053_logout_all_sessions", func(t *testing.T, s *servertest.Server, r *rp, _ string) {
			access, _ := s.SPASignIn(t, kakaoUser)
			resp := servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+"/auth/logout?all=true", map[string]string{"Authorization": "Bearer " + access}, "")
			resp.Body.Close()
		}},
		{"066_account_deleted", func(t *testing.T, s *servertest.Server, r *rp, _ string) {
			access, _ := s.SPASignIn(t, kakaoUser)
			resp := servertest.Do(t, http.DefaultClient, "DELETE", s.BaseURL+"/auth/me", map[string]string{"Authorization": "Bearer " + access}, "")
			resp.Body.Close()
			if resp.StatusCode != 204 {
				t.Fatalf("delete account: %d", resp.StatusCode)
			}
		}},
		{"069_kakao_unlink_webhook", func(t *testing.T, s *servertest.Server, r *rp, _ string) {
			resp := s.Webhook(t, "POST", "KakaoAK "+s.Config.AdminKey, servertest.HookParams(kakaoUser, "ACCOUNT_DELETE"))
			if resp.StatusCode != 200 {
				t.Fatalf("webhook: %d", resp.StatusCode)
			}
			s.DrainOutbox(t) // the webhook answers first; the outbox worker deletes (case 71)
		}},
		{"user_disabled", func(t *testing.T, s *servertest.Server, r *rp, userID string) {
			if err := s.App.Store.SetUserDisabled(t.Context(), userID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}},
		{"client_deleted", func(t *testing.T, s *servertest.Server, r *rp, _ string) {
			if err := oidcStore(t, s).DeleteClient(t.Context(), r.id, time.Now()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t)
			r := signedIn(t, s, oidcop.ClientSpec{FirstParty: true})
			code := r.codeFor(t, "", nil)
			st, tok := r.exchange(t, code, "")
			if st != 200 {
				t.Fatalf("exchange: %d %v", st, tok)
			}
			userID := jwtClaims(t, tok["id_token"].(string))["sub"].(string)
			tc.end(t, s, r, userID)
			st, body, _ := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, r.id, r.secret)
			if st == 200 {
				t.Errorf("the client's refresh token still works: %v", body)
			}
			req, _ := http.NewRequest("GET", s.BaseURL+"/oauth2/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("the client's access token still works at userinfo: %d", resp.StatusCode)
			}
		})
	}
	_ = strconv.Itoa
	_ = oauth2.GenerateVerifier
}
