package server

import (
	"crypto/subtle"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/web"
)

// Limits of the SDK flow's inputs; Kakao's tokens are far shorter.
const (
	maxKakaoAccessToken = 4096
	maxKakaoIDToken     = 8 << 10
	maxNonce            = 512
)

// handleSDK is the mobile flow: the app logged in with Kakao's SDK and posts Kakao's access
// token (and ID token). The server asks Kakao whose token it is before trusting it.
func (s *Server) handleSDK(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		Nonce       string `json:"nonce"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.AccessToken == "":
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "access_token is required"))
		return
	case len(req.AccessToken) > maxKakaoAccessToken || !printableASCII(req.AccessToken):
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "access_token is not a Kakao access token"))
		return
	case len(req.IDToken) > maxKakaoIDToken || !printableASCII(req.IDToken):
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "id_token is not a Kakao ID token"))
		return
	case len(req.Nonce) > maxNonce:
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "nonce too long"))
		return
	case req.Nonce != "" && req.IDToken == "":
		s.writeError(w, r, auth.Errorf(auth.ECodeInvalidRequest, "nonce without id_token"))
		return
	}
	res, err := s.cfg.Service.LoginWithSDK(r.Context(), auth.SDKLogin{
		AccessToken: req.AccessToken, IDToken: req.IDToken, Nonce: req.Nonce,
	}, auth.SessionMeta{UserAgent: r.UserAgent(), IP: clientIP(r), Flow: "sdk"})
	s.cfg.Metrics.LoginResult("sdk", err)
	if err != nil {
		if e := asError(err); e.Code == auth.ECodeInvalidToken {
			// The client must log in with Kakao again; say which token is meant. Kakao's own
			// refusal (-401: expired or unknown) carries kakao_error_code, ours does not.
			key := "err.kakao_token_rejected"
			if e.KakaoCode != "" {
				key = "err.kakao_token_expired"
			}
			err = &describedError{err: err, key: key}
		}
		s.writeError(w, r, err)
		return
	}
	s.answerLogin(w, r, res)
}

func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// stateChangeBody reads the optional body of a cookie- or Bearer-authenticated state change
// (logout-like requests): none, an empty JSON object, or a form whose csrf field is returned.
// Other media types are 415.
func stateChangeBody(r *http.Request) (formToken string, form bool, err error) {
	if !hasBody(r) {
		return "", false, nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			if strings.Contains(err.Error(), "too large") {
				return "", true, &auth.Error{Code: auth.ECodeTooLarge}
			}
			return "", true, &auth.Error{Code: auth.ECodeInvalidRequest, Message: "bad form"}
		}
		return r.PostForm.Get("csrf"), true, nil
	case isJSON(r):
		var req struct{}
		return "", false, decodeJSON(r, &req)
	}
	return "", false, &auth.Error{Code: auth.ECodeUnsupportedMedia, Message: "expected JSON or a form"}
}

// handleDeleteMe is DELETE /auth/me: the API's account deletion.
func (s *Server) handleDeleteMe(w http.ResponseWriter, r *http.Request) {
	s.deleteAccount(w, r, false)
}

// handleAccountDeletePost is POST /account/delete: the confirmation page's form.
func (s *Server) handleAccountDeletePost(w http.ResponseWriter, r *http.Request) {
	s.deleteAccount(w, r, true)
}

// deleteAccount deletes the caller's account: authenticated by a Bearer token, or by the access
// cookie with an allowed Origin and the CSRF token. The account is deleted here first, then
// unlinked at Kakao; a failed unlink does not undo the deletion. Scripts get 204; a browser
// (the page's form, any form post, or Accept: text/html) gets 303 to a page that says what
// happened.
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, fromPage bool) {
	fail := func(err error) {
		if fromPage {
			if auth.ErrorCode(err) == auth.ECodeUnauthorized {
				err = &auth.Error{Code: auth.ECodeInvalidToken, Message: "not signed in"}
			}
			s.renderError(w, r, err)
			return
		}
		s.writeError(w, r, err)
	}
	u, c, viaCookie, err := s.authenticate(r)
	if err != nil {
		fail(err)
		return
	}
	if fromPage && !viaCookie {
		fail(&auth.Error{Code: auth.ECodeForbidden, Message: "the page's form is cookie-authenticated"})
		return
	}
	if viaCookie {
		if err := s.checkOrigin(r); err != nil {
			fail(err)
			return
		}
	}
	formToken, form, err := stateChangeBody(r)
	if err != nil {
		fail(err)
		return
	}
	if viaCookie {
		if err := s.checkCSRF(r, c.SessionID, formToken); err != nil {
			fail(err)
			return
		}
	}
	setLogUser(r, u.ID)
	res, err := s.cfg.Service.DeleteAccount(r.Context(), u.ID, c.SessionID, clientIP(r))
	if err != nil {
		fail(err)
		return
	}
	if !res.Unlinked {
		setLogError(r, "account deleted here; Kakao unlink failed: "+errText(res.UnlinkErr))
	}
	s.clearSessionCookies(w)
	http.SetCookie(w, &http.Cookie{Name: returningCookie, Value: "", Path: "/auth/kakao", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.Cookies.Secure, SameSite: http.SameSiteLaxMode})
	w.Header()["Cache-Control"] = hdrNoStore
	if fromPage || form || strings.Contains(r.Header.Get("Accept"), "text/html") {
		target := "/account/deleted"
		if !res.Unlinked {
			target += "?unlink=failed"
		}
		http.Redirect(w, r, target+"#page-heading", http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// handleAccountDelete is GET /account/delete: the confirmation page. Without a session it sends
// the browser to the login page.
func (s *Server) handleAccountDelete(w http.ResponseWriter, r *http.Request) {
	var claims auth.AccessClaims
	if ck, err := r.Cookie(s.cfg.Cookies.AccessName); err == nil && ck.Value != "" {
		u, cl, err := s.cfg.Service.Authenticate(r.Context(), ck.Value)
		switch {
		case err == nil:
			setLogUser(r, u.ID)
			claims = cl
		case auth.ErrorCode(err) != auth.ECodeInvalidToken:
			s.renderError(w, r, err)
			return
		}
	}
	if claims.SessionID == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.cfg.Pages.Delete(w, r, http.StatusOK, web.DeletePage{
		Lang: web.Lang(r), CSRF: s.cfg.CSRF.CSRFToken(claims.SessionID), ActionURL: "/account/delete", CancelURL: "/",
	})
}

// handleAccountDeleted is GET /account/deleted: the page after a deletion; it needs no session.
func (s *Server) handleAccountDeleted(w http.ResponseWriter, r *http.Request) {
	s.cfg.Pages.Deleted(w, r, http.StatusOK, web.DeletedPage{
		Lang: web.Lang(r), UnlinkFailed: r.URL.Query().Get("unlink") == "failed", LoginURL: "/auth/kakao/login",
	})
}

type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Flow       string    `json:"flow"`
	Current    bool      `json:"current"`
}

// handleSessions lists the caller's signed-in devices, newest first.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	u, c, _, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	setLogUser(r, u.ID)
	list, err := s.cfg.Service.Sessions(r.Context(), u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, ss := range list {
		out = append(out, sessionJSON{
			ID: ss.ID, CreatedAt: ss.CreatedAt.UTC().Truncate(time.Second), LastUsedAt: ss.LastUsedAt.UTC().Truncate(time.Second),
			ExpiresAt: ss.ExpiresAt.UTC().Truncate(time.Second), UserAgent: ss.UserAgent, IP: ss.IP, Flow: ss.Flow,
			Current: ss.ID == c.SessionID,
		})
	}
	w.Header()["Cache-Control"] = hdrNoStore
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessionJSON `json:"sessions"`
	}{out})
}

// handleDeleteSession signs one of the caller's sessions out. Another user's session, or an
// unknown id, is 404. Signing the current session out through its cookie clears the cookies.
func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request) {
	u, c, viaCookie, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if viaCookie {
		if err := s.checkOrigin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	formToken, _, err := stateChangeBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if viaCookie {
		if err := s.checkCSRF(r, c.SessionID, formToken); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	setLogUser(r, u.ID)
	id := r.PathValue("id")
	if id == "" || len(id) > 64 {
		s.writeError(w, r, &auth.Error{Code: auth.ECodeNotFound, Message: "no such session"})
		return
	}
	if err := s.cfg.Service.RevokeSession(r.Context(), u.ID, id, c.SessionID); err != nil {
		s.writeError(w, r, err)
		return
	}
	if viaCookie && id == c.SessionID {
		s.clearSessionCookies(w)
	}
	w.Header()["Cache-Control"] = hdrNoStore
	w.WriteHeader(http.StatusNoContent)
}

// referrerTypes are the reasons Kakao's unlink webhook names (reference/kakao-api.md §8.2).
var referrerTypes = map[string]bool{
	"ACCOUNT_DELETE": true, "FORCED_ACCOUNT_DELETE": true, "UNLINK_FROM_ADMIN": true,
	"UNLINK_FROM_APPS": true, "INCOMPLETE_SIGN_UP": true,
}

// kakaoAdminAuth reports whether the request carries "Authorization: KakaoAK <admin key>"; the
// key is compared in constant time.
func (s *Server) kakaoAdminAuth(r *http.Request) bool {
	want := s.cfg.UnlinkWebhook.AdminKey
	h := r.Header.Get("Authorization")
	const scheme = "KakaoAK "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		// Still compare, so a missing or foreign scheme costs the same as a wrong key.
		subtle.ConstantTimeCompare([]byte(want), []byte(want+"x"))
		return false
	}
	return subtle.ConstantTimeCompare([]byte(h[len(scheme):]), []byte(want)) == 1
}

// handleUnlinkWebhook is Kakao's unlink webhook (GET with a query, or POST with a form): a person
// unlinked our app at Kakao, so their account is deleted here. A request without our admin key
// is 401 and one for another app_id is 403, and neither deletes anything; every valid request
// answers 200, also for unknown users (already deleted, or never signed up) and unknown
// referrer types, which are logged. Without a configured admin key the webhook is off (404).
func (s *Server) handleUnlinkWebhook(w http.ResponseWriter, r *http.Request) {
	hook := s.cfg.UnlinkWebhook
	if hook.AdminKey == "" || hook.AppID <= 0 {
		s.writeError(w, r, &auth.Error{Code: auth.ECodeNotFound, Message: "unlink webhook is off: set KAKAOAUTH_KAKAO_ADMIN_KEY and KAKAOAUTH_KAKAO_APP_ID"})
		return
	}
	if !s.kakaoAdminAuth(r) {
		w.Header().Set("WWW-Authenticate", `KakaoAK realm="kakao-webhook"`)
		s.writeError(w, r, &auth.Error{Code: auth.ECodeUnauthorized, Message: "unlink webhook without our admin key"})
		return
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost && hasBody(r) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" {
			s.writeError(w, r, &auth.Error{Code: auth.ECodeUnsupportedMedia, Message: "expected a form body"})
			return
		}
		if err := r.ParseForm(); err != nil {
			s.writeError(w, r, &auth.Error{Code: auth.ECodeInvalidRequest, Message: "bad form"})
			return
		}
		params = r.Form // body first, then the query
	}
	appID, userID, reason := params.Get("app_id"), params.Get("user_id"), params.Get("referrer_type")
	if appID != strconv.FormatInt(hook.AppID, 10) {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "unlink webhook for another app refused", slog.String("app_id", clip(appID, 32)))
		s.writeError(w, r, &auth.Error{Code: auth.ECodeForbidden, Message: "app_id is not this app's"})
		return
	}
	if id, err := strconv.ParseInt(userID, 10, 64); err != nil || id <= 0 || strconv.FormatInt(id, 10) != userID {
		s.writeError(w, r, &auth.Error{Code: auth.ECodeInvalidRequest, Message: "user_id must be a Kakao user id"})
		return
	}
	if !referrerTypes[reason] {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "unlink webhook with an unknown referrer_type; deleting the user anyway",
			slog.String("referrer_type", clip(reason, 64)), slog.String("kakao_id", userID))
	}
	deleted, err := s.cfg.Service.UnlinkedAtProvider(r.Context(), auth.ProviderKakao, userID, reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "kakao unlink webhook", slog.String("kakao_id", userID),
		slog.String("referrer_type", clip(reason, 64)), slog.Bool("deleted", deleted))
	w.Header()["Cache-Control"] = hdrNoStore
	w.WriteHeader(http.StatusOK)
}
