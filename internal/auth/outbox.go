package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// The outbox is the durable queue of work that must happen after a change is committed and must
// not be lost: the service events POSTed to the configured URLs, the Kakao unlink after an
// account deletion that Kakao did not answer, and the work of Kakao's unlink webhook. Rows live
// in the store's outbox table; internal/events delivers them.

// Kinds of outbox items.
const (
	KindEvent        = "event"         // a service event for one URL (Target)
	KindKakaoUnlink  = "kakao_unlink"  // unlink Subject at Kakao (after an account deletion)
	KindKakaoWebhook = "kakao_webhook" // delete the user of a Kakao unlink webhook
)

// States of outbox items.
const (
	OutboxPending   = "pending"
	OutboxDelivered = "delivered"
	OutboxFailed    = "failed"
)

// Event types.
const (
	EventUserCreated    = "user.created"
	EventUserUpdated    = "user.updated"
	EventUserDeleted    = "user.deleted"
	EventUserDisabled   = "user.disabled"
	EventUserEnabled    = "user.enabled"
	EventSessionCreated = "session.created"
	EventSessionRevoked = "session.revoked"
)

// EventTypes lists every event type.
var EventTypes = []string{EventUserCreated, EventUserUpdated, EventUserDeleted, EventUserDisabled,
	EventUserEnabled, EventSessionCreated, EventSessionRevoked}

// OutboxItem is one unit of work in the outbox.
type OutboxItem struct {
	ID        int64
	Kind      string // KindEvent, KindKakaoUnlink, KindKakaoWebhook
	EventID   string // for events: the webhook-id, the same for every URL and every attempt
	EventType string // for events: EventUserCreated, …
	Target    string // for events: the URL it is POSTed to
	// Payload is the body of an event (EventBody), or the JSON arguments of other kinds
	// (UnlinkWork).
	Payload       []byte
	CreatedAt     time.Time
	State         string // OutboxPending, OutboxDelivered, OutboxFailed
	Attempts      int    // attempts started (a claim counts one)
	NextAttemptAt time.Time
	ClaimedUntil  time.Time // a worker holds the item until then (zero: nobody)
	LastError     string
	DoneAt        time.Time // when it was delivered or given up
}

// EventTarget is one URL that receives events, with the types it wants (nil: all).
type EventTarget struct {
	URL   string
	Types []string
}

// Wants reports whether the target receives events of typ.
func (t EventTarget) Wants(typ string) bool {
	return len(t.Types) == 0 || slices.Contains(t.Types, typ)
}

// OutboxResult is what a worker did with a claimed item.
type OutboxResult struct {
	ID      int64
	Attempt int       // the item's Attempts as claimed: a stale worker's result is ignored
	State   string    // OutboxDelivered, OutboxFailed, or OutboxPending to try again
	Next    time.Time // for OutboxPending: the next attempt
	Error   string    // the attempt's error ("" when delivered)
	Now     time.Time
}

// OutboxFilter selects outbox items for listing.
type OutboxFilter struct {
	State string // "" for all
	Limit int    // 0: 100
}

// Outbox is the store's durable queue (implemented by internal/sqlite and internal/postgres). Event
// rows are written by the store itself, in the transaction of the change, for every configured
// EventTarget that wants the type: one row per (event, URL).
type Outbox interface {
	// SetEventTargets sets the URLs that later changes write events for; none: no event rows.
	SetEventTargets(targets []EventTarget)
	// Enqueue adds a pending item due at its NextAttemptAt (CreatedAt when zero) and returns
	// its id.
	Enqueue(ctx context.Context, it OutboxItem) (int64, error)
	// ClaimOutbox leases up to limit pending items that are due at now and not leased by
	// another worker until now+lease, counting an attempt on each, and returns them. Of
	// concurrent claims (on any replica) each item goes to one.
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxItem, error)
	// FinishOutbox records the outcome of an attempt and releases the lease; a result for an
	// attempt other than the item's current one is ignored (false).
	FinishOutbox(ctx context.Context, r OutboxResult) (bool, error)
	// ListOutbox lists items, newest first.
	ListOutbox(ctx context.Context, f OutboxFilter) ([]OutboxItem, error)
	// RetryOutbox makes failed items pending again, due at now, with their attempts reset: the
	// one with id, or every failed item when id is 0. It returns how many; ErrNotFound when id
	// names no failed item.
	RetryOutbox(ctx context.Context, id int64, now time.Time) (int, error)
	// OutboxCounts counts the items in each state.
	OutboxCounts(ctx context.Context) (map[string]int, error)
	// PurgeOutbox deletes the items delivered before before and returns how many.
	PurgeOutbox(ctx context.Context, before time.Time) (int, error)
}

// UserJSON is a user as the API shows it: in the login response, /auth/me and the events.
type UserJSON struct {
	ID              string    `json:"id"`
	KakaoID         *string   `json:"kakao_id"`
	Nickname        *string   `json:"nickname"`
	Email           *string   `json:"email"`
	EmailVerified   *bool     `json:"email_verified"`
	ProfileImageURL *string   `json:"profile_image_url"`
	CreatedAt       time.Time `json:"created_at"`
	LastLoginAt     time.Time `json:"last_login_at"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// UserView is u as UserJSON: empty fields are null, times in UTC to the second.
func UserView(u User) UserJSON {
	out := UserJSON{
		ID: u.ID, KakaoID: nullable(u.KakaoID), Nickname: nullable(u.Nickname), Email: nullable(u.Email),
		ProfileImageURL: nullable(u.ProfileImageURL),
		CreatedAt:       u.CreatedAt.UTC().Truncate(time.Second), LastLoginAt: u.LastLoginAt.UTC().Truncate(time.Second),
	}
	if u.Email != "" {
		v := u.EmailVerified
		out.EmailVerified = &v
	}
	return out
}

// SessionJSON is a session in a session event.
type SessionJSON struct {
	ID        string    `json:"id"`
	Flow      string    `json:"flow"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

type eventJSON struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      struct {
		User    UserJSON     `json:"user"`
		Session *SessionJSON `json:"session,omitempty"`
	} `json:"data"`
}

// EventBody is the JSON body of an event: {"type", "timestamp" (RFC 3339), "data": {"user",
// "session" (session events only)}}.
func EventBody(typ string, at time.Time, u User, sess *Session) []byte {
	var e eventJSON
	e.Type, e.Timestamp = typ, at.UTC().Format(time.RFC3339)
	e.Data.User = UserView(u)
	if sess != nil {
		e.Data.Session = &SessionJSON{ID: sess.ID, Flow: sess.Flow,
			CreatedAt: sess.CreatedAt.UTC().Truncate(time.Second), ExpiresAt: sess.ExpiresAt.UTC().Truncate(time.Second)}
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // plain strings and times cannot fail
	}
	return b
}

// Event is a change to announce, as a store builds it in the transaction of the change.
type Event struct {
	Type    string
	At      time.Time
	User    User
	Session *Session
}

// EventItems are the outbox rows of events for the targets that want them: one per (event, URL),
// all rows of one event sharing an EventID (the webhook-id).
func EventItems(targets []EventTarget, events ...Event) []OutboxItem {
	var out []OutboxItem
	for _, e := range events {
		var id string
		for _, t := range targets {
			if !t.Wants(e.Type) {
				continue
			}
			if id == "" {
				id = "msg_" + NewID(e.At)
				body := EventBody(e.Type, e.At, e.User, e.Session)
				out = append(out, OutboxItem{Kind: KindEvent, EventID: id, EventType: e.Type, Target: t.URL,
					Payload: body, CreatedAt: e.At, State: OutboxPending, NextAttemptAt: e.At})
				continue
			}
			it := out[len(out)-1]
			it.Target = t.URL
			out = append(out, it)
		}
	}
	return out
}

// LoginEvents are the events of a LoginUser that stored u and sess at now: user.created for a new
// user, user.updated when the profile changed (the store moved UpdatedAt to now), and
// session.created.
func LoginEvents(u User, created bool, sess Session, now time.Time) []Event {
	var ev []Event
	switch {
	case created:
		ev = append(ev, Event{Type: EventUserCreated, At: now, User: u})
	case u.UpdatedAt.Equal(now):
		ev = append(ev, Event{Type: EventUserUpdated, At: now, User: u})
	}
	return append(ev, Event{Type: EventSessionCreated, At: now, User: u, Session: &sess})
}

// UnlinkWork is the payload of KindKakaoUnlink and KindKakaoWebhook items.
type UnlinkWork struct {
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
	UserID   string `json:"user_id,omitempty"` // the deleted user (kakao_unlink)
	Reason   string `json:"reason,omitempty"`  // the webhook's referrer_type (kakao_webhook)
}

// ParseUnlinkWork reads an UnlinkWork payload.
func ParseUnlinkWork(b []byte) (UnlinkWork, error) {
	var w UnlinkWork
	if err := json.Unmarshal(b, &w); err != nil {
		return w, fmt.Errorf("outbox payload: %w", err)
	}
	if w.Provider == "" || w.Subject == "" {
		return w, errors.New("outbox payload: no provider or subject")
	}
	return w, nil
}

func unlinkItem(kind string, w UnlinkWork, now time.Time) OutboxItem {
	b, _ := json.Marshal(w)
	return OutboxItem{Kind: kind, Payload: b, CreatedAt: now, State: OutboxPending, NextAttemptAt: now}
}

// QueueUnlinkedAtProvider writes the work of the provider's unlink notice (Kakao's unlink
// webhook) to the outbox, for the worker to do as UnlinkedAtProvider (DoOutboxItem). Without an
// outbox it does the work at once, as UnlinkedAtProvider.
func (s *Service) QueueUnlinkedAtProvider(ctx context.Context, provider, subject, reason string) (queued bool, err error) {
	if s.cfg.Outbox == nil {
		_, err := s.UnlinkedAtProvider(ctx, provider, subject, reason)
		return false, err
	}
	now := s.cfg.Now().UTC()
	if _, err := s.cfg.Outbox.Enqueue(ctx, unlinkItem(KindKakaoWebhook,
		UnlinkWork{Provider: provider, Subject: subject, Reason: clip(reason, 64)}, now)); err != nil {
		return false, storeErr("queue unlink webhook", err)
	}
	s.notifyOutbox()
	return true, nil
}

// queueUnlink writes a retry of a failed unlink to the outbox; it reports whether it did.
func (s *Service) queueUnlink(ctx context.Context, userID, subject string) bool {
	if s.cfg.Outbox == nil {
		return false
	}
	_, err := s.cfg.Outbox.Enqueue(context.WithoutCancel(ctx), unlinkItem(KindKakaoUnlink,
		UnlinkWork{Provider: ProviderKakao, Subject: subject, UserID: userID}, s.cfg.Now().UTC()))
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "unlink at Kakao failed and its retry could not be queued; unlink it by hand",
			slog.String("user_id", userID), slog.String("kakao_id", subject), slog.Any("err", err))
		return false
	}
	s.notifyOutbox()
	return true
}

func (s *Service) notifyOutbox() {
	if s.cfg.OnOutbox != nil {
		s.cfg.OnOutbox()
	}
}

// DoOutboxItem does the work of a kakao_unlink or kakao_webhook item; an error means try again
// later. internal/events calls it.
func (s *Service) DoOutboxItem(ctx context.Context, it OutboxItem) error {
	w, err := ParseUnlinkWork(it.Payload)
	if err != nil {
		return err
	}
	switch it.Kind {
	case KindKakaoUnlink:
		if s.cfg.Unlinker == nil || w.Provider != ProviderKakao {
			return nil
		}
		if err := s.cfg.Unlinker.Unlink(ctx, w.Subject); err != nil {
			return err
		}
		s.audit(ctx, AuditEvent{Time: s.cfg.Now().UTC(), Type: "kakao_unlink_retried", UserID: w.UserID,
			Detail: "kakao_id=" + w.Subject + " attempt=" + fmt.Sprint(it.Attempts)})
		return nil
	case KindKakaoWebhook:
		deleted, err := s.UnlinkedAtProvider(ctx, w.Provider, w.Subject, w.Reason)
		if err != nil {
			return err
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "kakao unlink webhook done", slog.String("kakao_id", w.Subject),
			slog.String("referrer_type", w.Reason), slog.Bool("deleted", deleted))
		return nil
	}
	return fmt.Errorf("outbox: unknown kind %q", strings.ToValidUTF8(it.Kind, "?"))
}
