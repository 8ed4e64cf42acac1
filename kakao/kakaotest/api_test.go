package kakaotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

func adminForm(user string) url.Values {
	return url.Values{"target_id_type": {"user_id"}, "target_id": {user}}
}

const adminAuth = "KakaoAK kakaoauth-dev-admin-key"

func TestMe_NeedsAgreementSemantics(t *testing.T) {
	s, _ := newEmu(t)
	// Linked with the nickname only; the app also uses profile_image and account_email.
	for _, id := range []int64{userVerified, userNoEmail, userUnverified, userInvalid} {
		u, _ := s.User(id)
		u.Agreed = []string{"profile_nickname"}
		s.AddUser(u)
	}
	u, _ := s.User(userInvalid)
	u.Agreed = []string{"profile_nickname", "profile_image", "account_email"}
	s.AddUser(u)

	tests := []struct {
		name string
		user string
		want string // kakao_account as JSON
	}{
		{"email not agreed", "4217730412856391024", `{"profile_nickname_needs_agreement":false,"profile_image_needs_agreement":true,"profile":{"nickname":"김민준"},"email_needs_agreement":true}`},
		{"no email at all", "4217730412856391025", `{"profile_nickname_needs_agreement":false,"profile_image_needs_agreement":true,"profile":{"nickname":"이서연"},"email_needs_agreement":false}`},
		{"all agreed, invalid email", "4217730412856391027", `{"profile_nickname_needs_agreement":false,"profile_image_needs_agreement":false,"profile":{"nickname":"최유진","thumbnail_image_url":"http://img.kakaoemulator.test/yujin/img_110x110.jpg","profile_image_url":"http://img.kakaoemulator.test/yujin/img_640x640.jpg","is_default_image":false,"is_default_nickname":false},"email_needs_agreement":false,"is_email_valid":false,"is_email_verified":true,"email":"yujin.choi@example.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, http.MethodPost, "/v2/user/me", adminAuth, adminForm(tt.user))
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			var got struct {
				KakaoAccount json.RawMessage `json:"kakao_account"`
			}
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			if string(got.KakaoAccount) != tt.want {
				t.Errorf("kakao_account =\n%s\nwant\n%s", got.KakaoAccount, tt.want)
			}
			if !strings.HasPrefix(string(r.Body), `{"id":`+tt.user+`,"connected_at":"2026-03-01T09:00:00Z"`) {
				t.Errorf("id is not a 19-digit JSON integer first: %.80s", r.Body)
			}
		})
	}
}

func TestMe_ParamsAndModes(t *testing.T) {
	s, _ := newEmu(t)
	at := str(exchange(t, s, userVerified), "access_token")
	bearer := "Bearer " + at

	r := do(t, s, http.MethodGet, "/v2/user/me", bearer, url.Values{"property_keys": {`["kakao_account.email"]`}})
	acc := r.JSON(t)["kakao_account"].(map[string]any)
	if _, ok := acc["profile"]; ok || acc["email"] != "minjun.kim@example.com" || acc["is_email_verified"] != true {
		t.Errorf("property_keys email only: %s", r.Body)
	}
	r = do(t, s, http.MethodPost, "/v2/user/me", bearer, url.Values{"secure_resource": {"true"}})
	if !strings.Contains(string(r.Body), `"thumbnail_image_url":"https://`) {
		t.Errorf("secure_resource=true: %s", r.Body)
	}
	wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/me", bearer, url.Values{"property_keys": {`kakao_account.email`}}), 400, -2)
	wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/me", bearer, url.Values{"property_keys": {`["nope"]`}}), 400, -2)
	wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/me", bearer, url.Values{"secure_resource": {"maybe"}}), 400, -2)

	// Admin key mode.
	if r := do(t, s, http.MethodGet, "/v2/user/me", adminAuth, adminForm("4217730412856391024")); r.Status != 200 {
		t.Errorf("admin mode: %d %s", r.Status, r.Body)
	}
	tests := []struct {
		name   string
		auth   string
		form   url.Values
		status int
		code   int
		msg    string
	}{
		{"no auth", "", nil, 401, -401, ""},
		{"unknown token", "Bearer nope", nil, 401, -401, "this access token does not exist"},
		{"empty bearer", "Bearer ", nil, 400, -2, ""},
		{"wrong admin key", "KakaoAK wrong", adminForm("4217730412856391024"), 401, -401, ""},
		{"bad target type", adminAuth, url.Values{"target_id_type": {"uuid"}, "target_id": {"1"}}, 400, -2, ""},
		{"bad target id", adminAuth, adminForm("abc"), 400, -2, ""},
		{"not linked user", adminAuth, adminForm("4217730412856391025"), 400, -101, ""},
		{"unknown user", adminAuth, adminForm("1"), 400, -101, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/me", tt.auth, tt.form), tt.status, tt.code)
			if tt.msg != "" && m["msg"] != tt.msg {
				t.Errorf("msg = %v, want %q", m["msg"], tt.msg)
			}
		})
	}
}

func TestAccessTokenInfo_AndExpiry(t *testing.T) {
	s, c := newEmu(t)
	at := str(exchange(t, s, userVerified), "access_token")
	c.Add(99 * time.Second)
	r := do(t, s, http.MethodGet, "/v1/user/access_token_info", "Bearer "+at, nil)
	if got, want := string(r.Body), `{"id":4217730412856391024,"expires_in":21500,"app_id":1234567}`; got != want {
		t.Errorf("access_token_info = %s, want %s", got, want)
	}
	c.Add(kakaotest.AccessTokenLifetime)
	m := wantKapiError(t, do(t, s, http.MethodGet, "/v1/user/access_token_info", "Bearer "+at, nil), 401, -401)
	if m["msg"] != "this access token is already expired" {
		t.Errorf("msg = %v", m["msg"])
	}
	wantKapiError(t, do(t, s, http.MethodGet, "/v1/user/access_token_info", adminAuth, nil), 400, -2)
}

func TestLogoutAndUnlink(t *testing.T) {
	s, _ := newEmu(t)
	tok := exchange(t, s, userVerified)
	at := str(tok, "access_token")
	r := do(t, s, http.MethodPost, "/v1/user/logout", "Bearer "+at, url.Values{})
	if string(r.Body) != `{"id":4217730412856391024}` {
		t.Errorf("logout = %d %s", r.Status, r.Body)
	}
	wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/me", "Bearer "+at, nil), 401, -401)
	wantKauthError(t, do(t, s, http.MethodPost, "/oauth/token", "", refreshForm(str(tok, "refresh_token"))), 400, "invalid_grant", "", "KOE322")

	// Admin logout of a linked user, then unlink by token.
	if r := do(t, s, http.MethodPost, "/v1/user/logout", adminAuth, adminForm("4217730412856391024")); r.Status != 200 {
		t.Errorf("admin logout: %d %s", r.Status, r.Body)
	}
	tok = exchange(t, s, userVerified)
	at = str(tok, "access_token")
	r = do(t, s, http.MethodPost, "/v1/user/unlink", "Bearer "+at, url.Values{})
	if string(r.Body) != `{"id":4217730412856391024}` {
		t.Errorf("unlink = %d %s", r.Status, r.Body)
	}
	m := wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/me", "Bearer "+at, nil), 401, -401)
	if m["msg"] != "this access token does not exist" {
		t.Errorf("msg = %v", m["msg"])
	}
	wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/me", adminAuth, adminForm("4217730412856391024")), 400, -101)
	wantKapiError(t, do(t, s, http.MethodPost, "/v1/user/unlink", adminAuth, adminForm("4217730412856391024")), 400, -101)
	if u, _ := s.User(userVerified); len(u.Agreed) != 0 {
		t.Errorf("agreed after unlink = %v", u.Agreed)
	}
	if got := do(t, s, http.MethodGet, "/v1/user/unlink", "Bearer "+at, nil).Status; got != 405 {
		t.Errorf("GET unlink = %d, want 405", got)
	}
}

func TestScopesAndRevoke(t *testing.T) {
	s, _ := newEmu(t)
	at := str(exchange(t, s, userVerified), "access_token")
	bearer := "Bearer " + at
	r := do(t, s, http.MethodGet, "/v2/user/scopes", bearer, nil)
	want := `{"id":4217730412856391024,"scopes":[` +
		`{"id":"profile_nickname","display_name":"Nickname","type":"PRIVACY","using":true,"agreed":true,"revocable":false},` +
		`{"id":"profile_image","display_name":"Profile image","type":"PRIVACY","using":true,"agreed":true,"revocable":true},` +
		`{"id":"account_email","display_name":"Email","type":"PRIVACY","using":true,"agreed":true,"revocable":true}]}`
	if string(r.Body) != want {
		t.Errorf("scopes =\n%s\nwant\n%s", r.Body, want)
	}
	r = do(t, s, http.MethodGet, "/v2/user/scopes", adminAuth, url.Values{"target_id_type": {"user_id"},
		"target_id": {"4217730412856391024"}, "scopes": {`["account_email"]`}})
	if n := len(r.JSON(t)["scopes"].([]any)); n != 1 {
		t.Errorf("filtered scopes: %s", r.Body)
	}
	wantKapiError(t, do(t, s, http.MethodPost, "/v2/user/revoke/scopes", bearer, url.Values{"scopes": {`["profile_nickname"]`}}), 403, -3)
	wantKapiError(t, do(t, s, http.MethodPost, "/v2/user/revoke/scopes", bearer, url.Values{"scopes": {`["email"]`}}), 400, -2)
	wantKapiError(t, do(t, s, http.MethodPost, "/v2/user/revoke/scopes", bearer, url.Values{}), 400, -2)
	r = do(t, s, http.MethodPost, "/v2/user/revoke/scopes", bearer, url.Values{"scopes": {`["account_email"]`}})
	if r.Status != 200 || !strings.Contains(string(r.Body), `{"id":"account_email","display_name":"Email","type":"PRIVACY","using":true,"agreed":false}`) {
		t.Errorf("revoke = %d %s", r.Status, r.Body)
	}
	me := do(t, s, http.MethodGet, "/v2/user/me", bearer, nil)
	if acc := me.JSON(t)["kakao_account"].(map[string]any); acc["email_needs_agreement"] != true {
		t.Errorf("after revoke: %s", me.Body)
	}
}

func TestUserInfo(t *testing.T) {
	s, _ := newEmu(t)
	at := str(exchange(t, s, userUnverified), "access_token")
	r := do(t, s, http.MethodGet, "/v1/oidc/userinfo", "Bearer "+at, nil)
	if got, want := string(r.Body), `{"sub":"4217730412856391026","nickname":"박지호","picture":"http://img.kakaoemulator.test/default/img_110x110.jpg","email":"jiho.park@example.com","email_verified":false}`; got != want {
		t.Errorf("userinfo = %s\nwant %s", got, want)
	}
	// A token from an additional consent that did not ask for openid: -402 asking for openid.
	b := noRedirect(s.Client())
	b.Jar = newJar()
	page := getPage(t, b, authorizeURL(s.URL, url.Values{"scope": {"profile_image"}}))
	resp, err := b.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {requestRE.FindStringSubmatch(page)[1]},
		"user": {"4217730412856391026"}, "scope": {"profile_image"}, "action": {"agree"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	noOpenID := str(do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(callbackParams(t, resp).Get("code"))).JSON(t), "access_token")
	m := wantKapiError(t, do(t, s, http.MethodGet, "/v1/oidc/userinfo", "Bearer "+noOpenID, nil), 403, -402)
	if rs, _ := m["required_scopes"].([]any); len(rs) != 1 || rs[0] != "openid" {
		t.Errorf("required_scopes = %v", m["required_scopes"])
	}
	// OIDC off: -3.
	app := testApp()
	app.OIDC = false
	s2 := kakaotest.NewServer(t, app, kakaotest.DefaultUsers())
	at2 := str(exchange(t, s2, userVerified), "access_token")
	wantKapiError(t, do(t, s2, http.MethodGet, "/v1/oidc/userinfo", "Bearer "+at2, nil), 403, -3)
	wantKapiError(t, do(t, s, http.MethodGet, "/v1/oidc/userinfo", "Bearer nope", nil), 401, -401)
}

func TestIDToken_ClaimsOnlyWhenConsented(t *testing.T) {
	tests := []struct {
		name   string
		user   int64
		agreed []string
		want   map[string]bool // claim → present
	}{
		{"nickname only", userVerified, []string{"profile_nickname"}, map[string]bool{"nickname": true, "picture": false, "email": false}},
		{"all, verified", userVerified, []string{"profile_nickname", "profile_image", "account_email"}, map[string]bool{"nickname": true, "picture": true, "email": true}},
		{"email unverified", userUnverified, []string{"profile_nickname", "account_email"}, map[string]bool{"email": false}},
		{"email invalid", userInvalid, []string{"profile_nickname", "account_email"}, map[string]bool{"email": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newEmu(t)
			code := codeViaPage(t, s, tt.user, tt.agreed)
			m := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(code)).JSON(t)
			claims := decodeJWT(t, str(m, "id_token"))
			for k, present := range tt.want {
				if _, ok := claims[k]; ok != present {
					t.Errorf("claim %s present = %v, want %v (%v)", k, ok, present, claims)
				}
			}
			if claims["iss"] != s.URL || claims["aud"] != testApp().RESTKey || claims["sub"] != strconv.FormatInt(tt.user, 10) {
				t.Errorf("iss/aud/sub = %v %v %v", claims["iss"], claims["aud"], claims["sub"])
			}
			if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 21599 || int64(iat) != c.Now().Unix() {
				t.Errorf("iat=%v exp=%v", iat, exp)
			}
			h := decodeJWTHeader(t, str(m, "id_token"))
			kid, _ := h["kid"].(string)
			if h["alg"] != "RS256" || len(kid) != 30 || h["typ"] != "JWT" {
				t.Errorf("header = %v", h)
			}
		})
	}
}
