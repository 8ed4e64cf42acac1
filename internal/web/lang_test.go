package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestLang(t *testing.T) {
	tests := []struct {
		name, target, cookie, accept, want string
	}{
		{"default", "/", "", "", "ko"},
		{"query en", "/?lang=en", "", "", "en"},
		{"query ko beats cookie and header", "/?lang=ko", "en", "en", "ko"},
		{"query is case-insensitive", "/?lang=EN", "", "", "en"},
		{"unknown query ignored, cookie used", "/?lang=fr", "en", "", "en"},
		{"unknown query ignored, header used", "/?lang=../../x", "", "en-US,en;q=0.9", "en"},
		{"cookie beats header", "/", "en", "ko-KR", "en"},
		{"unknown cookie ignored", "/", "xx", "en", "en"},
		{"header en-GB", "/", "", "en-GB", "en"},
		{"header prefers ko", "/", "", "en;q=0.5, ko-KR;q=0.8", "ko"},
		{"header prefers en", "/", "", "ko;q=0.4,en-US;q=0.9", "en"},
		{"header first of equal q", "/", "", "en, ko", "en"},
		{"header q=0 refuses", "/", "", "en;q=0, fr", "ko"},
		{"header unsupported only", "/", "", "fr-FR,de;q=0.7", "ko"},
		{"header wildcard", "/", "", "*", "ko"},
		{"header junk", "/", "", ";;,,q=;en;q=abc", "ko"},
		{"header english subtag only", "/", "", "ja, en-US;q=0.1", "en"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "lang", Value: tc.cookie})
			}
			if tc.accept != "" {
				req.Header.Set("Accept-Language", tc.accept)
			}
			if got := Lang(req); got != tc.want {
				t.Errorf("Lang = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAltLangURL(t *testing.T) {
	tests := []struct {
		name, target, lang, want string
	}{
		{"root", "/", "en", "/?lang=en"},
		{"keeps path", "/account", "en", "/account?lang=en"},
		{"switches lang", "/account?lang=en", "ko", "/account?lang=ko"},
		{"keeps other params", "/auth/error?code=cancelled&lang=ko", "en", "/auth/error?code=cancelled&lang=en"},
		{"keeps repeated params", "/x?a=1&a=2&b=%20", "en", "/x?a=1&a=2&b=+&lang=en"},
		{"unknown target lang is ko", "/x", "fr", "/x?lang=ko"},
		{"escaped path", "/a%20b/c", "en", "/a%20b/c?lang=en"},
		{"no scheme-relative URL", "//evil.example/x", "en", "/?lang=en"},
		{"backslash stays in the path", "/\\evil.example", "en", "/%5Cevil.example?lang=en"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+tc.target, nil)
			if got := AltLangURL(req, tc.lang); got != tc.want {
				t.Errorf("AltLangURL(%q, %q) = %q, want %q", tc.target, tc.lang, got, tc.want)
			}
		})
	}
}
