// Package events delivers the outbox (auth.Outbox): service events POSTed to the configured URLs,
// signed as the Standard Webhooks specification says, and the Kakao work queued by the domain
// (the retried unlink of a deleted account, the unlink webhook's deletion).
//
// Delivery is at least once: an item is claimed with a lease (so that no two workers, on any
// replica, attempt it at once), attempted, and then marked delivered (2xx, or the work done),
// rescheduled with exponential backoff and jitter, or failed after MaxAttempts. Everything is in
// the database, so pending work survives a restart. Order is not guaranteed; receivers
// deduplicate by webhook-id, which is the same for every attempt (and every URL) of one event.
package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/metrics"
)

// Defaults of Config.
const (
	DefaultMaxAttempts = 12
	DefaultMinBackoff  = 5 * time.Second
	DefaultMaxBackoff  = time.Hour
	DefaultLease       = 2 * time.Minute
	DefaultPoll        = 5 * time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultBatch       = 16
	DefaultRetention   = 7 * 24 * time.Hour
)

// Config configures a Worker.
type Config struct {
	Store auth.Outbox
	// Secret signs the events (KAKAOAUTH_EVENTS_SECRET, "whsec_" and base64); required when
	// there are targets.
	Secret string
	// Do does the work of kakao_unlink and kakao_webhook items (auth.Service.DoOutboxItem); an
	// error means try again later. Nil: such items are retried until it is set.
	Do func(ctx context.Context, it auth.OutboxItem) error
	// Client POSTs the events; default one with Timeout that follows no redirects.
	Client *http.Client
	// Timeout bounds one attempt (default DefaultTimeout); it must be well below Lease.
	Timeout     time.Duration
	MaxAttempts int           // attempts before an item fails (default DefaultMaxAttempts)
	MinBackoff  time.Duration // pause after the first failed attempt (default DefaultMinBackoff)
	MaxBackoff  time.Duration // the longest pause (default DefaultMaxBackoff)
	Lease       time.Duration // how long a claim holds an item (default DefaultLease)
	Poll        time.Duration // how often Run looks for due items (default DefaultPoll)
	Batch       int           // items claimed at once, attempted in parallel (default DefaultBatch)
	Retention   time.Duration // delivered items are purged after this (default DefaultRetention)
	Now         func() time.Time
	Logger      *slog.Logger
	Metrics     *metrics.OutboxMetrics
}

// Worker delivers the outbox.
type Worker struct {
	cfg    Config
	hook   *standardwebhooks.Webhook
	runMu  sync.Mutex // one RunOnce at a time in this process
	wake   chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
	purged time.Time
}

// New checks cfg and returns a worker; Start runs it.
func New(cfg Config) (*Worker, error) {
	if cfg.Store == nil {
		return nil, errors.New("events: no store")
	}
	w := &Worker{cfg: cfg, wake: make(chan struct{}, 1)}
	if cfg.Secret != "" {
		h, err := NewSigner(cfg.Secret)
		if err != nil {
			return nil, err
		}
		w.hook = h
	}
	c := &w.cfg
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return w, nil
}

// NewSigner reads a whsec_ secret.
func NewSigner(secret string) (*standardwebhooks.Webhook, error) {
	if !strings.HasPrefix(secret, "whsec_") {
		return nil, errors.New("events: the secret must be whsec_ followed by base64 (for example whsec_$(head -c 32 /dev/urandom | base64))")
	}
	h, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("events: secret: %w", err)
	}
	return h, nil
}

// Notify wakes a running worker: work has been queued.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Start runs the worker in the background until Close.
func (w *Worker) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.stop, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		w.Run(ctx)
	}()
}

// Close stops a started worker and waits for the attempts in flight to end.
func (w *Worker) Close() {
	if w.stop == nil {
		return
	}
	w.stop()
	<-w.done
	w.stop = nil
}

// Run delivers due items until ctx ends: at once when woken (Notify), else every Poll.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn("outbox: claim failed; trying again", "err", err)
		}
		w.maybePurge(ctx)
		next := w.cfg.Poll
		if n >= w.cfg.Batch {
			next = 0 // there may be more due now
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(next)
	}
}

func (w *Worker) maybePurge(ctx context.Context) {
	now := w.cfg.Now()
	if now.Sub(w.purged) < time.Hour {
		return
	}
	w.purged = now
	if n, err := w.cfg.Store.PurgeOutbox(ctx, now.Add(-w.cfg.Retention)); err != nil {
		w.cfg.Logger.Warn("outbox: purge failed", "err", err)
	} else if n > 0 {
		w.cfg.Logger.Info("outbox: purged delivered items", "count", n)
	}
}

// RunOnce claims the items due now (at most Batch), attempts them in parallel and records the
// outcomes; it returns how many it attempted. Calls are serialized within the process.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.runMu.Lock()
	defer w.runMu.Unlock()
	items, err := w.cfg.Store.ClaimOutbox(ctx, w.cfg.Now(), w.cfg.Lease, w.cfg.Batch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Go(func() { w.attempt(ctx, it) })
	}
	wg.Wait()
	return len(items), nil
}

// Drain runs RunOnce until nothing is due (at most rounds times, 0: 100), for tests and the CLI.
func (w *Worker) Drain(ctx context.Context, rounds int) (int, error) {
	if rounds <= 0 {
		rounds = 100
	}
	total := 0
	for range rounds {
		n, err := w.RunOnce(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// attempt does one item and records the outcome. The attempt runs to its own timeout even when
// ctx ends (a shutdown), so that its outcome is recorded.
func (w *Worker) attempt(ctx context.Context, it auth.OutboxItem) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.Timeout)
	defer cancel()
	var err error
	switch it.Kind {
	case auth.KindEvent:
		err = w.deliver(actx, it)
	default:
		if w.cfg.Do == nil {
			err = errors.New("no handler for " + it.Kind)
		} else {
			err = w.cfg.Do(actx, it)
		}
	}
	now := w.cfg.Now()
	r := auth.OutboxResult{ID: it.ID, Attempt: it.Attempts, State: auth.OutboxDelivered, Now: now}
	outcome := "delivered"
	if err != nil {
		r.Error = truncate(err.Error(), 500)
		if it.Attempts >= w.cfg.MaxAttempts {
			r.State, outcome = auth.OutboxFailed, "failed"
		} else {
			r.State, r.Next, outcome = auth.OutboxPending, now.Add(Backoff(it.Attempts, w.cfg.MinBackoff, w.cfg.MaxBackoff)), "retry"
		}
	}
	w.cfg.Metrics.Attempt(it.Kind, outcome)
	level := slog.LevelInfo
	if outcome == "failed" {
		level = slog.LevelError
	} else if outcome == "retry" {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.Int64("outbox_id", it.ID), slog.String("kind", it.Kind), slog.Int("attempt", it.Attempts),
		slog.String("outcome", outcome)}
	if it.Kind == auth.KindEvent {
		attrs = append(attrs, slog.String("event_id", it.EventID), slog.String("type", it.EventType), slog.String("url", RedactURL(it.Target)))
	}
	if err != nil {
		attrs = append(attrs, slog.String("err", r.Error))
	}
	w.cfg.Logger.LogAttrs(ctx, level, "outbox attempt", attrs...)
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.Timeout)
	defer fcancel()
	if ok, ferr := w.cfg.Store.FinishOutbox(fctx, r); ferr != nil {
		// The lease runs out and the item is attempted again: at least once.
		w.cfg.Logger.Warn("outbox: recording an attempt failed; it will be attempted again", "outbox_id", it.ID, "err", ferr)
	} else if !ok {
		w.cfg.Logger.Warn("outbox: attempt outlived its lease; another worker has the item", "outbox_id", it.ID)
	}
}

// Backoff is the pause after attempt n (1, 2, …) failed: min·2^(n-1), at most max, of which the
// upper half is random (jitter), so that retries of many items spread out.
func Backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max || d <= 0 {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// deliver POSTs an event, signed.
func (w *Worker) deliver(ctx context.Context, it auth.OutboxItem) error {
	if w.hook == nil {
		return errors.New("KAKAOAUTH_EVENTS_SECRET is not set: events are not sent unsigned")
	}
	ts := w.cfg.Now()
	sig, err := w.hook.Sign(it.EventID, ts, it.Payload)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, it.Target, bytes.NewReader(it.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kakaoauth-events")
	req.Header.Set(standardwebhooks.HeaderWebhookID, it.EventID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is logged on its own, without its query
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// RedactURL drops the query and user info of an event URL (they may carry a token).
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(bad URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// ParseTargets reads KAKAOAUTH_EVENTS_URL: URLs separated by spaces (or newlines), each
// optionally followed by #type,type naming the event types it wants (none: all). Example:
//
//	https://api.example/hooks/kakaoauth https://audit.example/in#user.created,user.deleted
func ParseTargets(v string) ([]auth.EventTarget, error) {
	var (
		out  []auth.EventTarget
		errs []error
	)
	for _, f := range strings.Fields(v) {
		raw, frag, _ := strings.Cut(f, "#")
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || strings.Contains(raw, ",http") {
			msg := fmt.Sprintf("want an http(s) URL, got %q", raw)
			if strings.Contains(raw, ",http") {
				msg += " (separate URLs with spaces; commas separate the event types after #)"
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		t := auth.EventTarget{URL: raw}
		for _, typ := range strings.Split(frag, ",") {
			if typ = strings.TrimSpace(typ); typ == "" || typ == "*" {
				continue
			}
			if !slices.Contains(auth.EventTypes, typ) {
				errs = append(errs, fmt.Errorf("unknown event type %q after %s# (known: %s)", typ, raw, strings.Join(auth.EventTypes, ", ")))
				continue
			}
			if !slices.Contains(t.Types, typ) {
				t.Types = append(t.Types, typ)
			}
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}
