package kakaoidp_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/kakaoidp"
	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// TestChecklist_087_TLSFailsClosed: Kakao behind a certificate we do not trust (self-signed,
// as a MITM would present), or a host that does not resolve, fails the login closed with an
// upstream error (502/503/504 codes), never a login and never a 401 about the client; and no
// non-test source of the module turns certificate checks off.
func TestChecklist_087_TLSFailsClosed(t *testing.T) {
	emu := kakaotest.New(kakaotest.DefaultApp(), kakaotest.DefaultUsers(), kakaotest.Options{})
	defer emu.Close()
	ts := httptest.NewTLSServer(emu) // its certificate is not in the system pool
	defer ts.Close()
	app := kakaotest.DefaultApp()
	for name, base := range map[string]string{
		"self_signed": ts.URL,
		"dns_failure": "https://kauth.invalid",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := kakao.New(kakao.Config{ClientID: app.RESTKey, ClientSecret: app.ClientSecret, AuthURL: base, APIURL: base, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			p := &kakaoidp.Provider{Client: c}
			_, err = p.ExchangeCode(context.Background(), auth.CodeExchange{Code: "x", RedirectURI: redirectURI})
			switch code := auth.ErrorCode(err); code {
			case auth.ECodeKakaoError, auth.ECodeKakaoUnavailable, auth.ECodeKakaoTimeout:
			default:
				t.Fatalf("login against %s: %v (code %q), want an upstream error", name, err, code)
			}
			_, err = p.SDKLogin(context.Background(), "some-token", "", "")
			if code := auth.ErrorCode(err); code == auth.ECodeInvalidToken || code == "" {
				t.Fatalf("SDK login against %s: %v, want an upstream error", name, err)
			}
		})
	}
	t.Run("no_InsecureSkipVerify_in_sources", func(t *testing.T) {
		root := filepath.Join("..", "..")
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == ".cache" || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if kv, ok := n.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "InsecureSkipVerify" {
						t.Errorf("%s sets InsecureSkipVerify", path)
					}
				}
				if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "InsecureSkipVerify" {
					t.Errorf("%s touches InsecureSkipVerify", path)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
