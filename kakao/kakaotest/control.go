package kakaotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// faultJSON is a Fault on the control API. Latency is given as latency_ms, or as a Go
// duration string in "latency" ("250ms").
type faultJSON struct {
	LatencyMS     int64  `json:"latency_ms,omitempty"`
	Latency       string `json:"latency,omitempty"`
	Hang          bool   `json:"hang,omitempty"`
	Status        int    `json:"status,omitempty"`
	HTML          bool   `json:"html,omitempty"`
	TruncatedJSON bool   `json:"truncated_json,omitempty"`
	HugeBody      bool   `json:"huge_body,omitempty"`
	Body          string `json:"body,omitempty"`
	Times         int    `json:"times,omitempty"`
}

func (f faultJSON) fault() (Fault, error) {
	out := Fault{Latency: time.Duration(f.LatencyMS) * time.Millisecond, Hang: f.Hang, Status: f.Status,
		HTML: f.HTML, TruncatedJSON: f.TruncatedJSON, HugeBody: f.HugeBody, Body: f.Body, Times: f.Times}
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil {
			return Fault{}, fmt.Errorf("latency: %w", err)
		}
		out.Latency = d
	}
	if out.Status != 0 && (out.Status < 100 || out.Status > 599) {
		return Fault{}, errors.New("status must be an HTTP status code")
	}
	return out, nil
}

// serveControl serves the /_emulator/ control API (for load tools, end-to-end tests and the
// developer's curl). It has no authentication: never expose the emulator beyond localhost.
//
//	GET    /_emulator/                 the app and users as text (Describe)
//	GET    /_emulator/static/consent.css
//	POST   /_emulator/faults           {"endpoint": "/oauth/token", "fault": {...}}
//	DELETE /_emulator/faults           [?endpoint=...]
//	GET    /_emulator/calls            [?endpoint=...] → {"count", "counts", "calls"}
//	DELETE /_emulator/calls
//	POST   /_emulator/code             {"user_id", "redirect_uri", "nonce"?, "code_challenge"?} → {"code"}
//	POST   /_emulator/token            {"user_id", "client_id"?, "app_id"?} → Kakao token JSON
//	                                   (app_id: access_token_info names this app instead, as for a
//	                                   token minted by another Kakao app)
//	GET    /_emulator/users            → [user...]
//	POST   /_emulator/users            user → user (id chosen when 0)
//	POST   /_emulator/unlink           {"user_id", "referrer_type"?}
//	POST   /_emulator/rotate-key       → {"kids": [...]}
//	POST   /_emulator/drop-old-keys    → {"kids": [...]}
//	POST   /_emulator/auto-consent     {"user_id"} (0 = off)
//	POST   /_emulator/rate-limit       {"on": true}
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimPrefix(r.URL.Path, pathControl)
	switch route {
	case "GET static/consent.css", "HEAD static/consent.css":
		serveConsentCSS(w)
	case "GET ":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		e.Describe(w, e.baseURL(r))
	case "POST faults":
		var req struct {
			Endpoint string    `json:"endpoint"`
			Fault    faultJSON `json:"fault"`
		}
		if !decodeControl(w, r, &req) {
			return
		}
		if req.Endpoint == "" {
			controlError(w, http.StatusBadRequest, "endpoint is required (a path such as /oauth/token, or *)")
			return
		}
		f, err := req.Fault.fault()
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		e.SetFault(req.Endpoint, f)
		w.WriteHeader(http.StatusNoContent)
	case "DELETE faults":
		if ep := r.URL.Query().Get("endpoint"); ep != "" {
			e.SetFault(ep, Fault{})
		} else {
			e.ClearFaults()
		}
		w.WriteHeader(http.StatusNoContent)
	case "GET calls":
		ep := r.URL.Query().Get("endpoint")
		e.callMu.Lock()
		counts := make(map[string]int, len(e.counts))
		for k, v := range e.counts {
			counts[k] = v
		}
		e.callMu.Unlock()
		writeJSON(w, http.StatusOK, struct {
			Count  int            `json:"count"`
			Counts map[string]int `json:"counts"`
			Calls  []Call         `json:"calls"`
		}{e.Calls(ep), counts, e.CallLog()})
	case "DELETE calls":
		e.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	case "POST code":
		var req struct {
			UserID        int64  `json:"user_id"`
			RedirectURI   string `json:"redirect_uri"`
			Nonce         string `json:"nonce"`
			CodeChallenge string `json:"code_challenge"`
		}
		if !decodeControl(w, r, &req) {
			return
		}
		code, err := e.IssueCode(req.UserID, req.RedirectURI, req.Nonce, req.CodeChallenge)
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Code string `json:"code"`
		}{code})
	case "POST token":
		var req struct {
			UserID   int64  `json:"user_id"`
			ClientID string `json:"client_id"`
			AppID    int64  `json:"app_id"`
		}
		if !decodeControl(w, r, &req) {
			return
		}
		if req.AppID < 0 {
			controlError(w, http.StatusBadRequest, "app_id must be positive")
			return
		}
		tok, err := e.issueAccessToken(req.UserID, req.ClientID, e.baseURL(r))
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		if req.AppID != 0 {
			e.mu.Lock()
			if a := e.access[tok.AccessToken]; a != nil {
				a.appID = req.AppID
			}
			e.mu.Unlock()
		}
		writeJSON(w, http.StatusOK, tok)
	case "GET users":
		writeJSON(w, http.StatusOK, e.Users())
	case "POST users":
		var u User
		if !decodeControl(w, r, &u) {
			return
		}
		if u.ID == 0 {
			u.ID = randomUserID()
		}
		e.AddUser(u)
		got, _ := e.User(u.ID)
		writeJSON(w, http.StatusOK, got)
	case "POST unlink":
		var req struct {
			UserID       int64  `json:"user_id"`
			ReferrerType string `json:"referrer_type"`
		}
		if !decodeControl(w, r, &req) {
			return
		}
		if err := e.UnlinkFromKakao(r.Context(), req.UserID, req.ReferrerType); err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, ErrUnknownUser) || errors.Is(err, ErrNotLinked) {
				status = http.StatusBadRequest
			}
			controlError(w, status, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "POST rotate-key":
		e.RotateKey()
		writeJSON(w, http.StatusOK, struct {
			Kids []string `json:"kids"`
		}{e.KeyIDs()})
	case "POST drop-old-keys":
		e.DropOldKeys()
		writeJSON(w, http.StatusOK, struct {
			Kids []string `json:"kids"`
		}{e.KeyIDs()})
	case "POST auto-consent":
		var req struct {
			UserID int64 `json:"user_id"`
		}
		if !decodeControl(w, r, &req) {
			return
		}
		if _, ok := e.User(req.UserID); req.UserID != 0 && !ok {
			controlError(w, http.StatusBadRequest, ErrUnknownUser.Error())
			return
		}
		e.SetAutoConsent(req.UserID)
		w.WriteHeader(http.StatusNoContent)
	case "POST rate-limit":
		var req struct {
			On bool `json:"on"`
		}
		if !decodeControl(w, r, &req) {
			return
		}
		e.SetRateLimit(req.On)
		w.WriteHeader(http.StatusNoContent)
	default:
		controlError(w, http.StatusNotFound, "unknown control endpoint: "+route)
	}
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		controlError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	return true
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

// Describe prints, in Korean and English, what a developer needs to use the emulator at
// baseURL: the app's keys, redirect URIs, consent items and the test users to pick.
func (e *Emulator) Describe(w io.Writer, baseURL string) {
	app := e.App()
	users := e.Users()
	baseURL = strings.TrimSuffix(baseURL, "/")
	onOff := func(b bool) string {
		if b {
			return "켜짐 (on)"
		}
		return "꺼짐 (off)"
	}
	p := func(format string, a ...any) { _, _ = fmt.Fprintf(w, format, a...) }
	p("카카오 에뮬레이터 (Kakao emulator): %s\n", baseURL)
	p("  인증 서버 (auth URL, kauth): %s\n", baseURL)
	p("  API 서버 (API URL, kapi):    %s\n", baseURL)
	p("  디스커버리 (discovery):      %s%s\n", baseURL, pathDiscovery)
	p("앱 (app): %s\n", app.Name)
	p("  REST API 키 (client_id):     %s\n", app.RESTKey)
	if app.ClientSecret != "" {
		p("  클라이언트 시크릿 (secret):  %s\n", app.ClientSecret)
	} else {
		p("  클라이언트 시크릿 (secret):  %s\n", onOff(false))
	}
	p("  어드민 키 (admin key):       %s\n", app.AdminKey)
	p("  앱 ID (app_id):              %d\n", app.AppID)
	p("  OpenID Connect:              %s\n", onOff(app.OIDC))
	for _, u := range app.RedirectURIs {
		p("  리다이렉트 URI (redirect):   %s\n", u)
	}
	for _, it := range app.ConsentItems {
		req := "선택 (optional)"
		if it.Required {
			req = "필수 (required)"
		}
		p("  동의항목 (consent item):     %s — %s\n", it.ID, req)
	}
	if app.UnlinkWebhookURL != "" {
		p("  연결 해제 웹훅 (unlink webhook): %s %s\n", orDefault(app.UnlinkWebhookMethod, "POST"), app.UnlinkWebhookURL)
	}
	p("테스트 사용자 (test users) — 동의 화면에서 고르세요 (pick one on the consent page):\n")
	for _, u := range users {
		email := "이메일 없음 (no email)"
		if u.Email != "" {
			email = u.Email
			switch {
			case !u.EmailValid:
				email += " — 유효하지 않음 (invalid)"
			case !u.EmailVerified:
				email += " — 인증 안 됨 (unverified)"
			default:
				email += " — 인증됨 (verified)"
			}
		}
		linked := ""
		if len(u.Agreed) > 0 {
			linked = " [연결됨 (linked)]"
		}
		p("  %d  %s  %s%s\n", u.ID, u.Nickname, email, linked)
	}
	p("제어 API (control API): %s/_emulator/ (faults, calls, code, token, users, unlink, rotate-key)\n", baseURL)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
