package kakao_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// newTermsEnv serves an app with every consent item and two service terms; the first user
// has every detail.
func newTermsEnv(t *testing.T) (*kakaotest.Server, *kakao.Client, *clock) {
	t.Helper()
	app := kakaotest.DefaultApp()
	app.ConsentItems = kakaotest.AllConsentItems()
	app.ServiceTerms = []kakaotest.ServiceTerm{{Tag: "terms_service", Required: true}, {Tag: "terms_marketing"}}
	users := kakaotest.DefaultUsers()
	users[0].Details = kakaotest.Details{Gender: "female", AgeRange: "20~29", PhoneNumber: "+82 10-0000-0000"}
	srv := kakaotest.NewServer(t, app, users)
	clk := kakaotest.NewClock(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	srv.SetNow(clk.Now)
	cfg := srv.ClientConfig()
	cfg.Now = clk.Now
	c, err := kakao.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, clk
}

func TestUser_NeedsAgreement(t *testing.T) {
	srv, c, _ := newTermsEnv(t)
	id := srv.Users()[0].ID
	u, _ := srv.User(id)
	u.Agreed = []string{"profile_nickname"}
	srv.AddUser(u)
	me, err := c.UserByID(context.Background(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := me.NeedsAgreement()
	want := []string{"profile_image", "account_email", "age_range", "gender", "phone_number"}
	if !slices.Equal(got, want) {
		t.Errorf("NeedsAgreement = %v, want %v", got, want)
	}
	if (*kakao.User)(nil).NeedsAgreement() != nil {
		t.Error("nil user needs agreement")
	}
}

func TestServiceTerms_Emulator(t *testing.T) {
	srv, c, _ := newTermsEnv(t)
	id := srv.Users()[0].ID
	tok, err := srv.IssueAccessToken(id, srv.App().RESTKey)
	if err != nil {
		t.Fatal(err)
	}
	terms, err := c.ServiceTerms(context.Background(), tok.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if terms.ID != id || len(terms.ServiceTerms) != 2 || terms.ServiceTerms[0].AgreedAt == nil ||
		!terms.ServiceTerms[0].AgreedAt.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("terms = %+v", terms)
	}
	terms, err = c.ServiceTermsOf(context.Background(), id, &kakao.ServiceTermsOptions{All: true, Tags: []string{"terms_marketing"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(terms.ServiceTerms) != 1 || terms.ServiceTerms[0].Tag != "terms_marketing" || !terms.ServiceTerms[0].Revocable {
		t.Errorf("admin terms = %+v", terms)
	}
	_, err = c.ServiceTerms(context.Background(), "not-a-token", nil)
	var ke *kakao.Error
	if !errors.As(err, &ke) || ke.Kind != kakao.KindInvalidToken {
		t.Errorf("bad token: %v", err)
	}
	noAdmin, _ := kakao.New(kakao.Config{ClientID: "x", AuthURL: srv.URL, APIURL: srv.URL})
	if _, err := noAdmin.ServiceTermsOf(context.Background(), id, nil); err == nil {
		t.Error("admin call without admin key succeeded")
	}
}

func TestLogoutURL_Emulator(t *testing.T) {
	srv, c, _ := newTermsEnv(t)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(c.LogoutURL("http://localhost:8080/", "st"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://localhost:8080/?state=st" {
		t.Errorf("registered: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, _ := url.Parse(c.LogoutURL("http://evil.example/", ""))
	if u.Query().Get("client_id") != srv.App().RESTKey || u.Query().Has("state") {
		t.Errorf("URL = %s", u)
	}
	resp, err = hc.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered: %d, want the KOE007 page", resp.StatusCode)
	}
	if !strings.Contains(kakao.Explain("KOE007", "ko"), "로그아웃") {
		t.Errorf("KOE007 explained as %q", kakao.Explain("KOE007", "ko"))
	}
}

func TestLogoutUser_RevokesTokens(t *testing.T) {
	srv, c, _ := newTermsEnv(t)
	id := srv.Users()[0].ID
	tok, _ := srv.IssueAccessToken(id, srv.App().RESTKey)
	if got, err := c.LogoutUser(context.Background(), id); err != nil || got != id {
		t.Fatalf("LogoutUser = %d, %v", got, err)
	}
	if _, err := c.Me(context.Background(), tok.AccessToken, nil); err == nil {
		t.Error("token still works after logout")
	}
	if _, err := c.Refresh(context.Background(), tok.RefreshToken); err == nil {
		t.Error("refresh token still works after logout")
	}
	var ke *kakao.Error
	if _, err := c.LogoutUser(context.Background(), 1); !errors.As(err, &ke) || ke.Kind != kakao.KindNotLinked {
		t.Errorf("unknown user: %v", err)
	}
}

func TestRefreshFrom_KeepsOldRefreshTokenUntilLastMonth(t *testing.T) {
	srv, c, clk := newTermsEnv(t)
	id := srv.Users()[0].ID
	tok, _ := srv.IssueAccessToken(id, srv.App().RESTKey)
	prev, err := c.Refresh(context.Background(), tok.RefreshToken) // normalises into a *Token
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(7 * time.Hour)
	next, err := c.RefreshFrom(context.Background(), prev)
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken != tok.RefreshToken || next.RefreshTokenRotated {
		t.Errorf("new refresh token with two months left")
	}
	clk.Add(31 * 24 * time.Hour)
	rotated, err := c.RefreshFrom(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	if !rotated.RefreshTokenRotated || rotated.RefreshToken == tok.RefreshToken {
		t.Error("no new refresh token with less than a month left")
	}
	var ke *kakao.Error
	if _, err := c.Refresh(context.Background(), tok.RefreshToken); !errors.As(err, &ke) || ke.Kind != kakao.KindBadRefreshToken {
		t.Errorf("old refresh token after rotation: %v", err)
	}
}
