package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/loadtest"
)

var benchHelp = help{
	usage: "kakaoauth bench [-work login|me|refresh|all] [-c 8] [-d 5s] [flags]",
	about: "Drives a running kakaoauth and its Kakao emulator with load (only loopback targets, unless\n" +
		"-allow-remote) and prints throughput, latency percentiles, errors by status and, with -pid, memory.",
	env: []string{
		"KAKAOAUTH_PUBLIC_URL=The server to drive (the default of -base).",
		"KAKAOAUTH_KAKAO_AUTH_URL=Its Kakao emulator (the default of -emulator).",
	},
}

// runBench is `kakaoauth bench`: it drives a running kakaoauth (its own `dev`, or a deployment
// pointed at the emulator) through the login, me and refresh workloads and prints throughput,
// latency percentiles, errors by status and, with -pid, the server's resident memory.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "seed" {
		return runBenchSeed(ctx, args[1:], getenv, stdout)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	defBase, defEmu := "http://127.0.0.1:8080", "http://127.0.0.1:9911"
	if v := getenv("KAKAOAUTH_PUBLIC_URL"); v != "" {
		defBase = v
	}
	if v := getenv("KAKAOAUTH_KAKAO_AUTH_URL"); v != "" {
		defEmu = v
	}
	base := fs.String("base", defBase, "kakaoauth base URL (default KAKAOAUTH_PUBLIC_URL, else http://127.0.0.1:8080)")
	emu := fs.String("emulator", defEmu, "its Kakao emulator (default KAKAOAUTH_KAKAO_AUTH_URL, else http://127.0.0.1:9911)")
	work := fs.String("work", "all", "workload: login, me, refresh or all (one after another)")
	conc := fs.Int("c", 8, "concurrent workers")
	dur := fs.Duration("d", 5*time.Second, "duration of each workload")
	maxReq := fs.Int64("n", loadtest.DefaultMaxRequests, "stop a workload after this many iterations")
	redirect := fs.String("redirect-uri", "http://localhost:3000/kakao/callback", "redirect_uri registered at the emulator and on KAKAOAUTH_REDIRECT_URIS")
	user := fs.Int64("user", 0, "Kakao user id for every code (default: -users new emulator users)")
	users := fs.Int("users", 1000, "emulator users to create for the login workload when -user is not given (new users first, then returning, as loadgen's -users)")
	pid := fs.Int("pid", 0, "server process id: report its resident memory (VmRSS peak, VmHWM) from /proc")
	remote := fs.Bool("allow-remote", false, "allow targets that are not loopback addresses")
	quiet := fs.Bool("q", false, "no progress line on stderr")
	if ok, err := parseFlags(fs, args, benchHelp, stdout); !ok {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("bench: unexpected arguments %q", fs.Args())}
	}
	var works []string
	switch *work {
	case "all":
		works = []string{loadtest.WorkLogin, loadtest.WorkMe, loadtest.WorkRefresh}
	case loadtest.WorkLogin, loadtest.WorkMe, loadtest.WorkRefresh:
		works = []string{*work}
	default:
		return usageError{fmt.Sprintf("bench: -work %q: want login, me, refresh or all", *work)}
	}
	var kakaoUsers []int64
	if *user != 0 {
		kakaoUsers = []int64{*user}
	}

	fmt.Fprintf(stdout, "kakaoauth bench: %s (emulator %s), %d workers, %v per workload\n", *base, *emu, *conc, *dur)
	for _, w := range works {
		o := loadtest.Options{
			BaseURL: *base, EmulatorURL: *emu, Workload: w, Concurrency: *conc, Duration: *dur,
			MaxRequests: *maxReq, RedirectURI: *redirect, KakaoUsers: kakaoUsers, Users: *users,
			AllowRemote: *remote, PID: *pid,
		}
		if !*quiet {
			o.Progress = func(p loadtest.Progress) {
				line := fmt.Sprintf("bench %-7s %5.1fs  ok=%d err=%d  %.0f/s", p.Workload, p.Elapsed.Seconds(), p.OK, p.Errors, p.Rate)
				if p.RSS > 0 {
					line += "  rss=" + mib(p.RSS)
				}
				fmt.Fprintln(stderr, line)
			}
		}
		res, err := loadtest.Run(ctx, o)
		if err != nil && res.Workload == "" {
			return fmt.Errorf("bench %s: %w", w, err)
		}
		printResult(stdout, res)
		if err != nil {
			return fmt.Errorf("bench %s: %w", w, err)
		}
	}
	return nil
}

func printResult(w io.Writer, r loadtest.Result) {
	us := func(d time.Duration) string { return d.Round(time.Microsecond).String() }
	line := fmt.Sprintf("work=%s c=%d d=%v ok=%d errors=%d rate=%.0f/s p50=%s p90=%s p99=%s max=%s",
		r.Workload, r.Concurrency, r.Duration, r.OK, r.ErrorCount(), r.Rate, us(r.P50), us(r.P90), us(r.P99), us(r.Max))
	if r.PeakRSS > 0 {
		line += " rss_peak=" + mib(r.PeakRSS)
	}
	if r.HWM > 0 {
		line += " rss_hwm=" + mib(r.HWM)
	}
	fmt.Fprintln(w, line)
	if len(r.Errors) > 0 {
		kinds := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = fmt.Sprintf("%s=%d", k, r.Errors[k])
		}
		fmt.Fprintf(w, "  errors: %s; first: %s\n", strings.Join(parts, " "), r.FirstError)
	}
	if r.Errors["429"] > 0 {
		// The whole load comes from one address, so the server's rate limits refuse most of it.
		fmt.Fprintln(w, "  the server rate-limited the load (429): start it with KAKAOAUTH_RATE_LIMITS=off")
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }
