package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/tokens"
)

const keepDay = 24 * time.Hour

// kakaoRefresher is Kakao's refresh grant: a new access token, and a new refresh token only in
// the old one's last month (unless noNewRefresh); err fails every refresh.
type kakaoRefresher struct {
	mu           sync.Mutex
	now          func() time.Time
	err          error
	noNewRefresh bool
	refreshed    []string // the refresh tokens presented
	// elsewhere, when set, runs first in every refresh (another replica refreshing meanwhile).
	elsewhere func(prev auth.ProviderTokens)
}

func (k *kakaoRefresher) RefreshKakao(ctx context.Context, prev auth.ProviderTokens) (auth.ProviderTokens, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshed = append(k.refreshed, prev.Refresh)
	if k.elsewhere != nil {
		k.elsewhere(prev)
	}
	if k.err != nil {
		return auth.ProviderTokens{}, k.err
	}
	now := k.now()
	next := auth.ProviderTokens{Access: fmt.Sprintf("access-%d", len(k.refreshed)), AccessExpiry: now.Add(6 * time.Hour)}
	if !k.noNewRefresh && prev.RefreshExpiry.Sub(now) < 30*keepDay {
		next.Refresh, next.RefreshExpiry = fmt.Sprintf("refresh-%d", len(k.refreshed)), now.Add(60*keepDay)
	}
	return next, nil
}

func (k *kakaoRefresher) calls() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.refreshed)
}

type keeperFixture struct {
	*fixture
	kakao *kakaoRefresher
	vault *tokens.TokenVault
}

func newKeeperFixture(t *testing.T) *keeperFixture {
	t.Helper()
	vault, err := tokens.NewTokenVault("keeper test secret keeper test secret")
	if err != nil {
		t.Fatal(err)
	}
	k := &kakaoRefresher{}
	f := newFixture(t, func(c *auth.Config) {
		c.Kakao = auth.KakaoConfig{Links: c.Store.(auth.KakaoStore), StoreTokens: true, Vault: vault, Refresher: k}
	})
	k.now = f.clock.Now
	return &keeperFixture{fixture: f, kakao: k, vault: vault}
}

// loginWithTokens logs a Kakao user in whose Kakao refresh token expires refreshIn from now
// (0: expiry unknown); it returns our user id.
func (f *keeperFixture) loginWithTokens(t *testing.T, subject string, refreshIn time.Duration) string {
	t.Helper()
	now := f.clock.Now()
	tok := &auth.ProviderTokens{Access: "access-" + subject, AccessExpiry: now.Add(6 * time.Hour),
		Refresh: "refresh-" + subject, Scopes: []string{"profile_nickname"}}
	if refreshIn > 0 {
		tok.RefreshExpiry = now.Add(refreshIn)
	}
	p := kakaoProfile(subject)
	p.Link = &auth.LinkInfo{Agreed: []string{"profile_nickname"}, Tokens: tok}
	f.idp.profiles["code-"+subject] = p
	return f.login(t, "code-"+subject).User.ID
}

func (f *keeperFixture) kept(t *testing.T, userID string) (auth.KakaoLink, auth.ProviderTokens) {
	t.Helper()
	l, ok, err := f.svc.KakaoLinkOf(t.Context(), userID)
	if err != nil || !ok {
		t.Fatalf("link of %s: %v %v", userID, ok, err)
	}
	if l.TokensSealed == nil {
		return l, auth.ProviderTokens{}
	}
	tok, err := f.vault.OpenProviderTokens(userID, l.TokensSealed)
	if err != nil {
		t.Fatal(err)
	}
	return l, tok
}

func TestKeepKakaoTokens_RefreshesOnlyTheExpiring(t *testing.T) {
	f := newKeeperFixture(t)
	soon := f.loginWithTokens(t, "5001", 10*keepDay)
	far := f.loginWithTokens(t, "5002", 50*keepDay)
	unknown := f.loginWithTokens(t, "5003", 0)
	_, farBefore := f.kept(t, far)

	n, err := f.svc.KeepKakaoTokens(t.Context())
	if n != 1 || err != nil || !slices.Equal(f.kakao.refreshed, []string{"refresh-5001"}) {
		t.Fatalf("KeepKakaoTokens = %d, %v; Kakao refreshed %v, want only refresh-5001", n, err, f.kakao.refreshed)
	}
	l, tok := f.kept(t, soon)
	if tok.Refresh != "refresh-1" || !tok.RefreshExpiry.Equal(st0.Add(60*keepDay)) || !l.RefreshExpiresAt.Equal(tok.RefreshExpiry) ||
		!slices.Equal(tok.Scopes, []string{"profile_nickname"}) {
		t.Errorf("renewed tokens %+v (link expiry %v)", tok, l.RefreshExpiresAt)
	}
	if _, tok := f.kept(t, far); tok.Access != farBefore.Access || tok.Refresh != farBefore.Refresh {
		t.Errorf("a link far from expiry was refreshed: %+v", tok)
	}
	if _, tok := f.kept(t, unknown); tok.Access != "access-5003" {
		t.Errorf("a link of unknown expiry was refreshed: %+v", tok)
	}
	if types := f.auditTypes(t, soon); !slices.Contains(types, "kakao_token_refresh") {
		t.Errorf("audit %v lacks kakao_token_refresh", types)
	}
	// Renewed: nothing left to do.
	if n, err := f.svc.KeepKakaoTokens(t.Context()); n != 0 || err != nil || f.kakao.calls() != 1 {
		t.Errorf("second round = %d, %v, %d Kakao calls", n, err, f.kakao.calls())
	}
	// 40 days on, the far one (10 days left) and the renewed one (20 left) are in their last
	// month: both renewed, the soonest to expire first.
	f.clock.Add(40 * keepDay)
	if n, err := f.svc.KeepKakaoTokens(t.Context()); n != 2 || err != nil || !slices.Equal(f.kakao.refreshed[1:], []string{"refresh-5002", "refresh-1"}) {
		t.Errorf("round after 40 days = %d, %v, Kakao refreshed %v", n, err, f.kakao.refreshed)
	}
}

func TestKeepKakaoTokens_KeepsTheOldRefreshTokenWhenKakaoSendsNone(t *testing.T) {
	f := newKeeperFixture(t)
	f.kakao.noNewRefresh = true
	id := f.loginWithTokens(t, "5101", 10*keepDay)
	if n, err := f.svc.KeepKakaoTokens(t.Context()); n != 1 || err != nil {
		t.Fatalf("KeepKakaoTokens = %d, %v", n, err)
	}
	_, tok := f.kept(t, id)
	if tok.Refresh != "refresh-5101" || !tok.RefreshExpiry.Equal(st0.Add(10*keepDay)) || tok.Access != "access-1" {
		t.Errorf("after a refresh without a new refresh token: %+v", tok)
	}
	// Still in the window: tried once a round, not in a loop.
	if n, err := f.svc.KeepKakaoTokens(t.Context()); n != 1 || err != nil || f.kakao.calls() != 2 {
		t.Errorf("next round = %d, %v, %d Kakao calls; want one more", n, err, f.kakao.calls())
	}
}

func TestKeepKakaoTokens_KakaoDownStopsTheRoundAndForgetsNothing(t *testing.T) {
	f := newKeeperFixture(t)
	a := f.loginWithTokens(t, "5201", 5*keepDay)
	b := f.loginWithTokens(t, "5202", 6*keepDay)
	la, _ := f.kept(t, a)
	lb, _ := f.kept(t, b)
	f.kakao.err = &auth.Error{Code: auth.ECodeKakaoUnavailable, Message: "Kakao is down"}
	n, err := f.svc.KeepKakaoTokens(t.Context())
	if n != 0 || auth.ErrorCode(err) != auth.ECodeKakaoUnavailable || f.kakao.calls() != 1 {
		t.Errorf("KeepKakaoTokens with Kakao down = %d, %v (%s), %d Kakao calls; want the round stopped at the first",
			n, err, auth.ErrorCode(err), f.kakao.calls())
	}
	for _, before := range []auth.KakaoLink{la, lb} {
		if l, _ := f.kept(t, before.UserID); !bytes.Equal(l.TokensSealed, before.TokensSealed) {
			t.Errorf("tokens of %s changed while Kakao was down", before.UserID)
		}
	}
	f.kakao.err = nil
	if n, err := f.svc.KeepKakaoTokens(t.Context()); n != 2 || err != nil {
		t.Errorf("with Kakao back = %d, %v", n, err)
	}
}

func TestKeepKakaoTokens_RefusedTokensForgottenAndTheRoundGoesOn(t *testing.T) {
	f := newKeeperFixture(t)
	a := f.loginWithTokens(t, "5301", 5*keepDay)
	b := f.loginWithTokens(t, "5302", 6*keepDay)
	f.kakao.err = &auth.Error{Code: auth.ECodeInvalidGrant, KakaoCode: "KOE322", Message: "refused"}
	n, err := f.svc.KeepKakaoTokens(t.Context())
	if n != 0 || err != nil || f.kakao.calls() != 2 {
		t.Errorf("KeepKakaoTokens with refusals = %d, %v, %d Kakao calls; want both tried, no error", n, err, f.kakao.calls())
	}
	for _, id := range []string{a, b} {
		if l, _ := f.kept(t, id); l.TokensSealed != nil || !slices.Equal(l.Agreed, []string{"profile_nickname"}) {
			t.Errorf("link of %s after the refusal: %+v; want tokens forgotten, consent kept", id, l)
		}
		if types := f.auditTypes(t, id); !slices.Contains(types, "kakao_token_dead") {
			t.Errorf("audit %v lacks kakao_token_dead", types)
		}
	}
	if _, err := f.svc.FreshKakaoToken(t.Context(), a); auth.ErrorCode(err) != auth.ECodeNotFound {
		t.Errorf("FreshKakaoToken after the refusal: %v", err)
	}
}

func TestKeepKakaoTokens_AllBatches(t *testing.T) {
	f := newKeeperFixture(t)
	// More than a batch (100), Kakao sending no new refresh token so every link stays in the
	// window: each is tried exactly once in the round.
	f.kakao.noNewRefresh = true
	const users = 230
	for i := range users {
		f.loginWithTokens(t, fmt.Sprint(6000+i), time.Duration(i+1)*time.Hour)
	}
	n, err := f.svc.KeepKakaoTokens(t.Context())
	if n != users || err != nil || f.kakao.calls() != users {
		t.Fatalf("KeepKakaoTokens = %d, %v, %d Kakao calls; want %d", n, err, f.kakao.calls(), users)
	}
	seen := map[string]bool{}
	for _, r := range f.kakao.refreshed {
		if seen[r] {
			t.Fatalf("%s refreshed twice in a round", r)
		}
		seen[r] = true
	}
	if f.kakao.refreshed[0] != "refresh-6000" {
		t.Errorf("first refreshed %s, want the soonest to expire", f.kakao.refreshed[0])
	}
}

func TestKeepKakaoTokens_NoopWithoutKeptTokens(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Kakao.Links = c.Store.(auth.KakaoStore) })
	f.login(t, "code-ryan")
	if n, err := f.svc.KeepKakaoTokens(t.Context()); n != 0 || err != nil {
		t.Errorf("KeepKakaoTokens without kept tokens = %d, %v", n, err)
	}
}

func TestKakaoRefresh_NewerTokensOfAnotherReplicaNotForgotten(t *testing.T) {
	f := newKeeperFixture(t)
	id := f.loginWithTokens(t, "5401", 10*keepDay)
	// Another replica refreshes first: Kakao replaced the refresh token we read, and refuses it.
	f.kakao.elsewhere = func(prev auth.ProviderTokens) {
		now := f.clock.Now()
		newer := auth.ProviderTokens{Access: "access-other", AccessExpiry: now.Add(6 * time.Hour),
			Refresh: "refresh-other", RefreshExpiry: now.Add(60 * keepDay)}
		sealed, err := f.vault.SealProviderTokens(id, newer)
		if err != nil {
			t.Error(err)
			return
		}
		l, _ := f.kept(t, id)
		l.TokensSealed, l.AccessExpiresAt, l.RefreshExpiresAt = sealed, newer.AccessExpiry, newer.RefreshExpiry
		if err := f.db.PutKakaoLink(context.Background(), l); err != nil {
			t.Error(err)
		}
	}
	f.kakao.err = &auth.Error{Code: auth.ECodeInvalidGrant, KakaoCode: "KOE322", Message: "refused"}
	if n, err := f.svc.KeepKakaoTokens(t.Context()); n != 0 || err != nil {
		t.Errorf("keeper racing another replica = %d, %v", n, err)
	}
	if _, tok := f.kept(t, id); tok.Refresh != "refresh-other" {
		t.Fatalf("the other replica's tokens were forgotten: %+v", tok)
	}
	if types := f.auditTypes(t, id); slices.Contains(types, "kakao_token_dead") {
		t.Errorf("audit %v: tokens declared dead", types)
	}
	// The same on demand: the newer access token is answered.
	f.clock.Add(7 * time.Hour)
	tok, err := f.svc.FreshKakaoToken(t.Context(), id)
	if err != nil || tok.Access != "access-other" {
		t.Errorf("FreshKakaoToken racing another replica = %+v, %v", tok, err)
	}
}
