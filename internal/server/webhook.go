package server

import (
	"crypto/subtle"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

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
			s.writeError(w, r, &auth.Error{Code: codeUnsupportedMedia, Message: "expected a form body"})
			return
		}
		if err := parseForm(r); err != nil {
			s.writeError(w, r, err)
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
	queued, answered, err := s.queueUnlinkWebhook(r.Context(), userID, reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "kakao unlink webhook", slog.String("kakao_id", userID),
		slog.String("referrer_type", clip(reason, 64)), slog.Bool("queued", queued), slog.Bool("answered_first", answered))
	w.Header()["Cache-Control"] = hdrNoStore
	w.WriteHeader(http.StatusOK)
}
