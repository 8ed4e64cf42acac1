package kakao

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is the stable category of a failed Kakao call. Callers decide what to do
// (retry, ask for consent, log in again, fix configuration) from the Kind, never
// from Kakao's message text.
type Kind string

// The stable kinds of Error.
const (
	KindBadCode          Kind = "bad_code"          // KOE320: reused, expired or unknown authorization code
	KindRedirectMismatch Kind = "redirect_mismatch" // KOE303, KOE006
	KindBadClient        Kind = "bad_client"        // KOE101, KOE008, KOE009, invalid_client
	KindBadSecret        Kind = "bad_secret"        // KOE010
	KindBadRefreshToken  Kind = "bad_refresh_token" // KOE322, KOE319
	KindConsentRequired  Kind = "consent_required"  // -402, consent_required
	KindLoginRequired    Kind = "login_required"    // login_required
	KindAccessDenied     Kind = "access_denied"     // access_denied
	KindNotLinked        Kind = "not_linked"        // -101
	KindInvalidToken     Kind = "invalid_token"     // -401, KOE400, an ID token that fails verification
	KindBadRequest       Kind = "bad_request"       // -2, KOE001, KOE201, KOE202, -201
	KindForbidden        Kind = "forbidden"         // -3, -4, -5, -6, -12, -406, -103
	KindRateLimited      Kind = "rate_limited"      // KOE237, -10, HTTP 429
	KindUnavailable      Kind = "unavailable"       // 5xx, KOE003, -1, -7, -603, -9798, network errors
	KindTimeout          Kind = "timeout"           // deadline exceeded
	KindBadResponse      Kind = "bad_response"      // 2xx with HTML, truncated JSON, wrong types, oversized body
	KindMisconfigured    Kind = "misconfigured"     // KOE004, KOE005, KOE007, KOE102, misconfigured
	KindUnknown          Kind = "unknown"
)

// Error is every failure of a call: an answer of Kakao's or a transport fault.
// kauth answers fill OAuthError, Description and KOE; kapi answers fill APICode,
// Description (kapi "msg"), RequiredScopes and AllowedScopes.
type Error struct {
	Op          string // "token", "refresh", "me", "access_token_info", "id_token", ...
	Status      int    // HTTP status; 0 for transport faults and local checks
	Kind        Kind   // what callers decide on, never Description
	OAuthError  string // kauth "error"
	Description string // kauth "error_description", kapi "msg", or the reason of a local check
	KOE         string // kauth "error_code", e.g. "KOE320"
	APICode     int    // kapi "code", e.g. -401
	// RequiredScopes and AllowedScopes are kapi's required_scopes and allowed_scopes of -402:
	// the consent items to ask for and those the user has agreed to.
	RequiredScopes []string
	AllowedScopes  []string
	// RetryAfter is the error answer's Retry-After header; 0 when Kakao sent none.
	RetryAfter time.Duration
	Err        error // underlying transport or decode error
}

// Error returns a one-line description for logs. It never contains tokens or
// secrets sent by this client; Kakao's own description is cut to 200 bytes.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kakao: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(string(e.Kind))
	if code := e.Code(); code != "" {
		b.WriteString(" ")
		b.WriteString(code)
	} else if e.OAuthError != "" {
		b.WriteString(" ")
		b.WriteString(clip(e.OAuthError, 64))
	}
	if e.Status != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteString(")")
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(redactSecrets(clip(e.Description, 200)))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(redactSecrets(clip(e.Err.Error(), 300)))
	}
	return b.String()
}

// redactSecrets replaces every run of 16 or more token characters (base64url, '.', '~') with
// "[redacted]": Kakao's own messages echo codes and tokens ("authorization code not found for
// code=…"), and error texts end up in logs.
func redactSecrets(s string) string {
	isTok := func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !isTok(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isTok(s[j]) {
			j++
		}
		if j-i >= 16 && hasDigitAndLetter(s[i:j]) {
			b.WriteString("[redacted]")
		} else {
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}

// hasDigitAndLetter tells random token text from long plain words and URLs' host names.
func hasDigitAndLetter(s string) bool {
	var d, l bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		d = d || c >= '0' && c <= '9'
		l = l || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	return d && l
}

// Unwrap returns the underlying transport or decode error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Code returns Kakao's error code: the KOE code ("KOE320"), else the kapi code
// ("-401"), else "".
func (e *Error) Code() string {
	if e.KOE != "" {
		return e.KOE
	}
	if e.APICode != 0 {
		return strconv.Itoa(e.APICode)
	}
	return ""
}

// Explain returns one line in Korean ("ko", the default) or English ("en") that
// says what happened and what to fix.
func (e *Error) Explain(lang string) string {
	for _, code := range [...]string{e.KOE, apiCodeString(e.APICode), e.OAuthError} {
		if code == "" {
			continue
		}
		if info, ok := codeTable[code]; ok {
			return info.text(lang)
		}
	}
	return kindText(e.Kind, lang)
}

// Temporary reports whether the failure is on Kakao's side or in the network
// and the same call may succeed later: Kakao down, timeout, 5xx, -1, -7, -603,
// -9798, KOE003.
func (e *Error) Temporary() bool {
	return e.Kind == KindUnavailable || e.Kind == KindTimeout
}

// Is reports whether target is an *Error of the same Kind, so that
// errors.Is(err, &kakao.Error{Kind: kakao.KindBadCode}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Kind == "" {
		return false
	}
	return t.Kind == e.Kind && (t.Code() == "" || t.Code() == e.Code())
}

// CodeInfo describes one Kakao error code: its Kind and what to fix, in Korean
// and English.
type CodeInfo struct {
	Code string // "KOE006", "-402", "access_denied"
	Kind Kind
	Ko   string // what happened and what to fix, in Korean
	En   string // the same in English
}

func (ci CodeInfo) text(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		return ci.En
	}
	return ci.Ko
}

// Explain returns the one-line explanation of a Kakao error code ("KOE006",
// "-402", "access_denied") in Korean ("ko", the default) or English ("en"). An
// unknown code gets a generic line naming the code.
func Explain(code, lang string) string {
	if info, ok := codeTable[code]; ok {
		return info.text(lang)
	}
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		return fmt.Sprintf("Kakao returned error %q, which this client does not know; see https://developers.kakao.com/docs/latest/ko/kakaologin/trouble-shooting.", clip(code, 40))
	}
	return fmt.Sprintf("카카오가 알 수 없는 오류 %q를 반환했습니다. https://developers.kakao.com/docs/latest/ko/kakaologin/trouble-shooting 에서 확인하세요.", clip(code, 40))
}

// KindOf returns the Kind of a Kakao error code ("KOE320", "-401",
// "access_denied"), or KindUnknown.
func KindOf(code string) Kind {
	if info, ok := codeTable[code]; ok {
		return info.Kind
	}
	return KindUnknown
}

// Codes lists every Kakao error code this package knows, sorted by code.
func Codes() []CodeInfo {
	out := make([]CodeInfo, 0, len(codeTable))
	for _, ci := range codeTable {
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// ParseRedirectError returns the error Kakao put on the redirect to the
// callback (error, error_description), or nil when q carries no error.
func ParseRedirectError(q url.Values) *Error {
	oe := q.Get("error")
	if oe == "" {
		return nil
	}
	e := &Error{
		Op:          "authorize",
		OAuthError:  clip(oe, 128),
		Description: clip(q.Get("error_description"), 512),
		KOE:         clip(q.Get("error_code"), 16),
	}
	e.Kind = classify(0, e.KOE, 0, e.OAuthError)
	return e
}

func apiCodeString(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

// classify picks the Kind of an answer from Kakao: a 5xx status always means
// unavailable; otherwise the most specific code wins (KOE, kapi code, OAuth
// error), then the HTTP status.
func classify(status int, koe string, apiCode int, oauthErr string) Kind {
	if status >= 500 {
		return KindUnavailable
	}
	if koe != "" {
		if k := KindOf(koe); k != KindUnknown {
			return k
		}
	}
	if apiCode != 0 {
		if k := KindOf(strconv.Itoa(apiCode)); k != KindUnknown {
			return k
		}
	}
	if oauthErr != "" {
		if k := KindOf(oauthErr); k != KindUnknown {
			return k
		}
	}
	switch status {
	case http.StatusUnauthorized:
		return KindInvalidToken
	case http.StatusForbidden:
		return KindForbidden
	case http.StatusTooManyRequests:
		return KindRateLimited
	case http.StatusBadRequest:
		return KindBadRequest
	}
	return KindUnknown
}

// kindText explains errors that carry no Kakao code (transport faults, local
// checks) by their Kind.
func kindText(k Kind, lang string) string {
	en := strings.HasPrefix(strings.ToLower(lang), "en")
	pick := func(ko, e string) string {
		if en {
			return e
		}
		return ko
	}
	switch k {
	case KindTimeout:
		return pick("카카오 서버가 제한 시간 안에 응답하지 않았습니다. 잠시 후 다시 시도하세요(Timeout 설정 확인).",
			"Kakao did not answer within the deadline; retry later (check Config.Timeout).")
	case KindUnavailable:
		return pick("카카오 서버에 일시적으로 연결할 수 없습니다. 사용자를 로그아웃시키지 말고 잠시 후 다시 시도하세요.",
			"Kakao is temporarily unreachable; do not log the user out, retry later.")
	case KindBadResponse:
		return pick("카카오 응답을 해석할 수 없습니다(HTML, 잘린 JSON, 잘못된 형식 또는 너무 큰 본문). AuthURL/APIURL 설정과 프록시를 확인하세요.",
			"Kakao's answer could not be decoded (HTML, truncated JSON, wrong types or oversized body); check AuthURL/APIURL and any proxy.")
	case KindInvalidToken:
		return pick("토큰이 유효하지 않습니다(서명, 발급자, 대상, 만료 또는 nonce 불일치). 다시 로그인하세요.",
			"The token is not valid (signature, issuer, audience, expiry or nonce); log in again.")
	case KindMisconfigured:
		return pick("클라이언트 설정이 올바르지 않습니다. ClientID, AdminKey, 리다이렉트 URI 설정을 확인하세요.",
			"The client is misconfigured; check ClientID, AdminKey and the redirect URI.")
	case KindRateLimited:
		return pick("요청 한도를 초과했습니다. Retry-After 이후 다시 시도하세요.",
			"Rate limit exceeded; retry after Retry-After.")
	case KindForbidden:
		return pick("이 요청에 대한 권한이 없습니다. 카카오 디벨로퍼스 콘솔의 앱 권한과 설정을 확인하세요.",
			"The request is not permitted; check the app's permissions and settings in the Kakao Developers console.")
	case KindBadRequest:
		return pick("요청이 잘못되었습니다. 필수 파라미터와 형식을 확인하세요.",
			"The request is malformed; check required parameters and their format.")
	}
	return pick("카카오 호출이 실패했습니다. 오류 코드와 HTTP 상태를 확인하세요.",
		"The Kakao call failed; check the error code and HTTP status.")
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence and
// replaces control characters, so that Kakao's text is safe in one log line.
func clip(s string, n int) string {
	if len(s) > n {
		cut := n
		for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// asError returns err as *Error when it is one.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
