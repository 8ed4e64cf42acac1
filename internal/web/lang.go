package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// langCookie is the cookie that remembers a language chosen with ?lang=, so that the pages
// after a trip through Kakao stay in that language.
const langCookie = "lang"

// supported reports whether lang is one of the page languages.
func supported(lang string) bool {
	for _, l := range languages {
		if l == lang {
			return true
		}
	}
	return false
}

// normLang returns lang if it is supported and the default language otherwise.
func normLang(lang string) string {
	if supported(lang) {
		return lang
	}
	return languages[0]
}

// otherLang returns the language the language switch offers on a page in lang.
func otherLang(lang string) string {
	if normLang(lang) == "ko" {
		return "en"
	}
	return "ko"
}

// queryLang returns the supported language named by ?lang=, or "".
func queryLang(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	if l := strings.ToLower(req.URL.Query().Get("lang")); supported(l) {
		return l
	}
	return ""
}

// Lang returns the page language of req, "ko" or "en". The first of these wins: a supported
// ?lang= value, the "lang" cookie set when a language was chosen that way, the best match in
// Accept-Language, and finally Korean. Unknown values are ignored at every step.
func Lang(req *http.Request) string {
	if l := queryLang(req); l != "" {
		return l
	}
	if c, err := req.Cookie(langCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	if l := acceptLanguage(req.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return languages[0]
}

// acceptLanguage returns the supported language with the highest quality in an
// Accept-Language header (RFC 9110 §12.5.4), matching on the primary subtag ("en-US" is "en").
// Among equal qualities the earlier entry wins. It returns "" when nothing matches.
func acceptLanguage(h string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		primary, _, _ := strings.Cut(tag, "-")
		if !supported(primary) {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || strings.ToLower(strings.TrimSpace(name)) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// AltLangURL returns the address of the page of req in lang, the language the link leads to:
// the same path and query, with the lang parameter set to lang (an unsupported lang means
// Korean). The result is always a path on this site, never an absolute or scheme-relative URL.
func AltLangURL(req *http.Request, lang string) string {
	path := "/"
	var q url.Values
	if req.URL != nil {
		path = req.URL.EscapedPath()
		q = req.URL.Query()
	}
	// A path such as "//evil.example" or "/\evil.example" would be read by browsers as
	// another host; collapse it to the site root.
	if path == "" || path[0] != '/' || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		path = "/"
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("lang", normLang(lang))
	return path + "?" + q.Encode()
}

// rememberLang sets the language cookie when req chose a language with ?lang= that the
// cookie does not hold yet.
func (r *Renderer) rememberLang(w http.ResponseWriter, req *http.Request) {
	l := queryLang(req)
	if l == "" {
		return
	}
	if c, err := req.Cookie(langCookie); err == nil && c.Value == l {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     langCookie,
		Value:    l,
		Path:     r.base + "/",
		MaxAge:   365 * 24 * 60 * 60,
		HttpOnly: true,
		Secure:   r.secureCookie || req.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
}
