// Package web renders the pages people see in the browser flow: the login page, the signed-in
// page, the delete-account confirmation and result pages and the error pages, in Korean (the
// default) and English.
//
// Pages are html/template files and one stylesheet, all embedded. They need no script and no
// inline style, so they work under the strict Content-Security-Policy the server sends, and
// they follow the project's accessibility reference (WCAG 2.2 AA, KWCAG 2.2): one h1 that is
// the target of the skip link and of every redirect fragment (#page-heading), landmarks,
// a language switch, and titles of the form "[오류: ]<heading> | <service>".
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures a Renderer.
type Options struct {
	// Service is the service name shown in every title and in the header; default "kakaoauth".
	Service string
	// Logger receives template errors; nil discards them.
	Logger *slog.Logger
	// SecureCookie marks the language cookie Secure even when the request itself did not
	// arrive over TLS (behind a TLS-terminating proxy). Requests with TLS always get Secure.
	SecureCookie bool
	// BasePath is the path the server is mounted under ("" at the root, or "/login"): the
	// stylesheet's address and the default links of the pages carry it.
	BasePath string
}

// Renderer writes the pages. It is safe for concurrent use.
type Renderer struct {
	service      string
	log          *slog.Logger
	secureCookie bool
	pages        map[string]*template.Template // by page template name
	static       map[string]staticFile         // by file name under /static/
	cssURL       string                        // versioned address of app.css
	base         string                        // Options.BasePath
}

// staticFile is one embedded file served by Static.
type staticFile struct {
	body        []byte
	etag        string
	version     string // the ?v= value that marks a cache-busting URL
	contentType string
}

// pageNames are the page templates; each is parsed together with layout.html.
var pageNames = [...]string{"login", "account", "error", "delete", "deleted", "consent"}

// New parses the embedded templates and catalogues and returns a Renderer.
func New(opt Options) (*Renderer, error) {
	if _, err := catalogs(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	r := &Renderer{
		service:      strings.TrimSpace(opt.Service),
		log:          opt.Logger,
		secureCookie: opt.SecureCookie,
		pages:        map[string]*template.Template{},
		static:       map[string]staticFile{},
		base:         strings.TrimSuffix(opt.BasePath, "/"),
	}
	if r.service == "" {
		r.service = "kakaoauth"
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for _, name := range pageNames {
		t, err := template.New(name).Option("missingkey=error").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse %s template: %w", name, err)
		}
		r.pages[name] = t
	}
	err := fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		version := hex.EncodeToString(sum[:8])
		name := strings.TrimPrefix(path, "static/")
		r.static[name] = staticFile{body: body, etag: `"` + version + `"`, version: version, contentType: contentType(name)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read static files: %w", err)
	}
	css, ok := r.static["app.css"]
	if !ok {
		return nil, fmt.Errorf("web: static/app.css is missing")
	}
	r.cssURL = r.base + "/static/app.css?v=" + css.version
	return r, nil
}

// contentType returns the media type of a static file by its extension.
func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		return "image/svg+xml"
	case strings.HasSuffix(name, ".png"):
		return "image/png"
	default:
		return "application/octet-stream"
	}
}

// Static returns the handler of the stylesheet and any other static file, to be mounted at
// "/static/". A request carrying the current version (?v=, as the pages link it) may be cached
// for a year; other requests must revalidate (ETag). Only GET and HEAD are allowed, and
// directories are never listed.
func (r *Renderer) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(strings.TrimPrefix(req.URL.Path, "/"), "static/")
		f, ok := r.static[name]
		if !ok {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", f.etag)
		if req.URL.Query().Get("v") == f.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, no-cache")
		}
		http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(f.body))
	})
}

// LoginPage is the login page (GET /), also shown after a logout.
type LoginPage struct {
	Lang     string // "ko" or "en"; empty or unknown: Lang(req)
	LoginURL string // the Kakao button's target; default BasePath+"/auth/kakao/login"
	// Outcome is "" for the plain login page, "signed-out" after a logout and
	// "signed-out-all" after a logout on all devices; other values are treated as "".
	Outcome string
}

// AccountPage is the signed-in page.
type AccountPage struct {
	Lang         string // "ko" or "en"; empty or unknown: Lang(req)
	JustSignedIn bool   // right after the callback: title "로그인 완료", h1 "로그인되었습니다"; else "내 계정"
	Nickname     string // shown when not empty
	Email        string // shown when not empty
	CSRF         string // value of the hidden csrf field of both logout forms
	LogoutURL    string // default BasePath+"/auth/logout"
	LogoutAllURL string // default BasePath+"/auth/logout?all=true"
	DeleteURL    string // the delete-account confirmation page; "" shows no delete link
	// Apps are the connected third-party apps ("연결된 앱"), each with a revoke form; nil shows none.
	Apps []ConnectedApp
	// Held is what kakaoauth holds about the person and what they agreed to at Kakao
	// (held.go); nil shows no such section.
	Held *HeldInfo
	// ConsentOutcome is the result of an additional-consent round trip shown as the page's
	// status: "granted", "partial" (some items still not agreed) or "declined"; "" none.
	ConsentOutcome string
}

// DeletePage asks whether to delete the account (GET /account/delete): the consequences as a
// list, a POST form with the CSRF token, and a link that cancels.
type DeletePage struct {
	Lang      string // "ko" or "en"; empty or unknown: Lang(req)
	CSRF      string // value of the form's hidden csrf field
	ActionURL string // the form's target; default BasePath+"/account/delete"
	CancelURL string // the cancel link; default BasePath+"/"
}

// DeletedPage says that the account has been deleted (the target of the 303 after deletion). It
// needs no session.
type DeletedPage struct {
	Lang string // "ko" or "en"; empty or unknown: Lang(req)
	// UnlinkFailed says the account is deleted here but Kakao could not be told: the page says
	// so and how the person can disconnect the app themselves.
	UnlinkFailed bool
	LoginURL     string // the "sign up again" link; default BasePath+"/auth/kakao/login"
}

// ErrorPage is an error page.
type ErrorPage struct {
	Lang string // "ko" or "en"; empty or unknown: Lang(req)
	// Code is a page code (see KnownErrorPage); an unknown code renders the "server" page.
	Code string
	// KakaoCode is Kakao's error code (e.g. KOE320), shown for support only; codes that are
	// not short strings of letters, digits, '-' and '_' are not shown.
	KakaoCode string
	// RetryAfter is the wait shown in words on the "rate_limited" page; 0 says "in a moment".
	RetryAfter time.Duration
	// RetryURL is the primary action of the pages that offer to log in or try again
	// (cancelled, consent_required, login_required, expired, kakao_unavailable); default
	// BasePath+"/auth/kakao/login". The other pages link to BasePath+"/".
	RetryURL string
}

// errorPages maps each page code to whether its primary action retries the login.
var errorPages = map[string]bool{
	"cancelled":         true,
	"consent_required":  true,
	"login_required":    true,
	"expired":           true,
	"kakao_unavailable": true,
	"rate_limited":      false,
	"invalid_request":   false,
	"not_found":         false,
	"disabled":          false,
	"server":            false,
}

// KnownErrorPage reports whether code is an error page code, for whitelisting
// /auth/error?code=.
func KnownErrorPage(code string) bool {
	_, ok := errorPages[code]
	return ok
}

// view is what the layout and page templates see.
type view struct {
	Lang        string
	AltLang     string
	AltLangName string
	AltLangURL  string
	Service     string
	Title       string
	Heading     string
	CSSURL      string
	Status      string // short message in a role="status" region
	Alert       string // short message in a role="alert" region
	Login       *loginView
	Account     *accountView
	Error       *errorView
	Delete      *deleteView
	Deleted     *deletedView
	Consent     *consentView
}

type deleteView struct {
	DataErased, CSRF, ActionURL, CancelURL string
}

type deletedView struct {
	Done, UnlinkHint, LoginURL string
	UnlinkFailed               bool
}

type loginView struct {
	LoginURL  string
	SwitchURL string // "log in with another account" (prompt=select_account); "" hides it
}

type accountView struct {
	Nickname, Email, CSRF           string
	LogoutURL, LogoutAllURL, Delete string
	Apps                            []connectedAppView
	Held                            *heldView // held.go
}

type errorView struct {
	ActionURL  string
	ActionText string
	Support    string
}

// T returns the catalogue text of key in the page's language; a missing key is a template
// error, so the page is not sent.
func (v *view) T(key string) (string, error) {
	s, ok := lookup(v.Lang, key)
	if !ok {
		return "", fmt.Errorf("no catalogue text for %q", key)
	}
	return s, nil
}

// newView fills the parts of a view that every page shares.
func (r *Renderer) newView(req *http.Request, lang, heading, titleText string, isError bool) *view {
	lang = pageLang(req, lang)
	alt := otherLang(lang)
	title := titleText + " | " + r.service
	if isError {
		title = Message(lang, "error_prefix") + title
	}
	return &view{
		Lang:        lang,
		AltLang:     alt,
		AltLangName: Message(alt, "lang.name"),
		AltLangURL:  AltLangURL(req, alt),
		Service:     r.service,
		Title:       title,
		Heading:     heading,
		CSSURL:      r.cssURL,
	}
}

// pageLang returns lang when supported and the request's language otherwise.
func pageLang(req *http.Request, lang string) string {
	if supported(lang) {
		return lang
	}
	return Lang(req)
}

// withQuery appends a query parameter to a URL that may already have a query.
func withQuery(u, kv string) string {
	if strings.Contains(u, "?") {
		return u + "&" + kv
	}
	return u + "?" + kv
}

// Login writes the login page with the given status.
func (r *Renderer) Login(w http.ResponseWriter, req *http.Request, status int, p LoginPage) {
	lang := pageLang(req, p.Lang)
	heading, msg := Message(lang, "login.heading"), ""
	switch p.Outcome {
	case "signed-out":
		heading, msg = Message(lang, "signed_out.heading"), Message(lang, "signed_out.message")
	case "signed-out-all":
		heading, msg = Message(lang, "signed_out_all.heading"), Message(lang, "signed_out_all.message")
	}
	v := r.newView(req, lang, heading, heading, false)
	v.Status = msg
	v.Login = &loginView{LoginURL: orDefault(p.LoginURL, r.base+"/auth/kakao/login")}
	if p.Outcome == "signed-out" || p.Outcome == "signed-out-all" {
		// After a logout the next login would go through without a click (prompt=none for a
		// returning browser); this link lets the person pick another Kakao account instead.
		v.Login.SwitchURL = withQuery(v.Login.LoginURL, "prompt=select_account")
	}
	r.render(w, req, status, "login", v)
}

// Account writes the signed-in page with the given status.
func (r *Renderer) Account(w http.ResponseWriter, req *http.Request, status int, p AccountPage) {
	lang := pageLang(req, p.Lang)
	heading, title := Message(lang, "account.heading"), Message(lang, "account.heading")
	if p.JustSignedIn {
		heading, title = Message(lang, "account.heading_signed_in"), Message(lang, "account.title_signed_in")
	}
	v := r.newView(req, lang, heading, title, false)
	if p.JustSignedIn {
		if p.Nickname != "" {
			v.Status = messagef(lang, "account.signed_in_named", "nickname", p.Nickname)
		} else {
			v.Status = Message(lang, "account.signed_in")
		}
	}
	v.Account = &accountView{
		Nickname:     p.Nickname,
		Email:        p.Email,
		CSRF:         p.CSRF,
		LogoutURL:    orDefault(p.LogoutURL, r.base+"/auth/logout"),
		LogoutAllURL: orDefault(p.LogoutAllURL, r.base+"/auth/logout?all=true"),
		Delete:       p.DeleteURL,
		Apps:         connectedAppViews(lang, p.Apps),
	}
	r.addHeld(v, lang, p)
	r.render(w, req, status, "account", v)
}

// Delete writes the delete-account confirmation page with the given status.
func (r *Renderer) Delete(w http.ResponseWriter, req *http.Request, status int, p DeletePage) {
	lang := pageLang(req, p.Lang)
	heading := Message(lang, "delete.title")
	v := r.newView(req, lang, heading, heading, false)
	v.Delete = &deleteView{
		DataErased: messagef(lang, "delete.data_erased", "service", r.service),
		CSRF:       p.CSRF,
		ActionURL:  orDefault(p.ActionURL, r.base+"/account/delete"),
		CancelURL:  orDefault(p.CancelURL, r.base+"/"),
	}
	r.render(w, req, status, "delete", v)
}

// Deleted writes the page that confirms the account's deletion with the given status.
func (r *Renderer) Deleted(w http.ResponseWriter, req *http.Request, status int, p DeletedPage) {
	lang := pageLang(req, p.Lang)
	v := r.newView(req, lang, Message(lang, "deleted.heading"), Message(lang, "deleted.title"), false)
	dv := &deletedView{
		Done:     messagef(lang, "deleted.done", "service", r.service),
		LoginURL: orDefault(p.LoginURL, r.base+"/auth/kakao/login"),
	}
	if p.UnlinkFailed {
		dv.UnlinkFailed = true
		dv.Done = messagef(lang, "deleted.done_unlink_failed", "service", r.service)
		dv.UnlinkHint = messagef(lang, "deleted.unlink_failed", "service", r.service)
	}
	v.Deleted = dv
	r.render(w, req, status, "deleted", v)
}

// Error writes an error page with the given status.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, status int, p ErrorPage) {
	lang := pageLang(req, p.Lang)
	code := p.Code
	retry, ok := errorPages[code]
	if !ok {
		code, retry = "server", false
	}
	heading := Message(lang, "error."+code+".heading")
	v := r.newView(req, lang, heading, heading, true)
	v.Alert = Message(lang, "error."+code+".message")
	if code == "rate_limited" {
		if wait := waitWords(lang, p.RetryAfter); wait != "" {
			v.Alert = messagef(lang, "error.rate_limited.message_wait", "wait", wait)
		}
	}
	ev := &errorView{ActionURL: r.base + "/", ActionText: Message(lang, "error."+code+".action")}
	if retry {
		ev.ActionURL = orDefault(p.RetryURL, r.base+"/auth/kakao/login")
	}
	if validKakaoCode(p.KakaoCode) {
		ev.Support = messagef(lang, "error.support", "code", p.KakaoCode)
	}
	v.Error = ev
	r.render(w, req, status, "error", v)
}

// validKakaoCode reports whether c looks like a Kakao error code (KOE320, -401, …) and may be
// shown.
func validKakaoCode(c string) bool {
	if c == "" || len(c) > 32 {
		return false
	}
	for _, ch := range c {
		switch {
		case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '-', ch == '_':
		default:
			return false
		}
	}
	return true
}

// waitWords says d in words in lang, rounded up: seconds below a minute, minutes below an
// hour, else hours and minutes ("1분", "2 minutes", "1 hour and 30 minutes"). It returns ""
// for d <= 0.
func waitWords(lang string, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	unit := func(n int64, one, many string) string {
		key := many
		if n == 1 {
			key = one
		}
		return messagef(lang, key, "n", fmt.Sprint(n))
	}
	if d < time.Minute {
		return unit(int64((d+time.Second-1)/time.Second), "wait.second", "wait.seconds")
	}
	mins := int64((d + time.Minute - 1) / time.Minute)
	if mins < 60 {
		return unit(mins, "wait.minute", "wait.minutes")
	}
	hours := unit(mins/60, "wait.hour", "wait.hours")
	if mins%60 == 0 {
		return hours
	}
	return messagef(lang, "wait.hours_minutes", "hours", hours, "minutes", unit(mins%60, "wait.minute", "wait.minutes"))
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// render executes page into a buffer and only then writes headers and body, so a template
// error never sends half a page: it sends a short 500 page instead.
func (r *Renderer) render(w http.ResponseWriter, req *http.Request, status int, page string, v *view) {
	var buf bytes.Buffer
	err := r.pages[page].ExecuteTemplate(&buf, "page", v)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Add("Vary", "Accept-Language")
	h.Add("Vary", "Cookie")
	h.Set("Cache-Control", "no-store")
	if err != nil {
		r.log.ErrorContext(req.Context(), "render page", "page", page, "err", err)
		h.Set("Content-Language", "ko, en")
		w.WriteHeader(http.StatusInternalServerError)
		page := fallbackPage
		if r.base != "" {
			page = strings.ReplaceAll(page, `href="/"`, `href="`+r.base+`/"`)
		}
		io.WriteString(w, page)
		return
	}
	h.Set("Content-Language", v.Lang)
	r.rememberLang(w, req)
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fallbackPage is sent when a template fails; it uses no template and no catalogue.
const fallbackPage = `<!doctype html>
<html lang="ko">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>오류: 서비스에 문제가 있습니다 | Error: Sorry, there is a problem with the service</title></head>
<body><main>
<h1 id="page-heading" tabindex="-1">서비스에 문제가 있습니다</h1>
<p>잠시 후 다시 시도해 주세요. <a href="/">처음 화면으로</a></p>
<p lang="en">Sorry, there is a problem with the service. Please try again later. <a href="/">Go to the start page</a></p>
</main></body>
</html>
`
