package server_test

// The Kakao token keeper (app.KeepKakaoTokensOnce): kept refresh tokens are renewed at Kakao in
// their last month, so a user the service does not ask about for two months keeps working
// tokens. The rounds are run directly, on the server's and the emulator's shared clock.

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

const keeperDay = 24 * time.Hour

func keepOnce(t *testing.T, s *servertest.Server) (int, error) {
	t.Helper()
	return s.App.KeepKakaoTokensOnce(t.Context())
}

func TestKakaoKeeper_RenewsBeforeTheRefreshTokenDies(t *testing.T) {
	s := startKeepTokens(t)
	id := spaUser(t, s, servertest.UserWithEmail)
	_, first := keptTokens(t, s, id)
	s.ResetCalls(t)

	// Two months of refresh token left: the keeper leaves it alone and never calls Kakao.
	if n, err := keepOnce(t, s); n != 0 || err != nil || s.EmulatorCalls(t, "/oauth/token") != 0 {
		t.Fatalf("keeper on a fresh link: %d refreshed, %v, %d Kakao calls; want none", n, err, s.EmulatorCalls(t, "/oauth/token"))
	}

	// 35 days on, 25 left: refreshed at Kakao, which sends a new refresh token.
	s.Clock.Advance(35 * keeperDay)
	if n, err := keepOnce(t, s); n != 1 || err != nil || s.EmulatorCalls(t, "/oauth/token") != 1 {
		t.Fatalf("keeper in the last month: %d refreshed, %v, %d Kakao calls; want 1", n, err, s.EmulatorCalls(t, "/oauth/token"))
	}
	l, second := keptTokens(t, s, id)
	if second.Refresh == first.Refresh || !second.RefreshExpiry.After(first.RefreshExpiry.Add(30*keeperDay)) ||
		!l.RefreshExpiresAt.Equal(second.RefreshExpiry) {
		t.Errorf("refresh expiry %v (was %v), link column %v: no new refresh token kept", second.RefreshExpiry, first.RefreshExpiry, l.RefreshExpiresAt)
	}
	// Renewed: the next round has nothing to do.
	if n, err := keepOnce(t, s); n != 0 || err != nil || s.EmulatorCalls(t, "/oauth/token") != 1 {
		t.Errorf("second round: %d refreshed, %v, %d Kakao calls; want none", n, err, s.EmulatorCalls(t, "/oauth/token"))
	}

	// 75 days after the login, past the first refresh token's 60 days: the service still gets
	// a working Kakao token without a new login.
	s.Clock.Advance(40 * keeperDay)
	b := mustAdmin(t, s, "GET", "/admin/users/"+id+"/kakao-token", 200)
	if tok, _ := b["access_token"].(string); !kakaoTokenWorks(t, s, tok) {
		t.Errorf("Kakao token after 75 days %v does not work at Kakao", b)
	}
	// 097: no Kakao token in the logs.
	for _, tok := range []string{first.Access, first.Refresh, second.Access, second.Refresh} {
		if strings.Contains(s.Logs.String(), tok) {
			t.Fatal("a Kakao token is in the server's log")
		}
	}
}

func TestKakaoKeeper_KakaoDownForgetsNothing(t *testing.T) {
	s := startKeepTokens(t)
	id := spaUser(t, s, servertest.UserWithEmail)
	before, _ := keptTokens(t, s, id)
	s.Clock.Advance(35 * keeperDay)
	s.SetFault(t, "/oauth/token", map[string]any{"status": 503})
	n, err := keepOnce(t, s)
	if n != 0 || err == nil {
		t.Errorf("keeper with Kakao down: %d refreshed, %v; want the round stopped with an error", n, err)
	}
	if l, _ := keptTokens(t, s, id); !bytes.Equal(l.TokensSealed, before.TokensSealed) {
		t.Error("the kept tokens changed while Kakao was down")
	}
	// Kakao back: the next round renews them.
	s.ClearFaults(t)
	if n, err := keepOnce(t, s); n != 1 || err != nil {
		t.Errorf("keeper with Kakao back: %d refreshed, %v", n, err)
	}
	mustAdmin(t, s, "GET", "/admin/users/"+id+"/kakao-token", 200)
}

func TestKakaoKeeper_RefusedTokensForgotten(t *testing.T) {
	s := startKeepTokens(t)
	gone := spaUser(t, s, servertest.UserWithEmail)
	kept := spaUser(t, s, servertest.UserNoEmail)
	// Unlinked at Kakao by the service's own call: Kakao refuses that user's refresh token.
	kakaoID, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	r := servertest.Do(t, http.DefaultClient, "POST", s.EmulatorURL+"/v1/user/unlink", map[string]string{
		"Authorization": "KakaoAK " + servertest.DevAdminKey, "Content-Type": "application/x-www-form-urlencoded",
	}, "target_id_type=user_id&target_id="+strconv.FormatInt(kakaoID, 10))
	servertest.ReadBody(t, r)
	s.Clock.Advance(35 * keeperDay)
	// The refused user's tokens are forgotten; the round goes on to the other user.
	if n, err := keepOnce(t, s); n != 1 || err != nil {
		t.Errorf("keeper: %d refreshed, %v; want 1 (the refused user skipped)", n, err)
	}
	if l, err := s.App.Store.(auth.KakaoStore).KakaoLink(t.Context(), gone); err != nil || l.TokensSealed != nil {
		t.Errorf("refused user's link: %+v, %v; want tokens forgotten, link kept", l, err)
	}
	mustAdmin(t, s, "GET", "/admin/users/"+gone+"/kakao-token", 404)
	mustAdmin(t, s, "GET", "/admin/users/"+kept+"/kakao-token", 200)
}

func TestKakaoKeeper_OffWithoutKeptTokens(t *testing.T) {
	s := startAdmin(t)
	spaUser(t, s, servertest.UserWithEmail)
	s.Clock.Advance(35 * keeperDay)
	s.ResetCalls(t)
	if n, err := keepOnce(t, s); n != 0 || err != nil || s.EmulatorCalls(t, "/oauth/token") != 0 {
		t.Errorf("keeper without KAKAOAUTH_KAKAO_STORE_TOKENS: %d, %v, %d Kakao calls", n, err, s.EmulatorCalls(t, "/oauth/token"))
	}
}
