package kakao

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NeedsAgreement returns the consent item IDs whose *_needs_agreement is true in the
// answer: items the user has and would give on (additional) consent. Of the profile items,
// the split ones (profile_nickname, profile_image) and the legacy "profile" are reported as
// Kakao names them.
func (u *User) NeedsAgreement() []string {
	if u == nil || u.KakaoAccount == nil {
		return nil
	}
	a := u.KakaoAccount
	pairs := []struct {
		scope string
		needs *bool
	}{
		{"profile", a.ProfileNeedsAgreement},
		{"profile_nickname", a.ProfileNicknameNeedsAgreement},
		{"profile_image", a.ProfileImageNeedsAgreement},
		{"name", a.NameNeedsAgreement},
		{"account_email", a.EmailNeedsAgreement},
		{"age_range", a.AgeRangeNeedsAgreement},
		{"birthyear", a.BirthyearNeedsAgreement},
		{"birthday", a.BirthdayNeedsAgreement},
		{"gender", a.GenderNeedsAgreement},
		{"phone_number", a.PhoneNumberNeedsAgreement},
		{"account_ci", a.CINeedsAgreement},
	}
	var out []string
	for _, p := range pairs {
		if isTrue(p.needs) {
			out = append(out, p.scope)
		}
	}
	return out
}

// ServiceTerms is the answer of GET /v2/user/service_terms (Kakao Sync).
type ServiceTerms struct {
	ID           int64         `json:"id"`
	ServiceTerms []ServiceTerm `json:"service_terms"`
}

func (s *ServiceTerms) check() error {
	if s.ID <= 0 {
		return errors.New("service_terms answer without a positive id")
	}
	return nil
}

// ServiceTerm is one service term of the app and the user's agreement to it.
type ServiceTerm struct {
	Tag       string     `json:"tag"`
	Required  bool       `json:"required"`
	Agreed    bool       `json:"agreed"`
	Revocable bool       `json:"revocable"`
	AgreedAt  *time.Time `json:"agreed_at,omitempty"`
	AgreedBy  string     `json:"agreed_by,omitempty"` // KAUTH or KAPI
}

// ServiceTermsOptions are the optional parameters of /v2/user/service_terms.
type ServiceTermsOptions struct {
	// All asks for every term of the app (result=app_service_terms) instead of only the
	// agreed ones.
	All bool
	// Tags filters the terms.
	Tags []string
}

func (o *ServiceTermsOptions) values(v url.Values) url.Values {
	if v == nil {
		v = url.Values{}
	}
	if o == nil {
		return v
	}
	if o.All {
		v.Set("result", "app_service_terms")
	}
	if len(o.Tags) > 0 {
		v.Set("tags", strings.Join(o.Tags, ","))
	}
	return v
}

// ServiceTerms lists the service terms of the user of accessToken (GET
// /v2/user/service_terms). It is retried once on a network error or 5xx.
func (c *Client) ServiceTerms(ctx context.Context, accessToken string, opt *ServiceTermsOptions) (*ServiceTerms, error) {
	const op = "service_terms"
	auth, err := c.bearerAuth(op, accessToken)
	if err != nil {
		return nil, err
	}
	return callFor[ServiceTerms](ctx, c, apiRequest{op: op, method: http.MethodGet, path: "/v2/user/service_terms",
		auth: auth, query: opt.values(nil), retry: true})
}

// ServiceTermsOf lists a user's service terms with the admin key.
func (c *Client) ServiceTermsOf(ctx context.Context, userID int64, opt *ServiceTermsOptions) (*ServiceTerms, error) {
	const op = "service_terms"
	auth, err := c.adminAuth(op)
	if err != nil {
		return nil, err
	}
	if userID <= 0 {
		return nil, &Error{Op: op, Kind: KindBadRequest, Description: "user ID must be positive"}
	}
	return callFor[ServiceTerms](ctx, c, apiRequest{op: op, method: http.MethodGet, path: "/v2/user/service_terms",
		auth: auth, query: opt.values(targetID(userID)), retry: true})
}

// LogoutURL is kauth's /oauth/logout URL ("logout with Kakao Account"): the browser logs
// out of its Kakao Account there and comes back to logoutRedirectURI (which must be
// registered in the app, else Kakao shows KOE007) with state.
func (c *Client) LogoutURL(logoutRedirectURI, state string) string {
	v := url.Values{"client_id": {c.cfg.ClientID}, "logout_redirect_uri": {logoutRedirectURI}}
	if state != "" {
		v.Set("state", state)
	}
	return c.authURL + "/oauth/logout?" + v.Encode()
}

// AuthURL is the kauth base URL the client uses (no trailing slash).
func (c *Client) AuthURL() string { return c.authURL }

// HTTPClient is the client's own HTTP client (capped bodies, no redirects followed), for
// diagnostics that need a raw Kakao answer.
func (c *Client) HTTPClient() *http.Client { return c.hc }
