package verify_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/doc"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/kakaoauth/kakaoauth"

// publicPackage is a package other modules may import.
type publicPackage struct {
	path, dir string
}

// publicPackages lists the module's importable packages as they are at test time: every
// package but main packages and those under internal/, cmd/ and examples/. New public packages
// (the root package, resource) are found without a change here.
func publicPackages(t *testing.T) []publicPackage {
	t.Helper()
	out := goCmd(t, repoRoot(t), nil, "list", "-f", "{{.ImportPath}}\t{{.Name}}\t{{.Dir}}", module+"/...")
	var pkgs []publicPackage
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("go list printed %q", line)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		if f[1] == "main" || isInternal(f[0]) || rel == "cmd" || strings.HasPrefix(rel, "cmd/") || rel == "examples" || strings.HasPrefix(rel, "examples/") {
			continue
		}
		pkgs = append(pkgs, publicPackage{path: f[0], dir: f[2]})
	}
	for _, want := range []string{module + "/kakao", module + "/kakao/kakaotest"} {
		if !hasPackage(pkgs, want) {
			t.Fatalf("public packages %v lack %s", pkgs, want)
		}
	}
	return pkgs
}

func hasPackage(pkgs []publicPackage, path string) bool {
	for _, p := range pkgs {
		if p.path == path {
			return true
		}
	}
	return false
}

// isInternal reports whether path is an internal package (go.dev/s/go14internal).
func isInternal(path string) bool {
	return strings.HasPrefix(path, "internal/") || strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal")
}

// TestPublicPackagesAreDocumented checks that every public package has a package overview and
// every exported name a doc comment.
func TestPublicPackagesAreDocumented(t *testing.T) {
	for _, p := range publicPackages(t) {
		t.Run(strings.TrimPrefix(p.path, module+"/"), func(t *testing.T) {
			for _, name := range undocumented(t, p) {
				t.Errorf("%s: no doc comment", name)
			}
		})
	}
}

// undocumented returns the package's exported names that have no doc comment ("package" for a
// missing overview).
func undocumented(t *testing.T, p publicPackage) []string {
	t.Helper()
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(p.dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	d, err := doc.NewFromFiles(fset, files, p.path)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	if strings.TrimSpace(d.Doc) == "" {
		missing = append(missing, "package "+d.Name)
	}
	values := func(prefix string, vs []*doc.Value) {
		for _, v := range vs {
			if strings.TrimSpace(v.Doc) == "" {
				missing = append(missing, prefix+strings.Join(v.Names, ", "))
			}
		}
	}
	funcs := func(prefix string, fs []*doc.Func) {
		for _, f := range fs {
			if strings.TrimSpace(f.Doc) == "" {
				missing = append(missing, prefix+f.Name)
			}
		}
	}
	values("", d.Consts)
	values("", d.Vars)
	funcs("", d.Funcs)
	for _, typ := range d.Types {
		if strings.TrimSpace(typ.Doc) == "" {
			missing = append(missing, typ.Name)
		}
		values("", typ.Consts)
		values("", typ.Vars)
		funcs("", typ.Funcs)
		funcs(typ.Name+".", typ.Methods)
	}
	return missing
}

// TestPublicSignaturesHaveNoInternalTypes checks, on the compiled packages, that no exported
// name of a public package shows a type of an internal package: in a function's parameters or
// results, a struct's exported or embedded fields, an interface's methods, a method of an
// exported type, or the target of an alias. Another module could not name such a type.
func TestPublicSignaturesHaveNoInternalTypes(t *testing.T) {
	pkgs := publicPackages(t)
	args := []string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}
	for _, p := range pkgs {
		args = append(args, p.path)
	}
	export := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(goCmd(t, repoRoot(t), nil, args...)))
	for sc.Scan() {
		if path, file, ok := strings.Cut(sc.Text(), "\t"); ok && file != "" {
			export[path] = file
		}
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		file, ok := export[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	for _, p := range pkgs {
		t.Run(strings.TrimPrefix(p.path, module+"/"), func(t *testing.T) {
			pkg, err := imp.Import(p.path)
			if err != nil {
				t.Fatal(err)
			}
			for _, leak := range internalTypes(pkg) {
				t.Error(leak)
			}
		})
	}
}

// internalTypes lists where the exported names of pkg show a type of an internal package.
func internalTypes(pkg *types.Package) []string {
	w := &typeWalker{pkg: pkg, seen: map[types.Type]bool{}}
	for _, name := range pkg.Scope().Names() {
		obj := pkg.Scope().Lookup(name)
		if !obj.Exported() {
			continue
		}
		where := pkg.Name() + "." + name
		tn, ok := obj.(*types.TypeName)
		if !ok {
			w.walk(obj.Type(), where)
			continue
		}
		if tn.IsAlias() {
			w.walk(types.Unalias(tn.Type()), where+" (alias)")
			continue
		}
		w.declared(tn.Type().(*types.Named), where)
	}
	return w.leaks
}

type typeWalker struct {
	pkg   *types.Package
	seen  map[types.Type]bool
	leaks []string
}

// declared walks a named type of pkg: its type parameters, its underlying type and the
// signatures of its exported methods.
func (w *typeWalker) declared(n *types.Named, where string) {
	if w.seen[n] {
		return
	}
	w.seen[n] = true
	for i := range n.TypeParams().Len() {
		w.walk(n.TypeParams().At(i).Constraint(), where)
	}
	w.walk(n.Underlying(), where)
	for i := range n.NumMethods() {
		if m := n.Method(i); m.Exported() {
			w.walk(m.Type(), where+"."+m.Name())
		}
	}
}

func (w *typeWalker) walk(t types.Type, where string) {
	switch t := t.(type) {
	case *types.Alias:
		w.walk(types.Unalias(t), where)
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() != nil && isInternal(obj.Pkg().Path()) {
			w.leaks = append(w.leaks, fmt.Sprintf("%s shows %s.%s", where, obj.Pkg().Path(), obj.Name()))
		}
		for i := range t.TypeArgs().Len() {
			w.walk(t.TypeArgs().At(i), where)
		}
		// An unexported type of the package itself shows its exported fields and methods.
		if obj.Pkg() == w.pkg && !obj.Exported() {
			w.declared(t, where)
		}
	case *types.Pointer:
		w.walk(t.Elem(), where)
	case *types.Slice:
		w.walk(t.Elem(), where)
	case *types.Array:
		w.walk(t.Elem(), where)
	case *types.Chan:
		w.walk(t.Elem(), where)
	case *types.Map:
		w.walk(t.Key(), where)
		w.walk(t.Elem(), where)
	case *types.Signature:
		for _, tuple := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tuple.Len() {
				w.walk(tuple.At(i).Type(), where)
			}
		}
	case *types.Struct:
		for i := range t.NumFields() {
			if f := t.Field(i); f.Exported() || f.Embedded() {
				w.walk(f.Type(), where+"."+f.Name())
			}
		}
	case *types.Interface:
		for i := range t.NumEmbeddeds() {
			w.walk(t.EmbeddedType(i), where)
		}
		for i := range t.NumExplicitMethods() {
			if m := t.ExplicitMethod(i); m.Exported() {
				w.walk(m.Type(), where+"."+m.Name())
			}
		}
	case *types.Union:
		for i := range t.Len() {
			w.walk(t.Term(i).Type(), where)
		}
	case *types.TypeParam:
		w.walk(t.Constraint(), where)
	}
}

// TestInternalTypeCheckFindsLeaks shows that the walk above can fail: a package of exported
// names built over an internal package's type is reported at each place it shows.
func TestInternalTypeCheckFindsLeaks(t *testing.T) {
	internal := types.NewPackage(module+"/internal/app", "app")
	secret := types.NewNamed(types.NewTypeName(token.NoPos, internal, "Config", nil), types.NewStruct(nil, nil), nil)
	pub := types.NewPackage(module+"/leaky", "leaky")
	param := types.NewParam(token.NoPos, pub, "c", types.NewPointer(secret))
	pub.Scope().Insert(types.NewFunc(token.NoPos, pub, "New", types.NewSignatureType(nil, nil, nil, types.NewTuple(param), nil, false)))
	pub.Scope().Insert(types.NewTypeName(token.NoPos, pub, "Config", secret)) // an alias
	field := types.NewField(token.NoPos, pub, "Settings", types.NewSlice(secret), false)
	opts := types.NewNamed(types.NewTypeName(token.NoPos, pub, "Options", nil), types.NewStruct([]*types.Var{field}, nil), nil)
	pub.Scope().Insert(opts.Obj())
	got := strings.Join(internalTypes(pub), "\n")
	for _, want := range []string{"leaky.New shows", "leaky.Config (alias) shows", "leaky.Options.Settings shows"} {
		if !strings.Contains(got, want) {
			t.Errorf("leaks %q lack %q", got, want)
		}
	}
}

// repoRoot is the module's root folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// goCmd runs the go command in dir with the environment plus env, and returns its output.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return stdout.String()
}

// TestDocCheckFindsMissing shows that the doc check can fail: a package without an overview and
// with an undocumented function, type, method and constant is reported at each.
func TestDocCheckFindsMissing(t *testing.T) {
	dir := t.TempDir()
	src := "package bare\n\nconst Limit = 1\n\nfunc New() *T { return nil }\n\ntype T struct{}\n\nfunc (T) Do() {}\n\n// Documented is fine.\nfunc Documented() {}\n"
	if err := os.WriteFile(filepath.Join(dir, "bare.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(undocumented(t, publicPackage{path: "example.com/bare", dir: dir}), ", ")
	if want := "package bare, Limit, T, New, T.Do"; got != want {
		t.Errorf("undocumented = %q, want %q", got, want)
	}
}
