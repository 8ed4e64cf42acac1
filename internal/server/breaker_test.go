package server_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/kakaoidp"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// breakerServer is a server whose Kakao breaker opens after 4 calls with half of them failing
// and stays open for openFor.
func breakerServer(t *testing.T, openFor time.Duration) *servertest.Server {
	return servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.KakaoBreaker = kakaoidp.BreakerConfig{MinCalls: 4, FailureRatio: 0.5, Consecutive: 100, OpenFor: openFor}
	}))
}

// partialOutage makes every other code exchange fail with Kakao's 503 until the breaker opens
// (a 503 that reached no Kakao endpoint); it returns how many logins it took.
func partialOutage(t *testing.T, s *servertest.Server, user int64) int {
	t.Helper()
	for i := 1; i <= 20; i++ {
		if i%2 == 1 {
			s.Emulator.SetFault("/oauth/token", kakaotest.Fault{Status: 503, Times: 1})
		}
		before := s.EmulatorCalls(t, "/oauth/token")
		r := spaToken(t, s, s.MintCode(t, user))
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		called := s.EmulatorCalls(t, "/oauth/token") > before
		if r.StatusCode == 503 && !called {
			s.Emulator.ClearFaults()
			return i
		}
		if want := map[bool]int{true: 503, false: 200}[i%2 == 1]; r.StatusCode != want {
			t.Fatalf("login %d during the partial outage: %d, want %d", i, r.StatusCode, want)
		}
	}
	t.Fatal("the breaker did not open after 20 logins with half of them failing")
	return 0
}

// TestBreaker_088_PartialOutage: with half of Kakao's token calls failing, the breaker opens;
// then Kakao-dependent logins (SPA, SDK, browser callback) answer 503 kakao_unavailable with
// Retry-After at once, without calling Kakao, while refresh, token verification, /auth/me and
// our JWKS keep working, and the breaker's state is a metric.
func TestBreaker_088_PartialOutage(t *testing.T) {
	s := breakerServer(t, time.Hour)
	const user = 4217730412856391024
	access, refresh := s.SPASignIn(t, user) // before the outage
	n := partialOutage(t, s, user)
	if n < 4 {
		t.Fatalf("breaker opened after %d logins, before it had 4 calls", n)
	}
	s.ResetCalls(t)

	t.Run("logins_fail_fast", func(t *testing.T) {
		code := s.MintCode(t, user)
		start := time.Now()
		r := spaToken(t, s, code)
		t.Logf("a login with the breaker open answered %d in %v", r.StatusCode, time.Since(start))
		m := servertest.Decode(t, r)
		ra, _ := strconv.Atoi(r.Header.Get("Retry-After"))
		if r.StatusCode != 503 || m["error"] != "kakao_unavailable" || ra < 1 || ra > 3600 {
			t.Fatalf("SPA login with the breaker open: %d %v Retry-After %q", r.StatusCode, m, r.Header.Get("Retry-After"))
		}
		kt, _ := s.SDKToken(t, user, nil)
		r, m = s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": kt})
		if r.StatusCode != 503 || m["error"] != "kakao_unavailable" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("SDK login with the breaker open: %d %v", r.StatusCode, m)
		}
		for _, ep := range []string{"/oauth/token", "/v1/user/access_token_info", "/v2/user/me"} {
			if c := s.EmulatorCalls(t, ep); c != 0 {
				t.Errorf("%s called %d times with the breaker open", ep, c)
			}
		}
	})
	t.Run("refresh_verify_me_jwks_unaffected", func(t *testing.T) {
		st, b := s.Refresh(t, refresh)
		if st != 200 {
			t.Fatalf("refresh with the breaker open: %d %v", st, b)
		}
		newAccess := b["token"].(map[string]any)["access"].(string)
		for _, tok := range []string{access, newAccess} {
			r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/verify", map[string]string{"token": tok}, nil)
			if servertest.ReadBody(t, r); r.StatusCode != 200 {
				t.Fatalf("verify with the breaker open: %d", r.StatusCode)
			}
		}
		if st := s.MeStatus(t, newAccess); st != 200 {
			t.Fatalf("/auth/me with the breaker open: %d", st)
		}
		r, err := http.Get(s.BaseURL + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		if servertest.ReadBody(t, r); r.StatusCode != 200 {
			t.Fatalf("JWKS with the breaker open: %d", r.StatusCode)
		}
	})
	t.Run("state_is_a_metric", func(t *testing.T) {
		r, err := http.Get(s.BaseURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body := servertest.ReadBody(t, r)
		if !strings.Contains(body, "kakaoauth_kakao_breaker_state 2") || !strings.Contains(body, `kakaoauth_kakao_breaker_transitions_total{to="open"} 1`) {
			t.Fatalf("metrics do not show the open breaker:\n%s", grepLines(body, "breaker"))
		}
	})
}

// TestBreaker_088_Recovers: once the open period ends, one trial login reaches Kakao; Kakao
// answering closes the breaker and logins work again.
func TestBreaker_088_Recovers(t *testing.T) {
	s := breakerServer(t, 20*time.Millisecond)
	const user = 4217730412856391025
	partialOutage(t, s, user)
	code := s.MintCode(t, user) // not spent while the breaker refuses to call Kakao
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := spaToken(t, s, code)
		m := servertest.Decode(t, r)
		if r.StatusCode == 200 {
			break
		}
		if r.StatusCode != 503 || time.Now().After(deadline) {
			t.Fatalf("login after the open period: %d %v", r.StatusCode, m)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r, err := http.Get(s.BaseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if body := servertest.ReadBody(t, r); !strings.Contains(body, "kakaoauth_kakao_breaker_state 0") {
		t.Fatalf("breaker not closed after Kakao answered:\n%s", grepLines(body, "breaker"))
	}
}

// TestBreaker_088_ClientErrorsDoNotOpen: Kakao refusing a client's bad code (KOE320, 400) is
// Kakao working: any number of them leave the breaker closed.
func TestBreaker_088_ClientErrorsDoNotOpen(t *testing.T) {
	s := breakerServer(t, time.Hour)
	for i := 0; i < 8; i++ {
		r := spaToken(t, s, "not-a-code-"+strconv.Itoa(i))
		if servertest.ReadBody(t, r); r.StatusCode != 400 {
			t.Fatalf("bad code %d: %d, want 400", i, r.StatusCode)
		}
	}
	s.SPASignIn(t, 4217730412856391024)
}
