package kakaotest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// HugeBodySize is the size of a HugeBody fault's body: 5 MiB.
const HugeBodySize = 5 << 20

// SetFault injects f into endpoint: a Kakao path such as "/oauth/token" or
// "/.well-known/jwks.json" (a JWKS outage), or "*" for every Kakao endpoint. A fault on the path
// itself wins over "*". A zero Fault clears the endpoint.
func (e *Emulator) SetFault(endpoint string, f Fault) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	if f == (Fault{}) {
		delete(e.faults, endpoint)
		return
	}
	e.faults[endpoint] = &f
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	clear(e.faults)
}

// takeFault returns the fault for path, counting down its Times.
func (e *Emulator) takeFault(path string) (Fault, bool) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	key := path
	f, ok := e.faults[key]
	if !ok {
		key = "*"
		if f, ok = e.faults[key]; !ok {
			return Fault{}, false
		}
	}
	out := *f
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(e.faults, key)
		}
	}
	return out, true
}

// isKauthPath reports whether path belongs to kauth.kakao.com (else kapi.kakao.com).
func isKauthPath(path string) bool {
	return strings.HasPrefix(path, "/oauth/") || strings.HasPrefix(path, "/.well-known/")
}

// applyFault carries out f. It returns false when the request should still be served normally
// (a pure latency fault).
func (e *Emulator) applyFault(w http.ResponseWriter, r *http.Request, path string, f Fault) bool {
	ctx := r.Context()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return true
		case <-e.done:
			t.Stop()
		}
	}
	if f.Hang {
		// Answer nothing until the client gives up (or the emulator closes). The body is read
		// first: net/http notices a client's disconnect only once the body is consumed.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		select {
		case <-ctx.Done():
		case <-e.done:
		}
		return true
	}
	status := f.Status
	orOK := func() int {
		if status == 0 {
			return http.StatusOK
		}
		return status
	}
	switch {
	case f.HugeBody:
		w.Header().Set("Content-Type", contentTypeJSON)
		w.Header().Set("Content-Length", strconv.Itoa(HugeBodySize+len(`{"padding":""}`)))
		w.WriteHeader(orOK())
		_, _ = w.Write([]byte(`{"padding":"`))
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for n := 0; n < HugeBodySize; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
		_, _ = w.Write([]byte(`"}`))
	case f.TruncatedJSON:
		rec := httptest.NewRecorder()
		kakaoRoutes[path](e, rec, r)
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		body := rec.Body.Bytes()
		if status == 0 {
			status = rec.Code
		}
		w.WriteHeader(status)
		_, _ = w.Write(body[:len(body)/2])
	case f.HTML:
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(orOK())
		_, _ = w.Write([]byte("<!DOCTYPE html>\n<html lang=\"ko\"><head><title>Kakao</title></head>" +
			"<body><h1>서비스 점검 중입니다</h1><p>Service under maintenance.</p></body></html>\n"))
	case f.Body != "":
		w.Header().Set("Content-Type", contentTypeJSON)
		w.WriteHeader(orOK())
		_, _ = w.Write([]byte(f.Body))
	case status != 0:
		writeDefaultFaultBody(w, path, status)
	default:
		return false
	}
	return true
}

// writeDefaultFaultBody answers status with a Kakao-style error body of the endpoint's host.
func writeDefaultFaultBody(w http.ResponseWriter, path string, status int) {
	if isKauthPath(path) {
		switch {
		case status >= 500:
			kauthError(w, status, "server_error", "internal server error", "KOE003")
		case status == http.StatusTooManyRequests:
			kauthError(w, status, "invalid_request", "token request rate limit exceeded", "KOE237")
		default:
			kauthError(w, status, "invalid_request", "bad request", "KOE001")
		}
		return
	}
	switch {
	case status == http.StatusServiceUnavailable:
		writeJSON(w, status, kapiErr{Msg: "service maintenance", Code: -9798})
	case status >= 500:
		writeJSON(w, status, kapiErr{Msg: "internal server error", Code: -1})
	case status == http.StatusTooManyRequests:
		writeJSON(w, status, kapiErr{Msg: "API limit has been exceeded.", Code: -10})
	case status == http.StatusUnauthorized:
		kapiError(w, -401, msgTokenNotExist)
	default:
		writeJSON(w, status, kapiErr{Msg: "bad request", Code: -2})
	}
}
