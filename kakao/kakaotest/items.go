package kakaotest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Consent item IDs of the personal data in Details. Kakao's ID for CI is not confirmed
// (reference §15); the emulator uses "account_ci".
const (
	ScopeName        = "name"
	ScopeGender      = "gender"
	ScopeAgeRange    = "age_range"
	ScopeBirthday    = "birthday"
	ScopeBirthyear   = "birthyear"
	ScopePhoneNumber = "phone_number"
	ScopeCI          = "account_ci"
)

// Details are a Kakao account's optional personal data. An empty field means the account has
// no such data: its *_needs_agreement is then false and nothing is given, agreed or not.
type Details struct {
	Name         string `json:"name,omitempty"`
	Gender       string `json:"gender,omitempty"`    // "female" or "male"
	AgeRange     string `json:"age_range,omitempty"` // "20~29", …
	Birthyear    string `json:"birthyear,omitempty"` // YYYY
	Birthday     string `json:"birthday,omitempty"`  // MMDD
	BirthdayType string `json:"birthday_type,omitempty"`
	PhoneNumber  string `json:"phone_number,omitempty"` // "+82 10-1234-5678"
	CI           string `json:"ci,omitempty"`
	// CIAuthenticatedAt is when the CI was issued; zero means the connected time.
	CIAuthenticatedAt time.Time `json:"ci_authenticated_at,omitzero"`
}

// detailKeys maps the property_keys of Details items to their consent items.
var detailKeys = map[string]string{
	"kakao_account.name":         ScopeName,
	"kakao_account.gender":       ScopeGender,
	"kakao_account.age_range":    ScopeAgeRange,
	"kakao_account.birthyear":    ScopeBirthyear,
	"kakao_account.birthday":     ScopeBirthday,
	"kakao_account.phone_number": ScopePhoneNumber,
	"kakao_account.ci":           ScopeCI,
}

// AllConsentItems returns every consent item the emulator serves data for, all optional but
// the nickname: for apps (and tests) that ask for more than the defaults.
func AllConsentItems() []ConsentItem {
	return []ConsentItem{
		{ID: ScopeProfileNickname, Required: true}, {ID: ScopeProfileImage}, {ID: ScopeAccountEmail},
		{ID: ScopeName}, {ID: ScopeGender}, {ID: ScopeAgeRange}, {ID: ScopeBirthday},
		{ID: ScopeBirthyear}, {ID: ScopePhoneNumber}, {ID: ScopeCI},
	}
}

// detailsJSONLocked adds the Details items the app uses and f asks for to acc, with the
// *_needs_agreement semantics of /v2/user/me: true when the user has the value but did not
// agree; false with the value when agreed; false alone when the user has no such value.
func (e *Emulator) detailsJSONLocked(u *userRec, f meFilter, acc *accountJSON) {
	d := &u.Details
	item := func(scope, key, value string) (needs *bool, ok bool) {
		if appItem(e.app, scope) == nil || (f.details != nil && !f.details[key]) {
			return nil, false
		}
		agreed := hasItem(u.Agreed, scope)
		return ptr(value != "" && !agreed), agreed && value != ""
	}
	var ok bool
	if acc.NameNeedsAgreement, ok = item(ScopeName, "kakao_account.name", d.Name); ok {
		acc.Name = d.Name
	}
	if acc.AgeRangeNeedsAgreement, ok = item(ScopeAgeRange, "kakao_account.age_range", d.AgeRange); ok {
		acc.AgeRange = d.AgeRange
	}
	if acc.BirthyearNeedsAgreement, ok = item(ScopeBirthyear, "kakao_account.birthyear", d.Birthyear); ok {
		acc.Birthyear = d.Birthyear
	}
	if acc.BirthdayNeedsAgreement, ok = item(ScopeBirthday, "kakao_account.birthday", d.Birthday); ok {
		acc.Birthday = d.Birthday
		acc.BirthdayType = d.BirthdayType
		if acc.BirthdayType == "" {
			acc.BirthdayType = "SOLAR"
		}
		acc.IsLeapMonth = ptr(false)
	}
	if acc.GenderNeedsAgreement, ok = item(ScopeGender, "kakao_account.gender", d.Gender); ok {
		acc.Gender = d.Gender
	}
	if acc.PhoneNumberNeedsAgreement, ok = item(ScopePhoneNumber, "kakao_account.phone_number", d.PhoneNumber); ok {
		acc.PhoneNumber = d.PhoneNumber
	}
	if acc.CINeedsAgreement, ok = item(ScopeCI, "kakao_account.ci", d.CI); ok {
		acc.CI = d.CI
		at := d.CIAuthenticatedAt
		if at.IsZero() {
			at = u.connectedAt
		}
		acc.CIAuthenticatedAt = at.UTC().Format(time.RFC3339)
	}
}

// ServiceTerm is one of the app's service terms (Kakao Sync), by tag.
type ServiceTerm struct {
	Tag      string
	Required bool // required terms are agreed with every consent and cannot be revoked
}

// agreeTermsLocked records u's agreement to the given tags (and every required term) at now;
// tags the app does not have are ignored.
func (e *Emulator) agreeTermsLocked(u *userRec, tags []string, now time.Time) {
	for _, t := range e.app.ServiceTerms {
		if !t.Required && !slices.Contains(tags, t.Tag) {
			continue
		}
		if _, ok := u.Terms[t.Tag]; ok {
			continue
		}
		if u.Terms == nil {
			u.Terms = map[string]time.Time{}
		}
		u.Terms[t.Tag] = now.UTC().Truncate(time.Second)
	}
}

// allTermTags lists the tags of every service term of the app.
func (e *Emulator) allTermTagsLocked() []string {
	out := make([]string, 0, len(e.app.ServiceTerms))
	for _, t := range e.app.ServiceTerms {
		out = append(out, t.Tag)
	}
	return out
}

type serviceTermJSON struct {
	Tag       string `json:"tag"`
	Required  bool   `json:"required"`
	Agreed    bool   `json:"agreed"`
	Revocable bool   `json:"revocable"`
	AgreedAt  string `json:"agreed_at,omitempty"`
	AgreedBy  string `json:"agreed_by,omitempty"`
}

// handleServiceTerms serves GET /v2/user/service_terms (Kakao Sync): result=agreed_service_terms
// (the default) lists the terms the user agreed to, result=app_service_terms every term of the
// app with its state; tags (comma-separated) filters. Emulator choice: agreed_by is always
// KAUTH (the emulator agrees to terms only on its consent page).
func (e *Emulator) handleServiceTerms(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if !parseKapiForm(w, r) {
		return
	}
	result := r.Form.Get("result")
	if result == "" {
		result = "agreed_service_terms"
	}
	if result != "agreed_service_terms" && result != "app_service_terms" {
		kapiError(w, -2, "result must be agreed_service_terms or app_service_terms")
		return
	}
	var tags []string
	if s := r.Form.Get("tags"); s != "" {
		tags = strings.Split(s, ",")
	}
	e.mu.Lock()
	a, ok := e.authLocked(w, r, true, e.nowLocked())
	if !ok {
		e.mu.Unlock()
		return
	}
	out := struct {
		ID           int64             `json:"id"`
		ServiceTerms []serviceTermJSON `json:"service_terms"`
	}{ID: a.user.ID, ServiceTerms: []serviceTermJSON{}}
	for _, t := range e.app.ServiceTerms {
		if tags != nil && !slices.Contains(tags, t.Tag) {
			continue
		}
		at, agreed := a.user.Terms[t.Tag]
		if !agreed && result == "agreed_service_terms" {
			continue
		}
		st := serviceTermJSON{Tag: t.Tag, Required: t.Required, Agreed: agreed, Revocable: agreed && !t.Required}
		if agreed {
			st.AgreedAt, st.AgreedBy = at.UTC().Format(time.RFC3339), "KAUTH"
		}
		out.ServiceTerms = append(out.ServiceTerms, st)
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// hintUserLocked finds the user a login_hint names: by email or phone number (Kakao's ID
// field takes either), or by the decimal user ID (emulator choice). 0 when none matches.
func (e *Emulator) hintUserLocked(hint string) int64 {
	hint = strings.TrimSpace(hint)
	if hint == "" {
		return 0
	}
	for _, id := range e.userOrder {
		u := e.users[id]
		if strings.EqualFold(u.Email, hint) || (u.PhoneNumber != "" && u.PhoneNumber == hint) ||
			strconv.FormatInt(u.ID, 10) == hint {
			return id
		}
	}
	return 0
}
