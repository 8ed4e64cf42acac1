package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBasePath_DefaultLinks renders the pages of a Renderer mounted under /login with their
// default links: every default link, the stylesheet and the language cookie carry the prefix.
func TestBasePath_DefaultLinks(t *testing.T) {
	r, err := New(Options{BasePath: "/login/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		render func(w http.ResponseWriter, req *http.Request)
		want   []string
	}{
		{"login", func(w http.ResponseWriter, req *http.Request) { r.Login(w, req, 200, LoginPage{}) },
			[]string{`href="/login/auth/kakao/login"`, `href="/login/static/app.css?v=`}},
		{"account", func(w http.ResponseWriter, req *http.Request) { r.Account(w, req, 200, AccountPage{CSRF: "x"}) },
			[]string{`action="/login/auth/logout"`, `action="/login/auth/logout?all=true"`}},
		{"delete", func(w http.ResponseWriter, req *http.Request) { r.Delete(w, req, 200, DeletePage{CSRF: "x"}) },
			[]string{`action="/login/account/delete"`, `href="/login/"`}},
		{"deleted", func(w http.ResponseWriter, req *http.Request) { r.Deleted(w, req, 200, DeletedPage{}) },
			[]string{`href="/login/auth/kakao/login"`}},
		{"error retry", func(w http.ResponseWriter, req *http.Request) { r.Error(w, req, 400, ErrorPage{Code: "cancelled"}) },
			[]string{`href="/login/auth/kakao/login"`}},
		{"error home", func(w http.ResponseWriter, req *http.Request) { r.Error(w, req, 404, ErrorPage{Code: "not_found"}) },
			[]string{`href="/login/"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.render(w, httptest.NewRequest("GET", "/login/?lang=en", nil))
			body := w.Body.String()
			for _, want := range tc.want {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %s", want)
				}
			}
			if got := w.Result().Cookies(); len(got) != 1 || got[0].Path != "/login/" {
				t.Errorf("language cookie %v, want one on Path /login/", got)
			}
		})
	}
}
