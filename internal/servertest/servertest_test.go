package servertest

import (
	"github.com/kakaoauth/kakaoauth/internal/app"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStart_SPALoginMeRefresh(t *testing.T) {
	s := Start(t)
	code := s.SPACode(t, UserWithEmail)
	r := PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/kakao/token", map[string]string{"code": code, "redirect_uri": SPARedirect}, nil)
	b := Decode(t, r)
	if r.StatusCode != 200 || b["created"] != true {
		t.Fatalf("login: %d %v", r.StatusCode, b)
	}
	tok := b["token"].(map[string]any)
	if got := s.MeStatus(t, tok["access"].(string)); got != 200 {
		t.Errorf("me: %d, want 200", got)
	}
	if got, _ := s.RefreshStatus(t, tok["refresh"].(string)); got != 200 {
		t.Errorf("refresh: %d, want 200", got)
	}
	if n := s.EmulatorCalls(t, "/oauth/token"); n < 1 {
		t.Errorf("emulator saw %d token calls", n)
	}
}

func TestStart_BrowserLoginAndClock(t *testing.T) {
	s := Start(t, WithConfig(func(c *app.Config) { c.AccessTTL = time.Minute }))
	c := NewBrowser(t)
	r := s.BrowserLogin(t, c, UserNoEmail)
	ReadBody(t, r)
	if !strings.Contains(r.Request.URL.String(), "result=signed-in") {
		t.Fatalf("ended at %s", r.Request.URL)
	}
	access := s.Cookie(c, "/", "accessToken")
	if got := s.MeStatus(t, access); got != 200 {
		t.Fatalf("me: %d", got)
	}
	s.Clock.Advance(2 * time.Minute)
	if got := s.MeStatus(t, access); got != 401 {
		t.Errorf("me after the access TTL: %d, want 401", got)
	}
}
