package web

import (
	"net/http"
	"time"
)

// ConsentPage asks whether a third-party app may sign the person in and what it receives
// (GET /oauth2/continue of the OpenID Provider).
type ConsentPage struct {
	Lang       string   // "ko" or "en"; empty or unknown: Lang(req)
	ClientName string   // the app's registered name
	Scopes     []string // the scopes asked for; each known one is one line of what the app receives
	ActionURL  string   // the form's target
	RequestID  string   // the authorization request (hidden field id)
	CSRF       string   // hidden field csrf
}

// ConnectedApp is one app listed under "연결된 앱" on the signed-in page.
type ConnectedApp struct {
	ClientID  string
	Name      string
	Scopes    []string
	Since     time.Time
	RevokeURL string // the revoke form's target
	CSRF      string // its hidden csrf field
}

type consentView struct {
	Intro, ActionURL, RequestID, CSRF string
	Items                             []string
}

type connectedAppView struct {
	ClientID, Name, RevokeURL, CSRF, RevokeLabel string
	Items                                        []string
}

// scopeItems says what each scope gives the app, in lang; unknown scopes say nothing.
func scopeItems(lang string, scopes []string) []string {
	var items []string
	for _, s := range []string{"openid", "profile", "email", "offline_access"} {
		for _, asked := range scopes {
			if asked == s {
				items = append(items, Message(lang, "consent.scope."+s))
				break
			}
		}
	}
	return items
}

// Consent writes the consent page with the given status.
func (r *Renderer) Consent(w http.ResponseWriter, req *http.Request, status int, p ConsentPage) {
	lang := pageLang(req, p.Lang)
	heading := messagef(lang, "consent.heading", "app", p.ClientName)
	v := r.newView(req, lang, heading, Message(lang, "consent.title"), false)
	v.Consent = &consentView{
		Intro:     messagef(lang, "consent.intro", "app", p.ClientName, "service", r.service),
		ActionURL: p.ActionURL, RequestID: p.RequestID, CSRF: p.CSRF,
		Items: scopeItems(lang, p.Scopes),
	}
	r.render(w, req, status, "consent", v)
}

func connectedAppViews(lang string, apps []ConnectedApp) []connectedAppView {
	out := make([]connectedAppView, 0, len(apps))
	for _, a := range apps {
		out = append(out, connectedAppView{ClientID: a.ClientID, Name: a.Name, RevokeURL: a.RevokeURL, CSRF: a.CSRF,
			RevokeLabel: messagef(lang, "apps.revoke", "app", a.Name), Items: scopeItems(lang, a.Scopes)})
	}
	return out
}
