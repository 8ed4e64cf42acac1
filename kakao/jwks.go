package kakao

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksRetryAfterFailure is how soon a failed JWKS fetch may be tried again
// (capped at the cooldown). Failures are not cached as "no keys" for long, so
// a Kakao outage at start-up ends soon after Kakao recovers.
const jwksRetryAfterFailure = 5 * time.Second

// keySet is the oidc.KeySet of a Client: Kakao's JWKS, fetched on demand and
// kept in memory. go-oidc's RemoteKeySet (v3.21) was used first; it refetches
// on every signature failure with no cooldown, reads without a size cap, and
// wakes the callers of a refetch before it stores the keys, so a call in that
// gap can verify against the keys of before the refetch (an old key passes, a
// new one fails). keySet keeps go-oidc's verifier (issuer and algorithm
// checks) and does the key handling itself:
//   - at most one fetch to the network per cooldown (5 s after a failed one),
//     with a deadline and a body cap, shared by every caller waiting for it;
//   - the keys are stored before any waiter wakes, and a caller whose view of
//     the keys is older than the stored set tries the stored set first;
//   - only RS256-capable RSA keys are kept (one junk key cannot fail the set),
//     and a bad or empty answer never replaces the stored keys.
type keySet struct {
	url      string
	base     http.RoundTripper
	timeout  time.Duration
	cooldown time.Duration
	now      func() time.Time

	mu        sync.Mutex
	keys      []jwksKey     // the last accepted JWKS, filtered
	gen       uint64        // incremented each time keys is replaced
	lastFetch time.Time     // start of the last fetch that went to the network
	inflight  chan struct{} // closed when the running fetch has finished
	lastErr   error         // result of the last finished fetch
}

func newKeySet(jwksURL string, base http.RoundTripper, cfg Config) *keySet {
	return &keySet{url: jwksURL, base: base, timeout: cfg.Timeout, cooldown: cfg.JWKSCooldown, now: cfg.Now}
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

// errSignature is a signature that no published key verifies.
var errSignature = errors.New("kakao: no published key verifies the ID token signature")

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.verify(ctx, jwt)
	if err != nil {
		if p, ok := ctx.Value(probeKey{}).(*verifyProbe); ok {
			p.kind = k.classify(ctx, err, p.kid)
			p.err = err
		}
		return nil, err
	}
	return payload, nil
}

func (k *keySet) verify(ctx context.Context, jwt string) ([]byte, error) {
	// go-oidc's verifier has parsed jwt and checked that alg is RS256; the
	// signature is checked here directly (crypto/rsa) rather than by parsing
	// the token a second time.
	var kid string
	if p, ok := ctx.Value(probeKey{}).(*verifyProbe); ok {
		kid = p.kid // from checkHeader, which VerifyIDToken ran first
	} else {
		var reason string
		if kid, reason = checkHeader(jwt); reason != "" {
			return nil, errors.New("kakao: ID token: " + reason)
		}
	}
	dot1, dot2 := strings.IndexByte(jwt, '.'), strings.LastIndexByte(jwt, '.')
	if dot1 <= 0 || dot2 <= dot1 {
		return nil, errors.New("kakao: ID token is not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(jwt[dot1+1 : dot2])
	if err != nil {
		return nil, errors.New("kakao: ID token payload is not base64url")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(jwt[dot2+1:])
	if err != nil {
		return nil, errors.New("kakao: ID token signature is not base64url")
	}
	digest := sha256.Sum256([]byte(jwt[:dot2]))
	keys, gen := k.snapshot()
	if verifyWith(keys, kid, digest[:], sig) {
		return payload, nil
	}
	// An unknown kid (or a failed signature) may mean Kakao rotated its keys.
	if err := k.refresh(ctx, gen); err != nil {
		return nil, err
	}
	keys, _ = k.snapshot()
	if verifyWith(keys, kid, digest[:], sig) {
		return payload, nil
	}
	return nil, errSignature
}

// jwksKey is one usable key of Kakao's JWKS.
type jwksKey struct {
	kid string
	pub *rsa.PublicKey
}

// verifyWith checks an RS256 signature with the keys whose kid matches (every
// key for a token without a kid).
func verifyWith(keys []jwksKey, kid string, digest, sig []byte) bool {
	for _, key := range keys {
		if kid != "" && key.kid != kid {
			continue
		}
		if rsa.VerifyPKCS1v15(key.pub, crypto.SHA256, digest, sig) == nil {
			return true
		}
	}
	return false
}

func (k *keySet) snapshot() ([]jwksKey, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, k.gen
}

// refresh makes sure the stored keys are newer than generation seen: they
// already are when another call replaced them meanwhile; otherwise it waits
// for the fetch in flight or starts one, unless the cooldown forbids it.
func (k *keySet) refresh(ctx context.Context, seen uint64) error {
	k.mu.Lock()
	if k.gen != seen {
		k.mu.Unlock()
		return nil
	}
	if ch := k.inflight; ch != nil {
		k.mu.Unlock()
		return k.wait(ctx, ch)
	}
	now := k.now()
	wait := k.cooldown
	if k.lastErr != nil {
		wait = min(jwksRetryAfterFailure, k.cooldown)
	}
	if since := now.Sub(k.lastFetch); !k.lastFetch.IsZero() && since < wait && since >= 0 {
		k.mu.Unlock()
		return errJWKSCooldown
	}
	ch := make(chan struct{})
	k.inflight, k.lastFetch = ch, now
	k.mu.Unlock()

	// The fetch is shared by every caller waiting on it: it does not end when
	// the caller that started it goes away.
	go func() {
		keys, err := k.fetch(context.WithoutCancel(ctx))
		k.mu.Lock()
		if err != nil {
			k.lastErr = &jwksFetchError{err: err}
		} else {
			k.lastErr, k.keys = nil, keys
			k.gen++
		}
		k.inflight = nil
		k.mu.Unlock()
		close(ch)
	}()
	return k.wait(ctx, ch)
}

func (k *keySet) wait(ctx context.Context, ch chan struct{}) error {
	select {
	case <-ch:
	case <-ctx.Done():
		return ctx.Err()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lastErr
}

// classify decides whether a failed signature check means a bad token or a
// Kakao/JWKS fault. With a cold cache nothing can be verified, so any fetch
// failure is KindUnavailable. With a warm cache, a token whose kid is cached
// (or that has no kid) failed against a known key: KindInvalidToken. An
// unknown kid during a real fetch failure may be a key rotation we could not
// see: KindUnavailable; during the cooldown it is KindInvalidToken.
func (k *keySet) classify(ctx context.Context, err error, kid string) Kind {
	warm, known := k.state(kid)
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

// state says whether keys were ever accepted (warm) and whether kid is among
// the stored ones (a token without a kid counts as known once warm).
func (k *keySet) state(kid string) (warm, known bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	warm = k.gen > 0
	if kid == "" {
		return warm, warm
	}
	for i := range k.keys {
		if k.keys[i].kid == kid {
			return warm, true
		}
	}
	return warm, false
}

// errJWKSCooldown is returned when a refetch is asked for within the
// cooldown.
var errJWKSCooldown = errors.New("kakao: JWKS refetch suppressed by cooldown")

// jwksFetchError is a failed JWKS fetch: network, status, size or content.
type jwksFetchError struct{ err error }

func (e *jwksFetchError) Error() string { return "kakao: fetch JWKS: " + e.err.Error() }
func (e *jwksFetchError) Unwrap() error { return e.err }

func (k *keySet) fetch(ctx context.Context) ([]jwksKey, error) {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body) // capped by capTransport
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return parseJWKS(body)
}

// parseJWKS keeps the keys of a JWKS that can verify Kakao's RS256 tokens
// (public RSA keys whose use is "sig" or unset and whose alg is RS256 or
// unset) and drops every other entry, parseable or not (RFC 7517 §5: ignore
// keys you do not understand), so one broken key cannot fail the whole set.
// At least one must remain.
func parseJWKS(body []byte) ([]jwksKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	var keys []jwksKey
	for _, k := range raw.Keys {
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(k, &jwk); err != nil {
			continue
		}
		pub, ok := jwk.Key.(*rsa.PublicKey)
		if !ok {
			continue
		}
		if (jwk.Use != "" && jwk.Use != "sig") || (jwk.Algorithm != "" && jwk.Algorithm != string(jose.RS256)) {
			continue
		}
		keys = append(keys, jwksKey{kid: jwk.KeyID, pub: pub})
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable RS256 signing key")
	}
	return keys, nil
}
