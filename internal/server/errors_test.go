package server

import (
	"net/http"
	"os"
	"regexp"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// TestErrorTables: every error code has a status (never 500 but for internal_error) and an error
// page that exists, and the page a person lands on says what happened.
func TestErrorTables(t *testing.T) {
	want := map[string]string{
		auth.ECodeAccessDenied: "cancelled", auth.ECodeConsentRequired: "consent_required",
		auth.ECodeLoginRequired: "login_required", auth.ECodeInvalidGrant: "expired",
		auth.ECodeKakaoUnavailable: "kakao_unavailable", auth.ECodeKakaoTimeout: "kakao_unavailable",
		auth.ECodeKakaoError: "kakao_unavailable", auth.ECodeUnavailable: "kakao_unavailable",
		auth.ECodeRateLimited: "rate_limited", auth.ECodeInvalidRequest: "invalid_request",
		auth.ECodeNotFound: "not_found", auth.ECodeInternal: "server", "": "server",
	}
	for code, page := range want {
		if got := byCode[asError(&auth.Error{Code: code}).Code].page; got != page {
			t.Errorf("page of %q = %q, want %q", code, got, page)
		}
	}
	seen := map[string]bool{}
	for _, row := range errorTable {
		if seen[row.code] {
			t.Errorf("%s is in the table twice", row.code)
		}
		seen[row.code] = true
		if row.status == http.StatusInternalServerError && row.code != auth.ECodeInternal {
			t.Errorf("%s answers 500", row.code)
		}
		if !web.KnownErrorPage(row.page) {
			t.Errorf("page of %q = %q is not a known page", row.code, row.page)
		}
	}
	// A page shown by name answers the status of its first code: the same status as when the
	// same error is shown in place.
	wantPage := map[string]int{
		"cancelled": 400, "consent_required": 400, "login_required": 400, "expired": 400,
		"kakao_unavailable": 503, "rate_limited": 429, "invalid_request": 400, "not_found": 404, "server": 500,
	}
	for page, st := range wantPage {
		if got := pageStatus[page]; got != st {
			t.Errorf("page %q answers %d, want %d", page, got, st)
		}
	}
	// Every code of the domain is in the table (a missing one would answer 500).
	src, err := os.ReadFile("../auth/error.go")
	if err != nil {
		t.Fatal(err)
	}
	domain := regexp.MustCompile(`ECode\w+\s*=\s*"([a-z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(domain) < 15 {
		t.Fatalf("found only %d codes in internal/auth/error.go: has its style changed?", len(domain))
	}
	for _, m := range domain {
		if !seen[m[1]] {
			t.Errorf("domain code %q is not in the error table", m[1])
		}
	}
	if len(ErrorCodes()) != len(errorTable) {
		t.Errorf("ErrorCodes lists %d codes, the table has %d", len(ErrorCodes()), len(errorTable))
	}
}
