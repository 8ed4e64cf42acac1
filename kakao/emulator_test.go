package kakao_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

const emuRedirect = "http://127.0.0.1:8080/auth/kakao/callback"

// emuEnv is the client driving a kakaotest emulator over real HTTP, both on one
// settable clock.
type emuEnv struct {
	srv    *kakaotest.Server
	client *kakao.Client
	clock  *clock
	app    kakaotest.App
	users  []kakaotest.User
}

func newEmuEnv(t *testing.T, mod func(*kakao.Config)) *emuEnv {
	t.Helper()
	app := kakaotest.DefaultApp()
	users := kakaotest.DefaultUsers()
	srv := kakaotest.NewServer(t, app, users)
	clk := kakaotest.NewClock(time.Now().Truncate(time.Second))
	srv.SetNow(clk.Now)
	cfg := srv.ClientConfig()
	cfg.Timeout, cfg.Now = time.Second, clk.Now
	if mod != nil {
		mod(&cfg)
	}
	c, err := kakao.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &emuEnv{srv: srv, client: c, clock: clk, app: app, users: users}
}

// login runs code → Exchange for user and returns the tokens.
func (e *emuEnv) login(t *testing.T, userID int64, nonce string) *kakao.Token {
	t.Helper()
	verifier := kakao.NewCodeVerifier()
	code, err := e.srv.IssueCode(userID, emuRedirect, nonce, challengeOf(e.client, verifier))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.client.Exchange(context.Background(), code, emuRedirect, verifier)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// challengeOf extracts the S256 challenge the client puts in its authorize URL.
func challengeOf(c *kakao.Client, verifier string) string {
	u, _ := url.Parse(c.AuthCodeURL(kakao.AuthorizeParams{RedirectURI: emuRedirect, CodeVerifier: verifier}))
	return u.Query().Get("code_challenge")
}

func wantKind(t *testing.T, err error, kind kakao.Kind, code string) *kakao.Error {
	t.Helper()
	var e *kakao.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *kakao.Error %s %s", err, kind, code)
	}
	if e.Kind != kind || e.Code() != code {
		t.Fatalf("got %s %q (%v), want %s %q", e.Kind, e.Code(), err, kind, code)
	}
	return e
}

func TestEmulator_FullFlow(t *testing.T) {
	env := newEmuEnv(t, nil)
	ctx := context.Background()
	user := env.users[0] // verified email
	nonce := kakao.NewNonce()

	tok := env.login(t, user.ID, nonce)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" || tok.ExpiresIn != 21599 || tok.RefreshTokenExpiresIn != 5183999 {
		t.Fatalf("token = %+v", tok)
	}
	if !slices.Contains(tok.Scopes, "openid") {
		t.Errorf("scopes %v lack openid", tok.Scopes)
	}

	claims, err := env.client.VerifyIDToken(ctx, tok.IDToken, nonce)
	if err != nil {
		t.Fatalf("VerifyIDToken: %v", err)
	}
	if claims.UserID != user.ID || claims.Issuer != env.srv.URL || claims.Nonce != nonce || claims.Email != user.Email || claims.Nickname != user.Nickname {
		t.Errorf("claims = %+v", claims)
	}
	if _, err := env.client.VerifyIDToken(ctx, tok.IDToken, "other-nonce"); kindOf(err) != kakao.KindInvalidToken {
		t.Errorf("wrong nonce: %v", err)
	}

	me, err := env.client.Me(ctx, tok.AccessToken, &kakao.UserOptions{SecureResource: true})
	if err != nil {
		t.Fatalf("Me: %v", err)
	}
	if me.ID != user.ID || me.KakaoAccount == nil || me.KakaoAccount.Profile == nil || me.KakaoAccount.Profile.Nickname != user.Nickname {
		t.Errorf("me = %+v", me)
	}
	if email, ok := me.VerifiedEmail(); !ok || email != user.Email {
		t.Errorf("VerifiedEmail = %q, %v", email, ok)
	}

	info, err := env.client.VerifyAccessToken(ctx, tok.AccessToken)
	if err != nil || info.ID != user.ID || info.AppID != env.app.AppID || info.ExpiresIn <= 0 {
		t.Fatalf("VerifyAccessToken = %+v, %v", info, err)
	}

	ui, err := env.client.UserInfo(ctx, tok.AccessToken)
	if err != nil || ui.Subject != "4217730412856391024" {
		t.Errorf("UserInfo = %+v, %v", ui, err)
	}
	sc, err := env.client.Scopes(ctx, tok.AccessToken, nil)
	if err != nil || sc.ID != user.ID || len(sc.Scopes) == 0 {
		t.Errorf("Scopes = %+v, %v", sc, err)
	}

	byID, err := env.client.UserByID(ctx, user.ID, nil)
	if err != nil || byID.ID != user.ID {
		t.Errorf("UserByID = %+v, %v", byID, err)
	}

	// Refresh early in the refresh token's life: no new refresh token.
	env.clock.Add(time.Hour)
	ref, err := env.client.RefreshFrom(ctx, tok)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if ref.AccessToken == tok.AccessToken || ref.RefreshToken != tok.RefreshToken || ref.RefreshTokenRotated || !ref.RefreshTokenExpiry.Equal(tok.RefreshTokenExpiry) {
		t.Errorf("refresh = %+v", ref)
	}
	if ref.IDToken != "" {
		if _, err := env.client.VerifyIDToken(ctx, ref.IDToken, ""); err != nil {
			t.Errorf("refreshed ID token: %v", err)
		}
	}
	// Less than a month left: a new refresh token.
	env.clock.Add(31 * 24 * time.Hour)
	ref2, err := env.client.RefreshFrom(ctx, ref)
	if err != nil {
		t.Fatalf("Refresh 2: %v", err)
	}
	if !ref2.RefreshTokenRotated || ref2.RefreshToken == ref.RefreshToken {
		t.Errorf("refresh with < 1 month left = %+v", ref2)
	}
	// The old refresh token is now invalid.
	_, err = env.client.Refresh(ctx, ref.RefreshToken)
	wantKind(t, err, kakao.KindBadRefreshToken, "KOE322")

	id, err := env.client.Logout(ctx, ref2.AccessToken)
	if err != nil || id != user.ID {
		t.Fatalf("Logout = %d, %v", id, err)
	}
	_, err = env.client.Me(ctx, ref2.AccessToken, nil)
	wantKind(t, err, kakao.KindInvalidToken, "-401")

	tok2 := env.login(t, user.ID, "")
	id, err = env.client.Unlink(ctx, tok2.AccessToken)
	if err != nil || id != user.ID {
		t.Fatalf("Unlink = %d, %v", id, err)
	}
	_, err = env.client.AccessTokenInfo(ctx, tok2.AccessToken)
	wantKind(t, err, kakao.KindInvalidToken, "-401")
	_, err = env.client.UserByID(ctx, user.ID, nil)
	wantKind(t, err, kakao.KindNotLinked, "-101")

	// Admin logout and unlink.
	env.login(t, env.users[1].ID, "")
	if id, err := env.client.LogoutUser(ctx, env.users[1].ID); err != nil || id != env.users[1].ID {
		t.Errorf("LogoutUser = %d, %v", id, err)
	}
	if id, err := env.client.UnlinkUser(ctx, env.users[1].ID); err != nil || id != env.users[1].ID {
		t.Errorf("UnlinkUser = %d, %v", id, err)
	}
	_, err = env.client.UnlinkUser(ctx, env.users[1].ID)
	wantKind(t, err, kakao.KindNotLinked, "-101")
}

func TestEmulator_AuthorizeRedirect(t *testing.T) {
	env := newEmuEnv(t, nil)
	env.srv.SetAutoConsent(env.users[2].ID)
	verifier, state, nonce := kakao.NewCodeVerifier(), kakao.NewState(), kakao.NewNonce()
	authURL := env.client.AuthCodeURL(kakao.AuthorizeParams{
		RedirectURI: emuRedirect, State: state, Nonce: nonce, CodeVerifier: verifier, OIDC: true,
	})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	if e := kakao.ParseRedirectError(q); e != nil {
		t.Fatalf("redirect error %v", e)
	}
	if q.Get("state") != state {
		t.Errorf("state = %q, want %q", q.Get("state"), state)
	}
	tok, err := env.client.Exchange(context.Background(), q.Get("code"), emuRedirect, verifier)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := env.client.VerifyIDToken(context.Background(), tok.IDToken, nonce)
	if err != nil || claims.UserID != env.users[2].ID {
		t.Fatalf("claims %+v, %v", claims, err)
	}
	// This user's email is not verified: not in the ID token, not trusted from /v2/user/me.
	if claims.Email != "" {
		t.Errorf("unverified email in ID token: %q", claims.Email)
	}
	me, err := env.client.Me(context.Background(), tok.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := me.VerifiedEmail(); ok {
		t.Error("unverified email trusted")
	}

	// Additional consent without openid: userinfo answers -402 with required_scopes.
	authURL = env.client.AuthCodeURL(kakao.AuthorizeParams{RedirectURI: emuRedirect, State: state, Scopes: []string{"account_email"}})
	resp, err = noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	tok, err = env.client.Exchange(context.Background(), loc.Query().Get("code"), emuRedirect, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.client.UserInfo(context.Background(), tok.AccessToken)
	e := wantKind(t, err, kakao.KindConsentRequired, "-402")
	if !slices.Contains(e.RequiredScopes, "openid") {
		t.Errorf("RequiredScopes = %v", e.RequiredScopes)
	}
}

func TestEmulator_TokenErrors(t *testing.T) {
	env := newEmuEnv(t, nil)
	ctx := context.Background()
	uid := env.users[0].ID

	t.Run("KOE320 reused code", func(t *testing.T) {
		code, err := env.srv.IssueCode(uid, emuRedirect, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.client.Exchange(ctx, code, emuRedirect, ""); err != nil {
			t.Fatal(err)
		}
		_, err = env.client.Exchange(ctx, code, emuRedirect, "")
		e := wantKind(t, err, kakao.KindBadCode, "KOE320")
		if e.Status != 400 || e.OAuthError != "invalid_grant" {
			t.Errorf("status %d error %q", e.Status, e.OAuthError)
		}
	})
	t.Run("KOE320 unknown code", func(t *testing.T) {
		_, err := env.client.Exchange(ctx, "no-such-code", emuRedirect, "")
		wantKind(t, err, kakao.KindBadCode, "KOE320")
	})
	t.Run("KOE303 redirect mismatch", func(t *testing.T) {
		code, _ := env.srv.IssueCode(uid, emuRedirect, "", "")
		_, err := env.client.Exchange(ctx, code, "http://localhost:8080/auth/kakao/callback", "")
		wantKind(t, err, kakao.KindRedirectMismatch, "KOE303")
	})
	t.Run("wrong PKCE verifier", func(t *testing.T) {
		code, _ := env.srv.IssueCode(uid, emuRedirect, "", challengeOf(env.client, kakao.NewCodeVerifier()))
		_, err := env.client.Exchange(ctx, code, emuRedirect, kakao.NewCodeVerifier())
		wantKind(t, err, kakao.KindBadCode, "KOE320")
	})
	t.Run("KOE010 bad secret", func(t *testing.T) {
		bad, err := kakao.New(kakao.Config{ClientID: env.app.RESTKey, ClientSecret: "wrong", AuthURL: env.srv.URL, APIURL: env.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		code, _ := env.srv.IssueCode(uid, emuRedirect, "", "")
		_, err = bad.Exchange(ctx, code, emuRedirect, "")
		e := wantKind(t, err, kakao.KindBadSecret, "KOE010")
		if e.Status != 401 {
			t.Errorf("status = %d, want 401", e.Status)
		}
	})
	t.Run("KOE101 unknown client", func(t *testing.T) {
		bad, _ := kakao.New(kakao.Config{ClientID: "not-a-key", ClientSecret: env.app.ClientSecret, AuthURL: env.srv.URL, APIURL: env.srv.URL})
		_, err := bad.Exchange(ctx, "x", emuRedirect, "")
		wantKind(t, err, kakao.KindBadClient, "KOE101")
	})
	t.Run("KOE322 unknown refresh token", func(t *testing.T) {
		_, err := env.client.Refresh(ctx, "no-such-refresh-token")
		wantKind(t, err, kakao.KindBadRefreshToken, "KOE322")
	})
	t.Run("exchange never retried", func(t *testing.T) {
		env.srv.SetFault("/oauth/token", kakaotest.Fault{Status: 502, HTML: true})
		defer env.srv.ClearFaults()
		env.srv.ResetCalls()
		_, err := env.client.Exchange(ctx, "x", emuRedirect, "")
		wantKind(t, err, kakao.KindUnavailable, "")
		if n := env.srv.Calls("/oauth/token"); n != 1 {
			t.Errorf("token calls = %d, want 1", n)
		}
	})
}

func TestEmulator_APIErrors(t *testing.T) {
	env := newEmuEnv(t, nil)
	ctx := context.Background()
	_, err := env.client.Me(ctx, "not-a-token", nil)
	e := wantKind(t, err, kakao.KindInvalidToken, "-401")
	if e.Status != 401 {
		t.Errorf("status %d", e.Status)
	}
	_, err = env.client.UserByID(ctx, 1, nil)
	wantKind(t, err, kakao.KindNotLinked, "-101")
	wrongAdmin, _ := kakao.New(kakao.Config{ClientID: env.app.RESTKey, AdminKey: "wrong", AuthURL: env.srv.URL, APIURL: env.srv.URL})
	_, err = wrongAdmin.UnlinkUser(ctx, env.users[0].ID)
	wantKind(t, err, kakao.KindInvalidToken, "-401")
}

func TestEmulator_Faults(t *testing.T) {
	env := newEmuEnv(t, func(c *kakao.Config) { c.Timeout = 400 * time.Millisecond })
	ctx := context.Background()
	tok := env.login(t, env.users[0].ID, "")
	tests := []struct {
		name  string
		fault kakaotest.Fault
		kind  kakao.Kind
		calls int
	}{
		{"5xx retried once", kakaotest.Fault{Status: 500}, kakao.KindUnavailable, 2},
		{"5xx once then OK", kakaotest.Fault{Status: 503, Times: 1}, "", 2},
		{"HTML on 200", kakaotest.Fault{HTML: true}, kakao.KindBadResponse, 1},
		{"truncated JSON", kakaotest.Fault{TruncatedJSON: true}, kakao.KindBadResponse, 1},
		// Requests the client aborts are logged by the emulator when its handler
		// returns, possibly during a later subtest: their calls are not counted (0).
		{"huge body", kakaotest.Fault{HugeBody: true}, kakao.KindBadResponse, 0},
		{"hang", kakaotest.Fault{Hang: true}, kakao.KindTimeout, 0},
		{"latency beyond the deadline", kakaotest.Fault{Latency: 2 * time.Second}, kakao.KindTimeout, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.srv.SetFault("/v2/user/me", tt.fault)
			defer env.srv.ClearFaults()
			env.srv.ResetCalls()
			start := time.Now()
			_, err := env.client.Me(ctx, tok.AccessToken, nil)
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if k := kindOf(err); k != tt.kind {
				t.Fatalf("kind = %q (%v), want %q", k, err, tt.kind)
			}
			if n := env.srv.Calls("/v2/user/me"); tt.calls != 0 && n != tt.calls {
				t.Errorf("calls = %d, want %d", n, tt.calls)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v with a 400ms deadline", d)
			}
		})
	}
	t.Run("logout not retried", func(t *testing.T) {
		env.srv.SetFault("/v1/user/logout", kakaotest.Fault{Status: 500})
		defer env.srv.ClearFaults()
		env.srv.ResetCalls()
		_, err := env.client.Logout(ctx, tok.AccessToken)
		if k := kindOf(err); k != kakao.KindUnavailable {
			t.Fatalf("kind = %q (%v), want unavailable", k, err)
		}
		if n := env.srv.Calls("/v1/user/logout"); n != 1 {
			t.Errorf("calls = %d, want 1", n)
		}
	})
}

func TestEmulator_JWKS(t *testing.T) {
	t.Run("outage with a cold cache is unavailable", func(t *testing.T) {
		env := newEmuEnv(t, nil)
		tok := env.login(t, env.users[0].ID, "")
		env.srv.SetFault("/.well-known/jwks.json", kakaotest.Fault{Status: 503})
		_, err := env.client.VerifyIDToken(context.Background(), tok.IDToken, "")
		wantKind(t, err, kakao.KindUnavailable, "")
		env.srv.ClearFaults()
		env.clock.Add(10 * time.Second)
		eventually(t, func() error { _, err := env.client.VerifyIDToken(context.Background(), tok.IDToken, ""); return err })
	})
	t.Run("hang with a cold cache", func(t *testing.T) {
		env := newEmuEnv(t, func(c *kakao.Config) { c.Timeout = 300 * time.Millisecond })
		tok := env.login(t, env.users[0].ID, "")
		env.srv.SetFault("/.well-known/jwks.json", kakaotest.Fault{Hang: true})
		defer env.srv.ClearFaults()
		_, err := env.client.VerifyIDToken(context.Background(), tok.IDToken, "")
		if k := kindOf(err); k != kakao.KindUnavailable && k != kakao.KindTimeout {
			t.Fatalf("kind = %q (%v)", k, err)
		}
	})
	t.Run("key rotation makes one refetch", func(t *testing.T) {
		env := newEmuEnv(t, nil)
		ctx := context.Background()
		tok := env.login(t, env.users[0].ID, "")
		if _, err := env.client.VerifyIDToken(ctx, tok.IDToken, ""); err != nil {
			t.Fatal(err)
		}
		env.srv.RotateKey()
		env.clock.Add(31 * time.Second)
		env.srv.ResetCalls()
		tok2 := env.login(t, env.users[0].ID, "")
		for i := 0; i < 5; i++ {
			if _, err := env.client.VerifyIDToken(ctx, tok2.IDToken, ""); err != nil {
				t.Fatalf("rotated key: %v", err)
			}
		}
		if _, err := env.client.VerifyIDToken(ctx, tok.IDToken, ""); err != nil {
			t.Fatalf("old key still published: %v", err)
		}
		if n := env.srv.Calls("/.well-known/jwks.json"); n != 1 {
			t.Errorf("JWKS fetches = %d, want 1", n)
		}
	})
	t.Run("SDK token with the native app key as aud", func(t *testing.T) {
		env := newEmuEnv(t, nil)
		tok, err := env.srv.IssueAccessToken(env.users[0].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		claims, err := env.client.VerifyIDToken(context.Background(), tok.IDToken, "")
		if err != nil || claims.Audience[0] != env.app.NativeKey {
			t.Fatalf("claims %+v, %v", claims, err)
		}
		// A client that accepts only the REST API key refuses it.
		strict, _ := kakao.New(kakao.Config{ClientID: env.app.RESTKey, AuthURL: env.srv.URL, Now: env.clock.Now})
		_, err = strict.VerifyIDToken(context.Background(), tok.IDToken, "")
		wantKind(t, err, kakao.KindInvalidToken, "")
	})
}
