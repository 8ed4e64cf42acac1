package kakao

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Token is Kakao's token response.
type Token struct {
	TokenType, AccessToken, RefreshToken, IDToken string
	ExpiresIn, RefreshTokenExpiresIn              int64
	Expiry, RefreshTokenExpiry                    time.Time
	Scopes                                        []string // from the space-separated "scope"

	// RefreshTokenRotated is true when the answer carried a refresh token. A
	// refresh answer carries one only when the old one had less than a month
	// left; otherwise RefreshToken is the old value and the expiry fields of
	// the refresh token are zero (RefreshFrom keeps the previous ones).
	RefreshTokenRotated bool
}

// Exchange trades an authorization code for tokens at kauth's /oauth/token.
// redirectURI must be byte-identical to the one of the authorize request.
// It is never retried: codes are single-use.
func (c *Client) Exchange(ctx context.Context, code, redirectURI, codeVerifier string) (*Token, error) {
	const op = "token"
	if code == "" {
		return nil, &Error{Op: op, Kind: KindBadCode, Description: "empty authorization code"}
	}
	if redirectURI == "" {
		return nil, &Error{Op: op, Kind: KindMisconfigured, Description: "empty redirect URI"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.hc)
	conf := c.oauth
	conf.RedirectURL = redirectURI
	var opts []oauth2.AuthCodeOption
	if codeVerifier != "" {
		opts = append(opts, oauth2.VerifierOption(codeVerifier))
	}
	tok, err := conf.Exchange(ctx, code, opts...)
	if err != nil {
		return nil, c.tokenError(ctx, op, err)
	}
	return c.convertToken(op, tok, true)
}

// Refresh gets a new access token (and ID token for OIDC apps) with a refresh
// token. Kakao returns a new refresh token only when the old one has less
// than a month left; otherwise the result keeps the old refresh token, with
// RefreshTokenRotated false. Refresh is not retried.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	const op = "refresh"
	if refreshToken == "" {
		return nil, &Error{Op: op, Kind: KindBadRefreshToken, Description: "empty refresh token"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.hc)
	// An already expired token makes the token source refresh at once.
	src := c.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		e := c.tokenError(ctx, op, err)
		if e.Kind == KindBadCode { // invalid_grant without a KOE code
			e.Kind = KindBadRefreshToken
		}
		return nil, e
	}
	t, err := c.convertToken(op, tok, false)
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	t.RefreshTokenRotated = t.RefreshToken != refreshToken || t.RefreshTokenExpiresIn > 0
	return t, nil
}

// RefreshFrom refreshes prev and carries over what Kakao leaves out of a
// refresh answer: the refresh token with its expiry when no new one came,
// and the scopes when "scope" is absent.
func (c *Client) RefreshFrom(ctx context.Context, prev *Token) (*Token, error) {
	if prev == nil {
		return nil, &Error{Op: "refresh", Kind: KindBadRefreshToken, Description: "no previous token"}
	}
	t, err := c.Refresh(ctx, prev.RefreshToken)
	if err != nil {
		return nil, err
	}
	if !t.RefreshTokenRotated {
		t.RefreshTokenExpiresIn = prev.RefreshTokenExpiresIn
		t.RefreshTokenExpiry = prev.RefreshTokenExpiry
	}
	if len(t.Scopes) == 0 {
		t.Scopes = append([]string(nil), prev.Scopes...)
	}
	return t, nil
}

// tokenError converts x/oauth2's errors into *Error: a *oauth2.RetrieveError
// carries Kakao's answer (status and body); anything else is a transport fault
// or an undecodable 2xx answer.
func (c *Client) tokenError(ctx context.Context, op string, err error) *Error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		var e *Error
		if re.Response != nil {
			status = re.Response.StatusCode
			e = parseErrorBody(op, status, re.Response.Header, re.Body, c.now())
		} else {
			e = parseErrorBody(op, status, nil, re.Body, c.now())
		}
		if e.OAuthError == "" && re.ErrorCode != "" {
			e.OAuthError = clip(re.ErrorCode, 128)
			e.Description = clip(re.ErrorDescription, 512)
			e.Kind = classify(status, e.KOE, e.APICode, e.OAuthError)
		}
		// re itself is not kept: its message embeds the whole response body.
		return e
	}
	var ue interface{ Timeout() bool }
	if errors.Is(err, errBodyTooLarge) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) || ctx.Err() != nil || errors.As(err, &ue) {
		return transportError(ctx, op, err)
	}
	// x/oauth2 reports a 2xx answer it cannot decode (HTML, truncated JSON,
	// wrong types, no access_token) with a plain error.
	return &Error{Op: op, Kind: KindBadResponse, Err: err}
}

// convertToken copies x/oauth2's token and Kakao's extra fields, checking their
// types. Expiry times are computed from the client's clock.
func (c *Client) convertToken(op string, tok *oauth2.Token, wantRefresh bool) (*Token, error) {
	bad := func(format string, args ...any) error {
		return &Error{Op: op, Status: 200, Kind: KindBadResponse, Err: fmt.Errorf(format, args...)}
	}
	now := c.now()
	t := &Token{
		TokenType:    tok.TokenType,
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		ExpiresIn:    tok.ExpiresIn,
	}
	if t.ExpiresIn < 0 {
		return nil, bad("negative expires_in")
	}
	if t.ExpiresIn > 0 {
		t.Expiry = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	if v := tok.Extra("id_token"); v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, bad("id_token is %T, not a string", v)
		}
		t.IDToken = s
	}
	if v := tok.Extra("scope"); v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, bad("scope is %T, not a string", v)
		}
		t.Scopes = strings.Fields(s)
	}
	if v := tok.Extra("refresh_token_expires_in"); v != nil {
		n, ok := intValue(v)
		if !ok || n < 0 {
			return nil, bad("refresh_token_expires_in is not a non-negative integer")
		}
		t.RefreshTokenExpiresIn = n
		if n > 0 {
			t.RefreshTokenExpiry = now.Add(time.Duration(n) * time.Second)
		}
	}
	if wantRefresh {
		if t.RefreshToken == "" {
			return nil, bad("token answer without refresh_token")
		}
		t.RefreshTokenRotated = true
	}
	return t, nil
}

// intValue accepts what encoding/json puts into an interface{} for an integer
// (float64 or json.Number-like strings are refused) within ±2^53.
func intValue(v any) (int64, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}
