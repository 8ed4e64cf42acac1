package kakaotest

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
)

// contentTypeJSON is the Content-Type of Kakao's JSON answers.
const contentTypeJSON = "application/json;charset=UTF-8"

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, status, contentTypeJSON, v)
}

func writeJSONType(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// kauthErr is the error body of kauth.kakao.com.
type kauthErr struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCode        string `json:"error_code,omitempty"`
}

func kauthError(w http.ResponseWriter, status int, errCode, desc, koe string) {
	writeJSON(w, status, kauthErr{Error: errCode, ErrorDescription: desc, ErrorCode: koe})
}

// kapiErr is the error body of kapi.kakao.com.
type kapiErr struct {
	Msg            string   `json:"msg"`
	Code           int      `json:"code"`
	RequiredScopes []string `json:"required_scopes,omitempty"`
	AllowedScopes  []string `json:"allowed_scopes,omitempty"`
	APIType        string   `json:"api_type,omitempty"`
}

// kapiStatus is the HTTP status Kakao documents for each kapi code.
func kapiStatus(code int) int {
	switch code {
	case -401, -406:
		return http.StatusUnauthorized
	case -3, -4, -5, -6, -12, -402:
		return http.StatusForbidden
	case -9798:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

func kapiError(w http.ResponseWriter, code int, msg string) {
	if code == -401 {
		w.Header().Set("WWW-Authenticate", "Bearer error=invalid_token")
	}
	writeJSON(w, kapiStatus(code), kapiErr{Msg: msg, Code: code})
}

// methodNotAllowed answers a wrong method. Emulator choice: Kakao's answer is not documented;
// a plain 405 with Allow is what its HTTP stack is likely to give.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// isForm reports whether the request body is application/x-www-form-urlencoded.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}
