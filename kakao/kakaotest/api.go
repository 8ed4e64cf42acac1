package kakaotest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Messages of kapi errors. Kakao documents -401's texts; the others are emulator choices
// (Kakao's wording is not confirmed), and clients must act on the code only.
const (
	msgTokenNotExist = "this access token does not exist"
	msgTokenExpired  = "this access token is already expired"
	msgNoAuth        = "no authentication key!"
	msgWrongAdminKey = "wrong admin key"
	msgNotLinked     = "NotRegisteredUserException"
)

// Default Kakao profile images, for users without an image of their own.
const (
	defaultThumbnailURL    = "http://img.kakaoemulator.test/default/img_110x110.jpg"
	defaultProfileImageURL = "http://img.kakaoemulator.test/default/img_640x640.jpg"
)

// authResult is the outcome of a kapi authentication: the user, and the access token when
// the call used one.
type authResult struct {
	user   *userRec
	access *accessRec
	token  string
}

// authLocked authenticates a kapi call: "Bearer <access token>", or, when allowAdmin, "KakaoAK
// <admin key>" with target_id_type=user_id and target_id. It writes the error answer itself and
// returns false on failure.
func (e *Emulator) authLocked(w http.ResponseWriter, r *http.Request, allowAdmin bool, now time.Time) (authResult, bool) {
	scheme, value, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	value = strings.TrimSpace(value)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		if value == "" {
			kapiError(w, -2, "access token is empty")
			return authResult{}, false
		}
		a, ok := e.access[value]
		if !ok {
			kapiError(w, -401, msgTokenNotExist)
			return authResult{}, false
		}
		if !now.Before(a.expiry) {
			kapiError(w, -401, msgTokenExpired)
			return authResult{}, false
		}
		u, ok := e.users[a.userID]
		if !ok || len(u.Agreed) == 0 {
			kapiError(w, -401, msgTokenNotExist)
			return authResult{}, false
		}
		return authResult{user: u, access: a, token: value}, true
	case strings.EqualFold(scheme, "KakaoAK"):
		if !allowAdmin {
			writeJSON(w, http.StatusBadRequest, kapiErr{Msg: "this API needs a user access token (Bearer)", Code: -2})
			return authResult{}, false
		}
		if e.app.AdminKey == "" || value != e.app.AdminKey {
			kapiError(w, -401, msgWrongAdminKey)
			return authResult{}, false
		}
		if t := r.Form.Get("target_id_type"); t != "user_id" {
			kapiError(w, -2, "target_id_type must be user_id")
			return authResult{}, false
		}
		id, err := strconv.ParseInt(r.Form.Get("target_id"), 10, 64)
		if err != nil {
			kapiError(w, -2, "target_id must be a user id (Long)")
			return authResult{}, false
		}
		u, ok := e.users[id]
		if !ok || len(u.Agreed) == 0 {
			kapiError(w, -101, msgNotLinked)
			return authResult{}, false
		}
		return authResult{user: u}, true
	default:
		kapiError(w, -401, msgNoAuth)
		return authResult{}, false
	}
}

// parseKapiForm reads query and form body parameters (kapi takes either).
func parseKapiForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		kapiError(w, -2, "malformed parameters")
		return false
	}
	return true
}

// parseJSONList reads a JSON string-array parameter such as property_keys=["kakao_account.email"].
func parseJSONList(s string) ([]string, bool) {
	if s == "" {
		return nil, true
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, false
	}
	return out, true
}

// profileJSON is kakao_account.profile.
type profileJSON struct {
	Nickname          string `json:"nickname,omitempty"`
	ThumbnailImageURL string `json:"thumbnail_image_url,omitempty"`
	ProfileImageURL   string `json:"profile_image_url,omitempty"`
	IsDefaultImage    *bool  `json:"is_default_image,omitempty"`
	IsDefaultNickname *bool  `json:"is_default_nickname,omitempty"`
}

// accountJSON is kakao_account, in the order of Kakao's sample.
type accountJSON struct {
	ProfileNeedsAgreement         *bool        `json:"profile_needs_agreement,omitempty"`
	ProfileNicknameNeedsAgreement *bool        `json:"profile_nickname_needs_agreement,omitempty"`
	ProfileImageNeedsAgreement    *bool        `json:"profile_image_needs_agreement,omitempty"`
	Profile                       *profileJSON `json:"profile,omitempty"`
	NameNeedsAgreement            *bool        `json:"name_needs_agreement,omitempty"`
	Name                          string       `json:"name,omitempty"`
	EmailNeedsAgreement           *bool        `json:"email_needs_agreement,omitempty"`
	IsEmailValid                  *bool        `json:"is_email_valid,omitempty"`
	IsEmailVerified               *bool        `json:"is_email_verified,omitempty"`
	Email                         string       `json:"email,omitempty"`
	AgeRangeNeedsAgreement        *bool        `json:"age_range_needs_agreement,omitempty"`
	AgeRange                      string       `json:"age_range,omitempty"`
	BirthyearNeedsAgreement       *bool        `json:"birthyear_needs_agreement,omitempty"`
	Birthyear                     string       `json:"birthyear,omitempty"`
	BirthdayNeedsAgreement        *bool        `json:"birthday_needs_agreement,omitempty"`
	Birthday                      string       `json:"birthday,omitempty"`
	BirthdayType                  string       `json:"birthday_type,omitempty"`
	IsLeapMonth                   *bool        `json:"is_leap_month,omitempty"`
	GenderNeedsAgreement          *bool        `json:"gender_needs_agreement,omitempty"`
	Gender                        string       `json:"gender,omitempty"`
	PhoneNumberNeedsAgreement     *bool        `json:"phone_number_needs_agreement,omitempty"`
	PhoneNumber                   string       `json:"phone_number,omitempty"`
	CINeedsAgreement              *bool        `json:"ci_needs_agreement,omitempty"`
	CI                            string       `json:"ci,omitempty"`
	CIAuthenticatedAt             string       `json:"ci_authenticated_at,omitempty"`
}

// meJSON is the /v2/user/me answer.
type meJSON struct {
	ID           int64             `json:"id"`
	ConnectedAt  string            `json:"connected_at,omitempty"`
	KakaoAccount *accountJSON      `json:"kakao_account,omitempty"`
	Properties   map[string]string `json:"properties,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// meFilter says which parts of /v2/user/me property_keys asked for.
type meFilter struct {
	profile, email bool
	details        map[string]bool // property keys of Details items ("kakao_account.gender"); nil: all
	allProps       bool
	props          map[string]bool
}

func parsePropertyKeys(keys []string, given bool) (meFilter, string, bool) {
	if !given {
		return meFilter{profile: true, email: true, allProps: true}, "", true
	}
	f := meFilter{details: map[string]bool{}}
	for _, k := range keys {
		switch {
		case k == "kakao_account.":
			f.profile, f.email, f.details = true, true, nil
		case detailKeys[k] != "":
			if f.details != nil {
				f.details[k] = true
			}
		case k == "kakao_account.profile":
			f.profile = true
		case k == "kakao_account.email":
			f.email = true
		case k == "properties.":
			f.allProps = true
		case strings.HasPrefix(k, "properties."):
			if f.props == nil {
				f.props = map[string]bool{}
			}
			f.props[strings.TrimPrefix(k, "properties.")] = true
		case strings.HasPrefix(k, "kakao_account."), k == "has_signed_up", k == "for_partner.uuid",
			k == "synched_at", k == "connected_at":
			// Documented keys of data the emulator does not hold: nothing to return.
		default:
			return f, k, false
		}
	}
	return f, "", true
}

// userJSONLocked builds /v2/user/me for u with the *_needs_agreement semantics of §5: for each
// consent item the app uses, true when the user has the data but did not agree; false with the
// value when agreed; false without a value when the user has no such data.
func (e *Emulator) userJSONLocked(u *userRec, f meFilter, secure bool) meJSON {
	out := meJSON{ID: u.ID}
	if !u.connectedAt.IsZero() {
		out.ConnectedAt = u.connectedAt.UTC().Format(time.RFC3339)
	}
	fixURL := func(s string) string {
		if secure {
			return strings.Replace(s, "http://", "https://", 1)
		}
		return s
	}
	acc := &accountJSON{}
	var prof profileJSON
	hasProfile := false
	uses := func(id string) bool { return appItem(e.app, id) != nil }
	addNickname := func() {
		prof.Nickname, hasProfile = u.Nickname, true
	}
	addImage := func() {
		prof.ThumbnailImageURL = fixURL(thumbnailURL(&u.User))
		prof.ProfileImageURL = fixURL(profileImageURL(&u.User))
		prof.IsDefaultImage, hasProfile = ptr(u.ProfileImageURL == ""), true
	}
	if f.profile {
		if uses(ScopeProfile) {
			agreed := hasItem(u.Agreed, ScopeProfile)
			acc.ProfileNeedsAgreement = ptr(!agreed)
			if agreed {
				addNickname()
				addImage()
			}
		}
		if uses(ScopeProfileNickname) {
			agreed := hasItem(u.Agreed, ScopeProfileNickname)
			acc.ProfileNicknameNeedsAgreement = ptr(!agreed)
			if agreed {
				addNickname()
			}
		}
		if uses(ScopeProfileImage) {
			agreed := hasItem(u.Agreed, ScopeProfileImage)
			acc.ProfileImageNeedsAgreement = ptr(!agreed)
			if agreed {
				addImage()
			}
		}
		// Kakao's samples show is_default_nickname with the image fields, and a nickname-only
		// profile as {"nickname"} alone; the emulator follows both.
		if prof.Nickname != "" && prof.IsDefaultImage != nil {
			prof.IsDefaultNickname = ptr(false)
		}
		if hasProfile {
			acc.Profile = &prof
		}
	}
	if f.email && uses(ScopeAccountEmail) {
		agreed := hasItem(u.Agreed, ScopeAccountEmail)
		acc.EmailNeedsAgreement = ptr(u.Email != "" && !agreed)
		if agreed && u.Email != "" {
			acc.IsEmailValid, acc.IsEmailVerified, acc.Email = ptr(u.EmailValid), ptr(u.EmailVerified), u.Email
		}
	}
	e.detailsJSONLocked(u, f, acc)
	if *acc != (accountJSON{}) {
		out.KakaoAccount = acc
	}
	if len(u.Properties) > 0 && (f.allProps || len(f.props) > 0) {
		out.Properties = map[string]string{}
		for k, v := range u.Properties {
			if f.allProps || f.props[k] {
				out.Properties[k] = v
			}
		}
	}
	return out
}

func agreedNickname(u *User) bool {
	return hasItem(u.Agreed, ScopeProfileNickname) || hasItem(u.Agreed, ScopeProfile)
}

func agreedImage(u *User) bool {
	return hasItem(u.Agreed, ScopeProfileImage) || hasItem(u.Agreed, ScopeProfile)
}

func thumbnailURL(u *User) string {
	switch {
	case u.ThumbnailImageURL != "":
		return u.ThumbnailImageURL
	case u.ProfileImageURL != "":
		return u.ProfileImageURL
	default:
		return defaultThumbnailURL
	}
}

func profileImageURL(u *User) string {
	if u.ProfileImageURL != "" {
		return u.ProfileImageURL
	}
	return defaultProfileImageURL
}

// handleMe serves GET/POST /v2/user/me.
//
// Emulator choice: property_keys asking for an item the user did not agree to is not an error;
// the answer carries the item's *_needs_agreement=true, as Kakao's does. -402 is kept for APIs
// that cannot answer without the consent (here /v1/oidc/userinfo without openid).
func (e *Emulator) handleMe(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, "GET, POST")
		return
	}
	if !parseKapiForm(w, r) {
		return
	}
	keys, ok := parseJSONList(r.Form.Get("property_keys"))
	if !ok {
		kapiError(w, -2, "property_keys must be a JSON array of strings")
		return
	}
	filter, bad, ok := parsePropertyKeys(keys, r.Form.Has("property_keys"))
	if !ok {
		kapiError(w, -2, "invalid property_keys: "+bad)
		return
	}
	secure := false
	if s := r.Form.Get("secure_resource"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			kapiError(w, -2, "secure_resource must be true or false")
			return
		}
		secure = b
	}
	e.mu.Lock()
	a, ok := e.authLocked(w, r, true, e.nowLocked())
	if !ok {
		e.mu.Unlock()
		return
	}
	out := e.userJSONLocked(a.user, filter, secure)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// userInfoJSON is the OIDC userinfo answer.
type userInfoJSON struct {
	Sub           string `json:"sub"`
	Nickname      string `json:"nickname,omitempty"`
	Picture       string `json:"picture,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

// handleUserInfo serves /v1/oidc/userinfo: only consented items, email_verified = valid and
// verified. Emulator choice: with OIDC off the answer is -3 (setting not done); a token issued
// without openid gets -402 with required_scopes ["openid"].
func (e *Emulator) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, "GET, POST")
		return
	}
	if !parseKapiForm(w, r) {
		return
	}
	e.mu.Lock()
	a, ok := e.authLocked(w, r, false, e.nowLocked())
	if !ok {
		e.mu.Unlock()
		return
	}
	if !e.app.OIDC {
		e.mu.Unlock()
		kapiError(w, -3, "OpenID Connect is not enabled for the app")
		return
	}
	if !a.access.openid {
		e.mu.Unlock()
		writeJSON(w, http.StatusForbidden, kapiErr{Msg: "insufficient scopes", Code: -402,
			RequiredScopes: []string{ScopeOpenID}, APIType: "OIDC_USER_INFO"})
		return
	}
	u := &a.user.User
	out := userInfoJSON{Sub: strconv.FormatInt(u.ID, 10)}
	if agreedNickname(u) {
		out.Nickname = u.Nickname
	}
	if agreedImage(u) {
		out.Picture = thumbnailURL(u)
	}
	if hasItem(u.Agreed, ScopeAccountEmail) && u.Email != "" {
		out.Email, out.EmailVerified = u.Email, ptr(u.EmailValid && u.EmailVerified)
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleAccessTokenInfo serves GET /v1/user/access_token_info: {id, expires_in, app_id}.
func (e *Emulator) handleAccessTokenInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if !parseKapiForm(w, r) {
		return
	}
	e.mu.Lock()
	now := e.nowLocked()
	a, ok := e.authLocked(w, r, false, now)
	if !ok {
		e.mu.Unlock()
		return
	}
	appID := e.app.AppID
	if a.access.appID != 0 {
		appID = a.access.appID
	}
	out := struct {
		ID        int64 `json:"id"`
		ExpiresIn int64 `json:"expires_in"`
		AppID     int64 `json:"app_id"`
	}{a.user.ID, int64(a.access.expiry.Sub(now) / time.Second), appID}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

type idJSON struct {
	ID int64 `json:"id"`
}

// handleUserLogout serves POST /v1/user/logout: every token of the user for the app is revoked.
func (e *Emulator) handleUserLogout(w http.ResponseWriter, r *http.Request) {
	e.serveUserAction(w, r, func(u *userRec) { e.revokeTokensLocked(u.ID) })
}

// handleUnlink serves POST /v1/user/unlink: consents withdrawn, tokens revoked, properties
// deleted. The unlink webhook is not sent (Kakao sends it only for unlinks outside the service).
func (e *Emulator) handleUnlink(w http.ResponseWriter, r *http.Request) {
	e.serveUserAction(w, r, e.unlinkLocked)
}

// serveUserAction serves the POST endpoints that act on one user, named by a user token or by
// the admin key and target_id: act runs under the lock, and the answer is the user's ID.
func (e *Emulator) serveUserAction(w http.ResponseWriter, r *http.Request, act func(*userRec)) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	if !parseKapiForm(w, r) {
		return
	}
	e.mu.Lock()
	a, ok := e.authLocked(w, r, true, e.nowLocked())
	if !ok {
		e.mu.Unlock()
		return
	}
	act(a.user)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, idJSON{a.user.ID})
}

func (e *Emulator) revokeTokensLocked(userID int64) {
	for k, a := range e.access {
		if a.userID == userID {
			delete(e.access, k)
		}
	}
	for k, rt := range e.refresh {
		if rt.userID == userID {
			delete(e.refresh, k)
		}
	}
}

func (e *Emulator) unlinkLocked(u *userRec) {
	u.Agreed = nil
	u.Terms = nil
	u.Properties = nil
	u.connectedAt = time.Time{}
	e.revokeTokensLocked(u.ID)
}

// scopeJSON is one consent item in /v2/user/scopes.
type scopeJSON struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Type        string `json:"type"`
	Using       bool   `json:"using"`
	Agreed      bool   `json:"agreed"`
	Revocable   *bool  `json:"revocable,omitempty"`
}

type scopesJSON struct {
	ID     int64       `json:"id"`
	Scopes []scopeJSON `json:"scopes"`
}

// scopesLocked lists the app's consent items and any other item the user agreed to earlier.
func (e *Emulator) scopesLocked(u *userRec, filter []string) scopesJSON {
	out := scopesJSON{ID: u.ID, Scopes: []scopeJSON{}}
	add := func(id string, using, required bool) {
		if filter != nil && !hasItem(filter, id) {
			return
		}
		s := scopeJSON{ID: id, DisplayName: itemName(id)[1], Type: scopeType(id), Using: using,
			Agreed: hasItem(u.Agreed, id)}
		if s.Agreed {
			s.Revocable = ptr(!required)
		}
		out.Scopes = append(out.Scopes, s)
	}
	for _, it := range e.app.ConsentItems {
		add(it.ID, true, it.Required)
	}
	for _, id := range u.Agreed {
		if appItem(e.app, id) == nil {
			add(id, false, false)
		}
	}
	return out
}

func scopeType(id string) string {
	switch id {
	case "friends", "talk_message", "talk_chats", "talk_calendar", "story_publish", "story_read":
		return "SERVICE"
	}
	return "PRIVACY"
}

// handleScopes serves GET /v2/user/scopes.
func (e *Emulator) handleScopes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if !parseKapiForm(w, r) {
		return
	}
	filter, ok := parseJSONList(r.Form.Get("scopes"))
	if !ok {
		kapiError(w, -2, "scopes must be a JSON array of strings")
		return
	}
	if r.Form.Has("scopes") && filter == nil {
		filter = []string{}
	}
	e.mu.Lock()
	a, ok := e.authLocked(w, r, true, e.nowLocked())
	if !ok {
		e.mu.Unlock()
		return
	}
	out := e.scopesLocked(a.user, filter)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleRevokeScopes serves POST /v2/user/revoke/scopes: only revocable (optional, agreed)
// items; a required item is -3 (403), nothing to revoke is -2 (400), with Kakao's messages.
func (e *Emulator) handleRevokeScopes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	if !parseKapiForm(w, r) {
		return
	}
	scopes, ok := parseJSONList(r.Form.Get("scopes"))
	if !ok || len(scopes) == 0 {
		kapiError(w, -2, "scopes must be a non-empty JSON array of scope ids")
		return
	}
	e.mu.Lock()
	a, ok := e.authLocked(w, r, true, e.nowLocked())
	if !ok {
		e.mu.Unlock()
		return
	}
	u := a.user
	var revoke []string
	for _, s := range scopes {
		if ci := appItem(e.app, s); ci != nil && ci.Required && hasItem(u.Agreed, s) {
			e.mu.Unlock()
			kapiError(w, -3, "["+s+"] is not revocable. check out if it's set as required on developers.kakao.com")
			return
		}
		if hasItem(u.Agreed, s) {
			revoke = append(revoke, s)
		}
	}
	if len(revoke) == 0 {
		e.mu.Unlock()
		kapiError(w, -2, "There is no scopes to revoke. check out if given scope id(["+strings.Join(scopes, ", ")+"]) is correct again.")
		return
	}
	kept := u.Agreed[:0]
	for _, s := range u.Agreed {
		if !hasItem(revoke, s) {
			kept = append(kept, s)
		}
	}
	u.Agreed = kept
	out := e.scopesLocked(u, nil)
	if len(u.Agreed) == 0 {
		// Revoking the last item leaves the user without any consent: treat as unlinked.
		e.unlinkLocked(u)
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
