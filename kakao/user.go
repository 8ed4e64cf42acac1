package kakao

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// User is the answer of GET /v2/user/me. Optional values are pointers: nil
// means Kakao did not send the field.
type User struct {
	ID             int64             `json:"id"`
	HasSignedUp    *bool             `json:"has_signed_up,omitempty"`
	ConnectedAt    *time.Time        `json:"connected_at,omitempty"`
	SynchedAt      *time.Time        `json:"synched_at,omitempty"`
	Properties     map[string]string `json:"properties,omitempty"`
	KakaoAccount   *Account          `json:"kakao_account,omitempty"`
	ForPartner     *Partner          `json:"for_partner,omitempty"`
	GroupUserToken string            `json:"group_user_token,omitempty"`
}

func (u *User) check() error {
	if u.ID <= 0 {
		return errors.New("user without a positive id")
	}
	return nil
}

// VerifiedEmail returns the account email only when Kakao says it is both
// valid and verified; an email without those flags is not trusted.
func (u *User) VerifiedEmail() (string, bool) {
	if u == nil || u.KakaoAccount == nil {
		return "", false
	}
	a := u.KakaoAccount
	if a.Email == nil || *a.Email == "" || !isTrue(a.IsEmailValid) || !isTrue(a.IsEmailVerified) {
		return "", false
	}
	return *a.Email, true
}

func isTrue(b *bool) bool { return b != nil && *b }

// Account is "kakao_account": every documented field, and the legal_* and
// is_korean fields of Kakao's SDK models. A *_needs_agreement of true means
// the user has the value and it can be had with (additional) consent.
type Account struct {
	ProfileNeedsAgreement         *bool    `json:"profile_needs_agreement,omitempty"`
	ProfileNicknameNeedsAgreement *bool    `json:"profile_nickname_needs_agreement,omitempty"`
	ProfileImageNeedsAgreement    *bool    `json:"profile_image_needs_agreement,omitempty"`
	Profile                       *Profile `json:"profile,omitempty"`

	NameNeedsAgreement *bool   `json:"name_needs_agreement,omitempty"`
	Name               *string `json:"name,omitempty"`

	EmailNeedsAgreement *bool   `json:"email_needs_agreement,omitempty"`
	IsEmailValid        *bool   `json:"is_email_valid,omitempty"`
	IsEmailVerified     *bool   `json:"is_email_verified,omitempty"`
	Email               *string `json:"email,omitempty"`

	AgeRangeNeedsAgreement *bool   `json:"age_range_needs_agreement,omitempty"`
	AgeRange               *string `json:"age_range,omitempty"` // "1~9" (docs) or "0~9" (SDK), "10~14", …, "90~"

	BirthyearNeedsAgreement *bool   `json:"birthyear_needs_agreement,omitempty"`
	Birthyear               *string `json:"birthyear,omitempty"` // YYYY
	BirthdayNeedsAgreement  *bool   `json:"birthday_needs_agreement,omitempty"`
	Birthday                *string `json:"birthday,omitempty"`      // MMDD
	BirthdayType            *string `json:"birthday_type,omitempty"` // SOLAR or LUNAR
	IsLeapMonth             *bool   `json:"is_leap_month,omitempty"`

	GenderNeedsAgreement *bool   `json:"gender_needs_agreement,omitempty"`
	Gender               *string `json:"gender,omitempty"` // female or male; compare case-insensitively

	PhoneNumberNeedsAgreement *bool   `json:"phone_number_needs_agreement,omitempty"`
	PhoneNumber               *string `json:"phone_number,omitempty"`

	CINeedsAgreement  *bool      `json:"ci_needs_agreement,omitempty"`
	CI                *string    `json:"ci,omitempty"`
	CIAuthenticatedAt *time.Time `json:"ci_authenticated_at,omitempty"`

	LegalNameNeedsAgreement      *bool   `json:"legal_name_needs_agreement,omitempty"`
	LegalName                    *string `json:"legal_name,omitempty"`
	LegalBirthDateNeedsAgreement *bool   `json:"legal_birth_date_needs_agreement,omitempty"`
	LegalBirthDate               *string `json:"legal_birth_date,omitempty"` // yyyyMMDD
	LegalGenderNeedsAgreement    *bool   `json:"legal_gender_needs_agreement,omitempty"`
	LegalGender                  *string `json:"legal_gender,omitempty"`
	IsKoreanNeedsAgreement       *bool   `json:"is_korean_needs_agreement,omitempty"`
	IsKorean                     *bool   `json:"is_korean,omitempty"`
}

// Profile is "kakao_account.profile".
type Profile struct {
	Nickname          string `json:"nickname,omitempty"`
	ThumbnailImageURL string `json:"thumbnail_image_url,omitempty"`
	ProfileImageURL   string `json:"profile_image_url,omitempty"`
	IsDefaultImage    *bool  `json:"is_default_image,omitempty"`
	IsDefaultNickname *bool  `json:"is_default_nickname,omitempty"`
}

// Partner is "for_partner".
type Partner struct {
	UUID string `json:"uuid,omitempty"`
}

// UserOptions are the optional parameters of /v2/user/me.
type UserOptions struct {
	PropertyKeys   []string // e.g. "kakao_account.email"; sent as a JSON array string
	SecureResource bool     // https image URLs
}

func (o *UserOptions) values(v url.Values) url.Values {
	if o == nil {
		return v
	}
	if v == nil {
		v = url.Values{}
	}
	if len(o.PropertyKeys) > 0 {
		b, _ := json.Marshal(o.PropertyKeys) // []string never fails
		v.Set("property_keys", string(b))
	}
	if o.SecureResource {
		v.Set("secure_resource", "true")
	}
	return v
}

// Me returns the user of an access token (GET /v2/user/me, Bearer). It is
// retried once on a network error or 5xx.
func (c *Client) Me(ctx context.Context, accessToken string, opt *UserOptions) (*User, error) {
	const op = "me"
	auth, err := c.bearerAuth(op, accessToken)
	if err != nil {
		return nil, err
	}
	return callFor[User](ctx, c, apiRequest{op: op, method: http.MethodGet, path: "/v2/user/me", auth: auth, query: opt.values(nil), retry: true})
}

// UserByID returns a user by ID with the admin key (GET /v2/user/me,
// KakaoAK, target_id_type=user_id&target_id=…).
func (c *Client) UserByID(ctx context.Context, userID int64, opt *UserOptions) (*User, error) {
	const op = "user_by_id"
	auth, err := c.adminAuth(op)
	if err != nil {
		return nil, err
	}
	if userID <= 0 {
		return nil, &Error{Op: op, Kind: KindBadRequest, Description: "user ID must be positive"}
	}
	return callFor[User](ctx, c, apiRequest{op: op, method: http.MethodGet, path: "/v2/user/me", auth: auth, query: opt.values(targetID(userID)), retry: true})
}

func targetID(userID int64) url.Values {
	return url.Values{"target_id_type": {"user_id"}, "target_id": {strconv.FormatInt(userID, 10)}}
}

// AccessTokenInfo is the answer of GET /v1/user/access_token_info.
type AccessTokenInfo struct {
	ID        int64 `json:"id"`
	ExpiresIn int64 `json:"expires_in"`
	AppID     int64 `json:"app_id"`
}

func (a *AccessTokenInfo) check() error {
	if a.AppID <= 0 {
		return errors.New("access_token_info without app_id")
	}
	if a.ID <= 0 {
		return errors.New("access_token_info without id")
	}
	return nil
}

// AccessTokenInfo returns the user, app and remaining lifetime of an access
// token. It is retried once on a network error or 5xx. Kakao's -1 (400) is
// temporary: see Error.Temporary.
func (c *Client) AccessTokenInfo(ctx context.Context, accessToken string) (*AccessTokenInfo, error) {
	const op = "access_token_info"
	auth, err := c.bearerAuth(op, accessToken)
	if err != nil {
		return nil, err
	}
	return callFor[AccessTokenInfo](ctx, c, apiRequest{op: op, method: http.MethodGet, path: "/v1/user/access_token_info", auth: auth, retry: true})
}

// VerifyAccessToken calls AccessTokenInfo and requires app_id == Config.AppID,
// so that a token minted for another Kakao app (e.g. by a mobile SDK) is
// refused (token substitution). Config.AppID must be set.
func (c *Client) VerifyAccessToken(ctx context.Context, accessToken string) (*AccessTokenInfo, error) {
	if c.cfg.AppID <= 0 {
		return nil, &Error{Op: "access_token_info", Kind: KindMisconfigured, Description: "Config.AppID is not set"}
	}
	info, err := c.AccessTokenInfo(ctx, accessToken)
	if err != nil {
		return nil, err
	}
	if info.AppID != c.cfg.AppID {
		return nil, &Error{Op: "access_token_info", Kind: KindInvalidToken, Description: "access token was issued for another app"}
	}
	return info, nil
}

type idAnswer struct {
	ID int64 `json:"id"`
}

func (a *idAnswer) check() error {
	if a.ID <= 0 {
		return errors.New("answer without a positive id")
	}
	return nil
}

// Logout revokes the tokens of the user of accessToken (POST /v1/user/logout)
// and returns the user ID. It is not retried.
func (c *Client) Logout(ctx context.Context, accessToken string) (int64, error) {
	return c.userPost(ctx, "logout", "/v1/user/logout", accessToken, 0, false)
}

// LogoutUser logs a user out with the admin key. It is not retried.
func (c *Client) LogoutUser(ctx context.Context, userID int64) (int64, error) {
	return c.userPost(ctx, "logout", "/v1/user/logout", "", userID, true)
}

// Unlink unlinks the user of accessToken from the app (POST /v1/user/unlink)
// and returns the user ID. Kakao sends no unlink webhook for it. It is not
// retried.
func (c *Client) Unlink(ctx context.Context, accessToken string) (int64, error) {
	return c.userPost(ctx, "unlink", "/v1/user/unlink", accessToken, 0, false)
}

// UnlinkUser unlinks a user with the admin key. It is not retried.
func (c *Client) UnlinkUser(ctx context.Context, userID int64) (int64, error) {
	return c.userPost(ctx, "unlink", "/v1/user/unlink", "", userID, true)
}

// userPost calls logout or unlink with a user token, or with the admin key.
func (c *Client) userPost(ctx context.Context, op, path, accessToken string, userID int64, admin bool) (int64, error) {
	r := apiRequest{op: op, method: http.MethodPost, path: path, form: url.Values{}}
	if admin {
		auth, err := c.adminAuth(op)
		if err != nil {
			return 0, err
		}
		if userID <= 0 {
			return 0, &Error{Op: op, Kind: KindBadRequest, Description: "user ID must be positive"}
		}
		r.auth, r.form = auth, targetID(userID)
	} else {
		auth, err := c.bearerAuth(op, accessToken)
		if err != nil {
			return 0, err
		}
		r.auth = auth
	}
	var a idAnswer
	if err := c.call(ctx, r, &a); err != nil {
		return 0, err
	}
	return a.ID, nil
}

// ScopeInfo is the answer of /v2/user/scopes and /v2/user/revoke/scopes.
type ScopeInfo struct {
	ID     int64   `json:"id"`
	Scopes []Scope `json:"scopes"`
}

func (s *ScopeInfo) check() error {
	if s.ID <= 0 {
		return errors.New("scopes answer without a positive id")
	}
	return nil
}

// Scope is one consent item of a user.
type Scope struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Type        string `json:"type"` // PRIVACY or SERVICE
	Using       bool   `json:"using"`
	Agreed      bool   `json:"agreed"`
	Revocable   *bool  `json:"revocable,omitempty"` // only when agreed
	Delegated   *bool  `json:"delegated,omitempty"`
}

// Scopes lists the consent items of the user of accessToken, optionally only
// the given scope IDs (GET /v2/user/scopes). It is retried once on a network
// error or 5xx.
func (c *Client) Scopes(ctx context.Context, accessToken string, scopes []string) (*ScopeInfo, error) {
	const op = "scopes"
	auth, err := c.bearerAuth(op, accessToken)
	if err != nil {
		return nil, err
	}
	var q url.Values
	if len(scopes) > 0 {
		b, _ := json.Marshal(scopes)
		q = url.Values{"scopes": {string(b)}}
	}
	return callFor[ScopeInfo](ctx, c, apiRequest{op: op, method: http.MethodGet, path: "/v2/user/scopes", auth: auth, query: q, retry: true})
}

// RevokeScopes withdraws the user's consent to revocable scope IDs (POST
// /v2/user/revoke/scopes). It is not retried.
func (c *Client) RevokeScopes(ctx context.Context, accessToken string, scopes []string) (*ScopeInfo, error) {
	const op = "revoke_scopes"
	auth, err := c.bearerAuth(op, accessToken)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		return nil, &Error{Op: op, Kind: KindBadRequest, Description: "no scopes to revoke"}
	}
	b, _ := json.Marshal(scopes)
	return callFor[ScopeInfo](ctx, c, apiRequest{op: op, method: http.MethodPost, path: "/v2/user/revoke/scopes", auth: auth, form: url.Values{"scopes": {string(b)}}})
}

// OIDCUserInfo is the answer of GET /v1/oidc/userinfo.
type OIDCUserInfo struct {
	Subject             string `json:"sub"`
	Name                string `json:"name,omitempty"`
	Nickname            string `json:"nickname,omitempty"`
	Picture             string `json:"picture,omitempty"`
	Email               string `json:"email,omitempty"`
	EmailVerified       *bool  `json:"email_verified,omitempty"`
	Gender              string `json:"gender,omitempty"` // "female"/"male" in the table, "MALE" in the sample: compare case-insensitively
	Birthdate           string `json:"birthdate,omitempty"`
	PhoneNumber         string `json:"phone_number,omitempty"`
	PhoneNumberVerified *bool  `json:"phone_number_verified,omitempty"`
}

func (u *OIDCUserInfo) check() error {
	if u.Subject == "" {
		return errors.New("userinfo without sub")
	}
	return nil
}

// UserInfo returns the OIDC userinfo of an access token (GET
// /v1/oidc/userinfo). It is retried once on a network error or 5xx.
func (c *Client) UserInfo(ctx context.Context, accessToken string) (*OIDCUserInfo, error) {
	const op = "userinfo"
	auth, err := c.bearerAuth(op, accessToken)
	if err != nil {
		return nil, err
	}
	return callFor[OIDCUserInfo](ctx, c, apiRequest{op: op, method: http.MethodGet, path: "/v1/oidc/userinfo", auth: auth, retry: true})
}
