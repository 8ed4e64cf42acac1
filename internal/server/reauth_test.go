package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestAccount_073_StaleSessionNeedsReauth: DELETE /auth/me from a session that signed in with
// Kakao more than 10 minutes ago is 401 reauthentication_required with the RFC 9470 step-up
// challenge, and deletes nothing; refreshing does not make the session recent (its auth time
// is the login); a fresh Kakao login can delete.
func TestAccount_073_StaleSessionNeedsReauth(t *testing.T) {
	s := servertest.Start(t)
	const user = 4217730412856391024
	access, refresh := s.SPASignIn(t, user)
	s.Clock.Advance(11 * time.Minute) // the access token (15 min) is still valid

	r := servertest.Do(t, http.DefaultClient, "DELETE", s.BaseURL+"/auth/me", map[string]string{"Authorization": "Bearer " + access}, "")
	b := servertest.Decode(t, r)
	if r.StatusCode != 401 || b["error"] != "reauthentication_required" || b["error_description"] == "" {
		t.Fatalf("DELETE /auth/me from an old session: %d %v", r.StatusCode, b)
	}
	if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_user_authentication"`) || !strings.Contains(h, `max_age="600"`) {
		t.Errorf("WWW-Authenticate = %q", h)
	}
	if st := s.MeStatus(t, access); st != 200 {
		t.Fatalf("the refused deletion deleted something: /auth/me %d", st)
	}

	st, rb := s.Refresh(t, refresh)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, rb)
	}
	refreshed := rb["token"].(map[string]any)["access"].(string)
	if r := deleteMe(t, s, refreshed); r.StatusCode != 401 {
		t.Fatalf("DELETE with a refreshed token of the old session: %d, want 401", r.StatusCode)
	}

	fresh, freshRefresh := s.SPASignIn(t, user)
	if r := deleteMe(t, s, fresh); r.StatusCode != 204 {
		t.Fatalf("DELETE right after a new login: %d, want 204", r.StatusCode)
	}
	checkDeleted(t, s, fresh, freshRefresh)
	checkDeleted(t, s, access, refresh)
}

// TestAccount_073_WithinMaxAge: a session that signed in 9 minutes ago still deletes.
func TestAccount_073_WithinMaxAge(t *testing.T) {
	s := servertest.Start(t)
	access, refresh := s.SPASignIn(t, 4217730412856391025)
	s.Clock.Advance(9 * time.Minute)
	if r := deleteMe(t, s, access); r.StatusCode != 204 {
		t.Fatalf("DELETE 9 minutes after login: %d, want 204", r.StatusCode)
	}
	checkDeleted(t, s, access, refresh)
}

// TestAccount_073_BrowserReauthFlow: in a browser, an old session is sent to sign in with
// Kakao again (prompt=login), comes back to the confirmation page and then deletes; a form
// post from the old session is sent the same way instead of deleting.
func TestAccount_073_BrowserReauthFlow(t *testing.T) {
	s := servertest.Start(t)
	c := servertest.NewBrowser(t)
	servertest.ReadBody(t, s.BrowserLogin(t, c, servertest.UserNoEmail, "profile_nickname"))
	s.Clock.Advance(30 * time.Minute)
	// The access cookie expired with the clock; a refresh keeps the old session.
	r := servertest.Do(t, c, "POST", s.BaseURL+"/auth/token/refresh", map[string]string{"Origin": s.BaseURL, "X-CSRF-Token": s.Cookie(c, "/", "csrfToken")}, "")
	if servertest.ReadBody(t, r); r.StatusCode != 200 {
		t.Fatalf("cookie refresh: %d", r.StatusCode)
	}
	want := "/auth/kakao/login?" + url.Values{"prompt": {"login"}, "return_to": {"/account/delete"}}.Encode()

	// The form post from the old session is not a deletion.
	r = postDeleteForm(t, s, c, s.Cookie(c, "/", "csrfToken"))
	if r.StatusCode != 303 || r.Header.Get("Location") != want {
		t.Fatalf("form post from an old session: %d Location %q, want 303 %q", r.StatusCode, r.Header.Get("Location"), want)
	}
	if r, _ := servertest.GetJSON(t, c, s.BaseURL+"/auth/me", ""); r.StatusCode != 200 {
		t.Fatalf("the refused form post deleted the account: /auth/me %d", r.StatusCode)
	}

	// The confirmation page sends the old session to Kakao, with prompt=login.
	r, err := servertest.NoRedirects(c).Get(s.BaseURL + "/account/delete")
	if err != nil {
		t.Fatal(err)
	}
	if servertest.ReadBody(t, r); r.StatusCode != 303 || r.Header.Get("Location") != want {
		t.Fatalf("GET /account/delete from an old session: %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	r, err = c.Get(s.BaseURL + want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Request.URL.String(), s.EmulatorURL+"/oauth/authorize") || r.Request.URL.Query().Get("prompt") != "login" {
		t.Fatalf("re-login went to %s, want Kakao with prompt=login", r.Request.URL)
	}
	r = servertest.Consent(t, c, r, servertest.UserNoEmail, "agree", "profile_nickname")
	page := servertest.ReadBody(t, r)
	if r.Request.URL.Path != "/account/delete" || r.StatusCode != 200 {
		t.Fatalf("after re-login: %d at %s", r.StatusCode, r.Request.URL)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("confirmation page has no form: %.300s", page)
	}
	r = postDeleteForm(t, s, c, m[1])
	if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/account/deleted") {
		t.Fatalf("delete after re-login: %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
}
