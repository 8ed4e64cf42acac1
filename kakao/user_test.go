package kakao_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/kakao"
)

// meFullSample is the documented "all info" sample with real keys (the docs'
// trailing spaces in keys and trailing comma removed) and a 19-digit id.
const meFullSample = `{
    "id":1376016924429759228,
    "connected_at": "2022-04-11T01:45:28Z",
    "synched_at": "2022-04-11T01:45:30Z",
    "has_signed_up": true,
    "kakao_account": {
        "profile_needs_agreement": false,
        "profile_nickname_needs_agreement": false,
        "profile_image_needs_agreement": false,
        "profile": {
            "nickname": "홍길동",
            "thumbnail_image_url": "http://yyy.kakao.com/.../img_110x110.jpg",
            "profile_image_url": "http://yyy.kakao.com/dn/.../img_640x640.jpg",
            "is_default_image":false,
            "is_default_nickname": false
        },
        "name_needs_agreement":false,
        "name":"홍길동",
        "email_needs_agreement":false,
        "is_email_valid": true,
        "is_email_verified": true,
        "email": "sample@sample.com",
        "age_range_needs_agreement":false,
        "age_range":"20~29",
        "birthyear_needs_agreement": false,
        "birthyear": "2002",
        "birthday_needs_agreement":false,
        "birthday":"1130",
        "birthday_type":"SOLAR",
        "is_leap_month": false,
        "gender_needs_agreement":false,
        "gender":"female",
        "phone_number_needs_agreement": false,
        "phone_number": "+82 010-1234-5678",
        "ci_needs_agreement": false,
        "ci": "CI-VALUE",
        "ci_authenticated_at": "2019-03-11T11:25:22Z",
        "legal_name_needs_agreement": true,
        "legal_name": "홍길동",
        "legal_birth_date_needs_agreement": false,
        "legal_birth_date": "20021130",
        "legal_gender_needs_agreement": false,
        "legal_gender": "female",
        "is_korean_needs_agreement": false,
        "is_korean": true
    },
    "properties":{ "custom_key": "custom value" },
    "for_partner": { "uuid": "UUID-1" },
    "group_user_token": "GUT-1"
}`

func TestMe(t *testing.T) {
	var query url.Values
	var authz string
	f := newFake(t, map[string]http.HandlerFunc{
		"GET /v2/user/me": func(w http.ResponseWriter, r *http.Request) {
			query, authz = r.URL.Query(), r.Header.Get("Authorization")
			reply(200, meFullSample)(w, r)
		},
	})
	c := f.client(t, nil)
	got, err := c.Me(context.Background(), "AT-1", &kakao.UserOptions{PropertyKeys: []string{"kakao_account.email", "kakao_account.profile"}, SecureResource: true})
	if err != nil {
		t.Fatal(err)
	}
	tp := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	b := func(v bool) *bool { return &v }
	s := func(v string) *string { return &v }
	want := &kakao.User{
		ID: 1376016924429759228, HasSignedUp: b(true),
		ConnectedAt: tp("2022-04-11T01:45:28Z"), SynchedAt: tp("2022-04-11T01:45:30Z"),
		Properties: map[string]string{"custom_key": "custom value"},
		KakaoAccount: &kakao.Account{
			ProfileNeedsAgreement: b(false), ProfileNicknameNeedsAgreement: b(false), ProfileImageNeedsAgreement: b(false),
			Profile: &kakao.Profile{Nickname: "홍길동", ThumbnailImageURL: "http://yyy.kakao.com/.../img_110x110.jpg",
				ProfileImageURL: "http://yyy.kakao.com/dn/.../img_640x640.jpg", IsDefaultImage: b(false), IsDefaultNickname: b(false)},
			NameNeedsAgreement: b(false), Name: s("홍길동"),
			EmailNeedsAgreement: b(false), IsEmailValid: b(true), IsEmailVerified: b(true), Email: s("sample@sample.com"),
			AgeRangeNeedsAgreement: b(false), AgeRange: s("20~29"),
			BirthyearNeedsAgreement: b(false), Birthyear: s("2002"),
			BirthdayNeedsAgreement: b(false), Birthday: s("1130"), BirthdayType: s("SOLAR"), IsLeapMonth: b(false),
			GenderNeedsAgreement: b(false), Gender: s("female"),
			PhoneNumberNeedsAgreement: b(false), PhoneNumber: s("+82 010-1234-5678"),
			CINeedsAgreement: b(false), CI: s("CI-VALUE"), CIAuthenticatedAt: tp("2019-03-11T11:25:22Z"),
			LegalNameNeedsAgreement: b(true), LegalName: s("홍길동"),
			LegalBirthDateNeedsAgreement: b(false), LegalBirthDate: s("20021130"),
			LegalGenderNeedsAgreement: b(false), LegalGender: s("female"),
			IsKoreanNeedsAgreement: b(false), IsKorean: b(true),
		},
		ForPartner:     &kakao.Partner{UUID: "UUID-1"},
		GroupUserToken: "GUT-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	if authz != "Bearer AT-1" {
		t.Errorf("Authorization = %q", authz)
	}
	wantQ := url.Values{"property_keys": {`["kakao_account.email","kakao_account.profile"]`}, "secure_resource": {"true"}}
	if diff := cmp.Diff(wantQ, query); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if email, ok := got.VerifiedEmail(); !ok || email != "sample@sample.com" {
		t.Errorf("VerifiedEmail = %q, %v", email, ok)
	}
}

func TestMe_MinimalAndEmailTrust(t *testing.T) {
	tests := []struct {
		name, body string
		email      string
		ok         bool
	}{
		{"nickname only", `{"id":123456789,"connected_at":"2022-04-11T01:45:28Z","kakao_account":{"profile_nickname_needs_agreement":false,"profile":{"nickname":"홍길동"}},"properties":{"k":"v"}}`, "", false},
		{"unverified email", `{"id":1,"kakao_account":{"email":"a@b.c","is_email_valid":true,"is_email_verified":false}}`, "", false},
		{"invalid email", `{"id":1,"kakao_account":{"email":"a@b.c","is_email_valid":false,"is_email_verified":true}}`, "", false},
		{"flags missing", `{"id":1,"kakao_account":{"email":"a@b.c"}}`, "", false},
		{"valid and verified", `{"id":1,"kakao_account":{"email":"a@b.c","is_email_valid":true,"is_email_verified":true}}`, "a@b.c", true},
		{"no account", `{"id":1}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, map[string]http.HandlerFunc{"GET /v2/user/me": reply(200, tt.body)})
			u, err := f.client(t, nil).Me(context.Background(), "AT", nil)
			if err != nil {
				t.Fatal(err)
			}
			email, ok := u.VerifiedEmail()
			if email != tt.email || ok != tt.ok {
				t.Errorf("VerifiedEmail = %q, %v; want %q, %v", email, ok, tt.email, tt.ok)
			}
		})
	}
}

func TestMe_33_LargeUserID(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{
		"GET /v2/user/me":                 reply(200, `{"id":9007199254740993}`),
		"GET /v1/user/access_token_info":  reply(200, `{"id":9007199254740993,"expires_in":7199,"app_id":1234567}`),
		"POST /v1/user/logout":            reply(200, `{"id":9007199254740993}`),
		"GET /v2/user/scopes":             reply(200, `{"id":9007199254740993,"scopes":[]}`),
		"GET /v1/oidc/userinfo":           reply(200, `{"sub":"9007199254740993"}`),
		"POST /v1/user/unlink":            reply(200, `{"id":9007199254740993}`),
		"POST /v2/user/revoke/scopes":     reply(200, `{"id":9007199254740993,"scopes":[]}`),
		"GET /v2/user/does-not-exist-yet": reply(200, `{}`),
	})
	c := f.client(t, nil)
	ctx := context.Background()
	const want = int64(9007199254740993)
	u, err := c.Me(ctx, "AT", nil)
	if err != nil || u.ID != want {
		t.Errorf("Me id = %v, %v", u, err)
	}
	info, err := c.AccessTokenInfo(ctx, "AT")
	if err != nil || info.ID != want {
		t.Errorf("AccessTokenInfo id = %v, %v", info, err)
	}
	if id, err := c.Logout(ctx, "AT"); err != nil || id != want {
		t.Errorf("Logout id = %d, %v", id, err)
	}
	if id, err := c.Unlink(ctx, "AT"); err != nil || id != want {
		t.Errorf("Unlink id = %d, %v", id, err)
	}
	if s, err := c.Scopes(ctx, "AT", nil); err != nil || s.ID != want {
		t.Errorf("Scopes id = %v, %v", s, err)
	}
	// A float or string id is refused rather than rounded.
	for _, body := range []string{`{"id":9007199254740993.0}`, `{"id":"9007199254740993"}`, `{"id":9.007199254740993e15}`, `{"id":99999999999999999999}`} {
		f2 := newFake(t, map[string]http.HandlerFunc{"GET /v2/user/me": reply(200, body)})
		if _, err := f2.client(t, nil).Me(ctx, "AT", nil); kindOf(err) != kakao.KindBadResponse {
			t.Errorf("%s: err = %v, want bad_response", body, err)
		}
	}
}

func TestUserByID(t *testing.T) {
	var query url.Values
	var authz string
	f := newFake(t, map[string]http.HandlerFunc{
		"GET /v2/user/me": func(w http.ResponseWriter, r *http.Request) {
			query, authz = r.URL.Query(), r.Header.Get("Authorization")
			reply(200, `{"id":42}`)(w, r)
		},
	})
	u, err := f.client(t, nil).UserByID(context.Background(), 42, &kakao.UserOptions{PropertyKeys: []string{"kakao_account.email"}})
	if err != nil || u.ID != 42 {
		t.Fatalf("UserByID = %v, %v", u, err)
	}
	if authz != "KakaoAK admin-key" {
		t.Errorf("Authorization = %q", authz)
	}
	wantQ := url.Values{"target_id_type": {"user_id"}, "target_id": {"42"}, "property_keys": {`["kakao_account.email"]`}}
	if diff := cmp.Diff(wantQ, query); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	noAdmin := f.client(t, func(c *kakao.Config) { c.AdminKey = "" })
	calls := f.calls.Load()
	if _, err := noAdmin.UserByID(context.Background(), 42, nil); kindOf(err) != kakao.KindMisconfigured {
		t.Errorf("without admin key: %v", err)
	}
	if _, err := noAdmin.UnlinkUser(context.Background(), 42); kindOf(err) != kakao.KindMisconfigured {
		t.Errorf("UnlinkUser without admin key: %v", err)
	}
	if f.calls.Load() != calls {
		t.Error("called Kakao without an admin key")
	}
}

func TestAccessTokenInfo(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{
		"GET /v1/user/access_token_info": func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer AT-1" {
				reply(401, `{"msg":"this access token does not exist","code":-401}`)(w, r)
				return
			}
			reply(200, `{"id":123456789,"expires_in":7199,"app_id":1234}`)(w, r)
		},
	})
	c := f.client(t, nil)
	got, err := c.AccessTokenInfo(context.Background(), "AT-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&kakao.AccessTokenInfo{ID: 123456789, ExpiresIn: 7199, AppID: 1234}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Config.AppID is 1234567: a token of app 1234 is refused (checklist 30).
	if _, err := c.VerifyAccessToken(context.Background(), "AT-1"); kindOf(err) != kakao.KindInvalidToken {
		t.Errorf("VerifyAccessToken of another app: %v", err)
	}
	ok := f.client(t, func(cfg *kakao.Config) { cfg.AppID = 1234 })
	if _, err := ok.VerifyAccessToken(context.Background(), "AT-1"); err != nil {
		t.Errorf("VerifyAccessToken of our app: %v", err)
	}
	if _, err := c.AccessTokenInfo(context.Background(), "AT-2"); kindOf(err) != kakao.KindInvalidToken {
		t.Errorf("unknown token: %v", err)
	}
	if _, err := c.AccessTokenInfo(context.Background(), "bad token\r\nX: y"); kindOf(err) != kakao.KindInvalidToken {
		t.Errorf("malformed token: %v", err)
	}
}

func TestLogoutUnlink(t *testing.T) {
	type seen struct {
		authz string
		form  url.Values
	}
	var last seen
	h := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		last = seen{r.Header.Get("Authorization"), r.PostForm}
		reply(200, `{"id":123456789}`)(w, r)
	}
	f := newFake(t, map[string]http.HandlerFunc{"POST /v1/user/logout": h, "POST /v1/user/unlink": h})
	c := f.client(t, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() (int64, error)
		want seen
	}{
		{"Logout", func() (int64, error) { return c.Logout(ctx, "AT") }, seen{"Bearer AT", url.Values{}}},
		{"Unlink", func() (int64, error) { return c.Unlink(ctx, "AT") }, seen{"Bearer AT", url.Values{}}},
		{"LogoutUser", func() (int64, error) { return c.LogoutUser(ctx, 123456789) }, seen{"KakaoAK admin-key", url.Values{"target_id_type": {"user_id"}, "target_id": {"123456789"}}}},
		{"UnlinkUser", func() (int64, error) { return c.UnlinkUser(ctx, 123456789) }, seen{"KakaoAK admin-key", url.Values{"target_id_type": {"user_id"}, "target_id": {"123456789"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.call()
			if err != nil || id != 123456789 {
				t.Fatalf("= %d, %v", id, err)
			}
			if diff := cmp.Diff(tt.want, last, cmp.AllowUnexported(seen{})); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := c.Logout(ctx, ""); kindOf(err) != kakao.KindInvalidToken {
		t.Errorf("Logout with empty token: %v", err)
	}
	if _, err := c.UnlinkUser(ctx, 0); kindOf(err) != kakao.KindBadRequest {
		t.Errorf("UnlinkUser(0): %v", err)
	}
}

func TestScopesAndUserInfo(t *testing.T) {
	scopesBody := `{"id":123456789,"scopes":[
	{"id":"profile","display_name":"Profile Info(nickname/profile image)","type":"PRIVACY","using":true,"agreed":true,"revocable":false},
	{"id":"account_email","display_name":"Email","type":"PRIVACY","using":true,"agreed":true,"revocable":true},
	{"id":"shipping_address","display_name":"Shipping information","type":"PRIVACY","using":true,"agreed":false}]}`
	var q, form url.Values
	f := newFake(t, map[string]http.HandlerFunc{
		"GET /v2/user/scopes": func(w http.ResponseWriter, r *http.Request) { q = r.URL.Query(); reply(200, scopesBody)(w, r) },
		"POST /v2/user/revoke/scopes": func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			form = r.PostForm
			reply(200, `{"id":123456789,"scopes":[{"id":"account_email","display_name":"Email","type":"PRIVACY","using":true,"agreed":false}]}`)(w, r)
		},
		"GET /v1/oidc/userinfo": reply(200, `{"sub":"123456789","name":"홍길동","nickname":"홍길동","picture":"P","email":"sample@sample.com","email_verified":true,"gender":"MALE","birthdate":"2002-11-30","phone_number":"+82 00-0000-0000","phone_number_verified":true}`),
	})
	c := f.client(t, nil)
	ctx := context.Background()
	b := func(v bool) *bool { return &v }
	got, err := c.Scopes(ctx, "AT", []string{"account_email", "friends"})
	if err != nil {
		t.Fatal(err)
	}
	want := &kakao.ScopeInfo{ID: 123456789, Scopes: []kakao.Scope{
		{ID: "profile", DisplayName: "Profile Info(nickname/profile image)", Type: "PRIVACY", Using: true, Agreed: true, Revocable: b(false)},
		{ID: "account_email", DisplayName: "Email", Type: "PRIVACY", Using: true, Agreed: true, Revocable: b(true)},
		{ID: "shipping_address", DisplayName: "Shipping information", Type: "PRIVACY", Using: true},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	if q.Get("scopes") != `["account_email","friends"]` {
		t.Errorf("scopes query = %q", q.Get("scopes"))
	}
	rev, err := c.RevokeScopes(ctx, "AT", []string{"account_email"})
	if err != nil || len(rev.Scopes) != 1 || rev.Scopes[0].Agreed {
		t.Errorf("RevokeScopes = %+v, %v", rev, err)
	}
	if form.Get("scopes") != `["account_email"]` {
		t.Errorf("revoke form = %v", form)
	}
	ui, err := c.UserInfo(ctx, "AT")
	if err != nil {
		t.Fatal(err)
	}
	wantUI := &kakao.OIDCUserInfo{Subject: "123456789", Name: "홍길동", Nickname: "홍길동", Picture: "P", Email: "sample@sample.com",
		EmailVerified: b(true), Gender: "MALE", Birthdate: "2002-11-30", PhoneNumber: "+82 00-0000-0000", PhoneNumberVerified: b(true)}
	if diff := cmp.Diff(wantUI, ui); diff != "" {
		t.Errorf("userinfo (-want +got):\n%s", diff)
	}
}

// TestAPI_Errors maps kapi error answers and faults to Kinds.
func TestAPI_Errors(t *testing.T) {
	tests := []struct {
		name     string
		h        http.HandlerFunc
		kind     kakao.Kind
		code     string
		status   int
		required []string
		temp     bool
	}{
		{"-401", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", "Bearer error=invalid_token")
			reply(401, `{"msg":"this access token does not exist","code":-401}`)(w, r)
		}, kakao.KindInvalidToken, "-401", 401, nil, false},
		{"-402", reply(403, `{"msg":"insufficient scopes","code":-402,"api_type":"USER_ME","required_scopes":["account_email"],"allowed_scopes":["profile"]}`), kakao.KindConsentRequired, "-402", 403, []string{"account_email"}, false},
		{"-101", reply(400, `{"msg":"not registered user","code":-101}`), kakao.KindNotLinked, "-101", 400, nil, false},
		{"-103", reply(400, `{"msg":"dormant","code":-103}`), kakao.KindForbidden, "-103", 400, nil, false},
		{"-201", reply(400, `{"msg":"user property not found","code":-201}`), kakao.KindBadRequest, "-201", 400, nil, false},
		{"-2", reply(400, `{"msg":"bad","code":-2}`), kakao.KindBadRequest, "-2", 400, nil, false},
		{"-1 temporary", reply(400, `{"msg":"internal","code":-1}`), kakao.KindUnavailable, "-1", 400, nil, true},
		{"-3", reply(403, `{"msg":"x","code":-3}`), kakao.KindForbidden, "-3", 403, nil, false},
		{"-406", reply(401, `{"msg":"x","code":-406}`), kakao.KindForbidden, "-406", 401, nil, false},
		{"-10 429", reply(429, `{"msg":"API limit has been exceeded.","code":-10}`), kakao.KindRateLimited, "-10", 429, nil, false},
		{"-9798 503", reply(503, `{"msg":"maintenance","code":-9798}`), kakao.KindUnavailable, "-9798", 503, nil, true},
		{"unknown code on 400", reply(400, `{"msg":"x","code":-77777}`), kakao.KindBadRequest, "-77777", 400, nil, false},
		{"500 HTML", html(500), kakao.KindUnavailable, "", 500, nil, true},
		{"404 HTML", html(404), kakao.KindUnknown, "", 404, nil, false},
		{"200 HTML", html(200), kakao.KindBadResponse, "", 200, nil, false},
		{"200 truncated", reply(200, `{"id":1376016924429759228,"kakao_acc`), kakao.KindBadResponse, "", 200, nil, false},
		{"200 wrong types", reply(200, `{"id":1,"kakao_account":{"is_email_valid":"yes"}}`), kakao.KindBadResponse, "", 200, nil, false},
		{"200 no id", reply(200, `{"kakao_account":{}}`), kakao.KindBadResponse, "", 200, nil, false},
		{"200 null", reply(200, `null`), kakao.KindBadResponse, "", 200, nil, false},
		{"302", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/", http.StatusFound)
		}, kakao.KindUnknown, "", 302, nil, false},
		{"huge body", huge, kakao.KindBadResponse, "", 0, nil, false},
		{"hang", hang, kakao.KindTimeout, "", 0, nil, true},
		{"drip", drip, kakao.KindTimeout, "", 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, map[string]http.HandlerFunc{"GET /v2/user/me": tt.h})
			c := f.client(t, func(cfg *kakao.Config) { cfg.Timeout = 500 * time.Millisecond })
			start := time.Now()
			_, err := c.Me(context.Background(), "AT", nil)
			var e *kakao.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *kakao.Error", err)
			}
			if e.Kind != tt.kind || e.Code() != tt.code || e.Status != tt.status || e.Temporary() != tt.temp {
				t.Errorf("got kind %q code %q status %d temp %v; want %q %q %d %v (%v)", e.Kind, e.Code(), e.Status, e.Temporary(), tt.kind, tt.code, tt.status, tt.temp, err)
			}
			if !cmp.Equal(e.RequiredScopes, tt.required) {
				t.Errorf("RequiredScopes = %v, want %v", e.RequiredScopes, tt.required)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v with a 500ms timeout (the total deadline covers retries and the body)", d)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	flaky := func(first http.HandlerFunc, then http.HandlerFunc) (http.HandlerFunc, *atomic.Int64) {
		var n atomic.Int64
		return func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				first(w, r)
				return
			}
			then(w, r)
		}, &n
	}
	ok := reply(200, `{"id":7}`)
	t.Run("GET retried once after 5xx", func(t *testing.T) {
		h, n := flaky(html(502), ok)
		f := newFake(t, map[string]http.HandlerFunc{"GET /v2/user/me": h})
		if u, err := f.client(t, nil).Me(context.Background(), "AT", nil); err != nil || u.ID != 7 {
			t.Fatalf("= %v, %v", u, err)
		}
		if n.Load() != 2 {
			t.Errorf("calls = %d, want 2", n.Load())
		}
	})
	t.Run("GET retried once after a network error", func(t *testing.T) {
		h, n := flaky(closeConn, reply(200, `{"id":7,"expires_in":1,"app_id":3}`))
		f := newFake(t, map[string]http.HandlerFunc{"GET /v1/user/access_token_info": h})
		if _, err := f.client(t, nil).AccessTokenInfo(context.Background(), "AT"); err != nil {
			t.Fatal(err)
		}
		if n.Load() != 2 {
			t.Errorf("calls = %d, want 2", n.Load())
		}
	})
	t.Run("GET gives up after two 5xx", func(t *testing.T) {
		f := newFake(t, map[string]http.HandlerFunc{"GET /v2/user/me": reply(503, `{"msg":"x","code":-9798}`)})
		_, err := f.client(t, nil).Me(context.Background(), "AT", nil)
		if kindOf(err) != kakao.KindUnavailable || f.calls.Load() != 2 {
			t.Errorf("err %v, calls %d; want unavailable after 2 calls", err, f.calls.Load())
		}
	})
	t.Run("GET not retried on 4xx", func(t *testing.T) {
		f := newFake(t, map[string]http.HandlerFunc{"GET /v2/user/me": reply(401, `{"msg":"x","code":-401}`)})
		_, _ = f.client(t, nil).Me(context.Background(), "AT", nil)
		if f.calls.Load() != 1 {
			t.Errorf("calls = %d, want 1", f.calls.Load())
		}
	})
	for _, path := range []string{"/v1/user/logout", "/v1/user/unlink", "/v2/user/revoke/scopes"} {
		t.Run("POST "+path+" not retried", func(t *testing.T) {
			f := newFake(t, map[string]http.HandlerFunc{"POST " + path: html(502)})
			c := f.client(t, nil)
			var err error
			switch path {
			case "/v1/user/logout":
				_, err = c.Logout(context.Background(), "AT")
			case "/v1/user/unlink":
				_, err = c.Unlink(context.Background(), "AT")
			default:
				_, err = c.RevokeScopes(context.Background(), "AT", []string{"x"})
			}
			if kindOf(err) != kakao.KindUnavailable || f.calls.Load() != 1 {
				t.Errorf("err %v, calls %d; want unavailable after 1 call", err, f.calls.Load())
			}
		})
	}
}

func TestCallerContext(t *testing.T) {
	f := newFake(t, map[string]http.HandlerFunc{"GET /v2/user/me": hang})
	c := f.client(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Me(ctx, "AT", nil)
	if kindOf(err) != kakao.KindTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want timeout wrapping DeadlineExceeded", err)
	}
	if time.Since(start) > time.Second {
		t.Error("caller deadline not honoured")
	}
	_ = io.Discard
}
