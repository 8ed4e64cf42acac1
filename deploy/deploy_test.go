package deploy

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// root is the repository's root, the Docker build context.
const root = ".."

// testVersion is the VERSION build argument the tests give the Dockerfile's build.
const testVersion = "v0.0.0-deploytest"

// binary is kakaoauth as the Dockerfile builds it, built once for the tests that run it.
var binary struct {
	once sync.Once
	path string
	err  error
}

var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kakaoauth-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// kakaoauthBinary runs the build stage's `go build` command of the Dockerfile, as written, in a
// copy of the repository that holds only what .dockerignore lets into the build context, and
// returns the binary. Only Docker itself is left out: no image is built.
func kakaoauthBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		binary.err = fmt.Errorf("the build stopped in %s", t.Name())
		binary.path, binary.err = buildAsDockerfile(t)
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func buildAsDockerfile(t *testing.T) (string, error) {
	df := readDockerfile(t)
	build, runtime := df.stage("build"), df.last()
	if build == nil {
		return "", fmt.Errorf("Dockerfile: no stage named build")
	}
	run := build.find("RUN", "go build")
	if run == "" {
		return "", fmt.Errorf("Dockerfile: the build stage has no RUN with go build")
	}
	// The runtime stage copies the binary from where the build put it.
	copyArgs := strings.Fields(runtime.find("COPY", "--from=build"))
	if len(copyArgs) != 3 || !strings.Contains(run, copyArgs[1]) {
		return "", fmt.Errorf("Dockerfile: the runtime stage's COPY --from=build %q does not take the build's output", copyArgs)
	}
	out := filepath.Join(workDir, "kakaoauth")
	script := strings.ReplaceAll(withoutRunFlags(run), copyArgs[1], out)

	context := filepath.Join(workDir, "context")
	if err := copyContext(root, context, readDockerignore(t)); err != nil {
		return "", err
	}
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = context
	cmd.Env = append(os.Environ(), "VERSION="+testVersion)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("the Dockerfile's build: %s: %v\n%s", script, err, b)
	}
	return out, nil
}

// withoutRunFlags drops RUN's own options (--mount=…), which only BuildKit understands.
func withoutRunFlags(run string) string {
	for strings.HasPrefix(run, "--") {
		_, run, _ = strings.Cut(run, " ")
		run = strings.TrimSpace(run)
	}
	return run
}

func TestDockerfileBuildsStaticBinary(t *testing.T) {
	bin := kakaoauthBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP program header: it needs a dynamic loader, and the runtime image may have none")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("the binary needs shared libraries (DT_NEEDED) %v; want none (CGO_ENABLED=0)", libs)
	}

	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("kakaoauth version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), testVersion) {
		t.Errorf("kakaoauth version = %q, want the VERSION build argument %q in it", out, testVersion)
	}
}

func TestDockerfile(t *testing.T) {
	df := readDockerfile(t)
	if len(df.stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a runtime stage", len(df.stages))
	}
	if from := df.stages[0].from; !strings.HasPrefix(from, "golang:") {
		t.Errorf("first stage FROM %q, want golang:…", from)
	}
	rt := df.last()
	if strings.HasPrefix(rt.from, "golang:") {
		t.Errorf("runtime stage FROM %q: the Go toolchain does not belong in the image", rt.from)
	}
	if run := df.stage("build").find("RUN", "go build"); !strings.Contains(run, "CGO_ENABLED=0") || !strings.Contains(run, "-trimpath") || !strings.Contains(run, "./cmd/kakaoauth") {
		t.Errorf("build RUN %q: want CGO_ENABLED=0 go build -trimpath … ./cmd/kakaoauth", run)
	}

	user := rt.find("USER", "")
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" || strings.Trim(uid, "0123456789") != "" {
		t.Errorf("runtime USER %q, want a numeric non-root uid (so runAsNonRoot can check it)", user)
	}

	env := rt.env()
	if got, want := env["KAKAOAUTH_DATABASE_URL"], "sqlite:/data/kakaoauth.db"; got != want {
		t.Errorf("ENV KAKAOAUTH_DATABASE_URL = %q, want %q", got, want)
	}
	if got := rt.find("VOLUME", ""); !strings.Contains(got, `"/data"`) && got != "/data" {
		t.Errorf("VOLUME %q, want /data (where the database is)", got)
	}
	_, port, _ := strings.Cut(env["KAKAOAUTH_ADDR"], ":")
	if port == "" || rt.find("EXPOSE", "") != port {
		t.Errorf("ENV KAKAOAUTH_ADDR %q and EXPOSE %q disagree", env["KAKAOAUTH_ADDR"], rt.find("EXPOSE", ""))
	}

	hc := rt.find("HEALTHCHECK", "")
	_, probe, ok := strings.Cut(hc, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %q, want one with CMD", hc)
	}
	var argv []string
	if err := json.Unmarshal([]byte(probe), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("HEALTHCHECK CMD %s: want the exec form (no shell needed): %v", probe, err)
	}
	if !strings.Contains(probe, "127.0.0.1:"+port+"/readyz") {
		t.Errorf("HEALTHCHECK %s does not ask /readyz on the port the server listens on (%s)", probe, port)
	}
	if prog := argv[0]; !strings.Contains(rt.find("RUN", "apt-get install"), " "+prog) && !strings.Contains(rt.find("COPY", "--from=build"), prog) {
		t.Errorf("HEALTHCHECK runs %q, which the runtime stage neither installs nor copies", prog)
	}

	// Nothing secret is baked into an image layer or its build history.
	secretish := regexp.MustCompile(`(?i)SECRET|PASSWORD|TOKEN|_KEY\b`)
	for _, in := range df.all {
		if (in.keyword == "ENV" || in.keyword == "ARG") && secretish.MatchString(in.args) {
			t.Errorf("%s %s: secrets come from the environment at run time, not the image", in.keyword, in.args)
		}
	}
}

func TestDockerignore(t *testing.T) {
	ignore := readDockerignore(t)
	tests := []struct {
		path string
		sent bool
	}{
		{"go.mod", true},
		{"go.sum", true},
		{"cmd/kakaoauth/main.go", true},
		{"internal/sqlite/migrations/0001_init.sql", true},
		{"internal/web/templates/layout.html", true},
		{".git/config", false},
		{"kakaoauth", false},
		{"kakaoauth.db", false},
		{"kakaoauth-dev.db-wal", false},
		{"internal/sqlite/testdata/x.db", false},
		{"deploy/kakaoauth.env", false},
		{"deploy/.env", false},
		{"kakaoauth.env", false},
		{".cache/axe/node_modules/axe-core/axe.min.js", false},
	}
	for _, tt := range tests {
		if got := !ignore.excludes(tt.path); got != tt.sent {
			t.Errorf("%s sent to the builder = %v, want %v", tt.path, got, tt.sent)
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	unit := readUnit(t, "kakaoauth.service")
	want := map[string]string{
		"DynamicUser":             "yes",
		"StateDirectory":          "kakaoauth",
		"EnvironmentFile":         "/etc/kakaoauth/kakaoauth.env",
		"Environment":             "KAKAOAUTH_DATABASE_URL=sqlite:/var/lib/kakaoauth/kakaoauth.db",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "",
		"AmbientCapabilities":     "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter":        "@system-service",
		"SystemCallArchitectures": "native",
		"MemoryDenyWriteExecute":  "yes",
		"LockPersonality":         "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"ProtectControlGroups":    "yes",
		"RestrictNamespaces":      "yes",
		"RestrictSUIDSGID":        "yes",
		"RestrictRealtime":        "yes",
		"UMask":                   "0077",
		"Restart":                 "on-failure",
		"ExecStart":               "/usr/local/bin/kakaoauth serve",
	}
	for key, value := range want {
		if !slices.Contains(unit["Service."+key], value) {
			t.Errorf("[Service] %s=%q missing (have %q)", key, value, unit["Service."+key])
		}
	}
	// Only the database's default lives in the unit: systemd lets EnvironmentFile= override
	// Environment=, and every other setting belongs in the file.
	if got := unit["Service.Environment"]; len(got) != 1 {
		t.Errorf("[Service] Environment=%q, want only the database default (settings go in the environment file)", got)
	}

	t.Run("systemd-analyze", func(t *testing.T) {
		analyze, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze is not installed: the unit was checked by the directives above only")
		}
		// verify wants ExecStart's program to exist: point it at the binary the Dockerfile builds.
		b, err := os.ReadFile("kakaoauth.service")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "kakaoauth.service")
		b = bytes.ReplaceAll(b, []byte("/usr/local/bin/kakaoauth"), []byte(kakaoauthBinary(t)))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		// verify exits 0 on an unknown or misspelt directive, and only says so: any output fails.
		out, err := exec.Command(analyze, "verify", path).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
		// An exposure of 2.0 or more is no longer "OK" in systemd's own grading.
		out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=19", path).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security: %v\n%s", err, out)
		}
	})
}

func TestCompose(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Image string `yaml:"image"`
			Build struct {
				Context string `yaml:"context"`
			} `yaml:"build"`
			EnvFile     string            `yaml:"env_file"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	app, ok := compose.Services["kakaoauth"]
	if !ok {
		t.Fatalf("compose.yaml: no kakaoauth service (have %v)", compose.Services)
	}
	pg, ok := compose.Services["postgres"]
	if !ok {
		t.Fatalf("compose.yaml: no postgres service")
	}

	if _, err := os.Stat(filepath.Join(app.Build.Context, "Dockerfile")); err != nil {
		t.Errorf("kakaoauth build context %q has no Dockerfile: %v", app.Build.Context, err)
	}
	if app.EnvFile != "kakaoauth.env" {
		t.Errorf("kakaoauth env_file = %q, want kakaoauth.env (from kakaoauth.env.example)", app.EnvFile)
	}
	if got := app.DependsOn["postgres"].Condition; got != "service_healthy" {
		t.Errorf("kakaoauth depends_on postgres condition = %q, want service_healthy", got)
	}
	if len(app.Ports) == 0 {
		t.Error("kakaoauth publishes no port")
	}
	for _, p := range app.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("kakaoauth publishes %q, want it on 127.0.0.1 (a TLS proxy in front serves the world)", p)
		}
		if _, port, _ := strings.Cut(readDockerfile(t).last().env()["KAKAOAUTH_ADDR"], ":"); !strings.HasSuffix(p, ":"+port) {
			t.Errorf("kakaoauth publishes %q, but the image listens on port %s", p, port)
		}
	}

	if !strings.HasPrefix(pg.Image, "postgres:16") {
		t.Errorf("postgres image = %q, want postgres:16", pg.Image)
	}
	if len(pg.Healthcheck.Test) == 0 {
		t.Error("postgres has no healthcheck, so service_healthy never holds")
	}
	if len(pg.Volumes) == 0 {
		t.Error("postgres keeps its data in the container: want a volume")
	}
	for _, v := range pg.Volumes {
		name, _, _ := strings.Cut(v, ":")
		if _, ok := compose.Volumes[name]; !ok {
			t.Errorf("postgres volume %q is not declared under volumes:", name)
		}
	}

	// The URL names the postgres service and the user, database and password it creates.
	raw := app.Environment["KAKAOAUTH_DATABASE_URL"]
	u, err := url.Parse(strings.ReplaceAll(raw, pg.Environment["POSTGRES_PASSWORD"], "PASSWORD"))
	if err != nil {
		t.Fatalf("KAKAOAUTH_DATABASE_URL %q: %v", raw, err)
	}
	pw, _ := u.User.Password()
	if u.Scheme != "postgres" || u.Host != "postgres:5432" || u.User.Username() != pg.Environment["POSTGRES_USER"] ||
		pw != "PASSWORD" || strings.TrimPrefix(u.Path, "/") != pg.Environment["POSTGRES_DB"] {
		t.Errorf("KAKAOAUTH_DATABASE_URL = %q, want postgres://<POSTGRES_USER>:<POSTGRES_PASSWORD>@postgres:5432/<POSTGRES_DB> (postgres service: %v)", raw, pg.Environment)
	}
	if !strings.HasPrefix(pg.Environment["POSTGRES_PASSWORD"], "${POSTGRES_PASSWORD:?") {
		t.Errorf("POSTGRES_PASSWORD = %q, want it from deploy/.env, required", pg.Environment["POSTGRES_PASSWORD"])
	}
}

func TestEnvExampleHasEveryRequiredSetting(t *testing.T) {
	table := readConfigurationTable(t)
	env, commented := readEnvExample(t)
	var required []string
	for name, serveDefault := range table {
		if serveDefault == "required" {
			required = append(required, name)
		}
	}
	if len(required) == 0 {
		t.Fatal("README's Configuration table marks no variable required: the table's shape changed")
	}
	for _, name := range required {
		if _, ok := env[name]; !ok {
			t.Errorf("kakaoauth.env.example does not set %s, which serve requires", name)
		}
	}
	for name := range env {
		if _, ok := table[name]; !ok {
			t.Errorf("kakaoauth.env.example sets %s, which the README's Configuration table does not know", name)
		}
	}
	for _, name := range commented {
		if _, ok := table[name]; !ok {
			t.Errorf("kakaoauth.env.example suggests %s, which the README's Configuration table does not know", name)
		}
	}
	for _, name := range []string{"KAKAOAUTH_SECRET", "KAKAOAUTH_KAKAO_CLIENT_SECRET", "KAKAOAUTH_KAKAO_ADMIN_KEY"} {
		if v, ok := env[name]; !ok || v != "" {
			t.Errorf("kakaoauth.env.example: %s=%q, want it listed and empty (no secret in the example)", name, v)
		}
	}
}

// TestEnvExampleStartsServe fills in the example's empty values, as an operator would, and
// starts `kakaoauth serve` with nothing else but the database the systemd unit sets (in a
// temporary folder): the production server must come up and answer /readyz.
func TestEnvExampleStartsServe(t *testing.T) {
	env, _ := readEnvExample(t)
	fill := map[string]string{
		"KAKAOAUTH_SECRET":              "deploy-test-secret-0123456789-abcdefghij",
		"KAKAOAUTH_KAKAO_CLIENT_ID":     "deploy-test-rest-key",
		"KAKAOAUTH_KAKAO_CLIENT_SECRET": "deploy-test-client-secret",
		"KAKAOAUTH_KAKAO_APP_ID":        "1234567",
		"KAKAOAUTH_KAKAO_ADMIN_KEY":     "deploy-test-admin-key",
	}
	unitDB := readUnit(t, "kakaoauth.service")["Service.Environment"][0]
	_, dbURL, _ := strings.Cut(unitDB, "=")
	vars := []string{
		"KAKAOAUTH_ADDR=127.0.0.1:0",
		"KAKAOAUTH_DATABASE_URL=" + strings.Replace(dbURL, "/var/lib/kakaoauth", t.TempDir(), 1),
	}
	for name, value := range env {
		if value == "" {
			value = fill[name]
		}
		if value == "" {
			t.Fatalf("the test does not know what to fill in for %s", name)
		}
		vars = append(vars, name+"="+value)
	}

	cmd := exec.Command(kakaoauthBinary(t), "serve")
	cmd.Env = vars
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	addr := make(chan string, 1)
	var logs bytes.Buffer
	go func() {
		sc := bufio.NewScanner(io.TeeReader(stderr, &logs))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
		done <- cmd.Wait()
	}()

	select {
	case a := <-addr:
		resp, err := http.Get("http://" + a + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /readyz = %d, want 200", resp.StatusCode)
		}
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not start listening in 60s\n%s", logs.String())
	}

	// systemd and Docker stop it with SIGTERM: a clean exit, not a failure to restart.
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
}

// dockerfile is a Dockerfile cut into stages of instructions, enough to check it; the real
// parser is BuildKit's.
type dockerfile struct {
	stages []*stage
	all    []instruction // with the ARGs before the first FROM
}

type stage struct {
	from, name   string
	instructions []instruction
}

type instruction struct{ keyword, args string }

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var df dockerfile
	var line strings.Builder
	for raw := range strings.SplitSeq(string(b), "\n") {
		trimmed := strings.TrimSpace(raw)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && line.Len() == 0) {
			continue
		}
		if rest, ok := strings.CutSuffix(trimmed, `\`); ok {
			line.WriteString(rest + " ")
			continue
		}
		line.WriteString(trimmed)
		keyword, args, _ := strings.Cut(strings.Join(strings.Fields(line.String()), " "), " ")
		line.Reset()
		in := instruction{strings.ToUpper(keyword), args}
		df.all = append(df.all, in)
		switch {
		case in.keyword == "FROM":
			image, name, _ := strings.Cut(args, " AS ")
			df.stages = append(df.stages, &stage{from: image, name: name})
		case len(df.stages) > 0:
			s := df.stages[len(df.stages)-1]
			s.instructions = append(s.instructions, in)
		}
	}
	if len(df.stages) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	return df
}

func (df dockerfile) stage(name string) *stage {
	for _, s := range df.stages {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (df dockerfile) last() *stage { return df.stages[len(df.stages)-1] }

// find is the arguments of the stage's first keyword instruction that contain substr.
func (s *stage) find(keyword, substr string) string {
	if s == nil {
		return ""
	}
	for _, in := range s.instructions {
		if in.keyword == keyword && strings.Contains(in.args, substr) {
			return in.args
		}
	}
	return ""
}

// env is the stage's ENV settings, in the KEY=value form.
func (s *stage) env() map[string]string {
	env := map[string]string{}
	for _, in := range s.instructions {
		if in.keyword != "ENV" {
			continue
		}
		for _, kv := range strings.Fields(in.args) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	return env
}

// dockerignore is the patterns of .dockerignore as regular expressions over slash-separated
// paths relative to the build context. It understands *, ? and **; the test refuses other syntax
// rather than misjudge it.
type dockerignore []*regexp.Regexp

func readDockerignore(t *testing.T) dockerignore {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	for raw := range strings.SplitSeq(string(b), "\n") {
		p := strings.TrimSpace(raw)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		if strings.ContainsAny(p, "![]\\") {
			t.Fatalf(".dockerignore pattern %q: the test understands only *, ? and **", p)
		}
		var re strings.Builder
		p = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "/")
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		d = append(d, regexp.MustCompile("^"+re.String()+"$"))
	}
	return d
}

// excludes reports whether path, or a folder it is in, matches a pattern.
func (d dockerignore) excludes(path string) bool {
	for p := path; p != "." && p != "/"; p = filepath.ToSlash(filepath.Dir(p)) {
		for _, re := range d {
			if re.MatchString(p) {
				return true
			}
		}
	}
	return false
}

// copyContext copies the regular files of src that the build context holds into dst.
func copyContext(src, dst string, ignore dockerignore) error {
	return filepath.WalkDir(src, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel != "." && ignore.excludes(filepath.ToSlash(rel)) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

// readUnit is a systemd unit file as "Section.Key" → its values in order.
func readUnit(t *testing.T, name string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string][]string{}
	section := ""
	for raw := range strings.SplitSeq(string(b), "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is not Key=value", name, line)
			}
			unit[section+"."+key] = append(unit[section+"."+key], value)
		}
	}
	return unit
}

// readEnvExample is kakaoauth.env.example's settings, and the variables its comments suggest
// (lines "# KAKAOAUTH_…=…").
func readEnvExample(t *testing.T) (env map[string]string, commented []string) {
	t.Helper()
	b, err := os.ReadFile("kakaoauth.env.example")
	if err != nil {
		t.Fatal(err)
	}
	env = map[string]string{}
	suggestion := regexp.MustCompile(`^#\s*(KAKAOAUTH_[A-Z0-9_]+)=`)
	for raw := range strings.SplitSeq(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if m := suggestion.FindStringSubmatch(line); m != nil {
			commented = append(commented, m[1])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "export ") || strings.ContainsAny(value, `"'`) {
			t.Errorf("kakaoauth.env.example: %q, want NAME=value (systemd and Docker read quotes differently)", line)
			continue
		}
		env[name] = value
	}
	return env, commented
}

// readConfigurationTable is the README's Configuration table: variable → its `serve` default.
func readConfigurationTable(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`KAKAOAUTH_") {
			continue
		}
		table[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[2])
	}
	return table
}
