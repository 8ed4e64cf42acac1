package server_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/server"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// testRedis is KAKAOAUTH_TEST_REDIS_URL and a key prefix of this test alone, or a skip.
func testRedis(t *testing.T) (url, prefix string) {
	t.Helper()
	url = os.Getenv("KAKAOAUTH_TEST_REDIS_URL")
	if url == "" {
		t.Skip("KAKAOAUTH_TEST_REDIS_URL not set")
	}
	var b [6]byte
	rand.Read(b[:])
	return url, "kakaoauth-test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
}

// replicas starts n servers on one SQLite file, each with cfg applied.
func replicas(t *testing.T, n int, cfg func(*app.Config)) []*servertest.Server {
	db := filepath.Join(t.TempDir(), "shared.db")
	var out []*servertest.Server
	for range n {
		out = append(out, servertest.Start(t, servertest.WithConfig(cfg), func(o *servertest.Options) { o.DatabasePath = db }))
	}
	return out
}

func loginStatus(t *testing.T, base string) int {
	t.Helper()
	r := servertest.Do(t, servertest.NoRedirects(servertest.NewBrowser(t)), "GET", base+"/auth/kakao/login", nil, "")
	servertest.ReadBody(t, r)
	return r.StatusCode
}

// TestSharedRateLimit_079_ReplicasShareOneBudget: with Redis, two replicas allow a client the
// budget once, not twice; without it, each replica counts its own.
func TestSharedRateLimit_079_ReplicasShareOneBudget(t *testing.T) {
	url, prefix := testRedis(t)
	for _, shared := range []bool{true, false} {
		t.Run("shared="+strconv.FormatBool(shared), func(t *testing.T) {
			rs := replicas(t, 2, func(c *app.Config) {
				c.RateLimit = server.RateLimit{Burst: 4, Per: time.Hour}
				if shared {
					c.RedisURL, c.RedisPrefix = url, prefix
				}
			})
			allowed := 0
			for i := range 12 {
				switch st := loginStatus(t, rs[i%2].BaseURL); st {
				case http.StatusFound:
					allowed++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("login %d: %d", i, st)
				}
			}
			want := 8
			if shared {
				want = 4
			}
			if allowed != want {
				t.Fatalf("two replicas allowed %d logins of a budget of 4, want %d", allowed, want)
			}
		})
	}
}

// TestAccountRateLimit_079_LoginsPerKakaoAccount: one Kakao account's logins are limited even
// from many client addresses (across replicas with Redis); another account is not affected.
func TestAccountRateLimit_079_LoginsPerKakaoAccount(t *testing.T) {
	run := func(t *testing.T, url, prefix string) {
		rs := replicas(t, 2, func(c *app.Config) {
			c.RateLimit = server.RateLimit{Burst: 3, Per: time.Hour}
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			c.RedisURL, c.RedisPrefix = url, prefix
		})
		login := func(i int, s *servertest.Server, user int64) int {
			r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/kakao/token",
				map[string]string{"code": s.MintCode(t, user), "redirect_uri": servertest.SPARedirect},
				map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(i)})
			servertest.ReadBody(t, r)
			return r.StatusCode
		}
		user, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
		other, _ := strconv.ParseInt(servertest.UserNoEmail, 10, 64)
		// Per process, each replica allows 3: stay on one for the count.
		s := func(i int) *servertest.Server {
			if url == "" {
				return rs[0]
			}
			return rs[i%2]
		}
		for i := range 3 {
			if st := login(i, s(i), user); st != 200 {
				t.Fatalf("login %d of the account: %d", i, st)
			}
		}
		if st := login(9, s(3), user); st != http.StatusTooManyRequests {
			t.Fatalf("4th login of one account from a 4th address: %d, want 429", st)
		}
		if st := login(10, s(4), other); st != 200 {
			t.Fatalf("another account: %d, want 200", st)
		}
	}
	t.Run("per process", func(t *testing.T) { run(t, "", "") })
	t.Run("redis", func(t *testing.T) {
		url, prefix := testRedis(t)
		run(t, url, prefix)
	})
}

// TestAccountRateLimit_044_FailedRefreshesPerUser: failed refreshes of one user's tokens (reuse,
// a revoked family) cost 3 of the user's budget, from any address; once it is spent they are
// answered 429 with Retry-After, while another user's refreshes go on.
func TestAccountRateLimit_044_FailedRefreshesPerUser(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.RateLimit = server.RateLimit{Burst: 6, Per: time.Hour}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.RefreshGrace = 0
	}))
	refresh := func(i int, token string) *http.Response {
		r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/refresh", map[string]string{"refresh": token},
			map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(i)})
		servertest.ReadBody(t, r)
		return r
	}
	user, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	other, _ := strconv.ParseInt(servertest.UserNoEmail, 10, 64)
	_, old := s.SPASignIn(t, user)
	_, otherRefresh := s.SPASignIn(t, other)
	if r := refresh(1, old); r.StatusCode != 200 { // costs 1 of the user's 6
		t.Fatalf("first refresh: %d", r.StatusCode)
	}
	if r := refresh(2, old); r.StatusCode != 400 { // reuse: the family is revoked; costs 3
		t.Fatalf("reuse: %d, want 400", r.StatusCode)
	}
	r := refresh(3, old) // 2 left, a failure costs 3
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("another failed refresh of the user from a new address: %d (Retry-After %q), want 429", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := refresh(4, otherRefresh); r.StatusCode != 200 {
		t.Fatalf("another user's refresh: %d, want 200", r.StatusCode)
	}
}
