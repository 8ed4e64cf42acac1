package postgres_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/postgres"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// TestPool_094_ExhaustedAnswers503AtTheDeadline: while every connection of the pool is held,
// requests that need the database answer 503 at the request deadline (not 401, not 500, not
// never), /readyz says the pool is exhausted, and everything works again once they are free.
func TestPool_094_ExhaustedAnswers503AtTheDeadline(t *testing.T) {
	u, err := url.Parse(postgres.FreshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "2")
	u.RawQuery = q.Encode()
	db, err := postgres.Open(context.Background(), u.String(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.Start(t, func(o *servertest.Options) { o.Store = db },
		servertest.WithConfig(func(c *app.Config) { c.RequestTimeout = 300 * time.Millisecond }))
	user, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	access, refresh := s.SPASignIn(t, user)

	release := postgres.HoldAllConns(t, db)
	if st := s.MeStatus(t, access); st != http.StatusServiceUnavailable {
		t.Fatalf("GET /auth/me with the pool exhausted: %d, want 503", st)
	}
	if st, code := s.RefreshStatus(t, refresh); st != http.StatusServiceUnavailable || code != "temporarily_unavailable" {
		t.Fatalf("refresh with the pool exhausted: %d %v, want 503 temporarily_unavailable", st, code)
	}
	req, _ := http.NewRequest("GET", s.BaseURL+"/readyz", nil)
	req.Header.Set("Accept-Language", "en")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := servertest.Decode(t, r)
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" ||
		b["error_description"] != "Every database connection is in use. Please try again shortly." {
		t.Fatalf("/readyz with the pool exhausted: %d %v (Retry-After %q)", r.StatusCode, b, r.Header.Get("Retry-After"))
	}

	release()
	if st := s.MeStatus(t, access); st != 200 {
		t.Fatalf("GET /auth/me after the pool is free: %d", st)
	}
	if st, code := s.RefreshStatus(t, refresh); st != 200 {
		t.Fatalf("refresh after the pool is free: %d %v (the token must still work)", st, code)
	}
	if r, _ := servertest.GetJSON(t, http.DefaultClient, s.BaseURL+"/readyz", ""); r.StatusCode != 200 {
		t.Fatalf("/readyz after the pool is free: %d", r.StatusCode)
	}
}
