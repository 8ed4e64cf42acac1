package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// defaultWebhookAnswerWithin is how long the unlink webhook waits for its work to be queued
// before it answers anyway: Kakao wants 200 within 3 s (reference/kakao-api.md §8.2).
const defaultWebhookAnswerWithin = 2 * time.Second

// webhookQueueTimeout bounds the queueing that goes on after the webhook has answered.
const webhookQueueTimeout = time.Minute

// queueUnlinkWebhook writes the webhook's deletion to the outbox (the worker does it) and waits
// for that at most UnlinkWebhook.AnswerWithin. A quick failure is returned (503: Kakao's
// delivery failed and is seen as such); when the database is slower than the bound, answered is
// true: the caller answers 200 at once and the queueing finishes in the background, its outcome
// logged (checklist case 71).
func (s *Server) queueUnlinkWebhook(ctx context.Context, subject, reason string) (queued, answered bool, err error) {
	within := s.cfg.UnlinkWebhook.AnswerWithin
	if within <= 0 {
		within = defaultWebhookAnswerWithin
	}
	type result struct {
		queued bool
		err    error
	}
	done := make(chan result, 1)
	late := make(chan struct{})
	bg := context.WithoutCancel(ctx)
	go func() {
		qctx, cancel := context.WithTimeout(bg, webhookQueueTimeout)
		defer cancel()
		q, err := s.cfg.Service.QueueUnlinkedAtProvider(qctx, auth.ProviderKakao, subject, reason)
		done <- result{q, err}
		select {
		case <-late:
			if err != nil {
				s.log.LogAttrs(bg, slog.LevelError, "kakao unlink webhook answered, but its work could not be queued; delete the user by hand",
					slog.String("kakao_id", subject), slog.Any("err", err))
			} else {
				s.log.LogAttrs(bg, slog.LevelInfo, "kakao unlink webhook queued after the answer", slog.String("kakao_id", subject))
			}
		default:
		}
	}()
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case r := <-done:
		return r.queued, false, r.err
	case <-t.C:
		close(late)
		// The result may have arrived just now: prefer it.
		select {
		case r := <-done:
			return r.queued, false, r.err
		default:
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "kakao unlink webhook: the database is slow; answered first, queueing goes on",
			slog.String("kakao_id", subject), slog.Duration("waited", within))
		return false, true, nil
	}
}
