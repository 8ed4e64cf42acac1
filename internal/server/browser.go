package server

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

var validPrompts = map[string]bool{"login": true, "none": true, "select_account": true, "create": true}

// handleLogin starts the browser flow: a sealed flow cookie and a redirect to Kakao.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo := q.Get("return_to")
	if len(q["return_to"]) != 1 || !(s.returnTo[returnTo] || s.oidcReturnTo(returnTo)) {
		returnTo = ""
	}
	flow := auth.NewBrowserFlow()
	fs := flowState{State: flow.State, Nonce: flow.Nonce, Verifier: flow.CodeVerifier, ReturnTo: returnTo}
	var prompt []string
	if p := q.Get("prompt"); validPrompts[p] {
		prompt = []string{p}
	} else if q.Get("interactive") == "" {
		// A browser that has signed in before goes through without a click where Kakao allows.
		if c, err := r.Cookie(returningCookie); err == nil && c.Value == "1" {
			prompt, fs.Auto = []string{"none"}, true
		}
	}
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
	target := s.cfg.Service.AuthorizeURL(auth.AuthorizeRequest{Flow: flow, RedirectURI: s.callback, Prompt: prompt})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// handleCallback ends the browser flow. Requests that do not belong to a flow this browser
// started (no, forged or replayed state) get a 400 page at once; outcomes of a real attempt
// redirect (303) to a clean URL whose fragment puts focus on the result's heading.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	q := r.URL.Query()
	for _, k := range []string{"state", "code", "error"} {
		if len(q[k]) > 1 {
			s.renderError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "repeated %s parameter", k))
			return
		}
	}
	state := q.Get("state")
	if state == "" {
		s.renderError(w, r, auth.Errorf(auth.ECodeInvalidGrant, "callback without state"))
		return
	}
	c, err := r.Cookie(s.flowCookieName())
	if err != nil || c.Value == "" {
		s.renderError(w, r, auth.Errorf(auth.ECodeInvalidGrant, "no login in progress in this browser"))
		return
	}
	now := s.cfg.Now()
	payload, err := s.cfg.Sealer.Open(flowPurpose, c.Value, now)
	var fs flowState
	if err == nil {
		err = json.Unmarshal(payload, &fs)
	}
	if err != nil {
		s.clearFlowCookie(w)
		s.renderError(w, r, auth.Errorf(auth.ECodeInvalidGrant, "login attempt expired or invalid"))
		return
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(fs.State)) != 1 {
		s.renderError(w, r, auth.Errorf(auth.ECodeInvalidGrant, "state does not match this browser's login"))
		return
	}
	first, err := s.cfg.Service.ConsumeState(r.Context(), fs.State, now.Add(s.cfg.FlowTTL))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.clearFlowCookie(w)
	if !first {
		s.renderError(w, r, auth.Errorf(auth.ECodeInvalidGrant, "state already used"))
		return
	}

	if fs.Consent {
		s.finishConsent(w, r, fs, q)
		return
	}
	if mapped := s.cfg.Service.CallbackError(q); mapped != nil {
		if fs.Auto && (mapped.Code == auth.ECodeLoginRequired || mapped.Code == auth.ECodeConsentRequired) {
			v := url.Values{"interactive": {"1"}}
			if fs.ReturnTo != "" {
				v.Set("return_to", fs.ReturnTo)
			}
			http.Redirect(w, r, s.path("/auth/kakao/login?")+v.Encode(), http.StatusSeeOther)
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
	res, err := s.cfg.Service.LoginWithCode(r.Context(), auth.CodeExchange{
		Code: code, RedirectURI: s.callback, CodeVerifier: fs.Verifier, Nonce: fs.Nonce,
	}, auth.SessionMeta{UserAgent: r.UserAgent(), IP: s.clientIP(r), Flow: "browser"})
	s.countLogin("browser", err)
	if err != nil {
		s.redirectError(w, r, asError(err))
		return
	}
	setLogUser(r, res.User.ID)
	s.setSessionCookies(w, res.Tokens, res.Session.ID)
	http.SetCookie(w, &http.Cookie{Name: returningCookie, Value: "1", Path: s.path("/auth/kakao"), MaxAge: 400 * 24 * 3600,
		HttpOnly: true, Secure: s.cfg.Cookies.Secure, SameSite: http.SameSiteLaxMode})
	target := fs.ReturnTo
	if target == "" || target == s.path("/") {
		target = s.path("/?result=signed-in#page-heading")
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var kakaoCodePattern = regexp.MustCompile(`^(KOE[0-9]{3}|-[0-9]{1,5})$`)

// redirectError sends the person to the error page of e with a clean URL.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, e *auth.Error) {
	row := byCode[e.Code]
	s.logError(r, e, row.status)
	v := url.Values{"code": {row.page}}
	if kakaoCodePattern.MatchString(e.KakaoCode) {
		v.Set("kakao_code", e.KakaoCode)
	}
	if lang := r.URL.Query().Get("lang"); lang == "en" || lang == "ko" {
		v.Set("lang", lang)
	}
	http.Redirect(w, r, s.path("/auth/error?")+v.Encode()+"#page-heading", http.StatusSeeOther)
}

// handleErrorPage shows a known error page (the target of redirectError).
func (s *Server) handleErrorPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code := q.Get("code")
	if !web.KnownErrorPage(code) {
		code = "invalid_request"
	}
	kc := q.Get("kakao_code")
	if !kakaoCodePattern.MatchString(kc) {
		kc = ""
	}
	status, ok := pageStatus[code]
	if !ok {
		status = http.StatusBadRequest
	}
	var retry time.Duration
	if code == "rate_limited" {
		retry = time.Minute
		w.Header().Set("Retry-After", "60")
	}
	s.cfg.Pages.Error(w, r, status, web.ErrorPage{
		Lang: web.Lang(r), Code: code, KakaoCode: kc, RetryAfter: retry, RetryURL: s.path("/auth/kakao/login"),
	})
}
