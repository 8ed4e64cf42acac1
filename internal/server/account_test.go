package server_test

// Account deletion: DELETE /auth/me, and the /account/delete confirmation page and its form.
// Security-checklist cases carry their numbers.

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// deleteMe is DELETE /auth/me with a Bearer token; it returns the read response.
func deleteMe(t *testing.T, s *servertest.Server, access string) *http.Response {
	t.Helper()
	r := servertest.Do(t, http.DefaultClient, "DELETE", s.BaseURL+"/auth/me", map[string]string{"Authorization": "Bearer " + access}, "")
	servertest.ReadBody(t, r)
	return r
}

// postDeleteForm posts the /account/delete form as c, from our own origin, without following
// the redirect.
func postDeleteForm(t *testing.T, s *servertest.Server, c *http.Client, csrf string) *http.Response {
	t.Helper()
	r := servertest.Do(t, servertest.NoRedirects(c), "POST", s.BaseURL+"/account/delete", map[string]string{
		"Origin": s.BaseURL, "Content-Type": "application/x-www-form-urlencoded"}, url.Values{"csrf": {csrf}}.Encode())
	servertest.ReadBody(t, r)
	return r
}

// checkDeleted asserts that the account of a deleted user's tokens is gone.
func checkDeleted(t *testing.T, s *servertest.Server, access, refresh string) {
	t.Helper()
	if got := s.MeStatus(t, access); got != 401 {
		t.Errorf("/auth/me after deletion: %d", got)
	}
	if st, code := s.RefreshStatus(t, refresh); st != 400 || code != "invalid_grant" {
		t.Errorf("refresh after deletion: %d %v", st, code)
	}
}

func TestAccount_66_ReloginAfterDeletion(t *testing.T) {
	s := servertest.Start(t)
	const user = 4217730412856391024
	access, refresh, oldID := s.SDKSignIn(t, user)
	s.Emulator.ResetCalls()
	r := deleteMe(t, s, access)
	if r.StatusCode != 204 {
		t.Fatalf("DELETE /auth/me: %d", r.StatusCode)
	}
	for _, sc := range r.Header.Values("Set-Cookie") {
		if !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("cookie not cleared: %s", sc)
		}
	}
	if got := s.Emulator.Calls("/v1/user/unlink"); got != 1 {
		t.Errorf("Kakao unlink calls = %d, want 1", got)
	}
	checkDeleted(t, s, access, refresh)
	// Deleting again with the old token: the session is gone.
	if r := deleteMe(t, s, access); r.StatusCode != 401 {
		t.Errorf("second DELETE: %d", r.StatusCode)
	}
	// The old Kakao token died with the unlink; a new Kakao login is a new account.
	at, idt := s.SDKToken(t, user, nil)
	_, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at, "id_token": idt})
	if b["created"] != true || b["user"].(map[string]any)["id"] == oldID {
		t.Fatalf("login after deletion: %v (old id %s)", b, oldID)
	}
}

func TestAccount_72_DeleteWithUnlinkFailing(t *testing.T) {
	s := servertest.Start(t)
	cases := []struct {
		name        string
		fault       kakaotest.Fault
		form        bool
		wantLoc     string
		wantFailLog bool
	}{
		{"5xx api", kakaotest.Fault{Status: 500}, false, "", true},
		{"5xx form", kakaotest.Fault{Status: 500}, true, "/account/deleted?unlink=failed#page-heading", true},
		{"not linked (-101) counts as done", kakaotest.Fault{Status: 400, Body: `{"msg":"not registered user","code":-101}`}, true, "/account/deleted#page-heading", false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user := int64(5200000000000000000 + i)
			s.AddUser(t, user, "삭제")
			c := servertest.NewBrowser(t)
			at, _ := s.SDKToken(t, user, nil)
			r, b := s.SDKLogin(t, c, map[string]string{"access_token": at})
			if r.StatusCode != 200 {
				t.Fatalf("login: %d %v", r.StatusCode, b)
			}
			tok := b["token"].(map[string]any)
			access, refresh := tok["access"].(string), tok["refresh"].(string)
			before := strings.Count(s.Logs.String(), "unlink at Kakao failed")
			s.Emulator.SetFault("/v1/user/unlink", tc.fault)
			defer s.Emulator.ClearFaults()
			if tc.form {
				r = postDeleteForm(t, s, c, s.Cookie(c, "/", "csrfToken"))
				if r.StatusCode != 303 || r.Header.Get("Location") != tc.wantLoc {
					t.Fatalf("form delete: %d Location %q, want 303 %q", r.StatusCode, r.Header.Get("Location"), tc.wantLoc)
				}
			} else if r = deleteMe(t, s, access); r.StatusCode != 204 {
				t.Fatalf("DELETE /auth/me with Kakao failing: %d, want 204 (deleted here)", r.StatusCode)
			}
			checkDeleted(t, s, access, refresh)
			if got := strings.Count(s.Logs.String(), "unlink at Kakao failed") > before; got != tc.wantFailLog {
				t.Errorf("unlink failure logged = %v, want %v", got, tc.wantFailLog)
			}
			if tc.form {
				r, err := c.Get(s.BaseURL + tc.wantLoc)
				if err != nil {
					t.Fatal(err)
				}
				page := servertest.ReadBody(t, r)
				if !strings.Contains(page, "<title>계정 삭제 완료 | ") || !strings.Contains(page, ">계정이 삭제되었습니다</h1>") {
					t.Errorf("result page: %.400s", page)
				}
				if got := strings.Contains(page, "연결된 서비스 관리"); got != tc.wantFailLog {
					t.Errorf("page tells the unlink failed = %v, want %v", got, tc.wantFailLog)
				}
			}
		})
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestAccount_73_DeleteCSRF(t *testing.T) {
	s := servertest.Start(t)
	c := servertest.NewBrowser(t)
	servertest.ReadBody(t, s.BrowserLogin(t, c, servertest.UserNoEmail, "profile_nickname"))
	csrf := s.Cookie(c, "/", "csrfToken")
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"no csrf", map[string]string{"Origin": s.BaseURL}},
		{"wrong csrf", map[string]string{"Origin": s.BaseURL, "X-CSRF-Token": "x" + csrf}},
		{"no origin", map[string]string{"X-CSRF-Token": csrf}},
		{"evil origin", map[string]string{"Origin": "https://evil.example", "X-CSRF-Token": csrf}},
	} {
		r := servertest.Do(t, c, "DELETE", s.BaseURL+"/auth/me", tc.hdr, "")
		if b := servertest.Decode(t, r); r.StatusCode != 403 || b["error"] != "forbidden" {
			t.Errorf("DELETE /auth/me %s: %d %v", tc.name, r.StatusCode, b)
		}
		hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range tc.hdr {
			if k != "X-CSRF-Token" {
				hdr[k] = v
			}
		}
		form := url.Values{}
		if v := tc.hdr["X-CSRF-Token"]; v != "" {
			form.Set("csrf", v)
		}
		r = servertest.Do(t, servertest.NoRedirects(c), "POST", s.BaseURL+"/account/delete", hdr, form.Encode())
		if page := servertest.ReadBody(t, r); r.StatusCode != 403 || !strings.Contains(page, "<title>오류: ") {
			t.Errorf("POST /account/delete %s: %d %.200s", tc.name, r.StatusCode, page)
		}
	}
	if r, _ := servertest.GetJSON(t, c, s.BaseURL+"/auth/me", ""); r.StatusCode != 200 {
		t.Fatalf("still signed in after refused deletions? /auth/me %d", r.StatusCode)
	}

	// The signed-in page links to the confirmation page, whose form deletes.
	r, err := c.Get(s.BaseURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if page := servertest.ReadBody(t, r); !strings.Contains(page, `href="/account/delete"`) {
		t.Errorf("signed-in page has no link to /account/delete")
	}
	r, err = c.Get(s.BaseURL + "/account/delete")
	if err != nil {
		t.Fatal(err)
	}
	page := servertest.ReadBody(t, r)
	if !strings.Contains(page, "<title>계정을 삭제할까요? | ") || !strings.Contains(page, `action="/account/delete"`) || !strings.Contains(page, `<a class="link-action" href="/">`) {
		t.Fatalf("confirmation page: %.600s", page)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no csrf field on the confirmation page")
	}
	r = postDeleteForm(t, s, c, m[1])
	if r.StatusCode != 303 || r.Header.Get("Location") != "/account/deleted#page-heading" {
		t.Fatalf("confirmed deletion: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r, _ := servertest.GetJSON(t, c, s.BaseURL+"/auth/me", ""); r.StatusCode != 401 {
		t.Errorf("/auth/me after deletion: %d", r.StatusCode)
	}
	// Without a session the confirmation page sends the browser to the login page.
	r, err = servertest.NoRedirects(c).Get(s.BaseURL + "/account/delete")
	if err != nil {
		t.Fatal(err)
	}
	servertest.ReadBody(t, r)
	if r.StatusCode != 303 || r.Header.Get("Location") != "/" {
		t.Errorf("confirmation page without a session: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}
