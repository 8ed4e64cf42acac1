package kakao_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// The URL to send the browser to: PKCE S256, state, an OIDC nonce and comma-joined scopes. Keep
// state, nonce and verifier (e.g. in a short-lived cookie) to check the callback and to
// exchange the code.
func ExampleClient_AuthCodeURL() {
	client, err := kakao.New(kakao.Config{ClientID: "your-rest-api-key"})
	if err != nil {
		log.Fatal(err)
	}
	u := client.AuthCodeURL(kakao.AuthorizeParams{
		RedirectURI:  "https://example.com/kakao/callback",
		State:        "state-from-kakao.NewState",
		Nonce:        "nonce-from-kakao.NewNonce",
		CodeVerifier: "verifier-from-kakao.NewCodeVerifier-0123456789",
		Scopes:       []string{"profile_nickname", "account_email"},
		OIDC:         true,
	})
	fmt.Println(u)
	// Output:
	// https://kauth.kakao.com/oauth/authorize?client_id=your-rest-api-key&code_challenge=06IlHGd4I0Xffxbtg8umg6Pja9QHyHDnzSwdvi9lIAo&code_challenge_method=S256&nonce=nonce-from-kakao.NewNonce&redirect_uri=https%3A%2F%2Fexample.com%2Fkakao%2Fcallback&response_type=code&scope=profile_nickname%2Caccount_email%2Copenid&state=state-from-kakao.NewState
}

// A whole Kakao login with the client alone, no kakaoauth server: the authorize URL, the
// callback, the code exchange, the ID token and the user. The emulator (kakaotest) stands in
// for Kakao here; against the real Kakao, leave AuthURL and APIURL empty.
func ExampleClient_Exchange() {
	app := kakaotest.DefaultApp()
	emu := kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{})
	srv := httptest.NewServer(emu) // one origin for kauth and kapi
	defer srv.Close()
	emu.SetAutoConsent(4217730412856391024) // 김민준 agrees at once, without the consent page

	client, err := kakao.New(kakao.Config{
		ClientID: app.RESTKey, ClientSecret: app.ClientSecret,
		AuthURL: srv.URL, APIURL: srv.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	redirect := app.RedirectURIs[0]
	state, nonce, verifier := kakao.NewState(), kakao.NewNonce(), kakao.NewCodeVerifier()
	authURL := client.AuthCodeURL(kakao.AuthorizeParams{RedirectURI: redirect, State: state, Nonce: nonce, CodeVerifier: verifier, OIDC: true})

	// A browser would follow Kakao's redirect to the callback; here its URL is read instead.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	callback, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		log.Fatal(err)
	}

	// The callback handler: Kakao's error, then state, then the exchange.
	q := callback.Query()
	if err := kakao.ParseRedirectError(q); err != nil {
		log.Fatal(err.Explain("en"))
	}
	if q.Get("state") != state {
		log.Fatal("state mismatch")
	}
	ctx := context.Background()
	tok, err := client.Exchange(ctx, q.Get("code"), redirect, verifier)
	if err != nil {
		log.Fatal(err)
	}
	claims, err := client.VerifyIDToken(ctx, tok.IDToken, nonce)
	if err != nil {
		log.Fatal(err)
	}
	me, err := client.Me(ctx, tok.AccessToken, nil)
	if err != nil {
		log.Fatal(err)
	}
	email, verified := me.VerifiedEmail()
	fmt.Println(claims.UserID, claims.Nickname)
	fmt.Println(me.ID, email, verified)
	// Output:
	// 4217730412856391024 김민준
	// 4217730412856391024 minjun.kim@example.com true
}

// Callers decide from an error's Kind, never from Kakao's message text: here a person who
// cancelled on Kakao's consent page, and a code Kakao does not know (KOE320).
func ExampleError() {
	// Kakao's redirect to the callback after "취소" (cancel).
	cancelled := kakao.ParseRedirectError(url.Values{"error": {"access_denied"}, "error_description": {"User denied access"}})
	fmt.Println(cancelled.Kind, "—", cancelled.Explain("en"))

	app := kakaotest.DefaultApp()
	srv := httptest.NewServer(kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{}))
	defer srv.Close()
	client, err := kakao.New(kakao.Config{ClientID: app.RESTKey, ClientSecret: app.ClientSecret, AuthURL: srv.URL, APIURL: srv.URL})
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.Exchange(context.Background(), "a-code-never-issued", app.RedirectURIs[0], "")
	var kerr *kakao.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.Kind, kerr.Code(), kerr.Temporary())
	}
	fmt.Println(errors.Is(err, &kakao.Error{Kind: kakao.KindBadCode}))
	// Output:
	// access_denied — The user cancelled on the consent screen; to log in, start again and agree.
	// bad_code KOE320 false
	// true
}
