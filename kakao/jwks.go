package kakao

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// jwksRetryAfterFailure is how soon a failed JWKS fetch may be tried again
// (capped at the cooldown). Failures are not cached as "no keys" for long, so
// a Kakao outage at start-up ends soon after Kakao recovers.
const jwksRetryAfterFailure = 5 * time.Second

// keySet is the oidc.KeySet of a Client. go-oidc's RemoteKeySet (v3.21) keeps
// parsed keys in memory and coalesces concurrent refetches, but it refetches
// on every signature failure (an unknown kid, and also a bad signature under a
// known kid) with no cooldown, reads the JWKS without a size cap, and uses no
// deadline of its own. keySet therefore gives RemoteKeySet an HTTP client whose
// transport (jwksGate) lets at most one fetch through per JWKSCooldown, with a
// deadline and a body cap, and filters the JWKS before go-oidc may cache it:
// only RS256-capable RSA keys pass (so one junk key cannot fail the whole set),
// and a bad or empty answer never replaces the cached keys.
type keySet struct {
	remote *oidc.RemoteKeySet
	gate   *jwksGate
}

func newKeySet(jwksURL string, base http.RoundTripper, cfg Config) *keySet {
	g := &jwksGate{base: base, timeout: cfg.Timeout, cooldown: cfg.JWKSCooldown, now: cfg.Now}
	hc := &http.Client{
		Transport:     g,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	return &keySet{remote: oidc.NewRemoteKeySet(ctx, jwksURL), gate: g}
}

// verifyProbe travels in the context of one VerifyIDToken call so that the
// key set can report why a signature check failed: go-oidc's verifier formats
// key-set errors with %v, which drops the error chain.
type verifyProbe struct {
	kid  string
	kind Kind
	err  error
}

type probeKey struct{}

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	if err != nil && errors.Is(err, errJWKSCooldown) {
		// go-oidc wakes the callers of a refetch just before it stores the
		// fetched keys; a call in that gap reads the old cache and is refused
		// a second fetch. One more look at the (now stored) cache settles it.
		payload, err = k.remote.VerifySignature(ctx, jwt)
	}
	if err == nil {
		return payload, nil
	}
	if p, ok := ctx.Value(probeKey{}).(*verifyProbe); ok {
		p.kind = k.classify(ctx, err, p.kid)
		p.err = err
	}
	return nil, err
}

// classify decides whether a failed signature check means a bad token or a
// Kakao/JWKS fault. With a cold cache nothing can be verified, so any fetch
// failure is KindUnavailable. With a warm cache, a token whose kid is cached
// (or that has no kid) failed against a known key: KindInvalidToken. An
// unknown kid during a real fetch failure may be a key rotation we could not
// see: KindUnavailable; during the cooldown it is KindInvalidToken.
func (k *keySet) classify(ctx context.Context, err error, kid string) Kind {
	warm, known := k.gate.state(kid)
	var fe *jwksFetchError
	switch {
	case errors.As(err, &fe):
		if warm && known {
			return KindInvalidToken
		}
		return KindUnavailable
	case errors.Is(err, errJWKSCooldown):
		if !warm {
			return KindUnavailable
		}
		return KindInvalidToken
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || ctx.Err() != nil:
		if warm && known {
			return KindInvalidToken
		}
		return KindTimeout
	}
	return KindInvalidToken
}

// errJWKSCooldown is returned by jwksGate when a refetch is asked for within
// the cooldown.
var errJWKSCooldown = errors.New("kakao: JWKS refetch suppressed by cooldown")

// jwksFetchError is a failed JWKS fetch: network, status, size or content.
type jwksFetchError struct{ err error }

func (e *jwksFetchError) Error() string { return "kakao: fetch JWKS: " + e.err.Error() }
func (e *jwksFetchError) Unwrap() error { return e.err }

// jwksGate is the RoundTripper of the key set's HTTP client.
type jwksGate struct {
	base     http.RoundTripper
	timeout  time.Duration
	cooldown time.Duration
	now      func() time.Time

	mu        sync.Mutex
	lastFetch time.Time // time of the last fetch that went to the network
	lastOK    bool
	warm      bool                // a JWKS was accepted at least once
	kids      map[string]struct{} // kids of the last accepted JWKS
	fetches   int                 // fetches that went to the network (for tests)
}

func (g *jwksGate) state(kid string) (warm, known bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if kid == "" {
		return g.warm, g.warm
	}
	_, known = g.kids[kid]
	return g.warm, known
}

func (g *jwksGate) fetchCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.fetches
}

func (g *jwksGate) RoundTrip(req *http.Request) (*http.Response, error) {
	g.mu.Lock()
	now := g.now()
	wait := g.cooldown
	if !g.lastOK {
		wait = min(jwksRetryAfterFailure, g.cooldown)
	}
	if !g.lastFetch.IsZero() && now.Sub(g.lastFetch) < wait && now.Sub(g.lastFetch) >= 0 {
		g.mu.Unlock()
		return nil, errJWKSCooldown
	}
	g.lastFetch = now
	g.fetches++
	g.mu.Unlock()

	kids, resp, err := g.fetch(req)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.lastOK = false
		return nil, &jwksFetchError{err: err}
	}
	g.lastOK, g.warm, g.kids = true, true, kids
	return resp, nil
}

func (g *jwksGate) fetch(req *http.Request) (map[string]struct{}, *http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), g.timeout)
	defer cancel()
	resp, err := g.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body) // buffered and capped by capTransport
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	kids, filtered, err := parseJWKS(body)
	if err != nil {
		return nil, nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(filtered))
	resp.ContentLength = int64(len(filtered))
	resp.Header.Set("Content-Type", "application/json")
	return kids, resp, nil
}

// parseJWKS keeps the keys of a JWKS that can verify Kakao's RS256 tokens
// (public RSA keys whose use is "sig" or unset and whose alg is RS256 or
// unset) and drops every other entry, parseable or not (RFC 7517 §5: ignore
// keys you do not understand). go-oidc fails a whole set on one broken key, so
// it is given only the kept keys. At least one must remain. It returns the
// kids and the filtered JWKS.
func parseJWKS(body []byte) (map[string]struct{}, []byte, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, nil, fmt.Errorf("decode JWKS: %w", err)
	}
	kids := make(map[string]struct{}, len(raw.Keys))
	var out bytes.Buffer
	out.WriteString(`{"keys":[`)
	kept := 0
	for _, k := range raw.Keys {
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(k, &jwk); err != nil {
			continue
		}
		if _, ok := jwk.Key.(*rsa.PublicKey); !ok {
			continue
		}
		if (jwk.Use != "" && jwk.Use != "sig") || (jwk.Algorithm != "" && jwk.Algorithm != string(jose.RS256)) {
			continue
		}
		if kept > 0 {
			out.WriteByte(',')
		}
		out.Write(k)
		kept++
		kids[jwk.KeyID] = struct{}{}
	}
	out.WriteString("]}")
	if kept == 0 {
		return nil, nil, errors.New("JWKS has no usable RS256 signing key")
	}
	return kids, out.Bytes(), nil
}
