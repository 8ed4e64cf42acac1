package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// kakaoEndpoints are the Kakao paths the client calls (kauth and kapi); any other path is
// labelled "other", so a caller can never blow up the label set.
var kakaoEndpoints = []string{
	"/oauth/token",
	jwksPath,
	"/.well-known/openid-configuration",
	"/v2/user/me",
	"/v1/user/access_token_info",
	"/v1/user/logout",
	"/v1/user/unlink",
	"/v2/user/scopes",
	"/v2/user/revoke/scopes",
	"/v1/oidc/userinfo",
}

// jwksPath is where Kakao publishes its ID-token keys; every call to it is a key refresh.
const jwksPath = "/.well-known/jwks.json"

// Outcomes of a Kakao call.
const (
	outcomeOK = iota
	outcome4xx
	outcome5xx
	outcomeError
	outcomeTimeout
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "http_4xx", "http_5xx", "error", "timeout"}

// KakaoTransport wraps the transport of the Kakao client (kakao.Config.HTTPClient.Transport):
// it times every call into kakaoauth_kakao_request_duration_seconds by endpoint (the URL path,
// from a fixed allowlist, else "other") and outcome (ok, http_4xx, http_5xx, error, timeout),
// until the response body has been read or closed, and counts calls to Kakao's JWKS in
// kakaoauth_kakao_jwks_fetches_total. A nil next is a transport like the Kakao client's own
// default (5 s dial and TLS timeouts, 10 s to the response headers, 32 idle connections per
// host). On a nil *Metrics it returns next unchanged.
func (m *Metrics) KakaoTransport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = defaultKakaoTransport()
	}
	if m == nil {
		return next
	}
	return &kakaoTransport{m: m, next: next}
}

func defaultKakaoTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	t.ResponseHeaderTimeout = 10 * time.Second
	t.TLSHandshakeTimeout = 5 * time.Second
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return t
}

type kakaoTransport struct {
	m    *Metrics
	next http.RoundTripper
}

func (t *kakaoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	path := req.URL.Path
	obs, ok := t.m.kakaoObs[path]
	if !ok {
		obs = t.m.kakaoObs[other]
	}
	if path == jwksPath {
		t.m.jwks.Inc()
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		obs[errOutcome(err)].Observe(time.Since(start).Seconds())
		return resp, err
	}
	outcome := outcomeOK
	switch {
	case resp.StatusCode >= 500:
		outcome = outcome5xx
	case resp.StatusCode >= 400:
		outcome = outcome4xx
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		obs[outcome].Observe(time.Since(start).Seconds())
		return resp, nil
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, obs: obs, start: start, outcome: outcome}
	return resp, nil
}

func errOutcome(err error) int {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return outcomeTimeout
	}
	return outcomeError
}

// timedBody observes the call once its body is read to the end, fails, or is closed.
type timedBody struct {
	io.ReadCloser
	obs     *[numOutcomes]lazyObserver
	start   time.Time
	outcome int
	done    atomic.Bool
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.finish(b.outcome)
	case err != nil:
		b.finish(errOutcome(err))
	}
	return n, err
}

func (b *timedBody) Close() error {
	b.finish(b.outcome)
	return b.ReadCloser.Close()
}

func (b *timedBody) finish(outcome int) {
	if b.done.CompareAndSwap(false, true) {
		b.obs[outcome].Observe(time.Since(b.start).Seconds())
	}
}
