package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed web/page.html web/static
var webFS embed.FS

// Config is what the chart service needs.
type Config struct {
	// Issuer is the public URL of kakaoauth: the page's "카카오 로그인" link goes to its
	// /auth/kakao/login.
	Issuer string
	// PublicURL is where this service's page is reached; kakaoauth sends the browser back to
	// it after the login (it must be in kakaoauth's KAKAOAUTH_RETURN_TO).
	PublicURL string
	// Protect admits only signed-in requests (kakaoauth's access token, from the Authorization
	// header or the access cookie) and answers 401 to the others.
	Protect func(http.Handler) http.Handler
	Catalog *Catalog
	Sound   Sound
	Logger  *slog.Logger
}

// CSP is the Content-Security-Policy of the page: its own script, style and audio only.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; media-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// NewHandler returns the service: the page, the protected chart API and the static files.
func NewHandler(cfg Config) http.Handler {
	tmpl := template.Must(template.ParseFS(webFS, "web/page.html"))
	static, _ := fs.Sub(webFS, "web/static")
	mux := http.NewServeMux()
	mux.Handle("GET /charts/{file}", cfg.Protect(chartHandler(cfg)))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	page := func(signedIn bool) http.Handler { return pageHandler(cfg, tmpl, signedIn) }
	mux.Handle("GET /{$}", orElse(cfg.Protect, page(true), page(false)))
	return securityHeaders(mux)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// chartHandler answers GET /charts/{symbol} (the summary as JSON) and GET
// /charts/{symbol}.wav (the chart as sound).
func chartHandler(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		symbol, wav := strings.CutSuffix(file, ".wav")
		s, ok := cfg.Catalog.Lookup(symbol)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{
				"error":             "not_found",
				"error_description": "알 수 없는 종목입니다. / Unknown symbol: " + strconv.Quote(symbol),
			})
			return
		}
		cfg.Logger.Info("chart", "symbol", s.Symbol, "wav", wav, "user", userID(r))
		if !wav {
			writeJSON(w, http.StatusOK, Summarize(s))
			return
		}
		b, err := cfg.Sound.WAV(s)
		if err != nil {
			cfg.Logger.Error("render wav", "symbol", s.Symbol, "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "internal error"})
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Cache-Control", "private, max-age=300")
		http.ServeContent(w, r, s.Symbol+".wav", time.Time{}, bytes.NewReader(b))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// orElse serves yes when protect admits the request and no (instead of protect's 401) when it
// does not, so one page can greet signed-in and signed-out people alike.
func orElse(protect func(http.Handler) http.Handler, yes, no http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		admitted := false
		inner := protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			admitted = true
			yes.ServeHTTP(w, r)
		}))
		rw := &refusal{ResponseWriter: w, admitted: &admitted}
		inner.ServeHTTP(rw, r)
		if rw.refused {
			no.ServeHTTP(w, r)
		}
	})
}

// refusal passes the response through once the request was admitted, and swallows the
// middleware's own refusal otherwise.
type refusal struct {
	http.ResponseWriter
	admitted *bool
	refused  bool
}

func (rw *refusal) Header() http.Header {
	if !*rw.admitted {
		return http.Header{} // the refusal's WWW-Authenticate stays out of the page
	}
	return rw.ResponseWriter.Header()
}

func (rw *refusal) WriteHeader(code int) {
	if !*rw.admitted {
		rw.refused = true
		return
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *refusal) Write(p []byte) (int, error) {
	if !*rw.admitted {
		rw.refused = true
		return len(p), nil
	}
	return rw.ResponseWriter.Write(p)
}

// pageData is what web/page.html shows.
type pageData struct {
	Lang, Other       string // the page's language and the other one
	SignedIn          bool
	LoginURL          string
	SwitchURL         string // the same page in the other language
	T                 map[string]string
	Options           []option
	Chosen            *Summary
	Summary, AudioFor string
	Unknown           bool
}

type option struct {
	Symbol, Label string
	Selected      bool
}

func pageHandler(cfg Config, tmpl *template.Template, signedIn bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		lang := "ko"
		if q.Get("lang") == "en" {
			lang = "en"
		}
		d := pageData{Lang: lang, Other: map[string]string{"ko": "en", "en": "ko"}[lang], SignedIn: signedIn, T: texts[lang]}
		back := cfg.PublicURL
		if lang == "en" {
			back += "?lang=en"
		}
		d.LoginURL = strings.TrimSuffix(cfg.Issuer, "/") + "/auth/kakao/login?" + url.Values{"return_to": {back}}.Encode()
		sw := url.Values{}
		if d.Other == "en" {
			sw.Set("lang", "en")
		}
		if sym := q.Get("symbol"); sym != "" && signedIn {
			sw.Set("symbol", sym)
			if s, ok := cfg.Catalog.Lookup(sym); ok {
				sum := Summarize(s)
				d.Chosen = &sum
				d.Summary = sum.Text.In(lang)
				d.AudioFor = s.NameIn(lang)
			} else {
				d.Unknown = true
			}
		}
		d.SwitchURL = "/?" + sw.Encode()
		for _, s := range cfg.Catalog.All() {
			d.Options = append(d.Options, option{Symbol: s.Symbol, Label: s.NameIn(lang) + " (" + s.Symbol + ")", Selected: d.Chosen != nil && d.Chosen.Symbol == s.Symbol})
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, d); err != nil {
			cfg.Logger.Error("render page", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Vary", "Cookie, Authorization")
		w.Write(buf.Bytes())
	})
}
