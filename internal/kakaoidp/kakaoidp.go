// Package kakaoidp adapts the public kakao client to the domain: it turns a Kakao login (an
// authorization code, later an SDK token) into an auth.Profile, and Kakao's errors into
// auth.Error codes that the server can show.
package kakaoidp

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/kakao"
)

// Provider implements auth.Identities, auth.SDKIdentities, auth.Unlinker and auth.Authorizer
// with Kakao.
type Provider struct {
	Client *kakao.Client
	// RequireIDToken asks Kakao for an ID token (scope openid) and makes a token response
	// without one an error (OIDC is on for the app, so a missing ID token means something is
	// wrong at Kakao or in between).
	RequireIDToken bool
	// Scopes are the extra consent items the browser flow asks for (KAKAOAUTH_KAKAO_SCOPES).
	Scopes []string
	// Breaker, when set, guards the logins' and unlinks' calls to Kakao (breaker.go).
	Breaker *Breaker

	rejects rejectCache // SDK tokens refused lately (rejectcache.go)
	// KeepTokens hands Kakao's tokens of a code login to the domain (link.go), which keeps
	// them sealed (KAKAOAUTH_KAKAO_STORE_TOKENS).
	KeepTokens bool
	// Now is the domain's clock, from which the expiries of kept Kakao tokens are counted
	// (Kakao's expires_in); default time.Now.
	Now func() time.Time
}

// AuthorizeURL is Kakao's /oauth/authorize URL for a browser login: state, nonce, PKCE S256,
// the configured scopes (and openid) and the prompt.
func (p *Provider) AuthorizeURL(req auth.AuthorizeRequest) string {
	scopes := p.Scopes
	if len(req.Scopes) > 0 { // additional consent: only the items asked for (and openid)
		scopes = req.Scopes
	}
	return p.Client.AuthCodeURL(kakao.AuthorizeParams{
		RedirectURI: req.RedirectURI, State: req.Flow.State, Nonce: req.Flow.Nonce,
		CodeVerifier: req.Flow.CodeVerifier, Scopes: scopes, OIDC: p.RequireIDToken, Prompt: req.Prompt,
	})
}

// CallbackError reads Kakao's error redirect to the callback (error, error_description,
// error_code) as a domain error; an error Kakao does not document is kakao_error. nil when q
// holds no error.
func (p *Provider) CallbackError(q url.Values) *auth.Error {
	ke := kakao.ParseRedirectError(q)
	if ke == nil {
		return nil
	}
	return mapError(ke)
}

// ExchangeCode trades the code; with an ID token the profile comes from its verified claims
// (one round trip to Kakao), otherwise from /v2/user/me.
func (p *Provider) exchangeCode(ctx context.Context, ex auth.CodeExchange) (auth.Profile, error) {
	tok, err := p.Client.Exchange(ctx, ex.Code, ex.RedirectURI, ex.CodeVerifier)
	if err != nil {
		return auth.Profile{}, MapError(err)
	}
	if len(tok.IDToken) > kakao.MaxIDTokenBytes {
		// Kakao's own answer, not the client's input: a 502, never a 401 about the client's token.
		return auth.Profile{}, &auth.Error{Code: auth.ECodeKakaoError, Message: "Kakao's ID token is larger than kakao.MaxIDTokenBytes"}
	}
	if tok.IDToken != "" {
		c, err := p.Client.VerifyIDToken(ctx, tok.IDToken, ex.Nonce)
		if err != nil {
			return auth.Profile{}, MapError(err)
		}
		return p.withLink(ctx, auth.Profile{
			Provider: auth.ProviderKakao, Subject: c.Subject, Nickname: c.Nickname,
			// Kakao puts email in the ID token only when it is valid and verified.
			Email: c.Email, EmailVerified: c.Email != "", ProfileImageURL: c.Picture,
		}, tok, nil), nil
	}
	if p.RequireIDToken {
		return auth.Profile{}, &auth.Error{Code: auth.ECodeKakaoError, Message: "Kakao answered without an ID token although OpenID Connect is on"}
	}
	u, err := p.Client.Me(ctx, tok.AccessToken, nil)
	if err != nil {
		return auth.Profile{}, MapError(err)
	}
	return p.withLink(ctx, ProfileOf(u), tok, u), nil
}

// SDKLogin checks an access token from Kakao's SDK: access_token_info must name our app (app_id,
// compared as an integer, so a token minted for another Kakao app is refused: token
// substitution), the profile comes from /v2/user/me and must be the same user as the token's id,
// and an ID token, when sent, must verify (aud may be the native or JavaScript key, see
// kakao.Config.Audiences) with sub equal to that id. Every refusal is invalid_token; Kakao's
// outages stay 503/504.
func (p *Provider) sdkLogin(ctx context.Context, accessToken, idToken, nonce string) (auth.Profile, error) {
	info, err := p.Client.VerifyAccessToken(ctx, accessToken)
	if err != nil {
		return auth.Profile{}, MapError(err)
	}
	if idToken != "" {
		c, err := p.Client.VerifyIDToken(ctx, idToken, nonce)
		if err != nil {
			return auth.Profile{}, MapError(err)
		}
		if c.UserID != info.ID {
			return auth.Profile{}, &auth.Error{Code: auth.ECodeInvalidToken, Message: "ID token's sub is not the access token's user"}
		}
	}
	u, err := p.Client.Me(ctx, accessToken, nil)
	if err != nil {
		return auth.Profile{}, MapError(err)
	}
	if u.ID != info.ID {
		return auth.Profile{}, &auth.Error{Code: auth.ECodeInvalidToken, Message: "/v2/user/me answered another user than access_token_info"}
	}
	return ProfileOf(u), nil
}

// Unlink unlinks a Kakao user from our app with the admin key. A user who is not linked any more
// (-101) counts as unlinked.
func (p *Provider) unlink(ctx context.Context, subject string) error {
	id, err := strconv.ParseInt(subject, 10, 64)
	if err != nil || id <= 0 {
		return &auth.Error{Code: auth.ECodeInvalidRequest, Message: "not a Kakao user id: " + subject}
	}
	if _, err := p.Client.UnlinkUser(ctx, id); err != nil {
		var ke *kakao.Error
		if errors.As(err, &ke) && ke.Kind == kakao.KindNotLinked {
			return nil
		}
		return MapError(err)
	}
	return nil
}

// ProfileOf reads a profile from /v2/user/me: the email only when Kakao says it is valid and
// verified, the larger profile image when there is one.
func ProfileOf(u *kakao.User) auth.Profile {
	p := auth.Profile{Provider: auth.ProviderKakao, Subject: strconv.FormatInt(u.ID, 10)}
	if email, ok := u.VerifiedEmail(); ok {
		p.Email, p.EmailVerified = email, true
	}
	if a := u.KakaoAccount; a != nil && a.Profile != nil {
		p.Nickname = a.Profile.Nickname
		p.ProfileImageURL = a.Profile.ProfileImageURL
		if p.ProfileImageURL == "" {
			p.ProfileImageURL = a.Profile.ThumbnailImageURL
		}
	}
	return p
}

// MapError translates a Kakao failure into a domain error: the client's fault (a bad or reused
// code) is 400, our configuration's fault is 502, an outage 503/504, and never 401 for an
// upstream fault.
func MapError(err error) error { return mapError(err) }

// mapError is MapError with its concrete type.
func mapError(err error) *auth.Error {
	var ke *kakao.Error
	if !errors.As(err, &ke) {
		if errors.Is(err, context.DeadlineExceeded) {
			return &auth.Error{Code: auth.ECodeKakaoTimeout, Message: "Kakao did not answer in time", Err: err}
		}
		if errors.Is(err, context.Canceled) {
			return &auth.Error{Code: auth.ECodeKakaoUnavailable, Message: "request cancelled", Err: err}
		}
		return &auth.Error{Code: auth.ECodeKakaoError, Message: "Kakao call failed", Err: err}
	}
	e := &auth.Error{KakaoCode: ke.Code(), Message: ke.Explain("en"), Err: err}
	switch ke.Kind {
	case kakao.KindBadCode, kakao.KindRedirectMismatch, kakao.KindBadRefreshToken, kakao.KindNotLinked:
		e.Code = auth.ECodeInvalidGrant
	case kakao.KindInvalidToken:
		e.Code = auth.ECodeInvalidToken
	case kakao.KindBadRequest:
		e.Code = auth.ECodeInvalidRequest
	case kakao.KindConsentRequired:
		e.Code = auth.ECodeConsentRequired
	case kakao.KindLoginRequired:
		e.Code = auth.ECodeLoginRequired
	case kakao.KindAccessDenied:
		e.Code = auth.ECodeAccessDenied
	case kakao.KindForbidden:
		e.Code = auth.ECodeForbidden
	case kakao.KindRateLimited:
		e.Code = auth.ECodeRateLimited
		e.RetryAfter = ke.RetryAfter
		if e.RetryAfter <= 0 {
			e.RetryAfter = time.Minute
		}
	case kakao.KindUnavailable:
		e.Code = auth.ECodeKakaoUnavailable
		e.RetryAfter = ke.RetryAfter
		if e.RetryAfter <= 0 {
			e.RetryAfter = 5 * time.Second
		}
	case kakao.KindTimeout:
		e.Code = auth.ECodeKakaoTimeout
	case kakao.KindBadClient, kakao.KindBadSecret, kakao.KindMisconfigured:
		e.Code = auth.ECodeKakaoMisconfigured
	default:
		e.Code = auth.ECodeKakaoError
	}
	return e
}
