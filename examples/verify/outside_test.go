package verify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOutsideModuleBuilds writes a module of its own (example.com/outside) that requires this
// one through a replace directive, imports every public package and uses the Kakao client and
// the emulator; `go mod tidy` and `go build` must succeed. It catches what only another module
// sees: an internal package reached from outside, a dependency missing from go.mod, a public
// package that needs a file outside the module.
func TestOutsideModuleBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own (-short)")
	}
	root := repoRoot(t)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(gomod)
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}

	dir := t.TempDir()
	mod := fmt.Sprintf("module example.com/outside\n\n%s\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", goLine, module, module, root)
	var imports strings.Builder
	for _, p := range publicPackages(t) {
		switch p.path {
		case module + "/kakao", module + "/kakao/kakaotest":
			fmt.Fprintf(&imports, "\t%q\n", p.path) // used below
		default:
			fmt.Fprintf(&imports, "\t_ %q\n", p.path)
		}
	}
	main := `// Command outside uses kakaoauth's public packages as another module would.
package main

import (
	"fmt"
	"net/http/httptest"

` + imports.String() + `)

func main() {
	app := kakaotest.DefaultApp()
	srv := httptest.NewServer(kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{}))
	defer srv.Close()
	c, err := kakao.New(kakao.Config{ClientID: app.RESTKey, AuthURL: srv.URL, APIURL: srv.URL})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.AuthCodeURL(kakao.AuthorizeParams{RedirectURI: "http://localhost:3000/cb", State: kakao.NewState()}))
}
`
	for name, body := range map[string]string{"go.mod": mod, "main.go": main} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The environment's GOFLAGS and GOPROXY stay; -mod=mod lets tidy and build write go.sum.
	flags := []string{"-mod=mod"}
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if !strings.HasPrefix(f, "-mod=") {
			flags = append(flags, f)
		}
	}
	env := []string{"GOFLAGS=" + strings.Join(flags, " "), "GOWORK=off"}
	goCmd(t, dir, env, "mod", "tidy")
	goCmd(t, dir, env, "build", "-o", filepath.Join(dir, "outside"), ".")
	out := goCmd(t, dir, nil, "version", "-m", filepath.Join(dir, "outside"))
	if !strings.Contains(out, module) {
		t.Errorf("the binary does not name %s among its modules:\n%s", module, out)
	}
}
