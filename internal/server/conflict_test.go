package server_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// conflictingStore fails the next Rotate calls as a PostgreSQL store does when its retries of
// a serialization failure ran out.
type conflictingStore struct {
	app.Store
	fail atomic.Int32
}

func (s *conflictingStore) Rotate(ctx context.Context, req auth.RotateRequest) (auth.RotateResult, error) {
	if s.fail.Add(-1) >= 0 {
		return auth.RotateResult{}, fmt.Errorf("postgres: rotate: %w (5 attempts): ERROR: could not serialize access (SQLSTATE 40001)", auth.ErrConflict)
	}
	return s.Store.Rotate(ctx, req)
}

// TestRefresh_091_ExhaustedRetriesAnswer409: exhausted serialization retries answer 409
// conflict with Retry-After (retryable), not 503 or 500, and the token works on the retry.
func TestRefresh_091_ExhaustedRetriesAnswer409(t *testing.T) {
	db, err := app.OpenStore(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := &conflictingStore{Store: db}
	s := servertest.Start(t, func(o *servertest.Options) { o.Store = st })
	user, _ := strconv.ParseInt(servertest.UserWithEmail, 10, 64)
	_, refresh := s.SPASignIn(t, user)
	st.fail.Store(1)
	r := servertest.PostJSON(t, http.DefaultClient, s.BaseURL+"/auth/token/refresh", map[string]string{"refresh": refresh}, nil)
	b := servertest.Decode(t, r)
	if r.StatusCode != http.StatusConflict || b["error"] != "conflict" || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("refresh after exhausted retries: %d %v Retry-After %q; want 409 conflict, Retry-After 1", r.StatusCode, b, r.Header.Get("Retry-After"))
	}
	if code, b := s.Refresh(t, refresh); code != 200 {
		t.Fatalf("the retry: %d %v, want 200 (nothing was written)", code, b)
	}
}
