package app

import (
	"context"
	"fmt"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/events"
	"github.com/kakaoauth/kakaoauth/internal/metrics"
)

// newWorker sets the store's event targets and makes the outbox worker, with do for the Kakao
// work; all nil when the store has no outbox.
func newWorker(cfg Config, store Store, m *metrics.Metrics, do func(context.Context, auth.OutboxItem) error) (*events.Worker, auth.Outbox, error) {
	ob, ok := store.(auth.Outbox)
	if !ok {
		if len(cfg.EventTargets) > 0 {
			return nil, nil, fmt.Errorf("KAKAOAUTH_EVENTS_URL: the store %T has no outbox", store)
		}
		return nil, nil, nil
	}
	if len(cfg.EventTargets) > 0 && cfg.EventsSecret == "" {
		return nil, nil, fmt.Errorf("KAKAOAUTH_EVENTS_SECRET: required with KAKAOAUTH_EVENTS_URL (whsec_ and base64 of 24 to 64 random bytes)")
	}
	ob.SetEventTargets(cfg.EventTargets)
	ec := cfg.Events
	ec.Store, ec.Secret, ec.Do, ec.Now, ec.Logger = ob, cfg.EventsSecret, do, cfg.Now, cfg.Logger
	ec.Metrics = m.Outbox(ob.OutboxCounts)
	w, err := events.New(ec)
	if err != nil {
		return nil, nil, fmt.Errorf("KAKAOAUTH_EVENTS_SECRET: %w", err)
	}
	return w, ob, nil
}

// StopEvents stops the outbox worker, waiting for the attempts in flight; pending work stays in
// the database for the next start.
func (a *App) StopEvents() {
	if a.Events != nil {
		a.Events.Close()
	}
}

// notifier is the worker's Notify, or nil without a worker.
func notifier(w *events.Worker) func() {
	if w == nil {
		return nil
	}
	return w.Notify
}
