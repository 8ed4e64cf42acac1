package metrics

import (
	"context"
	"errors"
	"testing"
)

func TestOutboxMetrics(t *testing.T) {
	m := New("test", nil)
	counts := map[string]int{"pending": 3, "delivered": 10, "failed": 1}
	var fail error
	o := m.Outbox(func(context.Context) (map[string]int, error) { return counts, fail })
	mustSample(t, m, "kakaoauth_outbox_items", map[string]string{"state": "pending"}, 3)
	mustSample(t, m, "kakaoauth_outbox_items", map[string]string{"state": "delivered"}, 10)
	mustSample(t, m, "kakaoauth_outbox_items", map[string]string{"state": "failed"}, 1)
	o.Attempt("event", "delivered")
	o.Attempt("event", "delivered")
	o.Attempt("kakao_unlink", "retry")
	o.Attempt("mystery", "delivered")
	mustSample(t, m, "kakaoauth_outbox_attempts_total", map[string]string{"kind": "event", "outcome": "delivered"}, 2)
	mustSample(t, m, "kakaoauth_outbox_attempts_total", map[string]string{"kind": "kakao_unlink", "outcome": "retry"}, 1)
	mustSample(t, m, "kakaoauth_outbox_attempts_total", map[string]string{"kind": "kakao_webhook", "outcome": "failed"}, 0)
	mustSample(t, m, "kakaoauth_outbox_attempts_total", map[string]string{"kind": "other", "outcome": "other"}, 1)
	// A database that does not answer makes the gauge an error of the scrape, not a zero.
	fail = errors.New("database down")
	if _, err := m.Registry().Gather(); err == nil {
		t.Error("gather with the counts failing: no error")
	}
	var nilM *Metrics
	nilM.Outbox(nil).Attempt("event", "delivered") // safe on nil
}
