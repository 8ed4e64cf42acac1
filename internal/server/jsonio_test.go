package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// TestDecodeJSON: what a JSON body must be before any handler sees it.
func TestDecodeJSON(t *testing.T) {
	type body struct {
		Code        string `json:"code"`
		RedirectURI string `json:"redirect_uri"`
	}
	for _, tc := range []struct {
		name, contentType, body string
		wantCode                string // "" for success
		want                    body
	}{
		{"ok", "application/json", `{"code":"c","redirect_uri":"u"}`, "", body{"c", "u"}},
		{"ok with charset and +json", "application/vnd.api+json; charset=utf-8", `{"code":"c"}`, "", body{Code: "c"}},
		{"036_duplicate_member_refused", "application/json", `{"code":"bogus","code":"good"}`, auth.ECodeInvalidRequest, body{}},
		{"036_duplicate_member_escaped_refused", "application/json", `{"code":"bogus","\u0063ode":"good"}`, auth.ECodeInvalidRequest, body{}},
		{"075_name_in_other_case_refused", "application/json", `{"CODE":"good"}`, auth.ECodeInvalidRequest, body{}},
		{"075_name_in_mixed_case_refused", "application/json", `{"Redirect_URI":"u"}`, auth.ECodeInvalidRequest, body{}},
		{"075_unknown_member_refused", "application/json", `{"code":"c","admin":true}`, auth.ECodeInvalidRequest, body{}},
		{"075_wrong_type_refused", "application/json", `{"code":42}`, auth.ECodeInvalidRequest, body{}},
		{"075_trailing_data_refused", "application/json", `{"code":"c"} {"code":"d"}`, auth.ECodeInvalidRequest, body{}},
		{"075_not_an_object_refused", "application/json", `["code"]`, auth.ECodeInvalidRequest, body{}},
		{"075_syntax_error_refused", "application/json", `{"code":`, auth.ECodeInvalidRequest, body{}},
		{"075_nul_refused", "application/json", `{"code":"a\u0000b"}`, auth.ECodeInvalidRequest, body{}},
		{"075_invalid_utf8_refused", "application/json", "{\"code\":\"\xff\"}", auth.ECodeInvalidRequest, body{}},
		{"075_form_is_415", "application/x-www-form-urlencoded", `code=c`, codeUnsupportedMedia, body{}},
		{"075_no_type_is_415", "", `{"code":"c"}`, codeUnsupportedMedia, body{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			var got body
			err := decodeJSON(r, &got)
			if code := codeOf(err); code != tc.wantCode {
				t.Fatalf("decodeJSON(%s) = %v, want code %q", tc.body, err, tc.wantCode)
			}
			if err == nil && got != tc.want {
				t.Errorf("decoded %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestBodyLimits_074: a body past the limit is 413 whether or not it declares its length: JSON,
// and forms (logout, the webhook) read with parseForm.
func TestBodyLimits_074(t *testing.T) {
	big := `{"code":"` + strings.Repeat("x", 200) + `"}`
	form := "csrf=" + strings.Repeat("x", 200)
	for _, tc := range []struct {
		name, contentType, body string
		read                    func(r *http.Request) error
	}{
		{"json", "application/json", big, func(r *http.Request) error { var v struct{ Code string }; return decodeJSON(r, &v) }},
		{"form", "application/x-www-form-urlencoded", form, parseForm},
	} {
		t.Run(tc.name+"_chunked", func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			r.ContentLength = -1 // sent chunked: no Content-Length to refuse early
			r.Header.Set("Content-Type", tc.contentType)
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 64)
			if code := codeOf(tc.read(r)); code != codeTooLarge {
				t.Errorf("oversized chunked %s body: code %q, want %q", tc.name, code, codeTooLarge)
			}
		})
	}
	r := httptest.NewRequest("POST", "/", strings.NewReader("a=%zz"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code := codeOf(parseForm(r)); code != auth.ECodeInvalidRequest {
		t.Errorf("bad form: code %q, want invalid_request", code)
	}
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return asError(err).Code
}
