package kakaoidp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/kakaoidp"
	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

const redirectURI = "http://127.0.0.1:8080/auth/kakao/callback"

// The seeded users of kakaotest.DefaultUsers.
const (
	userVerified   int64 = 4217730412856391024 // verified email, own image
	userNoEmail    int64 = 4217730412856391025
	userUnverified int64 = 4217730412856391026
	userInvalid    int64 = 4217730412856391027 // email verified but no longer valid
)

// env is a Provider whose client talks to a kakaotest emulator over real HTTP, both on one
// settable clock.
type env struct {
	srv   *kakaotest.Server
	app   kakaotest.App
	clock *kakaotest.Clock
	p     *kakaoidp.Provider
}

// newEnv starts an emulator for app (changed by modApp) and a Provider for it (its client
// config changed by modCfg).
func newEnv(t *testing.T, modApp func(*kakaotest.App), modCfg func(*kakao.Config)) *env {
	t.Helper()
	app := kakaotest.DefaultApp()
	if modApp != nil {
		modApp(&app)
	}
	srv := kakaotest.NewServer(t, app, kakaotest.DefaultUsers())
	clk := kakaotest.NewClock(time.Now().Truncate(time.Second))
	srv.SetNow(clk.Now)
	cfg := srv.ClientConfig()
	cfg.Timeout, cfg.Now = time.Second, clk.Now
	if modCfg != nil {
		modCfg(&cfg)
	}
	c, err := kakao.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, app: app, clock: clk, p: &kakaoidp.Provider{Client: c}}
}

// code mints an authorization code for user, as the browser's trip to Kakao would, and returns
// the exchange the callback would make of it.
func (e *env) code(t *testing.T, user int64, nonce string) auth.CodeExchange {
	t.Helper()
	verifier := kakao.NewCodeVerifier()
	u, err := url.Parse(e.p.Client.AuthCodeURL(kakao.AuthorizeParams{RedirectURI: redirectURI, CodeVerifier: verifier}))
	if err != nil {
		t.Fatal(err)
	}
	code, err := e.srv.IssueCode(user, redirectURI, nonce, u.Query().Get("code_challenge"))
	if err != nil {
		t.Fatal(err)
	}
	return auth.CodeExchange{Code: code, RedirectURI: redirectURI, CodeVerifier: verifier, Nonce: nonce}
}

// sdkToken issues tokens for user as Kakao's SDK would.
func (e *env) sdkToken(t *testing.T, user int64) *kakaotest.Token {
	t.Helper()
	tok, err := e.srv.IssueAccessToken(user, "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantCode fails unless err is an *auth.Error with code.
func wantCode(t *testing.T, err error, code string) *auth.Error {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *auth.Error %s", err, code)
	}
	if ae.Code != code {
		t.Fatalf("code = %q (%v), want %q", ae.Code, err, code)
	}
	return ae
}

func subject(id int64) string { return strconv.FormatInt(id, 10) }

var minjun = auth.Profile{
	Provider: auth.ProviderKakao, Subject: subject(userVerified), Nickname: "김민준",
	Email: "minjun.kim@example.com", EmailVerified: true,
}

func TestExchangeCode(t *testing.T) {
	const nonce = "n-0S6_WzA2Mj"
	tests := []struct {
		name    string
		oidc    bool // the app has OpenID Connect on: the token answer carries an ID token
		require bool // Provider.RequireIDToken
		user    int64
		want    auth.Profile
		image   string // the profile image the profile names
		code    string // wanted error code, "" for success
		calls   map[string]int
	}{
		{
			name: "IDToken", oidc: true, user: userVerified, want: minjun,
			image: "http://img.kakaoemulator.test/minjun/img_110x110.jpg",
			calls: map[string]int{"/oauth/token": 1, "/v2/user/me": 0},
		},
		{
			name: "IDTokenUnverifiedEmail", oidc: true, user: userUnverified,
			want:  auth.Profile{Provider: auth.ProviderKakao, Subject: subject(userUnverified), Nickname: "박지호"},
			calls: map[string]int{"/oauth/token": 1, "/v2/user/me": 0},
		},
		{
			name: "IDTokenRequiredAndSent", oidc: true, require: true, user: userVerified, want: minjun,
			image: "http://img.kakaoemulator.test/minjun/img_110x110.jpg",
		},
		{
			name: "NoIDTokenProfileFromMe", user: userVerified, want: minjun,
			image: "http://img.kakaoemulator.test/minjun/img_640x640.jpg",
			calls: map[string]int{"/oauth/token": 1, "/v2/user/me": 1},
		},
		{
			name: "NoIDTokenInvalidEmail", user: userInvalid,
			want:  auth.Profile{Provider: auth.ProviderKakao, Subject: subject(userInvalid), Nickname: "최유진"},
			image: "http://img.kakaoemulator.test/yujin/img_640x640.jpg",
		},
		{
			name: "NoIDTokenRequired", require: true, user: userVerified, code: auth.ECodeKakaoError,
			calls: map[string]int{"/oauth/token": 1, "/v2/user/me": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(a *kakaotest.App) { a.OIDC = tt.oidc }, nil)
			e.p.RequireIDToken = tt.require
			got, err := e.p.ExchangeCode(context.Background(), e.code(t, tt.user, nonce))
			if tt.code != "" {
				wantCode(t, err, tt.code)
			} else {
				if err != nil {
					t.Fatalf("ExchangeCode: %v", err)
				}
				if tt.image != "" && got.ProfileImageURL != tt.image {
					t.Errorf("image = %q, want %q", got.ProfileImageURL, tt.image)
				}
				got.ProfileImageURL = ""
				got.Link = nil // link_test.go tests the link
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("profile (-want +got):\n%s", diff)
				}
			}
			for path, n := range tt.calls {
				if got := e.srv.Calls(path); got != n {
					t.Errorf("%s called %d times, want %d", path, got, n)
				}
			}
		})
	}
}

// TestExchangeCode_Refusals: what Kakao refuses keeps Kakao's code and gets the domain's code.
func TestExchangeCode_Refusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil)

	ex := e.code(t, userVerified, "nonce-1")
	if _, err := e.p.ExchangeCode(ctx, ex); err != nil {
		t.Fatal(err)
	}
	ae := wantCode(t, func() error { _, err := e.p.ExchangeCode(ctx, ex); return err }(), auth.ECodeInvalidGrant)
	if ae.KakaoCode != "KOE320" {
		t.Errorf("reused code: Kakao code %q, want KOE320", ae.KakaoCode)
	}

	ex = e.code(t, userVerified, "nonce-2")
	ex.Nonce = "another-nonce"
	if _, err := e.p.ExchangeCode(ctx, ex); err == nil {
		t.Fatal("ID token with another nonce accepted")
	} else {
		wantCode(t, err, auth.ECodeInvalidToken)
	}

	ex = e.code(t, userVerified, "")
	e.srv.SetFault("/oauth/token", kakaotest.Fault{Status: http.StatusServiceUnavailable})
	_, err := e.p.ExchangeCode(ctx, ex)
	if ae := wantCode(t, err, auth.ECodeKakaoUnavailable); ae.RetryAfter != 5*time.Second {
		t.Errorf("outage: RetryAfter %v, want the 5s default", ae.RetryAfter)
	}
	e.srv.ClearFaults()

	e2 := newEnv(t, func(a *kakaotest.App) { a.OIDC = false }, nil)
	ex = e2.code(t, userVerified, "")
	e2.srv.SetFault("/v2/user/me", kakaotest.Fault{Status: http.StatusInternalServerError})
	_, err = e2.p.ExchangeCode(ctx, ex)
	wantCode(t, err, auth.ECodeKakaoUnavailable)
}

func TestSDKLogin(t *testing.T) {
	ctx := context.Background()
	t.Run("AccessTokenOnly", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		tok := e.sdkToken(t, userVerified)
		got, err := e.p.SDKLogin(ctx, tok.AccessToken, "", "")
		if err != nil {
			t.Fatal(err)
		}
		got.ProfileImageURL = ""
		if diff := cmp.Diff(minjun, got); diff != "" {
			t.Errorf("profile (-want +got):\n%s", diff)
		}
	})
	t.Run("WithIDToken", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		tok := e.sdkToken(t, userVerified)
		if tok.IDToken == "" {
			t.Fatal("the emulator sent no ID token")
		}
		got, err := e.p.SDKLogin(ctx, tok.AccessToken, tok.IDToken, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != subject(userVerified) || got.Email != minjun.Email {
			t.Errorf("profile = %+v", got)
		}
	})
	t.Run("TokenOfAnotherApp", func(t *testing.T) {
		// The client is configured for another Kakao app than the one that minted the token.
		e := newEnv(t, nil, func(c *kakao.Config) { c.AppID++ })
		tok := e.sdkToken(t, userVerified)
		_, err := e.p.SDKLogin(ctx, tok.AccessToken, "", "")
		wantCode(t, err, auth.ECodeInvalidToken)
		if n := e.srv.Calls("/v2/user/me"); n != 0 {
			t.Errorf("/v2/user/me called %d times for a token of another app", n)
		}
	})
	t.Run("IDTokenOfAnotherUser", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		mine := e.sdkToken(t, userNoEmail)
		other := e.sdkToken(t, userVerified)
		_, err := e.p.SDKLogin(ctx, mine.AccessToken, other.IDToken, "")
		ae := wantCode(t, err, auth.ECodeInvalidToken)
		if ae.KakaoCode != "" {
			t.Errorf("a local refusal carries Kakao code %q", ae.KakaoCode)
		}
	})
	t.Run("IDTokenInvalid", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		tok := e.sdkToken(t, userVerified)
		_, err := e.p.SDKLogin(ctx, tok.AccessToken, tok.IDToken, "a-nonce-it-does-not-carry")
		wantCode(t, err, auth.ECodeInvalidToken)
	})
	t.Run("MeOfAnotherUser", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		tok := e.sdkToken(t, userVerified)
		e.srv.SetFault("/v2/user/me", kakaotest.Fault{Body: fmt.Sprintf(`{"id":%d}`, userNoEmail), Times: 1})
		_, err := e.p.SDKLogin(ctx, tok.AccessToken, "", "")
		wantCode(t, err, auth.ECodeInvalidToken)
	})
	t.Run("RevokedToken", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		tok := e.sdkToken(t, userVerified)
		if _, err := e.p.Client.Logout(ctx, tok.AccessToken); err != nil {
			t.Fatal(err)
		}
		_, err := e.p.SDKLogin(ctx, tok.AccessToken, "", "")
		if ae := wantCode(t, err, auth.ECodeInvalidToken); ae.KakaoCode != "-401" {
			t.Errorf("Kakao code %q, want -401", ae.KakaoCode)
		}
	})
	t.Run("MeUnavailable", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		tok := e.sdkToken(t, userVerified)
		e.srv.SetFault("/v2/user/me", kakaotest.Fault{Status: http.StatusBadGateway})
		_, err := e.p.SDKLogin(ctx, tok.AccessToken, "", "")
		wantCode(t, err, auth.ECodeKakaoUnavailable)
	})
}

func TestUnlink(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil)
	e.sdkToken(t, userVerified) // links the user
	if err := e.p.Unlink(ctx, subject(userVerified)); err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	if n := e.srv.Calls("/v1/user/unlink"); n != 1 {
		t.Errorf("/v1/user/unlink called %d times, want 1", n)
	}
	// Unlinked already (-101): done, not an error.
	if err := e.p.Unlink(ctx, subject(userVerified)); err != nil {
		t.Errorf("Unlink of an unlinked user: %v, want nil", err)
	}
	if err := e.p.Unlink(ctx, subject(userNoEmail)); err != nil {
		t.Errorf("Unlink of a never linked user: %v, want nil", err)
	}
	for _, s := range []string{"", "abc", "0", "-5", "12.5", "99999999999999999999"} {
		if err := e.p.Unlink(ctx, s); err == nil {
			t.Errorf("Unlink(%q) = nil, want invalid_request", s)
		} else {
			wantCode(t, err, auth.ECodeInvalidRequest)
		}
	}
	if n := e.srv.Calls("/v1/user/unlink"); n != 3 {
		t.Errorf("/v1/user/unlink called %d times, want 3 (bad subjects never reach Kakao)", n)
	}

	e.sdkToken(t, userVerified)
	e.srv.SetFault("/v1/user/unlink", kakaotest.Fault{Status: http.StatusServiceUnavailable})
	wantCode(t, e.p.Unlink(ctx, subject(userVerified)), auth.ECodeKakaoUnavailable)

	noAdmin := newEnv(t, nil, func(c *kakao.Config) { c.AdminKey = "" })
	wantCode(t, noAdmin.p.Unlink(ctx, subject(userVerified)), auth.ECodeKakaoMisconfigured)
}

func TestProfileOf(t *testing.T) {
	yes, no := true, false
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		user *kakao.User
		want auth.Profile
	}{
		{
			name: "NoAccount",
			user: &kakao.User{ID: 7},
			want: auth.Profile{Provider: auth.ProviderKakao, Subject: "7"},
		},
		{
			name: "VerifiedEmail",
			user: &kakao.User{ID: 7, KakaoAccount: &kakao.Account{Email: str("a@example.com"), IsEmailValid: &yes, IsEmailVerified: &yes}},
			want: auth.Profile{Provider: auth.ProviderKakao, Subject: "7", Email: "a@example.com", EmailVerified: true},
		},
		{
			name: "UnverifiedEmail",
			user: &kakao.User{ID: 7, KakaoAccount: &kakao.Account{Email: str("a@example.com"), IsEmailValid: &yes, IsEmailVerified: &no}},
			want: auth.Profile{Provider: auth.ProviderKakao, Subject: "7"},
		},
		{
			name: "InvalidEmail",
			user: &kakao.User{ID: 7, KakaoAccount: &kakao.Account{Email: str("a@example.com"), IsEmailValid: &no, IsEmailVerified: &yes}},
			want: auth.Profile{Provider: auth.ProviderKakao, Subject: "7"},
		},
		{
			name: "EmailWithoutFlags",
			user: &kakao.User{ID: 7, KakaoAccount: &kakao.Account{Email: str("a@example.com")}},
			want: auth.Profile{Provider: auth.ProviderKakao, Subject: "7"},
		},
		{
			name: "ProfileImage",
			user: &kakao.User{ID: 7, KakaoAccount: &kakao.Account{Profile: &kakao.Profile{
				Nickname: "n", ProfileImageURL: "https://img/640.jpg", ThumbnailImageURL: "https://img/110.jpg",
			}}},
			want: auth.Profile{Provider: auth.ProviderKakao, Subject: "7", Nickname: "n", ProfileImageURL: "https://img/640.jpg"},
		},
		{
			name: "ThumbnailFallback",
			user: &kakao.User{ID: 7, KakaoAccount: &kakao.Account{Profile: &kakao.Profile{
				Nickname: "n", ThumbnailImageURL: "https://img/110.jpg",
			}}},
			want: auth.Profile{Provider: auth.ProviderKakao, Subject: "7", Nickname: "n", ProfileImageURL: "https://img/110.jpg"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, kakaoidp.ProfileOf(tt.user)); diff != "" {
				t.Errorf("ProfileOf (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProfileOf_FromEmulator reads the seeded users' /v2/user/me as Kakao sends it.
func TestProfileOf_FromEmulator(t *testing.T) {
	e := newEnv(t, nil, nil)
	for _, tt := range []struct {
		user          int64
		email         string
		emailVerified bool
	}{
		{userVerified, "minjun.kim@example.com", true},
		{userNoEmail, "", false},
		{userUnverified, "", false},
		{userInvalid, "", false},
	} {
		tok := e.sdkToken(t, tt.user)
		u, err := e.p.Client.Me(context.Background(), tok.AccessToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := kakaoidp.ProfileOf(u)
		if got.Subject != subject(tt.user) || got.Email != tt.email || got.EmailVerified != tt.emailVerified || got.ProfileImageURL == "" {
			t.Errorf("user %d: profile %+v, want email %q verified %v and an image", tt.user, got, tt.email, tt.emailVerified)
		}
	}
}

func TestMapError(t *testing.T) {
	kinds := []struct {
		kind kakao.Kind
		code string
	}{
		{kakao.KindBadCode, auth.ECodeInvalidGrant},
		{kakao.KindRedirectMismatch, auth.ECodeInvalidGrant},
		{kakao.KindBadRefreshToken, auth.ECodeInvalidGrant},
		{kakao.KindNotLinked, auth.ECodeInvalidGrant},
		{kakao.KindInvalidToken, auth.ECodeInvalidToken},
		{kakao.KindBadRequest, auth.ECodeInvalidRequest},
		{kakao.KindConsentRequired, auth.ECodeConsentRequired},
		{kakao.KindLoginRequired, auth.ECodeLoginRequired},
		{kakao.KindAccessDenied, auth.ECodeAccessDenied},
		{kakao.KindForbidden, auth.ECodeForbidden},
		{kakao.KindRateLimited, auth.ECodeRateLimited},
		{kakao.KindUnavailable, auth.ECodeKakaoUnavailable},
		{kakao.KindTimeout, auth.ECodeKakaoTimeout},
		{kakao.KindBadClient, auth.ECodeKakaoMisconfigured},
		{kakao.KindBadSecret, auth.ECodeKakaoMisconfigured},
		{kakao.KindMisconfigured, auth.ECodeKakaoMisconfigured},
		{kakao.KindBadResponse, auth.ECodeKakaoError},
		{kakao.KindUnknown, auth.ECodeKakaoError},
		{kakao.Kind("a_kind_added_later"), auth.ECodeKakaoError},
	}
	for _, k := range kinds {
		t.Run(string(k.kind), func(t *testing.T) {
			ke := &kakao.Error{Op: "token", Kind: k.kind, KOE: "KOE999"}
			err := fmt.Errorf("exchange kakao code: %w", ke)
			ae := wantCode(t, kakaoidp.MapError(err), k.code)
			if ae.KakaoCode != "KOE999" {
				t.Errorf("KakaoCode = %q, want KOE999", ae.KakaoCode)
			}
			if ae.Message != ke.Explain("en") {
				t.Errorf("Message = %q, want Kakao's English explanation %q", ae.Message, ke.Explain("en"))
			}
			if !errors.Is(ae, ke) {
				t.Error("the auth error does not wrap the Kakao error")
			}
		})
	}

	retry := []struct {
		name  string
		kind  kakao.Kind
		after time.Duration
		want  time.Duration
	}{
		{"RateLimitedDefault", kakao.KindRateLimited, 0, time.Minute},
		{"RateLimitedRetryAfter", kakao.KindRateLimited, 7 * time.Second, 7 * time.Second},
		{"UnavailableDefault", kakao.KindUnavailable, 0, 5 * time.Second},
		{"UnavailableNegative", kakao.KindUnavailable, -time.Second, 5 * time.Second},
		{"UnavailableRetryAfter", kakao.KindUnavailable, 2 * time.Minute, 2 * time.Minute},
		{"TimeoutNone", kakao.KindTimeout, 0, 0},
		{"BadCodeNone", kakao.KindBadCode, time.Second, 0},
	}
	for _, tt := range retry {
		t.Run(tt.name, func(t *testing.T) {
			var ae *auth.Error
			if !errors.As(kakaoidp.MapError(&kakao.Error{Kind: tt.kind, RetryAfter: tt.after}), &ae) {
				t.Fatal("not an *auth.Error")
			}
			if ae.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v, want %v", ae.RetryAfter, tt.want)
			}
		})
	}

	other := []struct {
		name string
		err  error
		code string
	}{
		{"DeadlineExceeded", fmt.Errorf("call: %w", context.DeadlineExceeded), auth.ECodeKakaoTimeout},
		{"Canceled", context.Canceled, auth.ECodeKakaoUnavailable},
		{"NotKakao", errors.New("something else"), auth.ECodeKakaoError},
	}
	for _, tt := range other {
		t.Run(tt.name, func(t *testing.T) {
			ae := wantCode(t, kakaoidp.MapError(tt.err), tt.code)
			if !errors.Is(ae, tt.err) || ae.KakaoCode != "" {
				t.Errorf("got %+v: want the cause wrapped and no Kakao code", ae)
			}
		})
	}
}

// TestMapError_FromEmulator maps the errors the client really returns for Kakao's faults.
func TestMapError_FromEmulator(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		fault kakaotest.Fault
		code  string
		retry time.Duration
	}{
		{"RateLimited", kakaotest.Fault{Status: http.StatusTooManyRequests}, auth.ECodeRateLimited, time.Minute},
		{"Unavailable", kakaotest.Fault{Status: http.StatusInternalServerError}, auth.ECodeKakaoUnavailable, 5 * time.Second},
		{"Timeout", kakaotest.Fault{Hang: true}, auth.ECodeKakaoTimeout, 0},
		{"HTML", kakaotest.Fault{HTML: true}, auth.ECodeKakaoError, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, func(c *kakao.Config) { c.Timeout = 200 * time.Millisecond })
			ex := e.code(t, userVerified, "")
			e.srv.SetFault("/oauth/token", tt.fault)
			_, err := e.p.ExchangeCode(ctx, ex)
			if ae := wantCode(t, err, tt.code); ae.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %v, want %v", ae.RetryAfter, tt.retry)
			}
		})
	}
	t.Run("ContextCanceled", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		ex := e.code(t, userVerified, "")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := e.p.ExchangeCode(cctx, ex)
		// The client reports a cancelled call as a timeout (the caller gave up waiting).
		wantCode(t, err, auth.ECodeKakaoTimeout)
	})
}

// TestExchangeCode_077_085_LongNickname: a genuine ID token whose nickname is thousands of
// Hangul characters still logs in (the profile carries it; the domain cuts it when storing);
// an ID token past kakao.MaxIDTokenBytes from Kakao's own token endpoint is Kakao's fault,
// kakao_error (502), never invalid_token (which would read as the client's token).
func TestExchangeCode_077_085_LongNickname(t *testing.T) {
	for _, tc := range []struct {
		name     string
		runes    int
		wantCode string
	}{
		{"3000_hangul_fit", 3000, ""},
		{"past_the_cap_is_kakaos_fault", 20000, auth.ECodeKakaoError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(a *kakaotest.App) { a.OIDC = true }, nil)
			const id int64 = 4217730412856399077
			nick := strings.Repeat("가", tc.runes)
			e.srv.AddUser(kakaotest.User{ID: id, Nickname: nick})
			got, err := e.p.ExchangeCode(context.Background(), e.code(t, id, "n"))
			if tc.wantCode != "" {
				wantCode(t, err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("ExchangeCode: %v", err)
			}
			if got.Nickname != nick || got.Subject != subject(id) {
				t.Errorf("profile nickname of %d runes for %s, want %d runes for %d", utf8.RuneCountInString(got.Nickname), got.Subject, tc.runes, id)
			}
			if cleaned := auth.CleanProfile(got).Nickname; !utf8.ValidString(cleaned) || cleaned == "" || utf8.RuneCountInString(cleaned) > 100 || !strings.HasPrefix(nick, cleaned) {
				t.Errorf("stored nickname %q: want a valid, non-empty prefix of at most 100 characters", cleaned)
			}
		})
	}
}
