package kakaotest

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sessionCookie is the emulator's Kakao Account session cookie.
const sessionCookie = "kakao_emulator_session"

// pendingAuth is an authorization request waiting for the consent page's answer.
type pendingAuth struct {
	clientID    string
	redirectURI string
	state       string
	nonce       string
	challenge   string
	openid      bool
	items       []string // consent items shown on the page
	terms       []string // service terms shown on the page (tags)
	sessionUser int64    // user of the Kakao session, preselected; 0 if none
	expiry      time.Time
}

// pendingLifetime is how long a consent page may stay open before its request expires.
const pendingLifetime = 30 * time.Minute

// challengeRE matches an S256 code challenge: base64url of 32 bytes, no padding.
var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// splitList splits a comma- or space-separated parameter (Kakao documents commas; its SDKs send
// spaces).
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '+' })
}

func (e *Emulator) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		e.authorizeGet(w, r)
	case http.MethodPost:
		e.authorizePost(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

// authorizeGet validates an authorization request, then answers at once (auto-consent, a
// session of a linked user, prompt=none) or shows the consent page.
//
// Errors in client_id, redirect_uri and response_type are shown on an error page, never
// redirected: the redirect URI cannot be trusted yet (Kakao shows its own KOE page). Errors of
// a trusted request (PKCE parameters, unknown scope, prompt=none) are redirected with
// error/error_description/state.
func (e *Emulator) authorizeGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirectURI, state := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")

	e.mu.Lock()
	app := e.app
	auto := e.autoConsent
	now := e.nowLocked()
	e.mu.Unlock()

	if clientID == "" || (clientID != app.RESTKey && clientID != app.JavaScriptKey && clientID != app.NativeKey) {
		errorPage(w, http.StatusBadRequest, "KOE101", "앱 키가 올바르지 않습니다", "Invalid app key",
			"client_id에 해당하는 앱이 없습니다: ["+clientID+"]", "Not exist client_id ["+clientID+"]")
		return
	}
	if redirectURI == "" || !slices.Contains(app.RedirectURIs, redirectURI) {
		errorPage(w, http.StatusBadRequest, "KOE006", "앱 관리자 설정 오류", "Admin Settings Issue",
			"등록되지 않은 리다이렉트 URI입니다: "+redirectURI,
			"The redirect URI is not registered: "+redirectURI)
		return
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "token":
		errorPage(w, http.StatusBadRequest, "KOE202", "잘못된 요청", "Invalid request",
			"암묵적 승인(Implicit grant)은 지원하지 않습니다.", "Implicit grant is not supported.")
		return
	default:
		errorPage(w, http.StatusBadRequest, "KOE201", "잘못된 요청", "Invalid request",
			"지원하지 않는 response_type입니다: "+rt, "Unsupported response type: "+rt)
		return
	}
	fail := func(errCode, desc string) {
		redirectParams(w, redirectURI, "error", errCode, "error_description", desc, "state", state)
	}

	// PKCE: only S256 is accepted (the discovery document advertises only S256); "plain", a
	// missing method or a malformed challenge is invalid_request.
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge != "" || method != "" {
		if method != "S256" {
			fail("invalid_request", "code_challenge_method must be S256")
			return
		}
		if !challengeRE.MatchString(challenge) {
			fail("invalid_request", "invalid code_challenge")
			return
		}
	}
	var items []string
	scopes := splitList(q.Get("scope"))
	openidAsked := false
	for _, s := range scopes {
		switch {
		case s == ScopeOpenID && !app.OIDC:
			// Kakao refuses openid for an app without OpenID Connect (KOE205 on its page);
			// the emulator redirects invalid_scope, as for any item not set in the app.
			fail("invalid_scope", "invalid scope: openid (OpenID Connect is not enabled for the app)")
			return
		case s == ScopeOpenID:
			openidAsked = true
		case appItem(app, s) != nil:
			if !slices.Contains(items, s) {
				items = append(items, s)
			}
		default:
			fail("invalid_scope", "invalid scope: "+s)
			return
		}
	}
	// An ID token comes with OIDC on, except that an additional-consent request must ask for
	// openid again to get one.
	openid := app.OIDC && (len(scopes) == 0 || openidAsked)
	nonce := q.Get("nonce")
	prompts := splitList(q.Get("prompt"))
	forcePage := slices.Contains(prompts, "login") || slices.Contains(prompts, "create") ||
		slices.Contains(prompts, "select_account")

	e.mu.Lock()
	defer e.mu.Unlock()
	if u, ok := e.users[auto]; ok && auto != 0 {
		e.linkAllLocked(u, now)
		code := e.issueCodeLocked(now, u.ID, clientID, redirectURI, challenge, nonce, openid, now)
		redirectParams(w, redirectURI, "code", code, "state", state)
		return
	}
	sess, hasSession := e.sessionLocked(r)
	needed := slices.Clone(items)
	for _, it := range app.ConsentItems {
		if it.Required {
			needed = append(needed, it.ID)
		}
	}
	satisfied := false
	if hasSession {
		if u, ok := e.users[sess.userID]; ok && len(u.Agreed) > 0 {
			satisfied = true
			for _, it := range needed {
				if !hasItem(u.Agreed, it) {
					satisfied = false
				}
			}
		}
	}
	if slices.Contains(prompts, "none") {
		switch {
		case !hasSession:
			// login_required on the web prompt=none flow is not confirmed for Kakao; it is what
			// OIDC specifies for "no session".
			fail("login_required", "user login required.")
		case !satisfied:
			fail("consent_required", "user consent required.")
		default:
			code := e.issueCodeLocked(now, sess.userID, clientID, redirectURI, challenge, nonce, openid, sess.authTime)
			redirectParams(w, redirectURI, "code", code, "state", state)
		}
		return
	}
	if satisfied && !forcePage {
		code := e.issueCodeLocked(now, sess.userID, clientID, redirectURI, challenge, nonce, openid, sess.authTime)
		redirectParams(w, redirectURI, "code", code, "state", state)
		return
	}
	shown := items
	if len(shown) == 0 {
		for _, it := range app.ConsentItems {
			shown = append(shown, it.ID)
		}
	} else {
		for _, it := range app.ConsentItems {
			if it.Required && !slices.Contains(shown, it.ID) {
				shown = append([]string{it.ID}, shown...)
			}
		}
	}
	// Service terms (Kakao Sync): the tags asked for, or every term of the app on a first link.
	terms := splitList(q.Get("service_terms"))
	if len(terms) == 0 && len(items) == 0 {
		terms = e.allTermTagsLocked()
	}
	p := &pendingAuth{clientID: clientID, redirectURI: redirectURI, state: state, nonce: nonce,
		challenge: challenge, openid: openid, items: shown, terms: terms, expiry: now.Add(pendingLifetime)}
	if hasSession {
		p.sessionUser = sess.userID
	} else {
		// login_hint fills in Kakao's login form, which is shown only without a session: here
		// it preselects the test user it names.
		p.sessionUser = e.hintUserLocked(q.Get("login_hint"))
	}
	id := randomToken(24)
	e.pending[id] = p
	e.sweepLocked(now)
	e.renderConsentLocked(w, http.StatusOK, id, p, nil, consentForm{user: strconv.FormatInt(p.sessionUser, 10), scopes: nil, fresh: true})
}

// consentForm is what the consent page's form held, for re-rendering it after an error.
type consentForm struct {
	user            string
	nickname, email string
	scopes          []string
	fresh           bool // first rendering: optional items start checked
}

// authorizePost handles the consent form: cancel → access_denied; agree → link the chosen (or
// new) user with the items ticked, start a Kakao session and redirect with a code.
func (e *Emulator) authorizePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		errorPage(w, http.StatusBadRequest, "KOE001", "잘못된 요청", "Invalid request",
			"요청 본문을 읽을 수 없습니다.", "The request body could not be read.")
		return
	}
	f := r.PostForm
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.nowLocked()
	id := f.Get("request")
	p, ok := e.pending[id]
	if !ok || !now.Before(p.expiry) {
		delete(e.pending, id)
		errorPage(w, http.StatusBadRequest, "KOE001", "동의 요청이 만료되었습니다", "The consent request expired",
			"서비스에서 카카오 로그인을 다시 시작해 주세요.", "Start Kakao Login again from the service.")
		return
	}
	action := f.Get("action")
	if action == "" {
		action = map[string]string{"allow": "agree", "deny": "cancel"}[f.Get("decision")]
	}
	if action == "cancel" {
		delete(e.pending, id)
		redirectParams(w, p.redirectURI, "error", "access_denied", "error_description", "User denied access", "state", p.state)
		return
	}
	form := consentForm{user: f.Get("user"), nickname: strings.TrimSpace(f.Get("nickname")),
		email: strings.TrimSpace(f.Get("email")), scopes: f["scope"]}
	if action != "agree" {
		e.renderConsentLocked(w, http.StatusBadRequest, id, p, []formError{{"action", "동의하고 계속하기 또는 취소를 선택해 주세요.", "Choose Agree and continue, or Cancel."}}, form)
		return
	}
	var u *userRec
	switch form.user {
	case "":
		e.renderConsentLocked(w, http.StatusBadRequest, id, p, []formError{{"user-first", "테스트 사용자를 선택해 주세요.", "Choose a test user."}}, form)
		return
	case "new":
		var errs []formError
		if form.nickname == "" {
			errs = append(errs, formError{"nickname", "새 사용자의 닉네임을 입력해 주세요.", "Enter a nickname for the new user."})
		}
		if form.email != "" && (!strings.Contains(form.email, "@") || len(form.email) > 254) {
			errs = append(errs, formError{"email", "이메일 주소 형식이 올바르지 않습니다.", "The email address is not valid."})
		}
		if errs != nil {
			e.renderConsentLocked(w, http.StatusBadRequest, id, p, errs, form)
			return
		}
		nu := User{ID: randomUserID(), Nickname: form.nickname, Email: form.email}
		for e.users[nu.ID] != nil {
			nu.ID = randomUserID()
		}
		if nu.Email != "" {
			nu.EmailValid, nu.EmailVerified = true, true
		}
		u = e.addUserLocked(nu)
	default:
		uid, err := strconv.ParseInt(form.user, 10, 64)
		if err == nil {
			u = e.users[uid]
		}
		if u == nil {
			e.renderConsentLocked(w, http.StatusBadRequest, id, p, []formError{{"user-first", "선택한 사용자가 없습니다. 다시 선택해 주세요.", "The chosen user does not exist. Choose again."}}, form)
			return
		}
	}
	agreed := make([]string, 0, len(p.items))
	for _, it := range p.items {
		ci := appItem(e.app, it)
		if (ci != nil && ci.Required) || slices.Contains(form.scopes, it) {
			agreed = append(agreed, it)
		}
	}
	e.agreeLocked(u, agreed, now)
	e.agreeTermsLocked(u, intersect(p.terms, f["term"]), now)
	delete(e.pending, id)
	sid := randomToken(24)
	e.sessions[sid] = session{userID: u.ID, authTime: now}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
	code := e.issueCodeLocked(now, u.ID, p.clientID, p.redirectURI, p.challenge, p.nonce, p.openid, now)
	redirectParams(w, p.redirectURI, "code", code, "state", p.state)
}

func (e *Emulator) sessionLocked(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	s, ok := e.sessions[c.Value]
	if ok {
		if _, known := e.users[s.userID]; !known {
			return session{}, false
		}
	}
	return s, ok
}

// handleKauthLogout serves GET /oauth/logout ("logout with Kakao Account"): it ends the
// emulator's Kakao session and redirects to the registered logout_redirect_uri with state.
// Kakao shows a confirmation screen first; the emulator skips it.
func (e *Emulator) handleKauthLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	q := r.URL.Query()
	clientID, target := q.Get("client_id"), q.Get("logout_redirect_uri")
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.isClientIDLocked(clientID) {
		errorPage(w, http.StatusBadRequest, "KOE101", "앱 키가 올바르지 않습니다", "Invalid app key",
			"client_id에 해당하는 앱이 없습니다: ["+clientID+"]", "Not exist client_id ["+clientID+"]")
		return
	}
	if target == "" || !slices.Contains(e.app.LogoutRedirectURIs, target) {
		errorPage(w, http.StatusBadRequest, "KOE007", "앱 관리자 설정 오류", "Admin Settings Issue",
			"등록되지 않은 로그아웃 리다이렉트 URI입니다: "+target,
			"The logout redirect URI is not registered: "+target)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		delete(e.sessions, c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
	redirectParams(w, target, "state", q.Get("state"))
}

// redirectParams answers 302 to base with the name/value pairs added in order (empty values
// are left out), encoding spaces as %20 as Kakao does (error_description=User%20denied%20access).
func redirectParams(w http.ResponseWriter, base string, kv ...string) {
	var b strings.Builder
	b.WriteString(base)
	sep := "?"
	if u, err := url.Parse(base); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	if strings.HasSuffix(base, "?") {
		sep = ""
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		b.WriteString(sep)
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(kv[i+1]), "+", "%20"))
		sep = "&"
	}
	w.Header().Set("Location", b.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusFound)
}

// appItem returns the app's consent item with that ID, or nil.
func appItem(app App, id string) *ConsentItem {
	for i := range app.ConsentItems {
		if app.ConsentItems[i].ID == id {
			return &app.ConsentItems[i]
		}
	}
	return nil
}

func hasItem(items []string, id string) bool { return slices.Contains(items, id) }

// intersect returns the values of a that are also in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, v := range a {
		if slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}
