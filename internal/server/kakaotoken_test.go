package server_test

// KAKAOAUTH_KAKAO_STORE_TOKENS: Kakao's tokens kept sealed, refreshed across an expiry on the
// emulator's clock, and GET /admin/users/{id}/kakao-token.

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
)

// startKeepTokens runs a server that keeps Kakao's tokens, with the admin API on, and the
// emulator on the server's clock.
func startKeepTokens(t *testing.T) *servertest.Server {
	t.Helper()
	sum := sha256.Sum256([]byte(adminToken))
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.AdminTokenSHA256, c.KakaoStoreTokens = sum[:], true
	}))
	s.Emulator.SetNow(s.Clock.Now)
	return s
}

// keptTokens opens the Kakao tokens the store keeps for userID.
func keptTokens(t *testing.T, s *servertest.Server, userID string) (auth.KakaoLink, auth.ProviderTokens) {
	t.Helper()
	l, err := s.App.Store.(auth.KakaoStore).KakaoLink(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tokens.NewTokenVault(servertest.DevSecret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.OpenProviderTokens(userID, l.TokensSealed)
	if err != nil {
		t.Fatal(err)
	}
	return l, tok
}

func spaUser(t *testing.T, s *servertest.Server, user string) string {
	t.Helper()
	m := servertest.Decode(t, spaToken(t, s, s.SPACode(t, user)))
	return m["user"].(map[string]any)["id"].(string)
}

func TestKakaoToken_RefreshedAcrossExpiry(t *testing.T) {
	s := startKeepTokens(t)
	id := spaUser(t, s, servertest.UserWithEmail)
	l, first := keptTokens(t, s, id)
	// 095: sealed at rest, never in clear.
	if bytes.Contains(l.TokensSealed, []byte(first.Access)) || bytes.Contains(l.TokensSealed, []byte(first.Refresh)) {
		t.Fatal("Kakao tokens stored in clear")
	}
	s.ResetCalls(t)
	path := "/admin/users/" + id + "/kakao-token"
	b := mustAdmin(t, s, "GET", path, 200)
	if b["access_token"] != first.Access || b["token_type"] != "bearer" || s.EmulatorCalls(t, "/oauth/token") != 0 {
		t.Errorf("fresh token answered %v after %d refreshes, want the kept one without a refresh", b, s.EmulatorCalls(t, "/oauth/token"))
	}
	if !kakaoTokenWorks(t, s, b["access_token"].(string)) {
		t.Error("the answered Kakao token does not work at Kakao")
	}

	// Past the access token's 6 hours: refreshed at Kakao; Kakao sends no refresh token (two
	// months left), so the old one is kept.
	s.Clock.Advance(6 * time.Hour)
	b = mustAdmin(t, s, "GET", path, 200)
	_, second := keptTokens(t, s, id)
	if b["access_token"] == first.Access || b["access_token"] != second.Access || s.EmulatorCalls(t, "/oauth/token") != 1 {
		t.Errorf("after the expiry: %v (%d refreshes)", b, s.EmulatorCalls(t, "/oauth/token"))
	}
	if second.Refresh != first.Refresh || !second.RefreshExpiry.Equal(first.RefreshExpiry) {
		t.Error("the old refresh token was not kept when Kakao sent none")
	}
	if !kakaoTokenWorks(t, s, second.Access) || kakaoTokenWorks(t, s, first.Access) {
		t.Error("the refreshed token is not the working one")
	}
	if n := b["expires_in"].(float64); n < 21000 || n > 21600 {
		t.Errorf("expires_in = %v", n)
	}

	// In the refresh token's last month Kakao sends a new one: it replaces the old.
	s.Clock.Advance(31 * 24 * time.Hour)
	mustAdmin(t, s, "GET", path, 200)
	_, third := keptTokens(t, s, id)
	if third.Refresh == first.Refresh || !third.RefreshExpiry.After(first.RefreshExpiry) {
		t.Error("a new refresh token from Kakao was not kept")
	}
	// 097: no Kakao token in the logs.
	for _, tok := range []string{first.Access, first.Refresh, second.Access, third.Access, third.Refresh} {
		if strings.Contains(s.Logs.String(), tok) {
			t.Fatal("a Kakao token is in the server's log")
		}
	}
}

func TestKakaoToken_LoginAgainAfterKakaoRefuses(t *testing.T) {
	s := startKeepTokens(t)
	id := spaUser(t, s, servertest.UserWithEmail)
	path := "/admin/users/" + id + "/kakao-token"
	// Unlinked at Kakao by the service's own call (no webhook comes for it).
	kakaoID, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	r := servertest.Do(t, http.DefaultClient, "POST", s.EmulatorURL+"/v1/user/unlink", map[string]string{
		"Authorization": "KakaoAK " + servertest.DevAdminKey, "Content-Type": "application/x-www-form-urlencoded",
	}, "target_id_type=user_id&target_id="+strconv.FormatInt(kakaoID, 10))
	servertest.ReadBody(t, r)
	s.Clock.Advance(7 * time.Hour)
	r, b := admin(t, s, "GET", path, adminToken)
	if r.StatusCode != http.StatusBadRequest || b["error"] != "login_required" || b["kakao_error_code"] != "KOE322" ||
		!strings.Contains(b["error_description"].(string), "다시") {
		t.Fatalf("refused refresh: %d %v", r.StatusCode, b)
	}
	// The dead tokens are forgotten; the consent record stays.
	mustAdmin(t, s, "GET", path, 404)
	if l, err := s.App.Store.(auth.KakaoStore).KakaoLink(t.Context(), id); err != nil || l.TokensSealed != nil {
		t.Errorf("link after the refusal: %+v, %v", l, err)
	}
	// A new login brings new tokens (the emulator back on real time: the Kakao client checks
	// ID tokens on its own clock).
	s.Emulator.SetNow(nil)
	spaUser(t, s, servertest.UserWithEmail)
	mustAdmin(t, s, "GET", path, 200)
}

func TestKakaoToken_KakaoDownKeepsTokens(t *testing.T) {
	s := startKeepTokens(t)
	id := spaUser(t, s, servertest.UserWithEmail)
	path := "/admin/users/" + id + "/kakao-token"
	s.Clock.Advance(6 * time.Hour)
	s.SetFault(t, "/oauth/token", map[string]any{"status": 503})
	if r, b := admin(t, s, "GET", path, adminToken); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("Kakao down: %d %v, want 503", r.StatusCode, b)
	}
	s.ClearFaults(t)
	mustAdmin(t, s, "GET", path, 200)
}

func TestKakaoToken_DeletedWithAccountAndOnUnlink(t *testing.T) {
	s := startKeepTokens(t)
	// Account deletion.
	access, _ := s.SPASignIn(t, 4217730412856391024)
	_, mm := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/auth/me", access)
	id := mm["user"].(map[string]any)["id"].(string)
	mustAdmin(t, s, "GET", "/admin/users/"+id+"/kakao-token", 200)
	servertest.ReadBody(t, deleteMe(t, s, access))
	mustAdmin(t, s, "GET", "/admin/users/"+id+"/kakao-token", 404)
	if _, err := s.App.Store.(auth.KakaoStore).KakaoLink(t.Context(), id); err == nil {
		t.Error("Kakao tokens kept after the account was deleted")
	}
	// The unlink webhook.
	id2 := spaUser(t, s, servertest.UserNoEmail)
	mustAdmin(t, s, "GET", "/admin/users/"+id2+"/kakao-token", 200)
	r := s.Webhook(t, "POST", "KakaoAK "+servertest.DevAdminKey, servertest.HookParams(4217730412856391025, "UNLINK_FROM_APPS"))
	servertest.ReadBody(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("webhook: %d", r.StatusCode)
	}
	s.DrainOutbox(t) // the webhook answers first; the outbox worker deletes (checklist case 71)
	mustAdmin(t, s, "GET", "/admin/users/"+id2+"/kakao-token", 404)
	if _, err := s.App.Store.(auth.KakaoStore).KakaoLink(t.Context(), id2); err == nil {
		t.Error("Kakao tokens kept after the unlink webhook")
	}
}

func TestKakaoToken_NotKeptByDefault(t *testing.T) {
	s := startAdmin(t)
	m := servertest.Decode(t, spaToken(t, s, s.SPACode(t, servertest.UserWithEmail)))
	id := m["user"].(map[string]any)["id"].(string)
	mustAdmin(t, s, "GET", "/admin/users/"+id+"/kakao-token", 404)
	if l, err := s.App.Store.(auth.KakaoStore).KakaoLink(t.Context(), id); err != nil || l.TokensSealed != nil {
		t.Errorf("without KAKAOAUTH_KAKAO_STORE_TOKENS: %+v, %v", l, err)
	}
}
