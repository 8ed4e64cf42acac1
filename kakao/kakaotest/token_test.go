package kakaotest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestToken_Errors(t *testing.T) {
	app := testApp()
	const verifier = "verifier-verifier-verifier-verifier-verifier-0123"
	tests := []struct {
		name      string
		challenge string // the code's challenge
		edit      func(f url.Values)
		status    int
		errCode   string
		desc      string // "" = any; "CODE" = the code's KOE320 text
		koe       string
	}{
		{"unknown client", "", func(f url.Values) { f.Set("client_id", "nope") }, 401, "invalid_client", "Not exist client_id [nope]", "KOE101"},
		{"missing client", "", func(f url.Values) { f.Del("client_id") }, 401, "invalid_client", "Not exist client_id []", "KOE101"},
		{"wrong secret", "", func(f url.Values) { f.Set("client_secret", "x") }, 401, "invalid_client", "Bad client credentials", "KOE010"},
		{"missing secret", "", func(f url.Values) { f.Del("client_secret") }, 401, "invalid_client", "Bad client credentials", "KOE010"},
		{"unknown code", "", func(f url.Values) { f.Set("code", "abc") }, 400, "invalid_grant", "authorization code not found for code=abc", "KOE320"},
		{"redirect mismatch", "", func(f url.Values) { f.Set("redirect_uri", redirectURI+"/x") }, 400, "invalid_grant", "Redirect URI mismatch.", "KOE303"},
		{"other client's code", "", func(f url.Values) { f.Set("client_id", app.JavaScriptKey) }, 400, "invalid_grant", "CODE", "KOE320"},
		{"missing verifier", s256(verifier), func(f url.Values) {}, 400, "invalid_grant", "", "KOE320"},
		{"wrong verifier", s256(verifier), func(f url.Values) { f.Set("code_verifier", verifier+"x") }, 400, "invalid_grant", "", "KOE320"},
		{"refresh missing", "", func(f url.Values) { f.Set("grant_type", "refresh_token") }, 400, "invalid_grant", "", "KOE319"},
		{"refresh unknown", "", func(f url.Values) { f.Set("grant_type", "refresh_token"); f.Set("refresh_token", "zzz") }, 400, "invalid_grant", "expired_or_invalid_refresh_token", "KOE322"},
		{"grant type", "", func(f url.Values) { f.Set("grant_type", "password") }, 400, "invalid_request", "", "KOE001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newEmu(t)
			code, err := s.IssueCode(userVerified, redirectURI, "", tt.challenge)
			if err != nil {
				t.Fatal(err)
			}
			f := tokenForm(code)
			tt.edit(f)
			desc := tt.desc
			if desc == "CODE" {
				desc = "authorization code not found for code=" + code
			}
			wantKauthError(t, do(t, s, http.MethodPost, "/oauth/token", "", f), tt.status, tt.errCode, desc, tt.koe)
		})
	}
}

func TestToken_PKCEAndSingleUse(t *testing.T) {
	s, _ := newEmu(t)
	const verifier = "verifier-verifier-verifier-verifier-verifier-0123"
	code, _ := s.IssueCode(userVerified, redirectURI, "nonce-1", s256(verifier))
	f := tokenForm(code)
	f.Set("code_verifier", verifier)
	r := do(t, s, http.MethodPost, "/oauth/token", "", f)
	if r.Status != 200 {
		t.Fatalf("exchange: %d %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	m := r.JSON(t)
	for k, want := range map[string]any{"token_type": "bearer", "expires_in": json.Number("21599"), "refresh_token_expires_in": json.Number("5183999")} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	claims := decodeJWT(t, str(m, "id_token"))
	if claims["nonce"] != "nonce-1" {
		t.Errorf("nonce = %v", claims["nonce"])
	}
	// Second use of the same code.
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/token", "", f), 400, "invalid_grant",
		"authorization code not found for code="+code, "KOE320")
}

func TestToken_FormBodyOnly(t *testing.T) {
	s, _ := newEmu(t)
	code, _ := s.IssueCode(userVerified, redirectURI, "", "")
	b, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "code": code})
	resp, err := s.Client().Post(s.URL+"/oauth/token", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: []byte(readAll(t, resp))}
	wantKauthError(t, r, 400, "invalid_request", "", "KOE001")
	if got := do(t, s, http.MethodGet, "/oauth/token", "", nil).Status; got != http.StatusMethodNotAllowed {
		t.Errorf("GET /oauth/token = %d, want 405", got)
	}
}

func TestToken_CodeExpiresAfterTenMinutes(t *testing.T) {
	s, c := newEmu(t)
	code, _ := s.IssueCode(userVerified, redirectURI, "", "")
	c.Add(10 * time.Minute)
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(code)), 400, "invalid_grant", "", "KOE320")

	code, _ = s.IssueCode(userVerified, redirectURI, "", "")
	c.Add(10*time.Minute - time.Second)
	if r := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(code)); r.Status != 200 {
		t.Errorf("code 1 s before expiry: %d %s", r.Status, r.Body)
	}
}

func refreshForm(rt string) url.Values {
	app := testApp()
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {app.RESTKey},
		"client_secret": {app.ClientSecret}, "refresh_token": {rt}}
}

func TestToken_RefreshSemantics(t *testing.T) {
	s, c := newEmu(t)
	tok := exchange(t, s, userVerified)
	rt := str(tok, "refresh_token")

	// More than a month left: no new refresh token, no scope; the ID token is re-issued.
	r := do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(rt))
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	for _, k := range []string{"refresh_token", "refresh_token_expires_in", "scope"} {
		if _, ok := m[k]; ok {
			t.Errorf("refresh answer has %q: %s", k, r.Body)
		}
	}
	if str(m, "id_token") == "" || str(m, "access_token") == "" || m["expires_in"] != json.Number("21599") {
		t.Errorf("refresh answer = %s", r.Body)
	}
	if _, ok := decodeJWT(t, str(m, "id_token"))["nonce"]; ok {
		t.Error("refreshed ID token carries a nonce")
	}

	// Less than a month left: a new refresh token; the old one stops working.
	c.Add(31 * 24 * time.Hour)
	r = do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(rt))
	m = r.JSON(t)
	newRT := str(m, "refresh_token")
	if newRT == "" || newRT == rt || m["refresh_token_expires_in"] != json.Number("5183999") {
		t.Fatalf("rotation answer = %s", r.Body)
	}
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(rt)), 400, "invalid_grant", "expired_or_invalid_refresh_token", "KOE322")
	if r := do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(newRT)); r.Status != 200 {
		t.Errorf("new refresh token: %d %s", r.Status, r.Body)
	}

	// A refresh token expires after 60 days.
	c.Add(60 * 24 * time.Hour)
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(newRT)), 400, "invalid_grant", "expired_or_invalid_refresh_token", "KOE322")
}

func TestToken_NoIDTokenWithoutOIDC(t *testing.T) {
	app := testApp()
	app.OIDC = false
	s := kakaotest.NewServer(t, app, kakaotest.DefaultUsers())
	tok := exchange(t, s, userVerified)
	if _, ok := tok["id_token"]; ok {
		t.Error("id_token issued with OIDC off")
	}
	if got := str(tok, "scope"); strings.Contains(got, "openid") {
		t.Errorf("scope = %q", got)
	}
	r := do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(str(tok, "refresh_token")))
	if _, ok := r.JSON(t)["id_token"]; ok {
		t.Error("id_token on refresh with OIDC off")
	}
}

func TestToken_RateLimitKOE237(t *testing.T) {
	s, c := newEmu(t)
	s.SetRateLimit(true)
	var rt string
	for i := range kakaotest.AccessTokenLimit {
		tok := exchange(t, s, userVerified)
		if i == 0 {
			rt = str(tok, "refresh_token")
		}
	}
	code, _ := s.IssueCode(userVerified, redirectURI, "", "")
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(code)), 400, "invalid_request", "", "KOE237")
	// Another user is not limited.
	exchange(t, s, userNoEmail)
	// The window slides.
	c.Add(kakaotest.AccessTokenWindow)
	exchange(t, s, userVerified)

	for range kakaotest.RefreshTokenLimit {
		if r := do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(rt)); r.Status != 200 {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
	}
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(rt)), 400, "invalid_request", "", "KOE237")

	s.SetRateLimit(false)
	if r := do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(rt)); r.Status != 200 {
		t.Errorf("limit off: %d", r.Status)
	}
}

func TestTokenInfo(t *testing.T) {
	s, c := newEmu(t)
	tok := exchange(t, s, userVerified)
	r := do(t, s, http.MethodPost, "/oauth/tokeninfo", "", url.Values{"id_token": {str(tok, "id_token")}})
	if r.Status != 200 {
		t.Fatalf("tokeninfo: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	if m["sub"] != "4217730412856391024" || m["aud"] != testApp().RESTKey || m["iss"] != s.URL {
		t.Errorf("payload = %s", r.Body)
	}
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/tokeninfo", "", url.Values{"id_token": {"a.b.c"}}), 400, "invalid_token", "", "KOE400")
	c.Add(kakaotest.AccessTokenLifetime)
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/tokeninfo", "", url.Values{"id_token": {str(tok, "id_token")}}), 400, "invalid_token", "", "KOE400")
}

// decodeJWT returns a JWT's payload without checking it.
func decodeJWT(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func decodeJWTHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
