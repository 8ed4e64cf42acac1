package kakao_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao"
)

// cannedClient answers every request with status, content type and body,
// without any network.
func cannedClient(t testing.TB, status int, ctype string, body []byte) *kakao.Client {
	t.Helper()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h := http.Header{}
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: -1, Request: r}, nil
	})
	c, err := kakao.New(kakao.Config{
		ClientID: "k", ClientSecret: "s", AdminKey: "a",
		AuthURL: "http://kauth.invalid", APIURL: "http://kapi.invalid",
		HTTPClient: &http.Client{Transport: rt}, Timeout: time.Second, MaxBodyBytes: 64 << 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkErr asserts the invariants of every error the client returns.
func checkErr(t *testing.T, err error) {
	t.Helper()
	var e *kakao.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *kakao.Error", err, err)
	}
	if e.Kind == "" {
		t.Fatalf("empty Kind: %v", err)
	}
	if s := e.Error(); strings.ContainsAny(s, "\r\n") || len(s) > 1200 {
		t.Fatalf("Error() spans lines: %q", s)
	}
	if e.Explain("ko") == "" || e.Explain("en") == "" {
		t.Fatal("empty explanation")
	}
}

func addStatusSeeds(f *testing.F, bodies ...string) {
	for _, b := range bodies {
		for _, st := range []int{200, 400, 401, 403, 429, 500, 503} {
			f.Add(st, "application/json;charset=UTF-8", []byte(b))
		}
	}
	f.Add(200, "text/html", []byte("<html>oops</html>"))
	f.Add(200, "application/x-www-form-urlencoded", []byte("access_token=a&error=x"))
	f.Add(200, "", []byte(""))
}

func FuzzMe(f *testing.F) {
	addStatusSeeds(f, meFullSample,
		`{"id":123456789,"connected_at":"2022-04-11T01:45:28Z","kakao_account":{"profile_nickname_needs_agreement":false,"profile":{"nickname":"홍길동"}},"properties":{"k":"v"}}`,
		`{"id":9007199254740993}`, `{"id":1.5}`, `{"id":-1}`, `null`, `[]`,
		`{"msg":"this access token does not exist","code":-401}`,
		`{"msg":"insufficient scopes","code":-402,"required_scopes":["account_email"],"allowed_scopes":["profile"],"api_type":"USER_ME"}`)
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		u, err := cannedClient(t, status, ctype, body).Me(context.Background(), "AT", &kakao.UserOptions{PropertyKeys: []string{"kakao_account.email"}})
		if err != nil {
			checkErr(t, err)
			return
		}
		if status < 200 || status > 299 || u.ID <= 0 {
			t.Fatalf("accepted status %d user %+v", status, u)
		}
		_, _ = u.VerifiedEmail()
	})
}

func FuzzToken(f *testing.F) {
	addStatusSeeds(f, tokenOIDCSample,
		`{"token_type":"bearer","access_token":"a","expires_in":43199,"refresh_token":"r","refresh_token_expires_in":5184000,"scope":"account_email profile"}`,
		`{"access_token":"a","token_type":"bearer","expires_in":43199}`,
		`{"access_token":"a","token_type":"bearer","expires_in":1e400,"refresh_token":"r"}`,
		`{"error":"invalid_grant","error_description":"authorization code not found for code=xxxx","error_code":"KOE320"}`,
		`{"error":"invalid_client","error_description":"Bad client credentials","error_code":"KOE010"}`,
		`{"error":"invalid_grant","error_description":"expired_or_invalid_refresh_token","error_code":"KOE322"}`)
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		c := cannedClient(t, status, ctype, body)
		tok, err := c.Exchange(context.Background(), "code", "https://app.example/cb", "v")
		if err != nil {
			checkErr(t, err)
		} else if tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn < 0 || tok.RefreshTokenExpiresIn < 0 {
			t.Fatalf("accepted token %+v", tok)
		}
		tok, err = c.Refresh(context.Background(), "old-rt")
		if err != nil {
			checkErr(t, err)
		} else if tok.AccessToken == "" || tok.RefreshToken == "" {
			t.Fatalf("accepted refresh %+v", tok)
		}
	})
}

func FuzzAccessTokenInfo(f *testing.F) {
	addStatusSeeds(f, `{"id":123456789,"expires_in":7199,"app_id":1234}`,
		`{"appId":1234,"expiresInMillis":7199000}`, `{"msg":"internal","code":-1}`, `{"msg":"x","code":"-2"}`)
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		info, err := cannedClient(t, status, ctype, body).AccessTokenInfo(context.Background(), "AT")
		if err != nil {
			checkErr(t, err)
			return
		}
		if info.AppID <= 0 || info.ID <= 0 {
			t.Fatalf("accepted %+v", info)
		}
	})
}

// FuzzErrorBody feeds kauth and kapi error bodies to a kapi call and a kauth call.
func FuzzErrorBody(f *testing.F) {
	for _, b := range []string{
		`{"error":"invalid_grant","error_description":"authorization code not found for code=xxxx","error_code":"KOE320"}`,
		`{"error":"invalid_grant","error_description":"Redirect URI mismatch.","error_code":"KOE303"}`,
		`{"error":"invalid_client","error_description":"Bad client credentials","error_code":"KOE010"}`,
		`{"error":"invalid_token","error_description":"x","error_code":"KOE400"}`,
		`{"msg":"this access token does not exist","code":-401}`,
		`{"msg":"insufficient scopes","code":-402,"required_scopes":["account_email"]}`,
		`{"msg":"API limit has been exceeded.","code":-10}`,
		`{"msg":"already registered","code":-102}`,
		`{"code":99999999999999999999}`, `{"code":-1.5}`, `{"error":5}`, `{"error_code":"KOE` + strings.Repeat("9", 200) + `"}`,
	} {
		for _, st := range []int{400, 401, 403, 429, 500} {
			f.Add(st, []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 300 || status > 599 {
			return
		}
		c := cannedClient(t, status, "application/json", body)
		_, err := c.Logout(context.Background(), "AT")
		if err == nil {
			t.Fatalf("status %d accepted", status)
		}
		checkErr(t, err)
		var e *kakao.Error
		errors.As(err, &e)
		if status >= 500 && e.Kind != kakao.KindUnavailable {
			t.Fatalf("status %d gave %q", status, e.Kind)
		}
		_, err = c.Exchange(context.Background(), "code", "https://app.example/cb", "")
		if err == nil {
			t.Fatalf("token status %d accepted", status)
		}
		checkErr(t, err)
	})
}

func FuzzParseRedirectError(f *testing.F) {
	for _, q := range []string{
		"code=abc&state=s", "error=access_denied&error_description=User%20denied%20access",
		"error=consent_required&error_description=user%20consent%20required.", "error=login_required",
		"error=%00%0A&error_description=%FF", "error=KOE006&error_code=KOE006",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		e := kakao.ParseRedirectError(q)
		if (e == nil) != (q.Get("error") == "") {
			t.Fatalf("ParseRedirectError(%q) = %v", raw, e)
		}
		if e != nil {
			checkErr(t, e)
		}
	})
}

func FuzzVerifyIDToken(f *testing.F) {
	env := newOIDCEnv(f, nil)
	valid := env.key.sign(f, env.claims())
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := env.client.VerifyIDToken(context.Background(), raw, "")
		if err != nil {
			checkErr(t, err)
			return
		}
		if claims.UserID <= 0 || claims.Issuer != env.issuer {
			t.Fatalf("accepted %+v", claims)
		}
	})
}
