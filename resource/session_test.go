package resource_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/resource"
)

const verifyPath = "/auth/token/verify"

// logout ends the session of refresh at kakaoauth.
func logout(t *testing.T, s *servertest.Server, refresh string) {
	t.Helper()
	r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/logout", map[string]string{"refresh": refresh}, nil)
	if body := servertest.ReadBody(t, r); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.StatusCode, body)
	}
}

// TestCheckSessionSeesLogout: after a logout, an offline Verifier still accepts the token
// until it expires; one with CheckSession refuses it once its cached answer is older than
// SessionCacheTTL, and caches the refusal too.
func TestCheckSessionSeesLogout(t *testing.T) {
	s, f := startKakaoauth(t)
	c := &clock{}
	online := newVerifier(t, resource.Config{Issuer: s.BaseURL, CheckSession: true, SessionCacheTTL: 5 * time.Second, Now: c.now})
	offline := newVerifier(t, resource.Config{Issuer: s.BaseURL, Now: c.now})
	access, refresh := s.SPASignIn(t, testUser)
	ctx := context.Background()

	step := func(name string, v *resource.Verifier, wantErr error, wantAsks int) {
		t.Helper()
		_, err := v.Verify(ctx, access)
		if (wantErr == nil && err != nil) || (wantErr != nil && !errors.Is(err, wantErr)) {
			t.Errorf("%s: Verify = %v, want %v", name, err, wantErr)
		}
		if got := f.count(verifyPath); got != wantAsks {
			t.Errorf("%s: %d requests to %s, want %d", name, got, verifyPath, wantAsks)
		}
	}
	step("signed in", online, nil, 1)
	step("signed in, cached", online, nil, 1)
	logout(t, s, refresh)
	step("offline after logout", offline, nil, 1)
	step("online after logout, answer still cached", online, nil, 1)
	c.advance(6 * time.Second)
	step("online after logout, cache expired", online, resource.ErrSessionEnded, 2)
	step("online after logout, refusal cached", online, resource.ErrInvalidToken, 2)
	step("offline still", offline, nil, 2)
}

// TestCheckSessionKakaoauthDown: when kakaoauth cannot be asked, the answer is 503, not 401:
// the token may well be good.
func TestCheckSessionKakaoauthDown(t *testing.T) {
	s, f := startKakaoauth(t)
	var logs strings.Builder
	online := newVerifier(t, resource.Config{Issuer: s.BaseURL, CheckSession: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	access, _ := s.SPASignIn(t, testUser)
	f.Close()

	_, err := online.Verify(context.Background(), access)
	if !errors.Is(err, resource.ErrUnavailable) || errors.Is(err, resource.ErrInvalidToken) {
		t.Errorf("Verify with kakaoauth down = %v, want ErrUnavailable and not ErrInvalidToken", err)
	}
	h := online.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("handler reached") }))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/orders", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	h.ServeHTTP(rec, req)
	checkAnswer(t, rec, http.StatusServiceUnavailable, "", "temporarily_unavailable")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("log %q does not say why kakaoauth could not be asked", logs.String())
	}
}
