package app_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestPruneOnce: with the server's clock moved past a session's end and the audit retention,
// one round deletes the session, its tokens and the old audit events, counts them in
// kakaoauth_pruned_rows_total, and leaves a fresh session working.
func TestPruneOnce(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.AuditRetention = 48 * time.Hour }))
	user, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	_, oldRefresh := s.SPASignIn(t, user)
	if err := s.App.Store.Audit(context.Background(), auth.AuditEvent{Time: s.Clock.Now(), Type: "login"}); err != nil {
		t.Fatal(err)
	}
	if res, err := s.App.PruneOnce(context.Background()); err != nil || res != (auth.PruneResult{}) {
		t.Fatalf("PruneOnce with nothing ended = %+v, %v", res, err)
	}
	s.Clock.Advance(s.Config.RefreshTTL + time.Hour)
	access, refresh := s.SPASignIn(t, user)
	res, err := s.App.PruneOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sessions != 1 || res.RefreshTokens != 1 || res.AuditEvents < 1 {
		t.Fatalf("PruneOnce past the session's end = %+v, want 1 session, 1 token, the old audit events", res)
	}
	if st, _ := s.RefreshStatus(t, oldRefresh); st != http.StatusBadRequest {
		t.Fatalf("pruned refresh token: %d, want 400", st)
	}
	if st := s.MeStatus(t, access); st != 200 {
		t.Fatalf("fresh session after pruning: me %d", st)
	}
	if st, _ := s.RefreshStatus(t, refresh); st != 200 {
		t.Fatalf("fresh session after pruning: refresh %d", st)
	}
	r, err := http.Get(s.BaseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body := servertest.ReadBody(t, r)
	for _, want := range []string{`kakaoauth_pruned_rows_total{table="sessions"} 1`, `kakaoauth_pruned_rows_total{table="refresh_tokens"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
