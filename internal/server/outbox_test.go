package server_test

// The work that goes through the outbox (internal/events): the unlink webhook answered before
// a slow database (checklist case 71), and the Kakao unlink of a deleted account retried until
// Kakao is back.

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
	"github.com/kakaoauth/kakaoauth/internal/sqlite"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// slowStore is the SQLite store with two calls that wait while their gate is set: a database
// that does not answer (for as long as the test says, not for a time).
type slowStore struct {
	*sqlite.DB
	deleteGate, enqueueGate atomic.Pointer[chan struct{}]
	enqueued                chan struct{} // receives after each Enqueue that waited at the gate
	enqueueDown             atomic.Bool   // Enqueue fails at once (the database is down)
}

func openSlowStore(t *testing.T) *slowStore {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kakaoauth.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &slowStore{DB: db, enqueued: make(chan struct{}, 8)}
}

func wait(ctx context.Context, gate *atomic.Pointer[chan struct{}]) error {
	if g := gate.Load(); g != nil {
		select {
		case <-*g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (s *slowStore) DeleteUserByIdentity(ctx context.Context, provider, subject string) (string, error) {
	if err := wait(ctx, &s.deleteGate); err != nil {
		return "", err
	}
	return s.DB.DeleteUserByIdentity(ctx, provider, subject)
}

func (s *slowStore) Enqueue(ctx context.Context, it auth.OutboxItem) (int64, error) {
	if s.enqueueDown.Load() {
		return 0, errors.New("database down")
	}
	held := s.enqueueGate.Load() != nil
	if err := wait(ctx, &s.enqueueGate); err != nil {
		return 0, err
	}
	id, err := s.DB.Enqueue(ctx, it)
	if held {
		s.enqueued <- struct{}{}
	}
	return id, err
}

var _ app.Store = (*slowStore)(nil)

// webhookWithin calls the unlink webhook as Kakao does, giving up after a deadline far above
// Kakao's 3 s: on a server that waits for the database, the test fails instead of hanging.
func webhookWithin(t *testing.T, s *servertest.Server, user int64) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", s.BaseURL+"/auth/kakao/webhook/unlink",
		strings.NewReader(servertest.HookParams(user, "UNLINK_FROM_APPS").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", adminKeyAuth)
	c := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Do(req)
	if err != nil {
		t.Fatalf("the webhook did not answer while the database was held: %v", err)
	}
	servertest.ReadBody(t, r)
	return r
}

func TestWebhook_071_AnsweredBeforeSlowDatabase(t *testing.T) {
	st := openSlowStore(t)
	s := servertest.Start(t, func(o *servertest.Options) {
		o.Store = st
		o.Config.WebhookAnswerWithin = 200 * time.Millisecond
	})
	t.Run("071_deletion_held", func(t *testing.T) {
		const user = 4217730412856391024
		access, _, _ := s.SDKSignIn(t, user)
		gate := make(chan struct{})
		st.deleteGate.Store(&gate)
		r := webhookWithin(t, s, user)
		if r.StatusCode != 200 {
			t.Fatalf("webhook with the deletion held: %d, want 200 (never 3xx)", r.StatusCode)
		}
		if got := s.MeStatus(t, access); got != 200 {
			t.Errorf("/auth/me while the deletion is held: %d (the webhook answered first)", got)
		}
		close(gate)
		st.deleteGate.Store(nil)
		s.DrainOutbox(t)
		if got := s.MeStatus(t, access); got != 401 {
			t.Errorf("/auth/me after the worker's deletion: %d, want 401", got)
		}
	})
	t.Run("071_queueing_held", func(t *testing.T) {
		const user = 4217730412856391025
		access, _, _ := s.SDKSignIn(t, user)
		gate := make(chan struct{})
		st.enqueueGate.Store(&gate)
		r := webhookWithin(t, s, user)
		if r.StatusCode != 200 {
			t.Fatalf("webhook with the outbox held: %d, want 200", r.StatusCode)
		}
		if !strings.Contains(s.Logs.String(), "answered first") {
			t.Errorf("the early answer is not logged: %s", s.Logs.String())
		}
		close(gate)
		st.enqueueGate.Store(nil)
		<-st.enqueued // the queueing went on after the answer
		s.DrainOutbox(t)
		if got := s.MeStatus(t, access); got != 401 {
			t.Errorf("/auth/me after the late-queued deletion: %d, want 401", got)
		}
	})
}

// A database that fails at once (rather than slowly) is 503, never a 2xx that loses the work
// nor a 401; Kakao sees the delivery failed.
func TestWebhook_QueueFailureIs503(t *testing.T) {
	st := openSlowStore(t)
	s := servertest.Start(t, func(o *servertest.Options) { o.Store = st })
	const user = 4217730412856391024
	access, _, _ := s.SDKSignIn(t, user)
	st.enqueueDown.Store(true)
	if r := webhookWithin(t, s, user); r.StatusCode != 503 {
		t.Errorf("webhook with the database down: %d, want 503", r.StatusCode)
	}
	st.enqueueDown.Store(false)
	s.DrainOutbox(t)
	if got := s.MeStatus(t, access); got != 200 {
		t.Errorf("/auth/me after a refused webhook: %d, want 200 (nothing deleted)", got)
	}
}

func outboxItems(t *testing.T, s *servertest.Server, kind, state string) []auth.OutboxItem {
	t.Helper()
	ob, ok := s.App.Store.(auth.Outbox)
	if !ok {
		t.Fatalf("store %T has no outbox", s.App.Store)
	}
	all, err := ob.ListOutbox(context.Background(), auth.OutboxFilter{State: state})
	if err != nil {
		t.Fatal(err)
	}
	var out []auth.OutboxItem
	for _, it := range all {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// Kakao is down when a person deletes their account: the deletion stands, and the unlink is
// retried from the outbox until Kakao answers (Kakao's -101, not linked, counts as done).
func TestAccount_UnlinkRetriedFromOutbox(t *testing.T) {
	s := servertest.Start(t)
	for i, tc := range []struct {
		name  string
		after kakaotest.Fault // Kakao's answer once it is back
	}{
		{"kakao back", kakaotest.Fault{}},
		{"kakao says not linked (-101)", kakaotest.Fault{Status: 400, Body: `{"msg":"not registered user","code":-101}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := int64(5300000000000000000 + i)
			s.AddUser(t, user, "재시도")
			at, _ := s.SDKToken(t, user, nil)
			r, b := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at})
			if r.StatusCode != 200 {
				t.Fatalf("login: %d %v", r.StatusCode, b)
			}
			tok := b["token"].(map[string]any)
			access, refresh := tok["access"].(string), tok["refresh"].(string)

			s.Emulator.SetFault("/v1/user/unlink", kakaotest.Fault{Status: 503})
			if r := deleteMe(t, s, access); r.StatusCode != 204 {
				t.Fatalf("DELETE /auth/me with Kakao down: %d, want 204", r.StatusCode)
			}
			checkDeleted(t, s, access, refresh)
			if got := outboxItems(t, s, auth.KindKakaoUnlink, auth.OutboxPending); len(got) != 1 {
				t.Fatalf("pending unlinks: %+v, want 1", got)
			}
			// Still down: the retry fails and stays queued.
			s.Clock.Advance(2 * time.Hour)
			s.DrainOutbox(t)
			if got := outboxItems(t, s, auth.KindKakaoUnlink, auth.OutboxPending); len(got) != 1 || got[0].Attempts < 1 || got[0].LastError == "" {
				t.Fatalf("pending unlink while Kakao is down: %+v", got)
			}
			// Kakao is back.
			s.Emulator.ClearFaults()
			if tc.after != (kakaotest.Fault{}) {
				s.Emulator.SetFault("/v1/user/unlink", tc.after)
			}
			defer s.Emulator.ClearFaults()
			s.Emulator.ResetCalls()
			s.Clock.Advance(2 * time.Hour)
			s.DrainOutbox(t)
			if got := s.Emulator.Calls("/v1/user/unlink"); got != 1 {
				t.Errorf("Kakao unlink calls after Kakao is back: %d, want 1", got)
			}
			if got := outboxItems(t, s, auth.KindKakaoUnlink, auth.OutboxPending); len(got) != 0 {
				t.Errorf("unlinks still pending: %+v", got)
			}
			s.Clock.Advance(2 * time.Hour)
			s.DrainOutbox(t)
			if got := s.Emulator.Calls("/v1/user/unlink"); got != 1 {
				t.Errorf("a done unlink was retried: %d calls", got)
			}
			if tc.after == (kakaotest.Fault{}) {
				// The unlink reached Kakao: the old Kakao token is dead.
				r, _ := s.SDKLogin(t, http.DefaultClient, map[string]string{"access_token": at})
				if r.StatusCode == 200 {
					t.Errorf("the Kakao token of the unlinked user still logs in")
				}
			}
		})
	}
}
