package oidcop

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// ContinuePath is where an authorization request goes on after /oauth2/authorize (and after a
// Kakao sign-in): the server's browser flow accepts return_to values that start with it.
const ContinuePath = "/auth/oidc/continue?id="

func (p *Provider) continueURL(id string) string {
	return p.cfg.BasePath + ContinuePath + url.QueryEscape(id)
}

// ValidReturnTo reports whether return_to (of /auth/kakao/login) is the continuation of an
// authorization request; the id is a base64url token, so nothing else fits.
func (p *Provider) ValidReturnTo(returnTo string) bool {
	id, ok := strings.CutPrefix(returnTo, p.cfg.BasePath+ContinuePath)
	if !ok || len(id) < 20 || len(id) > 100 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// handleContinue decides what an authorization request needs: a Kakao sign-in (no session, or
// prompt=login / max_age asks for a fresh one), the consent page (third-party clients), or
// nothing more, in which case the code goes to the client's registered redirect URI.
func (p *Provider) handleContinue(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	ctx := r.Context()
	a, ok := p.loadRequest(w, r, r.URL.Query().Get("id"))
	if !ok {
		return
	}
	st := storage{p}
	c, err := st.client(ctx, a.ClientID)
	if err != nil {
		p.pageError(w, r, err)
		return
	}
	now := p.cfg.Now()
	none := slices.Contains(a.Prompt, oidc.PromptNone)
	uid, sid, signedIn, err := p.sessions(r)
	if err != nil {
		p.pageError(w, r, err)
		return
	}
	var authTime time.Time
	if signedIn {
		sess, err := p.cfg.Store.SessionByID(ctx, sid)
		switch {
		case errors.Is(err, auth.ErrNotFound):
			signedIn = false
		case err != nil:
			p.pageError(w, r, err)
			return
		default:
			authTime = sess.CreatedAt
		}
	}
	fresh := signedIn && !authTime.Before(a.CreatedAt) // signed in after this request began
	needLogin := !signedIn
	if signedIn && !fresh {
		if slices.Contains(a.Prompt, oidc.PromptLogin) {
			needLogin = true
		}
		if a.MaxAge != nil && now.Sub(authTime) > time.Duration(*a.MaxAge)*time.Second {
			needLogin = true
		}
		if a.HintSubject != "" && a.HintSubject != uid {
			needLogin = true
		}
	}
	if needLogin {
		if none {
			p.redirectError(w, r, a, oidc.ErrLoginRequired().WithDescription("the person is not signed in"))
			return
		}
		v := url.Values{"return_to": {p.continueURL(a.ID)}}
		if signedIn {
			v.Set("prompt", "login")
		}
		http.Redirect(w, r, p.cfg.BasePath+"/auth/kakao/login?"+v.Encode(), http.StatusFound)
		return
	}
	if !c.c.FirstParty {
		agreed, err := p.hasConsent(r, uid, a)
		if err != nil {
			p.pageError(w, r, err)
			return
		}
		if !agreed || slices.Contains(a.Prompt, oidc.PromptConsent) {
			if none {
				p.redirectError(w, r, a, errConsentRequired())
				return
			}
			p.renderConsent(w, r, c.c, a, sid)
			return
		}
	}
	p.complete(w, r, a, uid, sid, authTime)
}

func (p *Provider) loadRequest(w http.ResponseWriter, r *http.Request, id string) (*authRequest, bool) {
	ar, err := storage{p}.AuthRequestByID(r.Context(), id)
	if err != nil {
		if errors.Is(err, errNotFound) {
			p.cfg.Pages.Error(w, r, http.StatusBadRequest, web.ErrorPage{Code: "expired"})
		} else {
			p.pageError(w, r, err)
		}
		return nil, false
	}
	a := ar.(*authRequest)
	if a.Done() {
		// A code was issued (or is being issued) for it already.
		p.cfg.Pages.Error(w, r, http.StatusBadRequest, web.ErrorPage{Code: "expired"})
		return nil, false
	}
	return a, true
}

func (p *Provider) hasConsent(r *http.Request, uid string, a *authRequest) (bool, error) {
	c, err := p.cfg.Store.Consent(r.Context(), uid, a.ClientID)
	if errors.Is(err, auth.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range a.Scopes {
		if !slices.Contains(c.Scopes, s) {
			return false, nil
		}
	}
	return true, nil
}

// complete records who signed in and sends the code to the client.
func (p *Provider) complete(w http.ResponseWriter, r *http.Request, a *authRequest, uid, sid string, authTime time.Time) {
	if err := p.cfg.Store.CompleteAuthRequest(r.Context(), a.ID, uid, sid, authTime); err != nil {
		if errors.Is(err, auth.ErrNotFound) {
			p.cfg.Pages.Error(w, r, http.StatusBadRequest, web.ErrorPage{Code: "expired"})
			return
		}
		p.pageError(w, r, err)
		return
	}
	a.UserID, a.BrowserSession, a.AuthTime = uid, sid, authTime
	op.AuthResponse(a, p.op, w, r)
}

// redirectError answers an error to the client's registered (already validated) redirect URI.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, a *authRequest, e *oidc.Error) {
	_ = p.cfg.Store.DeleteAuthRequest(r.Context(), a.ID)
	op.AuthRequestError(w, r, a, e, p.op)
}

func (p *Provider) pageError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *oidc.Error
	if errors.Is(err, errNotFound) || errors.As(err, &oe) && oe.ErrorType != oidc.ServerError {
		p.cfg.Pages.Error(w, r, http.StatusBadRequest, web.ErrorPage{Code: "invalid_request"})
		return
	}
	p.log.ErrorContext(r.Context(), "oidc: store failed", "err", err)
	w.Header().Set("Retry-After", "5")
	p.cfg.Pages.Error(w, r, http.StatusServiceUnavailable, web.ErrorPage{Code: "server"})
}

func (p *Provider) consentCSRF(sid, id string) string {
	return p.cfg.Secrets.CSRFToken("oidc consent\x00" + sid + "\x00" + id)
}

func (p *Provider) renderConsent(w http.ResponseWriter, r *http.Request, c auth.OIDCClient, a *authRequest, sid string) {
	allowFormRedirect(w, a.RedirectURI)
	p.cfg.Pages.Consent(w, r, http.StatusOK, web.ConsentPage{
		ClientName: c.Name, Scopes: a.Scopes, ActionURL: p.cfg.BasePath + "/auth/oidc/consent",
		RequestID: a.ID, CSRF: p.consentCSRF(sid, a.ID),
	})
}

// handleConsent takes the consent form: agree (remembered for this user and client) or cancel
// (access_denied to the client).
func (p *Provider) handleConsent(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := r.ParseForm(); err != nil {
		p.cfg.Pages.Error(w, r, http.StatusBadRequest, web.ErrorPage{Code: "invalid_request"})
		return
	}
	a, ok := p.loadRequest(w, r, r.PostForm.Get("id"))
	if !ok {
		return
	}
	uid, sid, signedIn, err := p.sessions(r)
	if err != nil {
		p.pageError(w, r, err)
		return
	}
	if !signedIn || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(p.consentCSRF(sid, a.ID))) != 1 {
		p.cfg.Pages.Error(w, r, http.StatusForbidden, web.ErrorPage{Code: "invalid_request"})
		return
	}
	if r.PostForm.Get("action") != "agree" {
		p.redirectError(w, r, a, oidc.ErrAccessDenied().WithDescription("the person declined"))
		return
	}
	now := p.cfg.Now()
	if err := p.cfg.Store.SaveConsent(r.Context(), auth.OIDCConsent{UserID: uid, ClientID: a.ClientID, Scopes: a.Scopes, CreatedAt: now}); err != nil {
		p.pageError(w, r, err)
		return
	}
	sess, err := p.cfg.Store.SessionByID(r.Context(), sid)
	if err != nil {
		p.pageError(w, r, err)
		return
	}
	p.complete(w, r, a, uid, sid, sess.CreatedAt)
}

// AppsCSRF is the CSRF token of the "연결된 앱" revoke forms of a signed-in session.
func (p *Provider) AppsCSRF(sid string) string { return p.cfg.Secrets.CSRFToken("oidc apps\x00" + sid) }

// ConnectedApps lists the third-party apps a person has agreed to, for the signed-in page.
func (p *Provider) ConnectedApps(r *http.Request, userID, sid string) ([]web.ConnectedApp, error) {
	list, err := p.cfg.Store.Consents(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	out := make([]web.ConnectedApp, 0, len(list))
	for _, c := range list {
		out = append(out, web.ConnectedApp{ClientID: c.ClientID, Name: c.ClientName, Scopes: c.Scopes, Since: c.CreatedAt,
			RevokeURL: p.cfg.BasePath + "/auth/oidc/apps/revoke", CSRF: p.AppsCSRF(sid)})
	}
	return out, nil
}

// handleAppRevoke withdraws a consent from the signed-in page: the app's tokens end too.
func (p *Provider) handleAppRevoke(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := r.ParseForm(); err != nil {
		p.cfg.Pages.Error(w, r, http.StatusBadRequest, web.ErrorPage{Code: "invalid_request"})
		return
	}
	uid, sid, signedIn, err := p.sessions(r)
	if err != nil {
		p.pageError(w, r, err)
		return
	}
	if !signedIn || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(p.AppsCSRF(sid))) != 1 {
		p.cfg.Pages.Error(w, r, http.StatusForbidden, web.ErrorPage{Code: "invalid_request"})
		return
	}
	err = p.cfg.Store.DeleteConsent(r.Context(), uid, r.PostForm.Get("client_id"), p.cfg.Now())
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		p.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, p.cfg.BasePath+"/?result=app-revoked#page-heading", http.StatusSeeOther)
}

// errConsentRequired is OIDC Core §3.1.2.6 consent_required (the op package has no constructor).
func errConsentRequired() *oidc.Error {
	e := &oidc.Error{Description: "the person has not agreed yet"}
	e.ErrorType = "consent_required"
	return e
}

// allowFormRedirect lets the page's form end in a redirect to the client's (registered)
// redirect URI: CSP form-action also governs where a form submission is redirected.
func allowFormRedirect(w http.ResponseWriter, redirectURI string) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" || strings.ContainsAny(redirectURI, " ;,'\"") {
		return
	}
	src := u.Scheme + ":"
	if u.Host != "" {
		src = u.Scheme + "://" + u.Host
	}
	h := w.Header()
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "form-action 'self'") {
		h.Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+src, 1))
	}
}
