package resource_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/resource"
)

// In the runnable examples a stand-in (newTestIssuer, in helpers_test.go) plays kakaoauth: it
// serves a discovery document and a JWKS at a local URL and signs tokens shaped like
// kakaoauth's. A real program passes kakaoauth's public URL instead.

// get requests url with a Bearer token (none if "") and prints the status, the challenge and
// the body.
func get(url, token string) {
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %q %s\n", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(string(body)))
}

// Two Verifiers for one API: offline for most routes, CheckSession for those that must stop
// at once when a person signs out.
func ExampleNew() {
	ctx := context.Background()
	offline, err := resource.New(ctx, resource.Config{
		Issuer: "https://auth.example.com", // kakaoauth's KAKAOAUTH_PUBLIC_URL
		Cookie: "accessToken",              // also accept kakaoauth's access cookie
	})
	if err != nil {
		log.Fatal(err) // kakaoauth unreachable, or a wrong Issuer
	}
	online, err := resource.New(ctx, resource.Config{
		Issuer:       "https://auth.example.com",
		CheckSession: true, // ask kakaoauth whether the session still lives
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /charts/{symbol}", offline.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	mux.Handle("DELETE /account/data", online.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	log.Fatal(http.ListenAndServe(":8080", mux))
}

func ExampleVerifier_Middleware() {
	kakaoauth := newTestIssuer() // a local stand-in for kakaoauth; yours is at its public URL
	defer kakaoauth.Close()

	v, err := resource.New(context.Background(), resource.Config{Issuer: kakaoauth.URL})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/me", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := resource.FromContext(r.Context())
		fmt.Fprintf(w, "hello, user %s (session %s)", c.UserID, c.SessionID)
	})))
	api := httptest.NewServer(mux)
	defer api.Close()

	get(api.URL+"/api/me", "")
	get(api.URL+"/api/me", kakaoauth.token(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	get(api.URL+"/api/me", kakaoauth.token(nil))
	// Output:
	// 401 "Bearer" {"error":"unauthorized","error_description":"로그인이 필요합니다 (an access token is required in Authorization: Bearer)"}
	// 401 "Bearer error=\"invalid_token\", error_description=\"token expired\"" {"error":"invalid_token","error_description":"토큰이 만료되었습니다 (token expired)"}
	// 200 "" hello, user user-1 (session session-1)
}

func ExampleVerifier_RequireScopes() {
	kakaoauth := newTestIssuer() // a local stand-in for kakaoauth; yours is at its public URL
	defer kakaoauth.Close()

	v, err := resource.New(context.Background(), resource.Config{Issuer: kakaoauth.URL})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /charts/{symbol}", v.Middleware(v.RequireScopes("chart:listen")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := resource.FromContext(r.Context())
		fmt.Fprintf(w, "%s for client %s", r.PathValue("symbol"), c.ClientID)
	}))))
	api := httptest.NewServer(mux)
	defer api.Close()

	get(api.URL+"/charts/KOSPI", kakaoauth.token(map[string]any{"client_id": "chart-audio", "scope": "chart:read"}))
	get(api.URL+"/charts/KOSPI", kakaoauth.token(map[string]any{"client_id": "chart-audio", "scope": "chart:read chart:listen"}))
	// Output:
	// 403 "Bearer error=\"insufficient_scope\", error_description=\"the token lacks a required scope\", scope=\"chart:listen\"" {"error":"insufficient_scope","error_description":"필요한 권한(scope)이 없습니다: chart:listen (the token lacks a required scope: chart:listen)"}
	// 200 "" KOSPI for client chart-audio
}

// Verify serves where there is no http.Handler to wrap, such as the first message of a
// WebSocket; errors.Is tells a bad token from kakaoauth being unreachable.
func ExampleVerifier_Verify() {
	kakaoauth := newTestIssuer() // a local stand-in for kakaoauth; yours is at its public URL
	defer kakaoauth.Close()

	v, err := resource.New(context.Background(), resource.Config{Issuer: kakaoauth.URL})
	if err != nil {
		log.Fatal(err)
	}
	for _, token := range []string{kakaoauth.token(nil), kakaoauth.token(map[string]any{"aud": "https://other.example"})} {
		c, err := v.Verify(context.Background(), token)
		switch {
		case errors.Is(err, resource.ErrInvalidToken):
			fmt.Println("refused:", err)
		case errors.Is(err, resource.ErrUnavailable):
			fmt.Println("try again later:", err)
		case err == nil:
			fmt.Println("user", c.UserID, "until", c.Expiry.Sub(c.IssuedAt))
		}
	}
	// Output:
	// user user-1 until 15m0s
	// refused: invalid token: wrong audience
}

// In a handler's own test, NewContext stands in for Middleware.
func ExampleFromContext() {
	me := func(w http.ResponseWriter, r *http.Request) {
		c, ok := resource.FromContext(r.Context())
		if !ok {
			http.Error(w, "not behind resource.Middleware", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "user %s, session %s", c.UserID, c.SessionID)
	}
	req := httptest.NewRequest("GET", "/api/me", nil)
	req = req.WithContext(resource.NewContext(req.Context(), resource.Claims{UserID: "u1", SessionID: "s1"}))
	rec := httptest.NewRecorder()
	me(rec, req)
	fmt.Println(rec.Body)
	// Output: user u1, session s1
}
