package server_test

// Kakao's unlink webhook (GET and POST /auth/kakao/webhook/unlink), called directly and by the
// emulator as Kakao calls it. Security-checklist cases carry their numbers.

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

const adminKeyAuth = "KakaoAK " + servertest.DevAdminKey

func TestWebhook_67_Auth(t *testing.T) {
	s := servertest.Start(t)
	const user = 4217730412856391026
	access, _, _ := s.SDKSignIn(t, user)
	for _, tc := range []struct{ name, authz string }{
		{"missing", ""},
		{"wrong key", "KakaoAK wrong"},
		{"empty key", "KakaoAK "},
		{"bearer scheme", "Bearer " + servertest.DevAdminKey},
		{"no scheme", servertest.DevAdminKey},
		{"key and more", adminKeyAuth + " x"},
		{"key prefix", adminKeyAuth[:len(adminKeyAuth)-1]},
		{"two spaces", "KakaoAK  " + servertest.DevAdminKey},
		{"client secret", "KakaoAK kakaoauth-dev-client-secret"},
	} {
		for _, method := range []string{"GET", "POST"} {
			r := s.Webhook(t, method, tc.authz, servertest.HookParams(user, "UNLINK_FROM_APPS"))
			if r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "KakaoAK") {
				t.Errorf("%s %s: %d WWW-Authenticate %q, want 401 KakaoAK", tc.name, method, r.StatusCode, r.Header.Get("WWW-Authenticate"))
			}
		}
	}
	if got := s.MeStatus(t, access); got != 200 {
		t.Fatalf("user after refused webhooks: /auth/me %d", got)
	}
	// HTTP itself drops trailing whitespace of a header value (RFC 9110 §5.5), so the key with a
	// trailing space is the key: it is accepted, and deletes.
	if r := s.Webhook(t, "POST", adminKeyAuth+" ", servertest.HookParams(user, "UNLINK_FROM_APPS")); r.StatusCode != 200 {
		t.Errorf("key with trailing whitespace: %d", r.StatusCode)
	}
	s.DrainOutbox(t) // the deletion is the outbox worker's
	if got := s.MeStatus(t, access); got != 401 {
		t.Errorf("user after the valid webhook: /auth/me %d", got)
	}
}

func TestWebhook_68_WrongAppID(t *testing.T) {
	s := servertest.Start(t)
	const user = 4217730412856391026
	access, _, _ := s.SDKSignIn(t, user)
	for _, appID := range []string{"7654321", "01234567", "1234567 ", "", "1234567.0"} {
		p := servertest.HookParams(user, "UNLINK_FROM_APPS")
		p.Set("app_id", appID)
		for _, method := range []string{"GET", "POST"} {
			if r := s.Webhook(t, method, adminKeyAuth, p); r.StatusCode != 403 {
				t.Errorf("app_id %q %s: %d, want 403", appID, method, r.StatusCode)
			}
		}
	}
	if got := s.MeStatus(t, access); got != 200 {
		t.Fatalf("user after webhooks for another app: /auth/me %d", got)
	}
}

func TestWebhook_69_Variants(t *testing.T) {
	s := servertest.Start(t)
	types := []string{"ACCOUNT_DELETE", "FORCED_ACCOUNT_DELETE", "UNLINK_FROM_APPS", "UNLINK_FROM_ADMIN", "INCOMPLETE_SIGN_UP", "SOMETHING_NEW"}
	next := int64(5100000000000000000)
	for _, typ := range types {
		for _, method := range []string{"GET", "POST"} {
			t.Run(typ+"/"+method, func(t *testing.T) {
				next++
				s.AddUser(t, next, "웹훅")
				access, refresh, _ := s.SDKSignIn(t, next)
				if r := s.Webhook(t, method, adminKeyAuth, servertest.HookParams(next, typ)); r.StatusCode != 200 {
					t.Fatalf("webhook: %d", r.StatusCode)
				}
				s.DrainOutbox(t)
				if got := s.MeStatus(t, access); got != 401 {
					t.Errorf("/auth/me after unlink: %d, want 401", got)
				}
				if st, code := s.RefreshStatus(t, refresh); st != 400 || code != "invalid_grant" {
					t.Errorf("refresh after unlink: %d %v", st, code)
				}
			})
		}
	}
	if !strings.Contains(s.Logs.String(), "unknown referrer_type") {
		t.Errorf("unknown referrer_type not logged")
	}
	// Unknown users, repeated deliveries and a missing referrer_type still answer 200.
	for _, method := range []string{"GET", "POST"} {
		if r := s.Webhook(t, method, adminKeyAuth, servertest.HookParams(5199999999999999999, "UNLINK_FROM_APPS")); r.StatusCode != 200 {
			t.Errorf("unknown user %s: %d", method, r.StatusCode)
		}
		p := servertest.HookParams(5199999999999999998, "")
		p.Del("referrer_type")
		if r := s.Webhook(t, method, adminKeyAuth, p); r.StatusCode != 200 {
			t.Errorf("no referrer_type %s: %d", method, r.StatusCode)
		}
	}
	// Malformed user ids are the sender's error.
	for _, id := range []string{"", "abc", "-5", "012", "99999999999999999999"} {
		p := servertest.HookParams(0, "UNLINK_FROM_APPS")
		p.Set("user_id", id)
		if r := s.Webhook(t, "POST", adminKeyAuth, p); r.StatusCode != 400 {
			t.Errorf("user_id %q: %d, want 400", id, r.StatusCode)
		}
	}
	// A JSON body is not what Kakao sends.
	r := servertest.Do(t, http.DefaultClient, "POST", s.BaseURL+"/auth/kakao/webhook/unlink",
		map[string]string{"Authorization": adminKeyAuth, "Content-Type": "application/json"}, `{"user_id":"1"}`)
	servertest.ReadBody(t, r)
	if r.StatusCode != 415 {
		t.Errorf("JSON body: %d, want 415", r.StatusCode)
	}
}

func TestWebhook_70_Duplicate(t *testing.T) {
	s := servertest.Start(t, func(o *servertest.Options) { o.LogLevel = slog.LevelInfo })
	const user = 4217730412856391027
	access, _, _ := s.SDKSignIn(t, user)
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = s.Webhook(t, "POST", adminKeyAuth, servertest.HookParams(user, "UNLINK_FROM_APPS")).StatusCode
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Errorf("delivery %d: %d", i, st)
		}
	}
	s.DrainOutbox(t)
	if got := s.MeStatus(t, access); got != 401 {
		t.Errorf("/auth/me after unlink: %d", got)
	}
	logs := s.Logs.String() // JSON lines
	if n := strings.Count(logs, `"deleted":true`); n != 1 {
		t.Errorf("%d deliveries deleted the user, want exactly 1", n)
	}
	if n := strings.Count(logs, `"msg":"kakao unlink webhook"`); n != 3 {
		t.Errorf("%d deliveries handled, want 3", n)
	}
}

// TestWebhook_EmulatorUnlink: the person unlinks the app on Kakao's side; the emulator calls
// our webhook as Kakao does and our account is gone.
func TestWebhook_EmulatorUnlink(t *testing.T) {
	s := servertest.Start(t)
	const user = 4217730412856391024
	access, refresh, oldID := s.SDKSignIn(t, user)
	if err := s.Emulator.UnlinkFromKakao(context.Background(), user, kakaotest.ReferrerAccountDelete); err != nil {
		t.Fatalf("emulator unlink (our webhook must answer 200): %v", err)
	}
	s.DrainOutbox(t)
	if got := s.MeStatus(t, access); got != 401 {
		t.Errorf("/auth/me after unlink: %d", got)
	}
	if st, _ := s.RefreshStatus(t, refresh); st != 400 {
		t.Errorf("refresh after unlink: %d", st)
	}
	// 66: logging in again is a new account.
	_, _, newID := s.SDKSignIn(t, user)
	if newID == oldID {
		t.Errorf("re-login after unlink got the old account %s", oldID)
	}
}
