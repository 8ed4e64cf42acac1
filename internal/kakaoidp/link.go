package kakaoidp

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/kakao"
)

var (
	_ auth.KakaoRefresher = (*Provider)(nil)
	_ auth.KakaoLogouter  = (*Provider)(nil)
)

// withLink adds to prof what the code login says about the link: the consent items agreed
// (the token's scope), those of Scopes that the person has and did not agree to, and Kakao's
// tokens when KeepTokens. me is /v2/user/me when the login already read it.
//
// Needs: with /v2/user/me at hand, the configured items whose *_needs_agreement is true. With
// only an ID token, the configured items missing from the token's scope are confirmed with one
// /v2/user/me call (an item the person does not have is not "needed": no consent can give it);
// if that call fails, the missing items are reported as they are.
func (p *Provider) withLink(ctx context.Context, prof auth.Profile, tok *kakao.Token, me *kakao.User) auth.Profile {
	link := &auth.LinkInfo{Agreed: slices.Clone(tok.Scopes)}
	link.Agreed = slices.DeleteFunc(link.Agreed, func(s string) bool { return s == "openid" })
	var missing []string
	for _, s := range p.Scopes {
		if s != "openid" && !slices.Contains(tok.Scopes, s) && !slices.Contains(missing, s) {
			missing = append(missing, s)
		}
	}
	if me == nil && len(missing) > 0 && tok.AccessToken != "" {
		if u, err := p.Client.Me(ctx, tok.AccessToken, nil); err == nil {
			me = u
		}
	}
	if me != nil {
		needs := me.NeedsAgreement()
		for _, s := range p.Scopes {
			if slices.Contains(needs, s) && !slices.Contains(link.NeedsConsent, s) {
				link.NeedsConsent = append(link.NeedsConsent, s)
			}
		}
	} else {
		link.NeedsConsent = missing
	}
	if p.KeepTokens && tok.AccessToken != "" {
		link.Tokens = &auth.ProviderTokens{Access: tok.AccessToken, AccessExpiry: p.expiry(tok.ExpiresIn, tok.Expiry),
			Refresh: tok.RefreshToken, RefreshExpiry: p.expiry(tok.RefreshTokenExpiresIn, tok.RefreshTokenExpiry), Scopes: link.Agreed}
	}
	prof.Link = link
	return prof
}

// RefreshKakao refreshes Kakao's tokens, keeping the old refresh token and its expiry (and the
// scopes) when Kakao sends none. Kakao's refusal of the refresh token (KOE322, KOE319) is
// invalid_grant, its outages 503/504.
func (p *Provider) RefreshKakao(ctx context.Context, prev auth.ProviderTokens) (auth.ProviderTokens, error) {
	t, err := p.Client.RefreshFrom(ctx, &kakao.Token{AccessToken: prev.Access, RefreshToken: prev.Refresh,
		RefreshTokenExpiry: prev.RefreshExpiry, Scopes: prev.Scopes})
	if err != nil {
		return auth.ProviderTokens{}, MapError(err)
	}
	out := auth.ProviderTokens{Access: t.AccessToken, AccessExpiry: p.expiry(t.ExpiresIn, t.Expiry), Refresh: t.RefreshToken,
		RefreshExpiry: prev.RefreshExpiry, Scopes: t.Scopes}
	if t.RefreshTokenRotated {
		out.RefreshExpiry = p.expiry(t.RefreshTokenExpiresIn, t.RefreshTokenExpiry)
	}
	return out, nil
}

// expiry counts Kakao's expires_in from the domain's clock; fallback when Kakao sent none.
func (p *Provider) expiry(expiresIn int64, fallback time.Time) time.Time {
	if expiresIn <= 0 {
		return fallback
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	return now().Add(time.Duration(expiresIn) * time.Second)
}

// LogoutAtKakao logs a Kakao user out with the admin key (POST /v1/user/logout,
// target_id_type=user_id): Kakao revokes the tokens it issued to us for them. A user who is not
// linked any more (-101) counts as logged out.
func (p *Provider) LogoutAtKakao(ctx context.Context, subject string) error {
	id, err := strconv.ParseInt(subject, 10, 64)
	if err != nil || id <= 0 {
		return &auth.Error{Code: auth.ECodeInvalidRequest, Message: "not a Kakao user id: " + subject}
	}
	if _, err := p.Client.LogoutUser(ctx, id); err != nil {
		var ke *kakao.Error
		if errors.As(err, &ke) && ke.Kind == kakao.KindNotLinked {
			return nil
		}
		return MapError(err)
	}
	return nil
}
