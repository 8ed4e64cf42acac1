package tokens

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

const (
	// Algorithm is the only signature algorithm of our access tokens; every key is bound to it.
	Algorithm = "ES256"
	// TokenType is the JOSE "typ" of our access tokens (RFC 9068 §2.1).
	TokenType = "at+jwt"
	// Leeway is the clock skew allowed when checking exp, nbf and iat: 30 s, enough for replicas
	// kept in step by NTP, short enough that an expired token dies promptly.
	Leeway = 30 * time.Second
	// DefaultTTL is the lifetime of an access token when IssuerConfig.TTL is zero.
	DefaultTTL = 15 * time.Minute
	// DefaultOverlapExtra is added to the TTL to make the default Overlap. It leaves room for the
	// leeway, for replicas that have not yet reloaded (and still sign with a retired key) and for
	// resource servers that cache the JWKS.
	DefaultOverlapExtra = 10 * time.Minute
)

// ErrSecretMismatch is wrapped by NewIssuer and Reload when a stored signing key cannot be
// decrypted: KAKAOAUTH_SECRET is not the secret the keys were stored with.
var ErrSecretMismatch = errWrongSecret

// KeyStore keeps signing keys; auth.Store satisfies it.
type KeyStore interface {
	// SigningKeys returns every stored signing key, oldest first.
	SigningKeys(ctx context.Context) ([]auth.SigningKey, error)
	// AddSigningKey stores a new signing key.
	AddSigningKey(ctx context.Context, k auth.SigningKey) error
	// RetireSigningKey marks a key as no longer signing from at.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	// DeleteSigningKey removes a key.
	DeleteSigningKey(ctx context.Context, id string) error
}

// IssuerConfig configures an Issuer.
type IssuerConfig struct {
	Store   KeyStore
	Secrets *Secrets
	// Issuer is the iss claim, KAKAOAUTH_PUBLIC_URL: the same on every replica.
	Issuer string
	// Audience is the aud of issued tokens; Verify accepts a token only if every aud value is
	// in this list. Default: {Issuer}.
	Audience []string
	// TTL is the lifetime of access tokens. Default DefaultTTL.
	TTL time.Duration
	// Overlap is how long a retired key keeps verifying and stays in the JWKS. It must be at
	// least TTL+Leeway, and should also cover the interval at which replicas call Reload.
	// Default TTL+DefaultOverlapExtra.
	Overlap time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// VerifyCacheSize bounds the cache of tokens that verified (0: DefaultVerifyCacheSize;
	// negative: no cache). See Verify.
	VerifyCacheSize int
}

// DefaultVerifyCacheSize is the default number of verified tokens remembered by Verify.
const DefaultVerifyCacheSize = 8192

// AccessClaims are the claims of one of our access tokens.
type AccessClaims struct {
	Subject   string // sub: the user id
	SessionID string // sid: the session (refresh family) the token belongs to
	// Expiry is exp. For Sign it is an optional cap (e.g. the session's end): the token expires
	// at the earlier of Expiry and now+TTL.
	Expiry time.Time
	// The rest are set by Sign and reported by Verify.
	ID        string    // jti: 128 random bits
	Issuer    string    // iss
	Audience  []string  // aud
	IssuedAt  time.Time // iat
	NotBefore time.Time // nbf: never set by Sign, checked by Verify when present
}

// Issuer signs and verifies access tokens and publishes the JWKS. Sign, Verify, JWKS and KeyIDs
// are lock-free reads of an immutable key ring; Reload and Rotate build a new ring. An Issuer is
// safe for concurrent use.
type Issuer struct {
	store   KeyStore
	secrets *Secrets
	iss     string
	aud     []string
	audWire any // aud as encoded in tokens: a string, or an array for several audiences
	claims  claimsWriter
	ttl     time.Duration
	overlap time.Duration
	now     func() time.Time

	mu   sync.Mutex // serialises Reload and Rotate
	ring atomic.Pointer[keyRing]

	cache *verifyCache // nil when disabled
	ahead atomic.Int64 // publish-ahead of Rotate (rotateahead.go)
}

// keyRing is an immutable snapshot of the usable keys.
type keyRing struct {
	signKID   string
	signSince time.Time // NotBefore of the signing key
	signer    *es256Signer
	verify    map[string]verifyKey
	ids       []string // newest first
	jwks      []byte
	pending   bool // a key is published that signs later (rotateahead.go)
}

// verifyKey is a parsed public key, bound to ES256, with the end of its verifying life.
type verifyKey struct {
	pub   *ecdsa.PublicKey
	until time.Time // zero while the key is not retired
}

// NewIssuer loads the signing keys from the store, generating and storing the first one if
// there is none. A key that cannot be decrypted yields an error wrapping ErrSecretMismatch.
func NewIssuer(ctx context.Context, cfg IssuerConfig) (*Issuer, error) {
	if cfg.Store == nil || cfg.Secrets == nil {
		return nil, errors.New("tokens: IssuerConfig needs a Store and Secrets")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("tokens: the issuer (KAKAOAUTH_PUBLIC_URL) must not be empty")
	}
	i := &Issuer{
		store:   cfg.Store,
		secrets: cfg.Secrets,
		iss:     cfg.Issuer,
		aud:     append([]string(nil), cfg.Audience...),
		ttl:     cfg.TTL,
		overlap: cfg.Overlap,
		now:     cfg.Now,
	}
	if len(i.aud) == 0 {
		i.aud = []string{cfg.Issuer}
	}
	for _, a := range i.aud {
		if a == "" {
			return nil, errors.New("tokens: an audience must not be empty")
		}
	}
	if len(i.aud) == 1 {
		i.audWire = i.aud[0]
	} else {
		i.audWire = i.aud
	}
	cw, err := newClaimsWriter(i.iss, i.audWire)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	i.claims = cw
	if i.ttl == 0 {
		i.ttl = DefaultTTL
	}
	if i.ttl < 0 {
		return nil, errors.New("tokens: the access-token TTL must be positive")
	}
	if i.overlap == 0 {
		i.overlap = i.ttl + DefaultOverlapExtra
	}
	if i.overlap < i.ttl+Leeway {
		return nil, fmt.Errorf("tokens: key overlap %v is shorter than the token TTL plus leeway (%v)", i.overlap, i.ttl+Leeway)
	}
	if i.now == nil {
		i.now = time.Now
	}
	switch n := cfg.VerifyCacheSize; {
	case n == 0:
		i.cache = newVerifyCache(DefaultVerifyCacheSize)
	case n > 0:
		i.cache = newVerifyCache(n)
	}
	if err := i.Reload(ctx); err != nil {
		return nil, err
	}
	return i, nil
}

// TTL returns the lifetime of access tokens.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Overlap returns how long a retired key keeps verifying and stays in the JWKS.
func (i *Issuer) Overlap() time.Duration { return i.overlap }

// Issuer returns the iss of our tokens.
func (i *Issuer) Issuer() string { return i.iss }

// Reload reads the keys from the store again, picking up keys added or retired by another
// replica. If no key can sign (none stored, or all retired) it generates one. Two replicas doing
// so at once both store a key; both are published, and every replica signs with the newest.
// The server should call Reload periodically (every minute or so).
func (i *Issuer) Reload(ctx context.Context) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	keys, err := i.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	ring, err := i.buildRing(keys)
	if err != nil {
		return err
	}
	if ring.signer == nil {
		if _, err := i.addKey(ctx); err != nil {
			return err
		}
		if keys, err = i.store.SigningKeys(ctx); err != nil {
			return fmt.Errorf("load signing keys: %w", err)
		}
		if ring, err = i.buildRing(keys); err != nil {
			return err
		}
		if ring.signer == nil {
			return errors.New("tokens: no usable signing key after generating one")
		}
	}
	i.ring.Store(ring)
	return nil
}

// Rotate generates a new signing key and retires the keys that were signing until now: they keep
// verifying, and stay in the JWKS, for Overlap. Keys whose overlap has passed are deleted.
// Concurrent rotations on several replicas leave at least one key signing.
func (i *Issuer) Rotate(ctx context.Context) error {
	_, err := i.rotate(ctx, time.Duration(i.ahead.Load()))
	return err
}

// rotate is Rotate with the new key signing from now+ahead (rotateahead.go); it returns the
// new kid.
func (i *Issuer) rotate(ctx context.Context, ahead time.Duration) (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	// Read before adding: only keys that existed before our new one are retired, so two
	// replicas rotating at once cannot retire each other's new keys.
	before, err := i.store.SigningKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("load signing keys: %w", err)
	}
	newID, err := i.addKeyFrom(ctx, ahead)
	if err != nil {
		return "", err
	}
	if err := retireOthers(ctx, i.store, Algorithm, before, newID, i.now(), ahead, i.overlap); err != nil {
		return "", err
	}
	return newID, i.storeRing(ctx, "rotation")
}

// retireOthers is the second half of a rotation of either ring (the ES256 Issuer, RSAKeys): of
// the keys of algorithm alg stored before the new key newID was added, it retires the unretired
// ones from now+ahead and deletes those retired longer than overlap ago. Keys of the other
// algorithm belong to the other ring and are left alone.
func retireOthers(ctx context.Context, store KeyStore, alg string, before []auth.SigningKey, newID string, now time.Time, ahead, overlap time.Duration) error {
	for _, k := range before {
		switch {
		case k.ID == newID || k.Algorithm != alg:
		case k.RetiredAt.IsZero():
			if err := store.RetireSigningKey(ctx, k.ID, now.Add(ahead)); err != nil && !errors.Is(err, auth.ErrNotFound) {
				return fmt.Errorf("retire signing key %s: %w", k.ID, err)
			}
		case !now.Before(k.RetiredAt.Add(overlap)):
			if err := store.DeleteSigningKey(ctx, k.ID); err != nil && !errors.Is(err, auth.ErrNotFound) {
				return fmt.Errorf("delete signing key %s: %w", k.ID, err)
			}
		}
	}
	return nil
}

// storeRing reads the stored keys again and makes them the ring, which must be able to sign
// (after is what just changed the keys, for the error). The caller holds i.mu.
func (i *Issuer) storeRing(ctx context.Context, after string) error {
	keys, err := i.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	ring, err := i.buildRing(keys)
	if err != nil {
		return err
	}
	if ring.signer == nil {
		return errors.New("tokens: no usable signing key after " + after)
	}
	i.ring.Store(ring)
	return nil
}

// DropOtherKeys deletes every stored key but the one this issuer signs with, at once: the
// tokens they signed stop verifying here now, and on other replicas at their next Reload. It
// is for a leaked key (rotate first, then drop); a scheduled rotation keeps old keys for the
// overlap instead. It returns the kids deleted.
func (i *Issuer) DropOtherKeys(ctx context.Context) ([]string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	dropped, err := dropOtherKeys(ctx, i.store, Algorithm, i.ring.Load().signKID)
	if err != nil {
		return dropped, err
	}
	return dropped, i.storeRing(ctx, "dropping the others")
}

// dropOtherKeys deletes every stored key of algorithm alg but keep (which must still be stored)
// and returns the kids deleted: DropOtherKeys of the ES256 Issuer and of RSAKeys.
func dropOtherKeys(ctx context.Context, store KeyStore, alg, keep string) ([]string, error) {
	keys, err := store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	if !slices.ContainsFunc(keys, func(k auth.SigningKey) bool { return k.ID == keep }) {
		return nil, fmt.Errorf("tokens: the %s signing key %s is not stored any more; reload first", alg, keep)
	}
	var dropped []string
	for _, k := range keys {
		if k.ID == keep || k.Algorithm != alg {
			continue
		}
		if err := store.DeleteSigningKey(ctx, k.ID); err != nil && !errors.Is(err, auth.ErrNotFound) {
			return dropped, fmt.Errorf("delete signing key %s: %w", k.ID, err)
		}
		dropped = append(dropped, k.ID)
	}
	return dropped, nil
}

// JWKS returns the public JWK set {"keys":[...]}: the signing key and the retired keys still
// within their overlap, newest first, each with kty, crv, x, y, kid, alg and use only. The bytes
// are computed on Reload and Rotate; callers must not modify them.
func (i *Issuer) JWKS() []byte { return i.ring.Load().jwks }

// KeyIDs returns the kids of the published keys, newest first; the first signs.
func (i *Issuer) KeyIDs() []string { return append([]string(nil), i.ring.Load().ids...) }

// SigningKeyID returns the kid that Sign uses.
func (i *Issuer) SigningKeyID() string { return i.ring.Load().signKID }

// SigningKeyAge is how long the current signing key has been signing; a scheduler rotates when
// it passes the operator's period.
func (i *Issuer) SigningKeyAge() time.Duration { return i.now().Sub(i.ring.Load().signSince) }

// Sign issues an access token for c.Subject and c.SessionID, with header {alg: ES256, kid,
// typ: at+jwt} and claims iss, sub, aud, exp, iat, jti, sid. It returns the token and its expiry.
func (i *Issuer) Sign(c AccessClaims) (token string, exp time.Time, err error) {
	if c.Subject == "" || c.SessionID == "" {
		return "", time.Time{}, errors.New("tokens: an access token needs a subject and a session id")
	}
	ring := i.ring.Load()
	now := i.now().Truncate(time.Second)
	exp = now.Add(i.ttl)
	if !c.Expiry.IsZero() && c.Expiry.Before(exp) {
		exp = c.Expiry.Truncate(time.Second)
		if !exp.After(now) {
			return "", time.Time{}, errors.New("tokens: the requested expiry has passed")
		}
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", time.Time{}, err
	}
	payload, err := i.claims.write(c.Subject, exp.Unix(), now.Unix(), base64.RawURLEncoding.EncodeToString(jti[:]), c.SessionID)
	if err != nil {
		return "", time.Time{}, err
	}
	token, err = ring.signer.sign(payload)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return token, exp, nil
}

// addKey generates a P-256 key, seals its private part and stores it. Its kid is the RFC 7638
// thumbprint of the public key.
func (i *Issuer) addKey(ctx context.Context) (string, error) { return i.addKeyFrom(ctx, 0) }

// addKeyFrom is addKey for a key that signs from ahead after now.
func (i *Issuer) addKeyFrom(ctx context.Context, ahead time.Duration) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate signing key: %w", err)
	}
	now := i.now()
	k, err := sealedKey(i.secrets, priv, Algorithm, now, now.Add(ahead))
	if err != nil {
		return "", err
	}
	if err := i.store.AddSigningKey(ctx, k); err != nil {
		return "", fmt.Errorf("store signing key: %w", err)
	}
	return k.ID, nil
}

// sealedKey is the stored form of a new private key (of either ring): its kid the RFC 7638
// thumbprint of the public key, the public JWK, and the private key sealed under secrets and
// bound to the kid; it signs from notBefore.
func sealedKey(secrets *Secrets, priv crypto.Signer, alg string, now, notBefore time.Time) (auth.SigningKey, error) {
	jwk := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return auth.SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	pub, err := json.Marshal(jwk)
	if err != nil {
		return auth.SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return auth.SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	sealed, err := secrets.kek.seal(keyPurpose(jwk.KeyID), der)
	clear(der)
	if err != nil {
		return auth.SigningKey{}, err
	}
	return auth.SigningKey{ID: jwk.KeyID, Algorithm: alg, PrivateSealed: sealed, PublicJWK: pub,
		CreatedAt: now, NotBefore: notBefore}, nil
}

// keyPurpose binds a sealed private key to its kid, so sealed blobs cannot be swapped between
// rows.
func keyPurpose(kid string) string { return "signing key\x00" + kid }

// openKey decrypts a stored private key.
func (i *Issuer) openKey(k auth.SigningKey) (*ecdsa.PrivateKey, error) {
	der, err := i.secrets.kek.open(keyPurpose(k.ID), k.PrivateSealed)
	if errors.Is(err, ErrSealInvalid) {
		return nil, fmt.Errorf("signing key %s cannot be decrypted: %w", k.ID, errWrongSecret)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: stored private key is corrupt: %w", k.ID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key %s is not a P-256 key", k.ID)
	}
	return priv, nil
}

// buildRing parses the stored keys that are still usable at now into a key ring. The signer is
// the newest key that is not retired and whose NotBefore has come (ties broken by kid, so that
// every replica picks the same one); ring.signer is nil if there is none.
func (i *Issuer) buildRing(keys []auth.SigningKey) (*keyRing, error) {
	now := i.now()
	type loaded struct {
		k    auth.SigningKey
		priv *ecdsa.PrivateKey
	}
	var usable []loaded
	for _, k := range keys {
		if k.Algorithm != Algorithm {
			continue // a key of an algorithm this version does not know
		}
		if !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt.Add(i.overlap)) {
			continue
		}
		priv, err := i.openKey(k)
		if err != nil {
			return nil, err
		}
		usable = append(usable, loaded{k, priv})
	}
	sort.SliceStable(usable, func(a, b int) bool {
		ka, kb := usable[a].k, usable[b].k
		if !ka.CreatedAt.Equal(kb.CreatedAt) {
			return ka.CreatedAt.After(kb.CreatedAt)
		}
		return ka.ID > kb.ID
	})
	ring := &keyRing{verify: make(map[string]verifyKey, len(usable))}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(usable))}
	for _, u := range usable {
		vk := verifyKey{pub: &u.priv.PublicKey}
		if !u.k.RetiredAt.IsZero() {
			vk.until = u.k.RetiredAt.Add(i.overlap)
		}
		ring.verify[u.k.ID] = vk
		ring.ids = append(ring.ids, u.k.ID)
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &u.priv.PublicKey, KeyID: u.k.ID, Algorithm: Algorithm, Use: "sig"})
		if u.k.RetiredAt.IsZero() && u.k.NotBefore.After(now) {
			ring.pending = true
		}
		if ring.signer == nil && (u.k.RetiredAt.IsZero() || now.Before(u.k.RetiredAt)) && !u.k.NotBefore.After(now) {
			signer, err := newES256Signer(u.priv, u.k.ID)
			if err != nil {
				return nil, fmt.Errorf("signing key %s: %w", u.k.ID, err)
			}
			ring.signer, ring.signKID, ring.signSince = signer, u.k.ID, u.k.NotBefore
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	ring.jwks = jwks
	return ring, nil
}
