package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// RSAAlgorithm is the algorithm of the OpenID Provider's RSA keys: ID tokens of clients that
// chose no algorithm (OIDC Core §15.1 makes RS256 mandatory) and the access tokens of clients.
// Their rows in signing_keys carry it, so the ES256 Issuer skips them.
const RSAAlgorithm = "RS256"

// rsaBits is the size of generated RSA keys.
const rsaBits = 2048

// RSAKeys is the ring of RS256 keys, kept sealed in the signing-key store beside the ES256 keys:
// the newest unretired key signs; retired keys stay published for Overlap. Safe for concurrent
// use; Signer and PublicKeys are lock-free reads.
type RSAKeys struct {
	store   KeyStore
	secrets *Secrets
	overlap time.Duration
	now     func() time.Time

	mu   sync.Mutex
	ring atomic.Pointer[rsaRing]
}

type rsaRing struct {
	kid     string
	priv    *rsa.PrivateKey
	since   time.Time
	pub     []jose.JSONWebKey // newest first
	pending bool              // a key is published that signs later (RotateAhead)
}

// NewRSAKeys loads the RS256 keys, generating the first one if none signs. overlap is how long a
// retired key stays published: at least the longest lifetime of a token it signs plus leeway.
func NewRSAKeys(ctx context.Context, store KeyStore, secrets *Secrets, overlap time.Duration, now func() time.Time) (*RSAKeys, error) {
	if store == nil || secrets == nil {
		return nil, errors.New("tokens: RSAKeys needs a store and secrets")
	}
	if overlap <= 0 {
		return nil, errors.New("tokens: RSAKeys needs a positive overlap")
	}
	if now == nil {
		now = time.Now
	}
	k := &RSAKeys{store: store, secrets: secrets, overlap: overlap, now: now}
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload reads the keys again (another replica may have rotated); with no signing key it makes one.
func (k *RSAKeys) Reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	ring, err := k.load(ctx)
	if err != nil {
		return err
	}
	if ring.priv == nil {
		if _, err := k.add(ctx, 0); err != nil {
			return err
		}
		if ring, err = k.load(ctx); err != nil {
			return err
		}
		if ring.priv == nil {
			return errors.New("tokens: no usable RSA key after generating one")
		}
	}
	k.ring.Store(ring)
	return nil
}

// Rotate makes a new signing key and retires the RSA keys that signed until now; keys retired
// longer than the overlap ago are deleted.
func (k *RSAKeys) Rotate(ctx context.Context) error { return k.RotateAhead(ctx, 0) }

// RotateAhead is Rotate with the new key published at once but signing only from ahead after
// now, when the keys signing until then retire: as with the ES256 Issuer's RotateAhead, an ahead
// of at least two reload intervals means no replica serves a JWKS (or meets a token) without the
// key that signs. 0 signs with the new key at once.
func (k *RSAKeys) RotateAhead(ctx context.Context, ahead time.Duration) error {
	ahead = max(ahead, 0)
	k.mu.Lock()
	defer k.mu.Unlock()
	before, err := k.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	newID, err := k.add(ctx, ahead)
	if err != nil {
		return err
	}
	if err := retireOthers(ctx, k.store, RSAAlgorithm, before, newID, k.now(), ahead, k.overlap); err != nil {
		return err
	}
	ring, err := k.load(ctx)
	if err != nil {
		return err
	}
	if ring.priv == nil {
		return errors.New("tokens: no usable RSA key after rotation")
	}
	k.ring.Store(ring)
	return nil
}

// DropOtherKeys deletes every stored RS256 key but the one signing now, at once (after a leak:
// ID tokens signed with the others stop verifying); it returns the kids it deleted.
func (k *RSAKeys) DropOtherKeys(ctx context.Context) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	dropped, err := dropOtherKeys(ctx, k.store, RSAAlgorithm, k.ring.Load().kid)
	if err != nil {
		return dropped, err
	}
	ring, err := k.load(ctx)
	if err != nil {
		return dropped, err
	}
	if ring.priv == nil {
		return dropped, errors.New("tokens: no usable RSA key after dropping the others")
	}
	k.ring.Store(ring)
	return dropped, nil
}

// Signer returns the signing key and its kid.
func (k *RSAKeys) Signer() (kid string, priv *rsa.PrivateKey) {
	r := k.ring.Load()
	return r.kid, r.priv
}

// SigningKeyAge is how long the current key has been signing.
func (k *RSAKeys) SigningKeyAge() time.Duration { return k.now().Sub(k.ring.Load().since) }

// PublicKeys returns the published public keys, newest first (kid, alg RS256, use sig).
func (k *RSAKeys) PublicKeys() []jose.JSONWebKey {
	return append([]jose.JSONWebKey(nil), k.ring.Load().pub...)
}

// PublicKey returns the published public key of kid, without copying the set (a verifier's
// lookup on every request).
func (k *RSAKeys) PublicKey(kid string) (jose.JSONWebKey, bool) {
	for _, key := range k.ring.Load().pub {
		if key.KeyID == kid {
			return key, true
		}
	}
	return jose.JSONWebKey{}, false
}

// Pending reports whether a rotation has published a key that does not sign yet (as of the last
// Reload or Rotate): a scheduled rotation waits for it instead of adding another.
func (k *RSAKeys) Pending() bool { return k.ring.Load().pending }

func (k *RSAKeys) add(ctx context.Context, ahead time.Duration) (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return "", fmt.Errorf("generate RSA key: %w", err)
	}
	now := k.now()
	key, err := sealedKey(k.secrets, priv, RSAAlgorithm, now, now.Add(ahead))
	if err != nil {
		return "", err
	}
	if err := k.store.AddSigningKey(ctx, key); err != nil {
		return "", fmt.Errorf("store RSA key: %w", err)
	}
	return key.ID, nil
}

func (k *RSAKeys) load(ctx context.Context) (*rsaRing, error) {
	keys, err := k.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	now := k.now()
	var usable []auth.SigningKey
	for _, key := range keys {
		if key.Algorithm != RSAAlgorithm {
			continue
		}
		if !key.RetiredAt.IsZero() && !now.Before(key.RetiredAt.Add(k.overlap)) {
			continue
		}
		usable = append(usable, key)
	}
	sort.SliceStable(usable, func(a, b int) bool {
		if !usable[a].CreatedAt.Equal(usable[b].CreatedAt) {
			return usable[a].CreatedAt.After(usable[b].CreatedAt)
		}
		return usable[a].ID > usable[b].ID
	})
	ring := &rsaRing{}
	for _, key := range usable {
		der, err := k.secrets.kek.open(keyPurpose(key.ID), key.PrivateSealed)
		if errors.Is(err, ErrSealInvalid) {
			return nil, fmt.Errorf("signing key %s cannot be decrypted: %w", key.ID, errWrongSecret)
		}
		if err != nil {
			return nil, fmt.Errorf("signing key %s: stored private key is corrupt: %w", key.ID, err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		clear(der)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", key.ID, err)
		}
		priv, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("signing key %s is not an RSA key", key.ID)
		}
		ring.pub = append(ring.pub, jose.JSONWebKey{Key: &priv.PublicKey, KeyID: key.ID, Algorithm: RSAAlgorithm, Use: "sig"})
		if key.NotBefore.After(now) {
			ring.pending = true
		} else if ring.priv == nil && (key.RetiredAt.IsZero() || now.Before(key.RetiredAt)) {
			ring.kid, ring.priv, ring.since = key.ID, priv, key.NotBefore
		}
	}
	return ring, nil
}

// ES256Key returns the issuer's current ES256 signing key and its kid, for the OpenID
// Provider's ES256 ID tokens (their typ and aud keep them apart from access tokens).
func (i *Issuer) ES256Key() (kid string, priv *ecdsa.PrivateKey) {
	r := i.ring.Load()
	return r.signKID, r.signer.priv
}

// PublicKeys returns the issuer's published ES256 keys, newest first.
func (i *Issuer) PublicKeys() []jose.JSONWebKey {
	r := i.ring.Load()
	out := make([]jose.JSONWebKey, 0, len(r.ids))
	for _, id := range r.ids {
		out = append(out, jose.JSONWebKey{Key: r.verify[id].pub, KeyID: id, Algorithm: Algorithm, Use: "sig"})
	}
	return out
}
