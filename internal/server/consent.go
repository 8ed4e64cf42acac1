package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// scopeIDPattern is the shape of a Kakao consent item ID (account_email, profile_nickname, …).
var scopeIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// maxConsentScopes bounds the items one additional-consent request may ask for.
const maxConsentScopes = 16

// handleConsent starts Kakao's additional-consent round trip for the signed-in person
// (GET /auth/kakao/consent?scope=account_email,gender&return_to=/): the browser flow with
// scope= (and openid when OIDC is on). Only a browser with a valid session may start it; the
// callback applies the result to that same user, and only if Kakao answers for the same Kakao
// account (never another account, never by email).
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var scopes []string
	for _, v := range q["scope"] {
		for _, sc := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			if !scopeIDPattern.MatchString(sc) {
				s.renderError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "scope %q is not a Kakao consent item ID", clip(sc, 64)))
				return
			}
			if sc != "openid" && !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	if len(scopes) == 0 || len(scopes) > maxConsentScopes {
		s.renderError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "scope must name 1 to %d consent items", maxConsentScopes))
		return
	}
	returnTo := q.Get("return_to")
	if len(q["return_to"]) > 1 || !s.returnTo[returnTo] {
		returnTo = ""
	}
	c, err := r.Cookie(s.cfg.Cookies.AccessName)
	if err != nil || c.Value == "" {
		s.renderError(w, r, auth.Errorf(auth.ECodeUnauthorized, "additional consent needs a signed-in browser"))
		return
	}
	u, cl, err := s.cfg.Service.Authenticate(r.Context(), c.Value)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if u.KakaoID == "" {
		s.renderError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "the account has no Kakao identity"))
		return
	}
	setLogUser(r, u.ID)
	flow := auth.NewBrowserFlow()
	fs := flowState{State: flow.State, Nonce: flow.Nonce, Verifier: flow.CodeVerifier, ReturnTo: returnTo,
		Consent: true, UserID: u.ID, SessionID: cl.SessionID, Scopes: scopes}
	payload, _ := json.Marshal(fs)
	exp := s.cfg.Now().Add(s.cfg.FlowTTL)
	sealed, err := s.cfg.Sealer.Seal(flowPurpose, payload, exp)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.flowCookieName(), Value: sealed, Path: s.path("/"), MaxAge: int(s.cfg.FlowTTL / time.Second),
		HttpOnly: true, Secure: s.cfg.Cookies.Secure, SameSite: http.SameSiteLaxMode,
	})
	target := s.cfg.Service.AuthorizeURL(auth.AuthorizeRequest{Flow: flow, RedirectURI: s.callback, Scopes: scopes})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// finishConsent ends an additional-consent round trip (the callback's state already checked
// and consumed): declined → back with consent=declined and the account as it was; granted →
// the profile updated, the session replaced, back with consent=granted (or partial when the
// person left some items unticked).
func (s *Server) finishConsent(w http.ResponseWriter, r *http.Request, fs flowState, q url.Values) {
	back := func(outcome string) {
		target := fs.ReturnTo
		if target == "" {
			target = s.path("/")
		}
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		http.Redirect(w, r, target+sep+"consent="+outcome+"#page-heading", http.StatusSeeOther)
	}
	if mapped := s.cfg.Service.CallbackError(q); mapped != nil {
		if mapped.Code == auth.ECodeAccessDenied {
			back("declined")
			return
		}
		s.redirectError(w, r, mapped)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 1024 {
		s.redirectError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "callback without code"))
		return
	}
	res, err := s.cfg.Service.ConsentWithCode(r.Context(), auth.CodeExchange{
		Code: code, RedirectURI: s.callback, CodeVerifier: fs.Verifier, Nonce: fs.Nonce,
	}, fs.UserID, fs.SessionID, auth.SessionMeta{UserAgent: r.UserAgent(), IP: s.clientIP(r), Flow: "browser"})
	if err != nil {
		s.redirectError(w, r, asError(err))
		return
	}
	setLogUser(r, res.User.ID)
	s.setSessionCookies(w, res.Tokens, res.Session.ID)
	for _, sc := range fs.Scopes {
		if !slices.Contains(res.Agreed, sc) {
			back("partial")
			return
		}
	}
	back("granted")
}
