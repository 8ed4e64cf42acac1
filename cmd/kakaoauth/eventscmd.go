package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/events"
)

const eventsUsage = `usage: kakaoauth events <command> [flags]

  list [-state STATE] [-limit N]   the outbox (events to deliver, Kakao unlinks to retry), newest first
  retry ID                         make a failed item pending again; its attempts start over
  retry -all-failed                every failed item

flags:
  -json         print JSON instead of a table
  -state STATE  list only pending, delivered or failed items
  -limit N      list at most N items (default 100)
  -all-failed   retry every failed item
  -dev          use the settings of 'kakaoauth dev' (its database)

A running server picks retried items up within seconds (it polls the outbox).
Run it with the server's KAKAOAUTH_* environment (KAKAOAUTH_DATABASE_URL and the rest).`

// runEvents is `kakaoauth events …`.
func runEvents(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, eventsUsage)
		return nil
	}
	if len(args) == 0 {
		return usageError{eventsUsage}
	}
	sub := args[0]
	if sub != "list" && sub != "retry" {
		return usageError{fmt.Sprintf("unknown command %q\n%s", "events "+sub, eventsUsage)}
	}
	fs := flag.NewFlagSet("events "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dev := fs.Bool("dev", false, "")
	asJSON := fs.Bool("json", false, "")
	state := fs.String("state", "", "")
	limit := fs.Int("limit", 100, "")
	allFailed := fs.Bool("all-failed", false, "")
	var pos []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stdout, eventsUsage)
				return nil
			}
			return usageError{fmt.Sprintf("%v\n%s", err, eventsUsage)}
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	var id int64
	switch sub {
	case "list":
		if len(pos) > 0 {
			return usageError{fmt.Sprintf("events list takes no argument, got %q\n%s", pos[0], eventsUsage)}
		}
		switch *state {
		case "", auth.OutboxPending, auth.OutboxDelivered, auth.OutboxFailed:
		default:
			return usageError{fmt.Sprintf("-state: want pending, delivered or failed, got %q\n%s", *state, eventsUsage)}
		}
		if *limit <= 0 || *limit > 10000 {
			return usageError{fmt.Sprintf("-limit: want 1 to 10000, got %d\n%s", *limit, eventsUsage)}
		}
	case "retry":
		switch {
		case *allFailed && len(pos) == 0:
		case !*allFailed && len(pos) == 1:
			n, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil || n <= 0 {
				return usageError{fmt.Sprintf("events retry: want an item id (a number from events list), got %q\n%s", pos[0], eventsUsage)}
			}
			id = n
		default:
			return usageError{fmt.Sprintf("events retry takes an item id or -all-failed (one of them)\n%s", eventsUsage)}
		}
	}
	cfg, err := loadConfig(getenv, *dev)
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	ob, ok := store.(auth.Outbox)
	if !ok {
		return fmt.Errorf("the database %T has no outbox", store)
	}
	a := &adminRun{out: stdout, json: *asJSON}
	if sub == "list" {
		items, err := ob.ListOutbox(ctx, auth.OutboxFilter{State: *state, Limit: *limit})
		if err != nil {
			return err
		}
		return a.listOutbox(items)
	}
	n, err := ob.RetryOutbox(ctx, id, time.Now())
	if errors.Is(err, auth.ErrNotFound) {
		return fmt.Errorf("no failed outbox item %d (events list -state failed shows them)", id)
	}
	if err != nil {
		return err
	}
	return a.done(fmt.Sprintf("%d item(s) pending again", n), map[string]any{"retried": n})
}

// outboxJSON is an outbox item as `events list -json` prints it.
type outboxJSON struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	EventID       string     `json:"event_id,omitempty"`
	EventType     string     `json:"event_type,omitempty"`
	Target        string     `json:"target,omitempty"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"created_at"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	DoneAt        *time.Time `json:"done_at"`
	LastError     string     `json:"last_error"`
}

func (a *adminRun) listOutbox(items []auth.OutboxItem) error {
	if a.json {
		out := make([]outboxJSON, 0, len(items))
		for _, it := range items {
			j := outboxJSON{ID: it.ID, Kind: it.Kind, EventID: it.EventID, EventType: it.EventType, Target: events.RedactURL(it.Target),
				State: it.State, Attempts: it.Attempts, CreatedAt: it.CreatedAt, NextAttemptAt: it.NextAttemptAt, LastError: it.LastError}
			if !it.DoneAt.IsZero() {
				d := it.DoneAt
				j.DoneAt = &d
			}
			out = append(out, j)
		}
		return a.printJSON(map[string]any{"items": out})
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(a.out, "(no items)")
		return err
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTYPE\tSTATE\tATTEMPTS\tNEXT ATTEMPT\tTARGET\tLAST ERROR")
	for _, it := range items {
		next := stamp(it.NextAttemptAt)
		if it.State != auth.OutboxPending {
			next = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", it.ID, it.Kind, dash(it.EventType), it.State, it.Attempts,
			next, dash(clipText(events.RedactURL(it.Target), 60)), dash(clipText(it.LastError, 60)))
	}
	return tw.Flush()
}

// withEventTargets gives a store opened by a command the server's event URLs, so that the
// changes the command makes write their events; the running server's worker delivers them.
func withEventTargets(store app.Store, cfg config) {
	ob, ok := store.(auth.Outbox)
	if !ok || cfg.EventsURL == "" {
		return
	}
	if targets, err := events.ParseTargets(cfg.EventsURL); err == nil {
		ob.SetEventTargets(targets)
	}
}
