package resource

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keySet is the cached JWKS. A kid it does not know, or a cache older than maxAge, fetches
// the JWKS again; concurrent callers share one fetch, and fetches start at most once per
// cooldown. A failed fetch keeps the cached keys.
type keySet struct {
	client   *http.Client
	url      string
	cooldown time.Duration
	maxAge   time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu       sync.Mutex
	keys     map[string]jose.JSONWebKey
	fetched  time.Time  // when the cached keys were fetched
	tried    time.Time  // when the last fetch started
	inflight *fetchCall // the fetch running now, if any
}

// fetchCall is one JWKS fetch that several callers wait for.
type fetchCall struct {
	done chan struct{}
	err  error
}

// load fetches the JWKS, for New.
func (s *keySet) load(ctx context.Context) error {
	keys, err := s.fetch(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	// tried stays zero: the first unknown kid after start may fetch at once (a key rotated
	// just after New), and the cooldown counts from there.
	s.keys, s.fetched = keys, s.now()
	s.mu.Unlock()
	return nil
}

// key returns the key of kid.
func (s *keySet) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	s.mu.Lock()
	k, ok := s.keys[kid]
	stale := s.now().Sub(s.fetched) >= s.maxAge
	if ok && !stale {
		s.mu.Unlock()
		return k, nil
	}
	call := s.inflight
	if call == nil && s.now().Sub(s.tried) >= s.cooldown {
		call = &fetchCall{done: make(chan struct{})}
		s.inflight, s.tried = call, s.now()
		go s.refetch(ctx, call)
	}
	s.mu.Unlock()
	if call != nil {
		select {
		case <-call.done:
		case <-ctx.Done():
			if ok {
				return k, nil
			}
			return jose.JSONWebKey{}, &verifyError{kind: ErrInvalidToken, desc: "unknown kid", ko: "알 수 없는 서명 키(kid)입니다", cause: ctx.Err()}
		}
	}
	s.mu.Lock()
	k, ok = s.keys[kid]
	s.mu.Unlock()
	if !ok {
		return jose.JSONWebKey{}, invalid("unknown kid", "알 수 없는 서명 키(kid)입니다")
	}
	return k, nil
}

// refetch runs call: it fetches the JWKS for every waiting caller, so the first caller's
// cancellation does not cancel it.
func (s *keySet) refetch(ctx context.Context, call *fetchCall) {
	keys, err := s.fetch(context.WithoutCancel(ctx))
	s.mu.Lock()
	if err == nil {
		s.keys, s.fetched = keys, s.now()
	} else {
		s.log.Warn("resource: the cached JWKS stays in use", "err", err)
	}
	s.inflight = nil
	s.mu.Unlock()
	call.err = err
	close(call.done)
}

// fetch GETs the JWKS and keeps its signing keys by kid.
func (s *keySet) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	body, err := getJSON(ctx, s.client, s.url)
	if err != nil {
		return nil, fmt.Errorf("fetch kakaoauth's JWKS: %w", err)
	}
	// Keys are parsed one by one: a key of a type this package does not know (RFC 7517 §5) is
	// skipped, not a reason to refuse the others.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("kakaoauth's JWKS at %s is not a JWK set: %w", s.url, err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if json.Unmarshal(raw, &k) != nil || k.KeyID == "" || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys[k.KeyID] = k
	}
	if len(keys) == 0 {
		// An empty set is a fault at kakaoauth, not a withdrawal of every key: keep the cache.
		return nil, fmt.Errorf("kakaoauth's JWKS at %s has no usable signing key", s.url)
	}
	return keys, nil
}

// keyFits reports whether k may verify alg: a P-256 key for ES256, an RSA key of 2048 bits or
// more for RS256, and the key's own alg (when it names one) the same (RFC 8725 §3.1).
func keyFits(k jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return false
	}
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		return alg == jose.ES256 && pub.Curve == elliptic.P256()
	case *rsa.PublicKey:
		return alg == jose.RS256 && pub.N.BitLen() >= 2048
	}
	return false
}
