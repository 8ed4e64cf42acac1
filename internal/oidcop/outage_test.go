package oidcop_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/oidcop"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestOIDCStoreOutage: with the database gone, the provider answers 503 (never 400, 401 or
// 500): a code exchange, a refresh, UserInfo with a good token, and the authorization page.
func TestOIDCStoreOutage(t *testing.T) {
	s := servertest.Start(t)
	r := signedIn(t, s, oidcop.ClientSpec{FirstParty: true})
	_, tok := r.exchange(t, r.codeFor(t, "", nil), "")
	code := r.codeFor(t, "", nil)
	if err := s.App.Store.Close(); err != nil {
		t.Fatal(err)
	}
	st, body := r.exchange(t, code, "")
	if st != http.StatusServiceUnavailable {
		t.Errorf("code exchange during an outage: %d %v, want 503", st, body)
	}
	st, body, hdr := form(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, r.id, r.secret)
	if st != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Errorf("refresh during an outage: %d %v, want 503 with Retry-After", st, body)
	}
	req, _ := http.NewRequest("GET", s.BaseURL+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("userinfo during an outage: %d, want 503", resp.StatusCode)
	}
	resp, _ = get(t, r.browser, r.authURL("o", nil))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("authorization during an outage: %d, want 503", resp.StatusCode)
	}
}
