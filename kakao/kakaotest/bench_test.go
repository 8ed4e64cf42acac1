package kakaotest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// BenchmarkCodeAndExchange measures what a load run asks of the emulator per login: mint a
// code, trade it (with an RS256 ID token).
func BenchmarkCodeAndExchange(b *testing.B) {
	for _, oidc := range []bool{false, true} {
		name := "oauth"
		if oidc {
			name = "oidc"
		}
		b.Run(name, func(b *testing.B) {
			app := testApp()
			app.OIDC = oidc
			e := kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{Issuer: "http://emulator.test"})
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					code, err := e.IssueCode(userVerified, redirectURI, "n", "")
					if err != nil {
						b.Fatal(err)
					}
					req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(tokenForm(code).Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					rec := httptest.NewRecorder()
					e.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("token: %d %s", rec.Code, rec.Body)
					}
				}
			})
		})
	}
}
