package main

// The command line: every command's help, the version, and what serve says about its
// environment (unknown variables, durations in days, a missing secret).

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// environ is env(m) that also answers environKey with m's names, as main's getenv does.
func environ(m map[string]string) func(string) string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	return func(k string) string {
		if k == environKey {
			return joinNames(kv)
		}
		return m[k]
	}
}

// helpCases is every command and subcommand, with the flags and variables its help must name.
var helpCases = []struct {
	args  []string
	usage string   // the usage line's start
	flags []string // flags its help lists
	env   []string // variables its help lists
}{
	{[]string{"dev"}, "usage: kakaoauth dev", []string{"addr"}, []string{"KAKAOAUTH_ADDR", "KAKAOAUTH_EMULATOR_ADDR", "KAKAOAUTH_EMULATOR_AUTO_CONSENT", "KAKAOAUTH_SECRET"}},
	{[]string{"serve"}, "usage: kakaoauth serve", []string{"addr"}, []string{"KAKAOAUTH_PUBLIC_URL", "KAKAOAUTH_SECRET", "KAKAOAUTH_ACCESS_TTL", "KAKAOAUTH_RATE_LIMITS"}},
	{[]string{"emulator"}, "usage: kakaoauth emulator", []string{"addr", "oidc", "consent", "client-secret", "auto-consent", "issuer", "user"}, []string{"KAKAOAUTH_KAKAO_CLIENT_ID", "KAKAOAUTH_REDIRECT_URIS"}},
	{[]string{"migrate"}, "usage: kakaoauth migrate", nil, []string{"KAKAOAUTH_DATABASE_URL"}},
	{[]string{"keys"}, "usage: kakaoauth keys list|rotate", []string{"dev", "drop-old"}, nil},
	{[]string{"keys", "list"}, "usage: kakaoauth keys list", []string{"dev"}, []string{"KAKAOAUTH_DATABASE_URL", "KAKAOAUTH_SECRET"}},
	{[]string{"keys", "rotate"}, "usage: kakaoauth keys rotate", []string{"dev", "drop-old"}, []string{"KAKAOAUTH_DATABASE_URL", "KAKAOAUTH_SECRET"}},
	{[]string{"bench"}, "usage: kakaoauth bench", []string{"base", "emulator", "work", "c", "d", "n", "redirect-uri", "user", "users", "pid", "allow-remote", "q"}, []string{"KAKAOAUTH_PUBLIC_URL", "KAKAOAUTH_KAKAO_AUTH_URL"}},
	{[]string{"users"}, "usage: kakaoauth users", []string{"json", "dev"}, nil},
	{[]string{"clients"}, "usage: kakaoauth clients", []string{"dev"}, nil},
	{[]string{"clients", "create"}, "usage: kakaoauth clients create", []string{"dev", "name", "redirect-uri", "post-logout-redirect-uri", "public", "first-party", "id-token-alg"}, []string{"KAKAOAUTH_DATABASE_URL"}},
	{[]string{"clients", "list"}, "usage: kakaoauth clients list", []string{"dev"}, []string{"KAKAOAUTH_DATABASE_URL"}},
	{[]string{"clients", "show"}, "usage: kakaoauth clients show", []string{"dev"}, []string{"KAKAOAUTH_DATABASE_URL"}},
	{[]string{"clients", "delete"}, "usage: kakaoauth clients delete", []string{"dev"}, []string{"KAKAOAUTH_DATABASE_URL"}},
	{[]string{"clients", "rotate-secret"}, "usage: kakaoauth clients rotate-secret", []string{"dev"}, []string{"KAKAOAUTH_DATABASE_URL"}},
	{[]string{"sessions"}, "usage: kakaoauth sessions", []string{"json", "dev"}, nil},
	{[]string{"events"}, "usage: kakaoauth events", []string{"json", "state", "limit", "all-failed", "dev"}, nil},
	{[]string{"events", "list"}, "usage: kakaoauth events", []string{"json", "state", "limit", "dev"}, nil},
	{[]string{"events", "retry"}, "usage: kakaoauth events", []string{"all-failed", "dev"}, nil},
	{[]string{"backup"}, "usage: kakaoauth backup", []string{"dev", "force"}, []string{"KAKAOAUTH_DATABASE_URL"}},
	{[]string{"restore"}, "usage: kakaoauth restore", []string{"dev"}, []string{"KAKAOAUTH_DATABASE_URL"}},
	{[]string{"doctor"}, "usage: kakaoauth doctor", []string{"dev", "access-token", "timeout"}, []string{"KAKAOAUTH_KAKAO_CLIENT_ID", "KAKAOAUTH_KAKAO_CLIENT_SECRET", "KAKAOAUTH_KAKAO_ADMIN_KEY", "KAKAOAUTH_KAKAO_SCOPES", "KAKAOAUTH_KAKAO_LOGOUT"}},
	{[]string{"version"}, "usage: kakaoauth version", nil, nil},
	{[]string{"help"}, "usage: kakaoauth <command>", nil, nil},
}

// TestCLI_HelpOnEveryCommand runs every command and subcommand with -h and --help in an empty
// working folder, with a database URL into that folder: each succeeds, prints its usage, flags
// and variables to stdout, and leaves the folder empty (migrate --help migrates nothing).
func TestCLI_HelpOnEveryCommand(t *testing.T) {
	// Every command of the top-level usage has a case, so a new command gets its help tested.
	var covered []string
	for _, c := range helpCases {
		covered = append(covered, c.args[0])
	}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z]+)  `).FindAllStringSubmatch(usage, -1) {
		if !slices.Contains(covered, m[1]) {
			t.Errorf("command %q of the usage has no help case", m[1])
		}
	}

	dir := t.TempDir()
	t.Chdir(dir)
	getenv := environ(map[string]string{"KAKAOAUTH_DATABASE_URL": "sqlite:" + dir + "/kakaoauth.db"})
	for _, c := range helpCases {
		for _, h := range []string{"-h", "--help"} {
			args := append(slices.Clone(c.args), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				if err := run(context.Background(), append([]string{"kakaoauth"}, args...), getenv, &stdout, &stderr); err != nil {
					t.Fatalf("kakaoauth %s: %v, want success", strings.Join(args, " "), err)
				}
				out := stdout.String()
				if !strings.HasPrefix(out, c.usage) {
					t.Errorf("help starts %.60q, want %q", out, c.usage)
				}
				for _, f := range c.flags {
					if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f) + `\b`).MatchString(out) {
						t.Errorf("help does not list the flag -%s:\n%s", f, out)
					}
				}
				for _, v := range c.env {
					if !regexp.MustCompile(`(?m)^  ` + v + `\n\s+\S`).MatchString(out) {
						t.Errorf("help does not list %s with its meaning:\n%s", v, out)
					}
				}
				if stderr.Len() > 0 {
					t.Errorf("stderr: %q, want nothing", stderr.String())
				}
			})
		}
	}
	if files, err := os.ReadDir(dir); err != nil || len(files) > 0 {
		t.Errorf("the working folder after the helps: %v %v, want it empty", files, err)
	}
}

// TestCLI_MigrateHelpMigratesNothing: neither the default database (kakaoauth.db in the working
// folder) nor the configured one is created by migrate --help.
func TestCLI_MigrateHelpMigratesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, vars := range []map[string]string{nil, {"KAKAOAUTH_DATABASE_URL": "sqlite:" + dir + "/m.db"}} {
		var stdout bytes.Buffer
		if err := run(context.Background(), []string{"kakaoauth", "migrate", "--help"}, env(vars), &stdout, &stdout); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stdout.String(), "migrated") {
			t.Errorf("migrate --help says %q", stdout.String())
		}
	}
	if files, _ := os.ReadDir(dir); len(files) > 0 {
		t.Errorf("migrate --help created %v", files)
	}
	// Without --help it does migrate, into the working folder by default.
	if err := run(context.Background(), []string{"kakaoauth", "migrate"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("kakaoauth.db"); err != nil {
		t.Errorf("migrate: %v", err)
	}
}

// TestCLI_BadFlag: an unknown flag is a usage error naming it and pointing to --help; nothing
// goes to stdout.
func TestCLI_BadFlag(t *testing.T) {
	for _, args := range [][]string{{"serve", "-nope"}, {"dev", "-nope"}, {"migrate", "-nope"}, {"bench", "-nope"}, {"emulator", "-nope"}, {"keys", "rotate", "-nope"}, {"version", "-nope"}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"kakaoauth"}, args...), env(nil), &stdout, &stderr)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "-nope") || !strings.Contains(err.Error(), "--help") {
			t.Errorf("%v: %v, want a usage error naming -nope", args, err)
		}
		if stdout.Len() > 0 {
			t.Errorf("%v: stdout %q", args, stdout.String())
		}
	}
}

// TestCLI_Version: `kakaoauth --version` and `kakaoauth version` print one version line.
func TestCLI_Version(t *testing.T) {
	line := regexp.MustCompile(`^kakaoauth \S+ \((rev [0-9a-f]{1,12}(, modified)?; )?go[0-9][^)]*\)\n$`)
	for _, arg := range []string{"--version", "version"} {
		var stdout bytes.Buffer
		if err := run(context.Background(), []string{"kakaoauth", arg}, env(nil), &stdout, &stdout); err != nil || !line.MatchString(stdout.String()) {
			t.Errorf("kakaoauth %s: %v %q, want a version line", arg, err, stdout.String())
		}
	}
}

// TestCLI_VersionFromBuild: the version comes from the build information, and -ldflags
// "-X main.version=…" wins over it.
func TestCLI_VersionFromBuild(t *testing.T) {
	checkout := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "74a4303abcdef0123456789abcdef0123456789a"}, {Key: "vcs.modified", Value: "true"},
	}}
	released := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}
	for _, c := range []struct {
		ld   string
		info *debug.BuildInfo
		want string
	}{
		{"", checkout, "kakaoauth dev (rev 74a4303abcde, modified; go1.26.8)"},
		{"", released, "kakaoauth v1.2.0 (go1.26.8)"},
		{"1.3.0-rc1", released, "kakaoauth 1.3.0-rc1 (go1.26.8)"},
	} {
		if got := versionLine(c.ld, c.info); got != c.want {
			t.Errorf("versionLine(%q, %v) = %q, want %q", c.ld, c.info.Main.Version, got, c.want)
		}
	}
}

// TestCLI_UnknownVariable: a misspelt KAKAOAUTH_* variable is named with the nearest real one;
// a name far from every setting is named alone; the variables of the tests and tools are not
// reported.
func TestCLI_UnknownVariable(t *testing.T) {
	got := unknownVariables([]string{"PATH", "KAKAOAUTH_ACESS_TTL", "KAKAOAUTH_ACCESS_TTL", "KAKAOAUTH_SECRT",
		"KAKAOAUTH_SOMETHING_ELSE_ENTIRELY", "KAKAOAUTH_EMULATOR_AUTO_CONSENT", "KAKAOAUTH_TEST_POSTGRES_URL",
		"KAKAOAUTH_AXE_PATH", "KAKAOAUTH_JOSE_DIR", "KAKAOAUTH_PYTHON"})
	want := []string{
		"KAKAOAUTH_ACESS_TTL is not a setting; did you mean KAKAOAUTH_ACCESS_TTL?",
		"KAKAOAUTH_SECRT is not a setting; did you mean KAKAOAUTH_SECRET?",
		"KAKAOAUTH_SOMETHING_ELSE_ENTIRELY is not a setting (kakaoauth serve --help lists them)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("unknownVariables = %q\nwant %q", got, want)
	}

	// serve refusing its configuration still says it, before the refusal.
	vars := with(false, map[string]string{"KAKAOAUTH_ACESS_TTL": "5m"})
	delete(vars, "KAKAOAUTH_SECRET")
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"kakaoauth", "serve"}, environ(vars), &bytes.Buffer{}, &stderr)
	if err == nil || !strings.Contains(stderr.String(), "warning: KAKAOAUTH_ACESS_TTL is not a setting; did you mean KAKAOAUTH_ACCESS_TTL?") {
		t.Errorf("serve: %v, stderr %q; want the warning", err, stderr.String())
	}

	// dev that starts logs it at warn.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr.Reset()
	err = run(ctx, []string{"kakaoauth", "dev"}, environ(map[string]string{
		"KAKAOAUTH_ADDR": "127.0.0.1:0", "KAKAOAUTH_EMULATOR_ADDR": "127.0.0.1:0",
		"KAKAOAUTH_DATABASE_URL": "sqlite:" + dir + "/dev.db", "KAKAOAUTH_REFRSH_TTL": "1h",
	}), stopWhenListening{cancel}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`level=WARN msg="KAKAOAUTH_REFRSH_TTL is not a setting; did you mean KAKAOAUTH_REFRESH_TTL\?"`).MatchString(stderr.String()) {
		t.Errorf("dev's log lacks the warning:\n%s", stderr.String())
	}
}

// TestCLI_DurationInDays: a duration in days is refused with the hours to write instead.
func TestCLI_DurationInDays(t *testing.T) {
	for name, c := range map[string]struct{ value, hint string }{
		"KAKAOAUTH_REFRESH_TTL":  {"30d", "Go durations have no days: use 720h"},
		"KAKAOAUTH_KEY_ROTATION": {"90d", "Go durations have no days: use 2160h"},
		"KAKAOAUTH_RATE_LIMITS":  {"1000/1d", "Go durations have no days: use 24h"},
		"KAKAOAUTH_FLOW_TTL":     {"0.5d", "Go durations have no days: use 12h"},
	} {
		_, err := loadConfig(env(with(false, map[string]string{name: c.value})), false)
		if err == nil || !strings.Contains(err.Error(), name+": ") || !strings.Contains(err.Error(), c.hint) {
			t.Errorf("%s=%s: %v, want the hint %q", name, c.value, err, c.hint)
		}
	}
	if h := daysHint("15m"); h != "" {
		t.Errorf("daysHint(15m) = %q, want none", h)
	}
}

// TestCLI_SecretRequired: serve without KAKAOAUTH_SECRET says it is required.
func TestCLI_SecretRequired(t *testing.T) {
	vars := goodServeEnv()
	delete(vars, "KAKAOAUTH_SECRET")
	_, err := loadConfig(env(vars), false)
	if err == nil || !strings.Contains(err.Error(), "KAKAOAUTH_SECRET: required") {
		t.Errorf("serve without a secret: %v, want KAKAOAUTH_SECRET: required", err)
	}
}

// stopWhenListening is the stdout of a server that stops it once it says where it listens.
type stopWhenListening struct{ stop context.CancelFunc }

func (w stopWhenListening) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("listening: ")) {
		w.stop()
	}
	return len(p), nil
}
