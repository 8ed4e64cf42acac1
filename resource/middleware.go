package resource

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

type claimsKey struct{}

// FromContext returns the claims that Middleware put in a request's context, and whether there
// are any.
func FromContext(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}

// NewContext returns a copy of ctx that carries c, as Middleware does; it is for tests of
// handlers that read FromContext.
func NewContext(ctx context.Context, c Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Middleware lets a request through to next only with a valid access token, its claims in the
// request's context (FromContext). Otherwise it answers 401 with a WWW-Authenticate Bearer
// challenge (RFC 6750 §3) and a JSON body {"error", "error_description"}; with CheckSession,
// 503 when kakaoauth cannot be asked. A CORS handler goes outside it: a browser's preflight
// request carries no token.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := v.authenticate(w, r); ok {
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
		}
	})
}

// RequireScopes returns middleware that lets a request through only if its token was granted
// every one of scopes, and answers 403 insufficient_scope otherwise (RFC 6750 §3.1). It may
// wrap a handler that Middleware already wraps; on its own it verifies the token first, as
// Middleware does. Only tokens issued to OpenID clients carry scopes: kakaoauth's own tokens
// have none, and are refused by every RequireScopes with at least one scope.
func (v *Verifier) RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	want := strings.Join(scopes, " ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := FromContext(r.Context())
			if !ok {
				if c, ok = v.authenticate(w, r); !ok {
					return
				}
				r = r.WithContext(NewContext(r.Context(), c))
			}
			for _, s := range scopes {
				if !c.HasScope(s) {
					w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="`+headerSafe(want)+`"`)
					writeError(w, http.StatusForbidden, "insufficient_scope", "필요한 권한(scope)이 없습니다: "+want, "the token lacks a required scope: "+want)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// authenticate verifies the request's token, or answers the request and returns false.
func (v *Verifier) authenticate(w http.ResponseWriter, r *http.Request) (Claims, bool) {
	token, err := v.tokenFrom(r)
	if err == nil && token == "" {
		// No credentials at all: a bare challenge, without an error code (RFC 6750 §3.1).
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "unauthorized", "로그인이 필요합니다", "an access token is required in Authorization: Bearer")
		return Claims{}, false
	}
	var c Claims
	if err == nil {
		c, err = v.Verify(r.Context(), token)
	}
	if err == nil {
		return c, true
	}
	desc, ko := "invalid token", "토큰이 올바르지 않습니다"
	var ve *verifyError
	if errors.As(err, &ve) {
		desc, ko = ve.desc, ve.ko
	}
	if errors.Is(err, ErrUnavailable) {
		v.log.WarnContext(r.Context(), "resource: answering 503", "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "로그인 세션을 확인하지 못했습니다. 잠시 후 다시 시도해 주세요", "kakaoauth could not be asked whether the session lives; try again")
		return Claims{}, false
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+headerSafe(desc)+`"`)
	writeError(w, http.StatusUnauthorized, "invalid_token", ko, desc)
	return Claims{}, false
}

// tokenFrom returns the request's access token: from the Authorization header, or else the
// configured cookie; "" and no error when there is none. The query string is never read
// (RFC 6750 §5.3, RFC 9700 §2.5).
func (v *Verifier) tokenFrom(r *http.Request) (string, error) {
	if h := r.Header.Values("Authorization"); len(h) > 0 {
		if len(h) > 1 {
			return "", invalid("more than one Authorization header", "Authorization 헤더가 둘 이상입니다")
		}
		// Another scheme (Basic, …) is no Bearer credential: the cookie, or the bare challenge.
		if scheme, token, _ := strings.Cut(strings.TrimSpace(h[0]), " "); strings.EqualFold(scheme, "Bearer") {
			if token = strings.TrimSpace(token); token == "" {
				return "", invalid("empty Bearer token", "Bearer 토큰이 비어 있습니다")
			}
			return token, nil
		}
	}
	if v.cookie != "" {
		if ck, err := r.Cookie(v.cookie); err == nil && ck.Value != "" {
			return ck.Value, nil
		}
	}
	return "", nil
}

// writeError answers status with the JSON body {"error": code, "error_description": …}, the
// description in Korean, then English: "ko (en)".
func writeError(w http.ResponseWriter, status int, code, ko, en string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, ko + " (" + en + ")"})
}

// headerSafe keeps the characters RFC 6750 §3 allows in a quoted error_description or scope
// (printable ASCII but `"` and `\`), dropping the others.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
