package main

import (
	"context"
	"net/http"

	"github.com/kakaoauth/kakaoauth/resource"
)

// AccessCookie is the name of kakaoauth's access cookie (KAKAOAUTH_COOKIE_ACCESS). A browser
// sends it to this service too when both run on the same host: cookies do not look at ports.
const AccessCookie = "accessToken"

// Protector connects to kakaoauth at issuer (discovery and JWKS) and returns the middleware
// that admits requests with one of its access tokens, in the Authorization header or the
// access cookie. Charts are read-only data, so the offline check suits them (see package
// resource on when to check the session online).
func Protector(ctx context.Context, issuer string, client *http.Client) (func(http.Handler) http.Handler, error) {
	v, err := resource.New(ctx, resource.Config{Issuer: issuer, Cookie: AccessCookie, HTTPClient: client})
	if err != nil {
		return nil, err
	}
	return v.Middleware, nil
}

// userID is the signed-in person's kakaoauth user id, for the log.
func userID(r *http.Request) string {
	c, _ := resource.FromContext(r.Context())
	return c.UserID
}
