package auth_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// kakaoLogouter records logouts at Kakao and fails when told to.
type kakaoLogouter struct {
	err      error
	subjects []string
}

func (k *kakaoLogouter) LogoutAtKakao(ctx context.Context, subject string) error {
	k.subjects = append(k.subjects, subject)
	return k.err
}

func linked(subject string, agreed, needs []string) auth.Profile {
	p := kakaoProfile(subject)
	p.Link = &auth.LinkInfo{Agreed: agreed, NeedsConsent: needs}
	return p
}

func TestKakaoLink_RecordedWithTheLogin(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Kakao.Links = c.Store.(auth.KakaoStore) })
	f.idp.profiles["code-link"] = linked("4545", []string{"profile_nickname"}, []string{"account_email"})
	res := f.login(t, "code-link")
	if !slices.Equal(res.NeedsConsent, []string{"account_email"}) || !slices.Equal(res.Agreed, []string{"profile_nickname"}) {
		t.Errorf("login result: needs %v, agreed %v", res.NeedsConsent, res.Agreed)
	}
	l, ok, err := f.svc.KakaoLinkOf(t.Context(), res.User.ID)
	if err != nil || !ok || !slices.Equal(l.NeedsConsent, []string{"account_email"}) || !l.UpdatedAt.Equal(st0) || l.TokensSealed != nil {
		t.Fatalf("link = %+v, %v, %v", l, ok, err)
	}
	// The same consent again: nothing to write (the link keeps its time).
	f.clock.Add(time.Hour)
	f.login(t, "code-link")
	if l, _, _ = f.svc.KakaoLinkOf(t.Context(), res.User.ID); !l.UpdatedAt.Equal(st0) {
		t.Errorf("unchanged link rewritten at %v", l.UpdatedAt)
	}
	// Consent given: recorded.
	f.idp.profiles["code-link"] = linked("4545", []string{"profile_nickname", "account_email"}, nil)
	f.login(t, "code-link")
	if l, _, _ = f.svc.KakaoLinkOf(t.Context(), res.User.ID); l.NeedsConsent != nil || len(l.Agreed) != 2 || !l.UpdatedAt.Equal(st0.Add(time.Hour)) {
		t.Errorf("link after consent = %+v", l)
	}
	// Without a link store nothing is kept, and the login is the same.
	g := newFixture(t, nil)
	g.idp.profiles["code-link"] = linked("4545", nil, []string{"account_email"})
	if res := g.login(t, "code-link"); !slices.Equal(res.NeedsConsent, []string{"account_email"}) {
		t.Errorf("needs_consent without a link store: %v", res.NeedsConsent)
	}
	if _, ok, err := g.svc.KakaoLinkOf(t.Context(), res.User.ID); ok || err != nil {
		t.Errorf("a link without a store: %v %v", ok, err)
	}
	if _, err := g.svc.FreshKakaoToken(t.Context(), res.User.ID); auth.ErrorCode(err) != auth.ECodeNotFound {
		t.Errorf("FreshKakaoToken without tokens kept: %v", err)
	}
}

func TestUpdateConsent_065_OnlyTheSameKakaoAccount(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Kakao.Links = c.Store.(auth.KakaoStore) })
	ryan := f.login(t, "code-ryan")
	meta := auth.SessionMeta{Flow: "browser"}
	// Another Kakao account answered the consent: refused, nothing written, no user made.
	_, err := f.svc.UpdateConsent(t.Context(), ryan.User.ID, ryan.Session.ID, linked("9999", []string{"account_email"}, nil), meta)
	wantCode(t, "another account", err, auth.ECodeForbidden, "")
	if _, err := f.svc.User(t.Context(), ryan.User.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.svc.ListUsers(t.Context(), auth.UserFilter{}); len(list) != 1 {
		t.Errorf("%d users after a refused consent", len(list))
	}
	if st, err := f.svc.Sessions(t.Context(), ryan.User.ID); err != nil || len(st) != 1 || st[0].ID != ryan.Session.ID {
		t.Errorf("sessions after a refused consent: %v %v", st, err)
	}
	// The same account: the profile updated, the old session replaced.
	p := linked("4242", []string{"profile_nickname", "account_email"}, nil)
	p.Email, p.Nickname = "new@kakao.com", "라이언2"
	res, err := f.svc.UpdateConsent(t.Context(), ryan.User.ID, ryan.Session.ID, p, meta)
	if err != nil || res.User.ID != ryan.User.ID || res.User.Email != "new@kakao.com" || res.Session.ID == ryan.Session.ID {
		t.Fatalf("consent: %+v, %v", res.User, err)
	}
	if st, _ := f.svc.Sessions(t.Context(), ryan.User.ID); len(st) != 1 || st[0].ID != res.Session.ID {
		t.Errorf("sessions after consent: %v", st)
	}
	if types := f.auditTypes(t, ryan.User.ID); !slices.Contains(types, "kakao_consent") {
		t.Errorf("audit %v lacks kakao_consent", types)
	}
	_, err = f.svc.UpdateConsent(t.Context(), "no-such-user", "", p, meta)
	wantCode(t, "deleted user", err, auth.ECodeInvalidToken, "")
}

func TestLogout_KakaoFailureNeverBlocksOurs(t *testing.T) {
	lo := &kakaoLogouter{}
	f := newFixture(t, func(c *auth.Config) { c.Kakao.Logout = lo })
	ryan := f.login(t, "code-ryan")
	if err := f.svc.Logout(t.Context(), ryan.User.ID, ryan.Session.ID, false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lo.subjects, []string{"4242"}) {
		t.Errorf("logged out at Kakao: %v", lo.subjects)
	}
	lo.err = &auth.Error{Code: auth.ECodeKakaoUnavailable, Message: "down"}
	again := f.login(t, "code-ryan")
	if err := f.svc.Logout(t.Context(), again.User.ID, again.Session.ID, true); err != nil {
		t.Fatalf("logout with Kakao down: %v", err)
	}
	if st, _ := f.svc.Sessions(t.Context(), ryan.User.ID); len(st) != 0 {
		t.Errorf("sessions left: %v", st)
	}
	types := f.auditTypes(t, ryan.User.ID)
	if !slices.Contains(types, "kakao_logout") || !slices.Contains(types, "kakao_logout_failed") {
		t.Errorf("audit %v", types)
	}
	if len(lo.subjects) != 2 {
		t.Errorf("Kakao calls %v", lo.subjects)
	}
}
