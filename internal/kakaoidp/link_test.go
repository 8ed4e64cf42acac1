package kakaoidp_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// agreeOnly leaves user linked with the nickname alone (as if they had unticked the rest).
func (e *env) agreeOnly(t *testing.T, user int64, items ...string) {
	t.Helper()
	u, ok := e.srv.User(user)
	if !ok {
		t.Fatal("no user")
	}
	u.Agreed = items
	e.srv.AddUser(u)
}

func TestExchangeCode_NeedsConsent(t *testing.T) {
	for _, oidc := range []bool{true, false} {
		e := newEnv(t, func(a *kakaotest.App) { a.OIDC = oidc }, nil)
		e.p.Scopes = []string{"account_email"}
		e.p.RequireIDToken = oidc
		// The person has an email and did not agree to it: needs_consent names it.
		ex := e.code(t, userVerified, "")
		e.agreeOnly(t, userVerified, "profile_nickname")
		p, err := e.p.ExchangeCode(context.Background(), ex)
		if err != nil {
			t.Fatal(err)
		}
		if p.Link == nil || !slices.Equal(p.Link.NeedsConsent, []string{"account_email"}) ||
			!slices.Equal(p.Link.Agreed, []string{"profile_nickname"}) || p.Email != "" {
			t.Errorf("oidc=%v: link = %+v, email %q", oidc, p.Link, p.Email)
		}
		// The person has no email at all: nothing to ask for.
		ex = e.code(t, userNoEmail, "")
		e.agreeOnly(t, userNoEmail, "profile_nickname")
		p, err = e.p.ExchangeCode(context.Background(), ex)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Link.NeedsConsent) != 0 {
			t.Errorf("oidc=%v: no email, needs_consent = %v", oidc, p.Link.NeedsConsent)
		}
		// Agreed to everything: nothing needed, and no tokens unless kept.
		p, err = e.p.ExchangeCode(context.Background(), e.code(t, userInvalid, ""))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Link.NeedsConsent) != 0 || p.Link.Tokens != nil {
			t.Errorf("oidc=%v: all agreed: %+v", oidc, p.Link)
		}
	}
}

func TestRefreshKakao_KeepsOldRefreshTokenAndFailsAfterUnlink(t *testing.T) {
	e := newEnv(t, nil, nil)
	e.p.KeepTokens, e.p.Now = true, e.clock.Now
	p, err := e.p.ExchangeCode(context.Background(), e.code(t, userVerified, ""))
	if err != nil {
		t.Fatal(err)
	}
	tok := p.Link.Tokens
	if tok == nil || tok.Access == "" || tok.Refresh == "" || tok.AccessExpiry.IsZero() || tok.RefreshExpiry.IsZero() {
		t.Fatalf("tokens not handed over: %+v", tok)
	}
	e.clock.Add(7 * time.Hour) // the access token has expired
	next, err := e.p.RefreshKakao(context.Background(), *tok)
	if err != nil {
		t.Fatal(err)
	}
	if next.Refresh != tok.Refresh || !next.RefreshExpiry.Equal(tok.RefreshExpiry) || next.Access == tok.Access ||
		!next.AccessExpiry.After(e.clock.Now()) || len(next.Scopes) == 0 {
		t.Errorf("refresh with two months left: %+v (old refresh token must be kept)", next)
	}
	e.clock.Add(31 * 24 * time.Hour)
	rotated, err := e.p.RefreshKakao(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Refresh == next.Refresh || !rotated.RefreshExpiry.After(next.RefreshExpiry) {
		t.Errorf("refresh with less than a month left kept the old refresh token")
	}
	if _, err := e.p.Client.UnlinkUser(context.Background(), userVerified); err != nil {
		t.Fatal(err)
	}
	_, err = e.p.RefreshKakao(context.Background(), rotated)
	if ae := wantCode(t, err, auth.ECodeInvalidGrant); ae.KakaoCode != "KOE322" {
		t.Errorf("after unlink: %v", err)
	}
}

func TestLogoutAtKakao(t *testing.T) {
	e := newEnv(t, nil, nil)
	tok := e.sdkToken(t, userVerified)
	if err := e.p.LogoutAtKakao(context.Background(), subject(userVerified)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.Client.Me(context.Background(), tok.AccessToken, nil); err == nil {
		t.Error("Kakao token still valid after the logout at Kakao")
	}
	if n := e.srv.Calls("/v1/user/logout"); n != 1 {
		t.Errorf("logout calls = %d", n)
	}
	// Not linked any more: counts as logged out.
	if err := e.p.LogoutAtKakao(context.Background(), subject(userNoEmail)); err != nil {
		t.Errorf("unlinked user: %v", err)
	}
	wantCode(t, e.p.LogoutAtKakao(context.Background(), "abc"), auth.ECodeInvalidRequest)
	e.srv.SetFault("/v1/user/logout", kakaotest.Fault{Status: http.StatusServiceUnavailable})
	wantCode(t, e.p.LogoutAtKakao(context.Background(), subject(userVerified)), auth.ECodeKakaoUnavailable)
}
