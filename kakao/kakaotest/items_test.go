package kakaotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/kakao/kakaotest"
)

// detailsEmu serves an app with every consent item and service terms, and a user with every
// detail, linked with the nickname only.
func detailsEmu(t *testing.T) (*kakaotest.Server, *clock) {
	t.Helper()
	app := testApp()
	app.ConsentItems = kakaotest.AllConsentItems()
	app.ServiceTerms = []kakaotest.ServiceTerm{{Tag: "terms_service", Required: true}, {Tag: "terms_marketing"}}
	users := kakaotest.DefaultUsers()
	users[0].Details = kakaotest.Details{Name: "김민준", Gender: "male", AgeRange: "30~39", Birthyear: "1990",
		Birthday: "0415", PhoneNumber: "+82 10-1234-5678", CI: "ci-value"}
	s := kakaotest.NewServer(t, app, users)
	c := newClock()
	s.SetNow(c.Now)
	return s, c
}

func TestMe_DetailsNeedAgreement(t *testing.T) {
	s, _ := detailsEmu(t)
	u, _ := s.User(userVerified)
	u.Agreed = []string{"profile_nickname"}
	s.AddUser(u)
	me := func(keys string) map[string]any {
		t.Helper()
		form := adminForm(strconv.FormatInt(userVerified, 10))
		if keys != "" {
			form.Set("property_keys", keys)
		}
		r := do(t, s, http.MethodPost, "/v2/user/me", adminAuth, form)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		acc, _ := r.JSON(t)["kakao_account"].(map[string]any)
		return acc
	}
	acc := me("")
	for _, k := range []string{"name", "gender", "age_range", "birthyear", "birthday", "phone_number", "ci"} {
		if acc[k+"_needs_agreement"] != true {
			t.Errorf("%s_needs_agreement = %v, want true (user has it, not agreed)", k, acc[k+"_needs_agreement"])
		}
		if _, ok := acc[k]; ok {
			t.Errorf("%s given without consent", k)
		}
	}
	// The user without details: needs_agreement false, nothing given (not collectible).
	u2, _ := s.User(userNoEmail)
	u2.Agreed = []string{"profile_nickname"}
	s.AddUser(u2)
	r := do(t, s, http.MethodPost, "/v2/user/me", adminAuth, adminForm(strconv.FormatInt(userNoEmail, 10)))
	acc2, _ := r.JSON(t)["kakao_account"].(map[string]any)
	if acc2["gender_needs_agreement"] != false || acc2["gender"] != nil {
		t.Errorf("no gender at all: %v", acc2)
	}

	u.Agreed = append(u.Agreed, kakaotest.ScopeGender, kakaotest.ScopeBirthday, kakaotest.ScopeCI)
	s.AddUser(u)
	acc = me("")
	if acc["gender"] != "male" || acc["gender_needs_agreement"] != false {
		t.Errorf("gender after consent: %v", acc)
	}
	if acc["birthday"] != "0415" || acc["birthday_type"] != "SOLAR" || acc["is_leap_month"] != false {
		t.Errorf("birthday after consent: %v", acc)
	}
	if acc["ci"] != "ci-value" || acc["ci_authenticated_at"] == nil {
		t.Errorf("ci after consent: %v", acc)
	}
	if acc["name_needs_agreement"] != true {
		t.Errorf("name still needs agreement: %v", acc["name_needs_agreement"])
	}
	// property_keys selects: only gender.
	acc = me(`["kakao_account.gender"]`)
	if acc["gender"] != "male" || acc["name_needs_agreement"] != nil || acc["email_needs_agreement"] != nil {
		t.Errorf("property_keys gender only: %v", acc)
	}
}

func TestAuthorize_AdditionalConsentForDetails(t *testing.T) {
	s, _ := detailsEmu(t)
	b := linkedBrowser(t, s, s.URL)
	// A linked person asked for gender: the page asks for it alone (plus the required nickname).
	page := getPage(t, b, authorizeURL(s.URL, url.Values{"scope": {"gender,openid"}}))
	if !strings.Contains(page, `value="gender"`) || strings.Contains(page, `value="phone_number"`) {
		t.Fatalf("additional consent page: %s", page)
	}
	id := requestRE.FindStringSubmatch(page)[1]
	resp, err := b.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {id},
		"user": {strconv.FormatInt(userVerified, 10)}, "scope": {"gender"}, "action": {"agree"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(callbackParams(t, resp).Get("code"))).JSON(t)
	if !strings.Contains(str(m, "scope"), "gender") {
		t.Errorf("scope = %q", str(m, "scope"))
	}
	u, _ := s.User(userVerified)
	if !strings.Contains(strings.Join(u.Agreed, " "), "gender") {
		t.Errorf("agreed = %v", u.Agreed)
	}
	// Asked again once agreed: a code at once, no page.
	resp, err = b.Get(authorizeURL(s.URL, url.Values{"scope": {"gender"}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if callbackParams(t, resp).Get("code") == "" {
		t.Error("agreed item asked again: no code")
	}
	// Declined (cancel): access_denied, the earlier consent stays.
	page = getPage(t, b, authorizeURL(s.URL, url.Values{"scope": {"phone_number"}}))
	id = requestRE.FindStringSubmatch(page)[1]
	resp, err = b.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {id}, "action": {"cancel"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if q := callbackParams(t, resp); q.Get("error") != "access_denied" {
		t.Errorf("declined: %v", q)
	}
	if u, _ := s.User(userVerified); len(u.Agreed) == 0 {
		t.Error("declining additional consent unlinked the user")
	}
}

func TestServiceTerms(t *testing.T) {
	s, c := detailsEmu(t)
	b := noRedirect(s.Client())
	b.Jar = newJar()
	page := getPage(t, b, authorizeURL(s.URL, nil))
	if !strings.Contains(page, "terms_service") || !strings.Contains(page, `id="term-terms_marketing"`) {
		t.Fatalf("consent page without the service terms")
	}
	id := requestRE.FindStringSubmatch(page)[1]
	// Required terms are agreed with the consent; the optional one left unticked.
	resp, err := b.PostForm(s.URL+"/oauth/authorize", url.Values{"request": {id},
		"user": {strconv.FormatInt(userVerified, 10)}, "term": {"terms_service"}, "action": {"agree"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m := do(t, s, http.MethodPost, "/oauth/token", "", tokenForm(callbackParams(t, resp).Get("code"))).JSON(t)
	at := str(m, "access_token")
	c.Add(time.Hour)

	type term struct {
		Tag       string `json:"tag"`
		Required  bool   `json:"required"`
		Agreed    bool   `json:"agreed"`
		Revocable bool   `json:"revocable"`
		AgreedAt  string `json:"agreed_at"`
		AgreedBy  string `json:"agreed_by"`
	}
	get := func(auth string, form url.Values) (int64, []term) {
		t.Helper()
		r := do(t, s, http.MethodGet, "/v2/user/service_terms", auth, form)
		if r.Status != 200 {
			t.Fatalf("service_terms: %d %s", r.Status, r.Body)
		}
		var out struct {
			ID           int64  `json:"id"`
			ServiceTerms []term `json:"service_terms"`
		}
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatal(err)
		}
		return out.ID, out.ServiceTerms
	}
	id64, terms := get("Bearer "+at, url.Values{})
	if id64 != userVerified || len(terms) != 1 || terms[0].Tag != "terms_service" || !terms[0].Agreed ||
		terms[0].Revocable || terms[0].AgreedAt != "2026-03-01T09:00:00Z" || terms[0].AgreedBy != "KAUTH" {
		t.Errorf("agreed terms = %+v", terms)
	}
	form := adminForm(strconv.FormatInt(userVerified, 10))
	form.Set("result", "app_service_terms")
	_, terms = get(adminAuth, form)
	if len(terms) != 2 || terms[1].Tag != "terms_marketing" || terms[1].Agreed || terms[1].AgreedAt != "" {
		t.Errorf("app terms = %+v", terms)
	}
	form.Set("tags", "terms_marketing")
	if _, terms = get(adminAuth, form); len(terms) != 1 || terms[0].Tag != "terms_marketing" {
		t.Errorf("tags filter = %+v", terms)
	}
	form.Set("result", "everything")
	wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/service_terms", adminAuth, form), 400, -2)
	wantKapiError(t, do(t, s, http.MethodGet, "/v2/user/service_terms", "Bearer nope", url.Values{}), 401, -401)
	// Unlink withdraws the terms.
	do(t, s, http.MethodPost, "/v1/user/unlink", adminAuth, adminForm(strconv.FormatInt(userVerified, 10)))
	if u, _ := s.User(userVerified); len(u.Terms) != 0 {
		t.Errorf("terms after unlink = %v", u.Terms)
	}
}

func TestAuthorize_LoginHintAndSelectAccount(t *testing.T) {
	s, _ := detailsEmu(t)
	b := noRedirect(s.Client())
	b.Jar = newJar()
	checked := func(page string, id int64) bool {
		return strings.Contains(page, `value="`+strconv.FormatInt(id, 10)+`" checked`)
	}
	// Without a Kakao session the hint (email or phone) preselects that account.
	page := getPage(t, b, authorizeURL(s.URL, url.Values{"login_hint": {"jiho.park@example.com"}}))
	if !checked(page, userUnverified) {
		t.Error("login_hint by email did not preselect the account")
	}
	page = getPage(t, b, authorizeURL(s.URL, url.Values{"login_hint": {"+82 10-1234-5678"}}))
	if !checked(page, userVerified) {
		t.Error("login_hint by phone did not preselect the account")
	}
	// With a session, select_account shows the chooser with the session's account, and the
	// hint (only for Kakao's login form) changes nothing.
	lb := linkedBrowser(t, s, s.URL)
	page = getPage(t, lb, authorizeURL(s.URL, url.Values{"prompt": {"select_account"}, "login_hint": {"jiho.park@example.com"}}))
	if !checked(page, userVerified) || checked(page, userUnverified) {
		t.Error("select_account with a session: the session's account is not the one chosen")
	}
	// Without prompt, the linked session answers at once.
	resp, err := lb.Get(authorizeURL(s.URL, url.Values{"login_hint": {"jiho.park@example.com"}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if callbackParams(t, resp).Get("code") == "" {
		t.Error("linked session with a hint: no code at once")
	}
}
