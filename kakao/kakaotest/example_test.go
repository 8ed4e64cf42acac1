package kakaotest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// The emulator is an http.Handler: serve it and talk to it as to Kakao, from any HTTP client.
// Here a code is minted without a browser and exchanged at /oauth/token with a plain form post.
func ExampleNew() {
	app := kakaotest.DefaultApp()
	emu := kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	redirect := app.RedirectURIs[0]
	code, err := emu.IssueCode(4217730412856391024, redirect, "", "")
	if err != nil {
		log.Fatal(err)
	}
	resp, err := http.PostForm(srv.URL+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {app.RESTKey}, "client_secret": {app.ClientSecret},
		"redirect_uri": {redirect}, "code": {code},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var tok kakaotest.Token
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, tok.TokenType, tok.ExpiresIn, tok.IDToken != "")
	fmt.Println(emu.Calls("/oauth/token"), "call to /oauth/token")
	// Output:
	// 200 bearer 21599 true
	// 1 call to /oauth/token
}

// A fault makes Kakao fail the way it does in production: here one 503 from /oauth/token,
// which the client reports as temporary. Codes are single-use, but a call that failed before
// reaching Kakao's handler did not use the code up.
func ExampleEmulator_SetFault() {
	app := kakaotest.DefaultApp()
	emu := kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	client, err := kakao.New(kakao.Config{ClientID: app.RESTKey, ClientSecret: app.ClientSecret, AuthURL: srv.URL, APIURL: srv.URL})
	if err != nil {
		log.Fatal(err)
	}
	redirect := app.RedirectURIs[0]
	code, err := emu.IssueCode(4217730412856391024, redirect, "", "")
	if err != nil {
		log.Fatal(err)
	}

	emu.SetFault("/oauth/token", kakaotest.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	_, err = client.Exchange(context.Background(), code, redirect, "")
	var kerr *kakao.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.Status, kerr.Kind, kerr.Temporary())
	}
	_, err = client.Exchange(context.Background(), code, redirect, "")
	fmt.Println("after the fault:", err)
	// Output:
	// 503 unavailable true
	// after the fault: <nil>
}

// A settable clock moves the emulator and the client together: a code older than its
// lifetime is refused as Kakao refuses it (KOE320), with no sleep.
func ExampleClock() {
	clock := kakaotest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	app := kakaotest.DefaultApp()
	emu := kakaotest.New(app, kakaotest.DefaultUsers(), kakaotest.Options{Now: clock.Now})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	client, err := kakao.New(kakao.Config{ClientID: app.RESTKey, ClientSecret: app.ClientSecret, AuthURL: srv.URL, APIURL: srv.URL, Now: clock.Now})
	if err != nil {
		log.Fatal(err)
	}
	redirect := app.RedirectURIs[0]
	code, err := emu.IssueCode(4217730412856391024, redirect, "", "")
	if err != nil {
		log.Fatal(err)
	}

	clock.Add(kakaotest.CodeLifetime + time.Second)
	_, err = client.Exchange(context.Background(), code, redirect, "")
	fmt.Println(errors.Is(err, &kakao.Error{Kind: kakao.KindBadCode}))
	// Output:
	// true
}

// TestExampleNewServer runs the code that ExampleNewServer shows, as a test of your own would.
func TestExampleNewServer(t *testing.T) {
	signInWithEmulator(t)
}
