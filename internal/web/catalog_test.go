package web

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readCatalog reads catalog/<lang>.json from disk, independently of loadCatalogs.
func readCatalog(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("catalog", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

func TestCatalogs_SameKeysNoEmptyTexts(t *testing.T) {
	if _, err := loadCatalogs(); err != nil {
		t.Fatalf("loadCatalogs: %v", err)
	}
	ko, en := readCatalog(t, "ko"), readCatalog(t, "en")
	if len(ko) < 50 {
		t.Fatalf("ko catalogue has only %d keys", len(ko))
	}
	for k, v := range ko {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is in ko.json but not in en.json", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("ko.json: %q is empty", k)
		}
	}
	for k, v := range en {
		if _, ok := ko[k]; !ok {
			t.Errorf("key %q is in en.json but not in ko.json", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("en.json: %q is empty", k)
		}
	}
	// Placeholders must match, or a translation would print "{wait}" literally.
	for k, v := range ko {
		for _, ph := range []string{"{n}", "{wait}", "{code}", "{nickname}", "{hours}", "{minutes}"} {
			if strings.Contains(v, ph) != strings.Contains(en[k], ph) {
				t.Errorf("key %q: placeholder %s in one language only", k, ph)
			}
		}
	}
}

// TestMessage_EveryErrorCode reads the ECode constants of package auth from its source, so a
// new code without a text fails here.
func TestMessage_EveryErrorCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "auth", "error.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, "ECode") || i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				codes = append(codes, s)
			}
		}
		return true
	})
	if len(codes) < 10 {
		t.Fatalf("found only %d ECode constants in auth/error.go", len(codes))
	}
	for _, code := range codes {
		for _, lang := range []string{"ko", "en"} {
			key := "err." + code
			if _, ok := lookup(lang, key); !ok {
				t.Errorf("no %s text for %q", lang, key)
			}
		}
	}
}

func TestMessage(t *testing.T) {
	tests := []struct{ lang, key, want string }{
		{"ko", "err.invalid_grant", "인가 코드나 리프레시 토큰이 올바르지 않거나 만료되었습니다."},
		{"en", "err.invalid_token", "The access token is invalid or has expired."},
		{"fr", "kakao_login", "카카오 로그인"},
		{"", "kakao_login", "카카오 로그인"},
		{"en", "kakao_login", "Login with Kakao"},
		{"en", "no.such.key", "no.such.key"},
	}
	for _, tc := range tests {
		if got := Message(tc.lang, tc.key); got != tc.want {
			t.Errorf("Message(%q, %q) = %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
}
