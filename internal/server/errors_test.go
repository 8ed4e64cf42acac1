package server

import (
	"net/http"
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
		if got := pageCode(code); got != page {
			t.Errorf("pageCode(%q) = %q, want %q", code, got, page)
		}
	}
	for code, status := range statusOf {
		if status == http.StatusInternalServerError && code != auth.ECodeInternal {
			t.Errorf("%s answers 500", code)
		}
		p := pageCode(code)
		if !web.KnownErrorPage(p) {
			t.Errorf("pageCode(%q) = %q is not a known page", code, p)
		}
		if _, ok := pageStatus[p]; !ok {
			t.Errorf("page %q has no status", p)
		}
	}
}
