package server_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/server"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestRateLimit_79_80: a burst from one IP is cut off with 429 and Retry-After; X-Forwarded-For
// does not reset it; another route has its own budget. Failed attempts (a guessed refresh
// token: 400) cost 3 of the budget of 30, so the 11th guess is refused.
func TestRateLimit_79_80(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.RateLimit = server.RateLimit{Burst: 30, Per: time.Minute} }))
	var limited *http.Response
	for i := 0; i < 40 && limited == nil; i++ {
		r := servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+"/auth/token/refresh", map[string]string{
			"Content-Type": "application/json", "X-Forwarded-For": "203.0.113." + strconv.Itoa(i),
		}, `{"refresh":"kar_guess"}`)
		servertest.ReadBody(t, r)
		switch {
		case i < 10 && r.StatusCode != 400:
			t.Fatalf("request %d: %d, want 400 (a guess)", i, r.StatusCode)
		case r.StatusCode == 429:
			limited = r
		}
	}
	// The 11th is refused unless a token came back meanwhile (one every 2 s): by the 40th, surely.
	if limited == nil || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("no 429 with Retry-After after the burst of 30")
	}
	if r, _ := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/healthz", ""); r.StatusCode != 200 {
		t.Fatalf("healthz: %d", r.StatusCode)
	}
}
