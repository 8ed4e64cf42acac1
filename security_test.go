package kakaoauth_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// testIndex is what the module's Go files name: the Test and Fuzz functions of its _test.go
// files, and every string literal (the subtest names given to t.Run, directly or from a table),
// as Go prints a subtest's name (spaces become underscores), also split at "/".
type testIndex struct {
	funcs    map[string]bool
	literals map[string]bool
}

func indexModule(t *testing.T, root string) testIndex {
	t.Helper()
	ix := testIndex{funcs: map[string]bool{}, literals: map[string]bool{}}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".cache", "node_modules", "testdata", "vendor":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		isTest := strings.HasSuffix(path, "_test.go")
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if isTest && n.Recv == nil && (strings.HasPrefix(n.Name.Name, "Test") || strings.HasPrefix(n.Name.Name, "Fuzz")) {
					ix.funcs[n.Name.Name] = true
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil && len(s) < 200 {
						for _, v := range []string{s, strings.ReplaceAll(s, " ", "_")} {
							ix.literals[v] = true
							for _, seg := range strings.Split(v, "/") {
								ix.literals[seg] = true
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

var (
	rowRE    = regexp.MustCompile("^\\| (\\d{3}) \\| ([^|]+) \\| (.+) \\|$")
	refRE    = regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_/*.-]*)`")
	countsRE = regexp.MustCompile(`\*\*Counts:\*\* (\d+) cases · (\d+) applicable · (\d+) passing on this branch · (\d+) owned by parallel changes · (\d+) not applicable`)
)

// checkSecurityTable checks SECURITY.md's text against the module's tests and returns what is
// wrong: every case 1–98 exactly once; each applicable case with at least one test, every test
// named existing (its function, and each subtest segment as a string in the sources; "*" stands
// for any one segment), one of them carrying the case number; the counts adding up.
func checkSecurityTable(md string, ix testIndex) []string {
	var problems []string
	seen := map[int]int{}
	var applicable, parallel, na int
	for _, line := range strings.Split(md, "\n") {
		m := rowRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		seen[n]++
		cell := m[3]
		switch {
		case strings.HasPrefix(cell, "N/A"):
			na++
			if len(cell) < 20 {
				problems = append(problems, fmt.Sprintf("case %d: not applicable without a reason", n))
			}
			continue
		case strings.Contains(strings.ToLower(cell), "owned by a parallel change"):
			// The parallel change brings the tests; the merger fills in their names.
			applicable++
			parallel++
			continue
		}
		applicable++
		refs := refRE.FindAllStringSubmatch(cell, -1)
		if len(refs) == 0 {
			problems = append(problems, fmt.Sprintf("case %d: no test named", n))
			continue
		}
		numbered := regexp.MustCompile(`(^|[^0-9])0*` + strconv.Itoa(n) + `([^0-9]|$)`)
		carries := false
		for _, r := range refs {
			ref := r[1]
			segs := strings.Split(ref, "/")
			if !ix.funcs[segs[0]] {
				problems = append(problems, fmt.Sprintf("case %d: no test function %s", n, segs[0]))
				continue
			}
			for _, seg := range segs[1:] {
				if seg != "*" && !ix.literals[seg] {
					problems = append(problems, fmt.Sprintf("case %d: %s: no subtest %q in the sources", n, ref, seg))
				}
			}
			if numbered.MatchString(ref) {
				carries = true
			}
		}
		if !carries {
			problems = append(problems, fmt.Sprintf("case %d: none of its tests carries the number", n))
		}
	}
	for n := 1; n <= 98; n++ {
		if seen[n] != 1 {
			problems = append(problems, fmt.Sprintf("case %d listed %d times", n, seen[n]))
		}
	}
	m := countsRE.FindStringSubmatch(md)
	if m == nil {
		return append(problems, "no **Counts:** line")
	}
	want := []int{len(seen), applicable, applicable - parallel, parallel, na}
	for i, w := range want {
		if got, _ := strconv.Atoi(m[i+1]); got != w {
			problems = append(problems, fmt.Sprintf("counts: %q says %d, the table %d", []string{"cases", "applicable", "passing", "parallel", "not applicable"}[i], got, w))
		}
	}
	return problems
}

// TestSecurityTable: SECURITY.md lists every checklist case with tests that exist.
func TestSecurityTable(t *testing.T) {
	md, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	ix := indexModule(t, ".")
	if len(ix.funcs) < 100 {
		t.Fatalf("found only %d test functions", len(ix.funcs))
	}
	for _, p := range checkSecurityTable(string(md), ix) {
		t.Error(p)
	}
}

// TestSecurityTable_FindsDrift: the check fails on a renamed test, a missing subtest, a case
// without its number, a missing case and wrong counts.
func TestSecurityTable_FindsDrift(t *testing.T) {
	ix := testIndex{funcs: map[string]bool{"TestA_001_x": true, "TestB": true}, literals: map[string]bool{"002_sub": true}}
	var rows []string
	for n := 1; n <= 98; n++ {
		rows = append(rows, fmt.Sprintf("| %03d | case | N/A: a reason long enough to count |", n))
	}
	good := "**Counts:** 98 cases · 2 applicable · 2 passing on this branch · 0 owned by parallel changes · 96 not applicable\n"
	rows[0] = "| 001 | case | `TestA_001_x` |"
	rows[1] = "| 002 | case | `TestB/002_sub` |"
	if p := checkSecurityTable(good+strings.Join(rows, "\n"), ix); len(p) != 0 {
		t.Fatalf("a good table: %v", p)
	}
	for name, mod := range map[string]func([]string) []string{
		"renamed test":     func(r []string) []string { r[0] = "| 001 | case | `TestA_001_y` |"; return r },
		"missing subtest":  func(r []string) []string { r[1] = "| 002 | case | `TestB/002_gone` |"; return r },
		"number not named": func(r []string) []string { r[1] = "| 002 | case | `TestA_001_x` |"; return r },
		"case missing":     func(r []string) []string { return r[1:] },
		"no tests":         func(r []string) []string { r[1] = "| 002 | case | none yet |"; return r },
	} {
		rs := mod(append([]string(nil), rows...))
		if p := checkSecurityTable(good+strings.Join(rs, "\n"), ix); len(p) == 0 {
			t.Errorf("%s: not found", name)
		}
	}
	bad := strings.Replace(good, "2 passing", "3 passing", 1)
	if p := checkSecurityTable(bad+strings.Join(rows, "\n"), ix); len(p) == 0 {
		t.Error("wrong counts: not found")
	}
}
