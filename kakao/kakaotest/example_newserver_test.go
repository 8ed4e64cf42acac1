package kakaotest_test

import (
	"context"
	"testing"

	"github.com/kakaoauth/kakaoauth/kakao"
	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// signInWithEmulator is what a test of your own does (func TestSignIn(t *testing.T) {…}): it
// starts an emulator that stops with the test, configures a Kakao client for it, mints a code
// and signs in. Any code that takes Kakao's hosts as settings can be given srv.URL instead.
func signInWithEmulator(t *testing.T) {
	srv := kakaotest.NewServer(t, kakaotest.DefaultApp(), kakaotest.DefaultUsers())
	client, err := kakao.New(srv.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	redirect := srv.App().RedirectURIs[0]
	nonce := kakao.NewNonce()
	code, err := srv.IssueCode(4217730412856391024, redirect, nonce, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := client.Exchange(context.Background(), code, redirect, "")
	if err != nil {
		t.Fatal(err)
	}
	claims, err := client.VerifyIDToken(context.Background(), tok.IDToken, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := claims.Nickname, "김민준"; got != want {
		t.Errorf("nickname %q, want %q", got, want)
	}
	if got := srv.Calls("/oauth/token"); got != 1 {
		t.Errorf("%d calls to /oauth/token, want 1", got)
	}
}

// NewServer in a test: the emulator on 127.0.0.1, closed when the test ends, and a Kakao client
// pointed at it (the whole file is the example; a test beside it runs signInWithEmulator).
func ExampleNewServer() {
	// func TestSignIn(t *testing.T) { signInWithEmulator(t) }
}
