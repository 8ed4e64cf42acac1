// Command kakaoauth signs people in with Kakao and hands a service its own tokens.
//
//	kakaoauth dev        the server with a built-in Kakao emulator and SQLite, for a laptop
//	kakaoauth serve      the server in production (every setting from KAKAOAUTH_* variables)
//	kakaoauth emulator   the Kakao emulator alone
//	kakaoauth migrate    apply database migrations and exit
//	kakaoauth version    print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

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
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
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

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: kakaoauth <command> [flags]

commands:
  dev       run the server with the built-in Kakao emulator and SQLite (local defaults)
  serve     run the server (configuration from KAKAOAUTH_* environment variables)
  emulator  run the Kakao emulator alone (--addr 127.0.0.1:9911)
  migrate   apply database migrations and exit
  keys      list the signing keys, or rotate them now (keys rotate -drop-old after a leak)
  bench     drive a running server (and its emulator) with load: login, me, refresh
  version   print the version`

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
	case "users":
		return runUsers(ctx, rest, getenv, stdout, stderr)
	case "sessions":
		return runSessions(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "kakaoauth %s (%s)\n", version, runtime.Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", cmd, usage)}
}
