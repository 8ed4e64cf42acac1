// Command kakaoauth signs people in with Kakao and hands a service its own tokens.
//
//	kakaoauth dev        the server with a built-in Kakao emulator and SQLite, for a laptop
//	kakaoauth serve      the server in production (every setting from KAKAOAUTH_* variables)
//	kakaoauth emulator   the Kakao emulator alone
//	kakaoauth migrate    apply database migrations and exit
//	kakaoauth keys       list or rotate the signing keys
//	kakaoauth events     list the outbox, or retry failed deliveries
//	kakaoauth bench      drive a running server with load
//	kakaoauth doctor     check a configuration against Kakao and say what to fix
//	kakaoauth version    print the version
//
// Every command answers -h and --help with its flags and the variables it reads.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise the version comes
// from the build information the Go toolchain records (see buildVersion).
var version = ""

func main() {
	// The live heap is a few MiB, so the default GOGC=100 collects every few hundred requests;
	// 200 halves that work, and a soft limit of 14 MiB on Go's memory keeps the process near
	// 36 MB under load (the README's figures use both). GOGC and GOMEMLIMIT win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(14 << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, osGetenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kakaoauth:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// osGetenv is os.Getenv, which also answers environKey with the names in the environment.
func osGetenv(k string) string {
	if k == environKey {
		return joinNames(os.Environ())
	}
	return os.Getenv(k)
}

// environKey is the getenv key that asks for the names of every variable in the environment,
// joined by NUL bytes, so run can warn about unknown KAKAOAUTH_* variables while its inputs stay
// its arguments (a test passes its own list; no package state). No variable can have this name:
// names cannot contain "=" or NUL.
const environKey = "=environ\x00"

// joinNames is the value getenv gives for environKey, from "NAME=value" entries.
func joinNames(environ []string) string {
	names := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	return strings.Join(names, "\x00")
}

// environNames is the names in the environment, when getenv knows them (environKey).
func environNames(getenv func(string) string) []string {
	v := getenv(environKey)
	if v == "" {
		return nil
	}
	return strings.Split(v, "\x00")
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: kakaoauth <command> [flags]

commands:
  dev       run the server with the built-in Kakao emulator and SQLite (local defaults)
  serve     run the server (configuration from KAKAOAUTH_* environment variables)
  emulator  run the Kakao emulator alone (--addr 127.0.0.1:9911)
  migrate   apply database migrations and exit
  keys      list the signing keys, or rotate them now (keys rotate -drop-old after a leak)
  users     list, find, show, disable, enable or delete users (-json for scripts)
  clients   register, list, show, delete OpenID Connect applications, or rotate a secret
  sessions  list a user's sessions, or revoke one
  events    list the outbox (service events, Kakao unlinks), or retry failed items
  backup    copy the SQLite database to a file while the server runs
  restore   check a backup and put it in place of the database (server stopped)
  bench     drive a running server (and its emulator) with load: login, me, refresh
  doctor    check the Kakao app's settings against Kakao (keys, redirect URIs, OIDC, consent items)
  version   print the version (also: kakaoauth --version)
  help      this list; 'kakaoauth help <command>' is 'kakaoauth <command> --help'

Every command takes -h or --help: its flags and the environment variables it reads.`

// run is the whole program, with its environment passed in so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return usageError{usage}
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "dev":
		return runServer(ctx, rest, getenv, stdout, stderr, true)
	case "serve":
		return runServer(ctx, rest, getenv, stdout, stderr, false)
	case "emulator":
		return runEmulator(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout)
	case "keys":
		return runKeys(ctx, rest, getenv, stdout, stderr)
	case "clients":
		return runClients(ctx, rest, getenv, stdout, stderr)
	case "users":
		return runUsers(ctx, rest, getenv, stdout, stderr)
	case "sessions":
		return runSessions(ctx, rest, getenv, stdout, stderr)
	case "events":
		return runEvents(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "restore":
		return runRestore(ctx, rest, getenv, stdout, stderr)
	case "doctor":
		return runDoctor(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-version":
		return runVersion(rest, stdout)
	case "help", "-h", "--help", "-help":
		return runHelp(ctx, rest, getenv, stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", cmd, usage)}
}

// runHelp prints the list of commands, or with a command name that command's help.
func runHelp(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && !isHelpFlag(args[0]) {
		return run(ctx, []string{"kakaoauth", args[0], "--help"}, getenv, stdout, stderr)
	}
	fmt.Fprintln(stdout, usage)
	return nil
}

var versionHelp = help{usage: "kakaoauth version", about: "Prints the version of this build: the module version, the VCS revision and the Go version."}

// runVersion prints the version line.
func runVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if ok, err := parseFlags(fs, args, versionHelp, stdout); !ok {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(version, info))
	return nil
}

// versionLine is what `kakaoauth version` prints, e.g.
// "kakaoauth v1.2.0 (rev 74a4303abcde, modified; go1.26.8)".
func versionLine(ldVersion string, info *debug.BuildInfo) string {
	var details []string
	if rev, modified := vcsRevision(info); rev != "" {
		if modified {
			rev += ", modified"
		}
		details = append(details, "rev "+rev)
	}
	goVersion := runtime.Version()
	if info != nil && info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	return fmt.Sprintf("kakaoauth %s (%s)", buildVersion(ldVersion, info), strings.Join(append(details, goVersion), "; "))
}

// binaryVersion is the version of this binary (buildVersion of its build information).
func binaryVersion() string {
	info, _ := debug.ReadBuildInfo()
	return buildVersion(version, info)
}

// buildVersion is the version of this binary: -ldflags "-X main.version=…" when given, else the
// module version the Go toolchain recorded (`go install …@v1.2.0`); a build from a checkout has
// none ("(devel)") and is "dev".
func buildVersion(ldVersion string, info *debug.BuildInfo) string {
	switch {
	case ldVersion != "":
		return ldVersion
	case info != nil && info.Main.Version != "" && info.Main.Version != "(devel)":
		return info.Main.Version
	}
	return "dev"
}

// vcsRevision is the commit the binary was built from (12 hex digits) and whether the tree had
// changes, as `go build` records them in a checkout.
func vcsRevision(info *debug.BuildInfo) (rev string, modified bool) {
	if info == nil {
		return "", false
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return rev, modified
}

// help is what a command prints for -h and --help: how to call it, what it does, its flags and
// the environment variables it reads (their meanings from the settings table).
type help struct {
	usage string   // e.g. "kakaoauth keys rotate [-dev] [-drop-old]"
	about string   // what the command does, in a few lines
	env   []string // the KAKAOAUTH_* variables it reads; "NAME=text" gives its own line for one
	dev   bool     // show the defaults of `dev` instead of those of `serve`
}

// write prints the help, with the flags of fs.
func (h help) write(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", h.usage, h.about)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if len(h.env) > 0 {
		fmt.Fprintln(w, "\nenvironment:")
		for _, v := range h.env {
			name, text, ok := strings.Cut(v, "=")
			if !ok {
				text = variableHelp(name, h.dev)
			}
			fmt.Fprintf(w, "  %s\n    \t%s\n", name, text)
		}
	}
}

// parseFlags parses a command's flags. With -h or --help it prints the command's help to stdout
// and reports false with no error: the command has done its work. A bad flag is a usageError
// naming it, with the command's usage line.
func parseFlags(fs *flag.FlagSet, args []string, h help, stdout io.Writer) (ok bool, err error) {
	fs.SetOutput(io.Discard) // the error is returned, and the help goes to stdout
	fs.Usage = func() {}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		h.write(stdout, fs)
		return false, nil
	case err != nil:
		return false, usageError{fmt.Sprintf("%v\nusage: %s (see %s --help)", err, h.usage, commandOf(h.usage))}
	}
	return true, nil
}

// commandOf is the command part of a usage line: "kakaoauth keys rotate [-dev]" → "kakaoauth
// keys rotate".
func commandOf(usage string) string {
	words := strings.Fields(usage)
	end := 0
	for end < len(words) && strings.Trim(words[end], "abcdefghijklmnopqrstuvwxyz") == "" {
		end++
	}
	return strings.Join(words[:end], " ")
}

// isHelpFlag reports whether arg asks for help, as the flag package understands it.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "--h"
}
