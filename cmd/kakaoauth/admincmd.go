package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/server"
)

const usersUsage = `usage: kakaoauth users <command> [flags]

  list [-limit N] [-cursor ID]   users, newest first (-cursor: the last id of the previous page)
  find QUERY [-limit N]          users whose id, Kakao id or email is QUERY, or whose nickname contains it
  show ID                        one user, with identities and active sessions
  disable ID                     refuse the user's logins and end every session of theirs (data stays)
  enable ID                      let a disabled user log in again
  delete ID                      delete the user, identities and sessions (Kakao is not told)

flags:
  -json   print JSON (the admin API's shapes) instead of a table
  -dev    use the settings of 'kakaoauth dev' (its database)

Run it with the server's KAKAOAUTH_* environment (KAKAOAUTH_DATABASE_URL and the rest).`

const sessionsUsage = `usage: kakaoauth sessions <command> [flags]

  list USER_ID          the user's active sessions, newest first
  revoke SESSION_ID     sign the session out (it and its refresh tokens are revoked)

flags:
  -json   print JSON (the admin API's shapes) instead of a table
  -dev    use the settings of 'kakaoauth dev' (its database)

Run it with the server's KAKAOAUTH_* environment (KAKAOAUTH_DATABASE_URL and the rest).`

// adminCommand is a users or sessions subcommand: how many arguments it takes, and its work.
type adminCommand struct {
	args int
	run  func(ctx context.Context, a *adminRun, arg string) error
}

// adminRun is what a subcommand works with.
type adminRun struct {
	svc    *auth.Service
	out    io.Writer
	json   bool
	limit  int
	cursor string
}

var usersCommands = map[string]adminCommand{
	"list": {0, func(ctx context.Context, a *adminRun, _ string) error {
		return a.listUsers(ctx, auth.UserFilter{After: a.cursor, Limit: a.limit})
	}},
	"find": {1, func(ctx context.Context, a *adminRun, q string) error {
		return a.listUsers(ctx, auth.UserFilter{Query: q, Limit: a.limit})
	}},
	"show": {1, func(ctx context.Context, a *adminRun, id string) error { return a.showUser(ctx, id) }},
	"disable": {1, func(ctx context.Context, a *adminRun, id string) error {
		if err := a.svc.DisableUser(ctx, id); err != nil {
			return err
		}
		return a.showUser(ctx, id)
	}},
	"enable": {1, func(ctx context.Context, a *adminRun, id string) error {
		if err := a.svc.EnableUser(ctx, id); err != nil {
			return err
		}
		return a.showUser(ctx, id)
	}},
	"delete": {1, func(ctx context.Context, a *adminRun, id string) error {
		if err := a.svc.DeleteUser(ctx, id); err != nil {
			return err
		}
		return a.done(fmt.Sprintf("deleted user %s", id), map[string]string{"deleted_user": id})
	}},
}

var sessionsCommands = map[string]adminCommand{
	"list": {1, func(ctx context.Context, a *adminRun, userID string) error { return a.listSessions(ctx, userID) }},
	"revoke": {1, func(ctx context.Context, a *adminRun, id string) error {
		if err := a.svc.RevokeAnySession(ctx, id); err != nil {
			return err
		}
		return a.done(fmt.Sprintf("revoked session %s", id), map[string]string{"revoked_session": id})
	}},
}

// runUsers is `kakaoauth users …`.
func runUsers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runAdmin(ctx, "users", usersUsage, usersCommands, args, getenv, stdout, stderr)
}

// runSessions is `kakaoauth sessions …`.
func runSessions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runAdmin(ctx, "sessions", sessionsUsage, sessionsCommands, args, getenv, stdout, stderr)
}

// runAdmin parses a users or sessions command line (flags before or after the argument), opens
// the configured database and runs the subcommand on it.
func runAdmin(ctx context.Context, name, usage string, cmds map[string]adminCommand, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	if len(args) == 0 {
		return usageError{usage}
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown command %q\n%s", name+" "+args[0], usage)}
	}
	fs := flag.NewFlagSet(name+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := &adminRun{out: stdout}
	dev := fs.Bool("dev", false, "")
	fs.BoolVar(&a.json, "json", false, "")
	fs.IntVar(&a.limit, "limit", 0, "")
	fs.StringVar(&a.cursor, "cursor", "", "")
	var pos []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stdout, usage)
				return nil
			}
			return usageError{fmt.Sprintf("%v\n%s", err, usage)}
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != cmd.args {
		return usageError{fmt.Sprintf("%s %s takes %d argument(s), got %d\n%s", name, args[0], cmd.args, len(pos), usage)}
	}
	if a.limit < 0 {
		return usageError{fmt.Sprintf("-limit must not be negative\n%s", usage)}
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
	withEventTargets(store, cfg) // an operator's change is announced like the server's
	a.svc = auth.NewService(auth.Config{Store: store})
	arg := ""
	if len(pos) == 1 {
		arg = pos[0]
	}
	if err := cmd.run(ctx, a, arg); err != nil {
		var e *auth.Error
		if errors.As(err, &e) && e.Message != "" && e.Code != auth.ECodeUnavailable {
			return errors.New(e.Message)
		}
		return err
	}
	return nil
}

func (a *adminRun) printJSON(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// done reports a change: a sentence, or its JSON.
func (a *adminRun) done(text string, v any) error {
	if a.json {
		return a.printJSON(v)
	}
	_, err := fmt.Fprintln(a.out, text)
	return err
}

func (a *adminRun) listUsers(ctx context.Context, f auth.UserFilter) error {
	list, err := a.svc.ListUsers(ctx, f)
	if err != nil {
		return err
	}
	js, rows := make([]any, len(list)), make([][]string, len(list))
	for i, u := range list {
		js[i] = server.AdminUserJSON(u)
		rows[i] = []string{u.ID, dash(u.KakaoID), dash(u.Nickname), dash(u.Email), stamp(u.CreatedAt),
			stamp(u.LastLoginAt), strconv.Itoa(u.ActiveSessions), status(u)}
	}
	return a.list("users", js, "ID\tKAKAO ID\tNICKNAME\tEMAIL\tCREATED\tLAST LOGIN\tSESSIONS\tSTATUS", rows)
}

// list prints a listing: {key: js} with -json, else a table of rows under header.
func (a *adminRun) list(key string, js []any, header string, rows [][]string) error {
	if a.json {
		return a.printJSON(map[string]any{key: js})
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rows) == 0 {
		fmt.Fprintf(a.out, "(no %s)\n", key)
	}
	return nil
}

func (a *adminRun) showUser(ctx context.Context, id string) error {
	u, err := a.svc.UserRecord(ctx, id)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(map[string]any{"user": server.AdminUserJSON(u)})
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"id", u.ID}, {"kakao id", dash(u.KakaoID)}, {"nickname", dash(u.Nickname)}, {"email", dash(u.Email)},
		{"created", stamp(u.CreatedAt)}, {"updated", stamp(u.UpdatedAt)}, {"last login", stamp(u.LastLoginAt)},
		{"identities", strconv.Itoa(u.Identities)}, {"active sessions", strconv.Itoa(u.ActiveSessions)},
		{"status", status(u)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

func (a *adminRun) listSessions(ctx context.Context, userID string) error {
	list, err := a.svc.UserSessions(ctx, userID)
	if err != nil {
		return err
	}
	js, rows := make([]any, len(list)), make([][]string, len(list))
	for i, s := range list {
		js[i] = server.AdminSessionJSON(s)
		rows[i] = []string{s.ID, dash(s.Flow), dash(s.IP), stamp(s.CreatedAt), stamp(s.LastUsedAt),
			stamp(s.ExpiresAt), dash(clipText(s.UserAgent, 60))}
	}
	return a.list("sessions", js, "ID\tFLOW\tIP\tCREATED\tLAST USED\tEXPIRES\tUSER AGENT", rows)
}

func status(u auth.UserRecord) string {
	if u.Disabled() {
		return "disabled since " + stamp(u.DisabledAt)
	}
	return "active"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// dash shows an empty field as "-", and keeps tabs and newlines from breaking the table.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
