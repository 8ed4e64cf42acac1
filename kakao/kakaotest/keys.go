package kakaotest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keyPoolSize is how many RSA keys the process generates for all emulators together.
const keyPoolSize = 3

// keyPool generates 2048-bit RSA keys once per process. Tests create many emulators, and a
// 2048-bit key takes tens to hundreds of milliseconds to generate; the pool is built once by
// sync.OnceValue and never changed afterwards, so it is immutable shared data, not mutable
// package state. Each emulator key still gets its own random kid, so tokens of one emulator
// never verify against another emulator's JWKS.
var keyPool = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, keyPoolSize)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(fmt.Sprintf("kakaotest: generate RSA key: %v", err))
			}
			k.Precompute()
			keys[i] = k
		}()
	}
	wg.Wait()
	return keys
})

// signingKey is one ID-token signing key with its kid and a ready signer.
type signingKey struct {
	kid    string
	key    *rsa.PrivateKey
	signer jose.Signer
}

// newKeyLocked picks the next key of the pool (starting at a random place) under a new kid.
func (e *Emulator) newKeyLocked() *signingKey {
	pool := keyPool()
	if e.keySeq == 0 {
		var b [1]byte
		_, _ = rand.Read(b[:])
		e.keySeq = int(b[0]) + 1
	}
	e.keySeq++
	priv := pool[e.keySeq%len(pool)]
	kidBytes := make([]byte, 15)
	_, _ = rand.Read(kidBytes)
	kid := hex.EncodeToString(kidBytes) // 30 hex characters, like Kakao's kids.
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		panic(fmt.Sprintf("kakaotest: new signer: %v", err))
	}
	return &signingKey{kid: kid, key: priv, signer: signer}
}

// RotateKey makes a new signing key current; the old keys stay in the JWKS until DropOldKeys.
func (e *Emulator) RotateKey() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = append(e.keys, e.newKeyLocked())
}

// DropOldKeys removes every key but the current one from the JWKS.
func (e *Emulator) DropOldKeys() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys = e.keys[len(e.keys)-1:]
}

// KeyIDs returns the kids in the JWKS, the current (signing) key last.
func (e *Emulator) KeyIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := make([]string, len(e.keys))
	for i, k := range e.keys {
		ids[i] = k.kid
	}
	return ids
}

// jwk is one JWKS entry in Kakao's field order.
type jwk struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (e *Emulator) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	e.mu.Lock()
	keys := make([]jwk, 0, len(e.keys))
	// Newest first, as a client that picks "the first key" should pick the current one.
	for i := len(e.keys) - 1; i >= 0; i-- {
		k := e.keys[i]
		keys = append(keys, jwk{
			Kid: k.kid, Kty: "RSA", Alg: "RS256", Use: "sig",
			N: base64.RawURLEncoding.EncodeToString(k.key.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.key.E)).Bytes()),
		})
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		Keys []jwk `json:"keys"`
	}{keys})
}

// discovery is the OpenID Provider metadata in Kakao's field order (§4.1).
type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
}

func (e *Emulator) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	base := e.baseURL(r)
	d := discovery{
		Issuer:                            base,
		AuthorizationEndpoint:             base + pathAuthorize,
		TokenEndpoint:                     base + pathToken,
		UserinfoEndpoint:                  base + pathUserInfo,
		JWKSURI:                           base + pathJWKS,
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		RequestURIParameterSupported:      false,
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClaimsSupported: []string{"iss", "aud", "sub", "auth_time", "exp", "iat", "nonce",
			"nickname", "picture", "email"},
	}
	// Kakao's discovery sample says charset=utf-8 in lower case, unlike its other answers.
	writeJSONType(w, http.StatusOK, "application/json;charset=utf-8", d)
}

// baseURL is the configured issuer, or the origin the request was sent to.
func (e *Emulator) baseURL(r *http.Request) string {
	e.mu.Lock()
	iss := e.issuer
	e.mu.Unlock()
	if iss != "" {
		return iss
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// idClaims are the ID-token claims in the order of Kakao's sample (§4.3).
type idClaims struct {
	Aud      string `json:"aud"`
	Sub      string `json:"sub"`
	AuthTime int64  `json:"auth_time"`
	Iss      string `json:"iss"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Nonce    string `json:"nonce,omitempty"`
	Nickname string `json:"nickname,omitempty"`
	Picture  string `json:"picture,omitempty"`
	Email    string `json:"email,omitempty"`
}

// signIDToken signs an ID token for user u with key k: nickname, picture and email only as
// consented, email only when valid and verified. It needs no lock, so that the RSA work of
// many logins runs in parallel.
func signIDToken(k *signingKey, issuer, aud string, u *User, authTime, now time.Time, nonce string) (string, error) {
	c := idClaims{
		Aud: aud, Sub: fmt.Sprint(u.ID), AuthTime: authTime.Unix(), Iss: issuer,
		Iat: now.Unix(), Exp: now.Add(AccessTokenLifetime).Unix(), Nonce: nonce,
	}
	if agreedNickname(u) {
		c.Nickname = u.Nickname
	}
	if agreedImage(u) {
		c.Picture = thumbnailURL(u)
	}
	if hasItem(u.Agreed, ScopeAccountEmail) && u.Email != "" && u.EmailValid && u.EmailVerified {
		c.Email = u.Email
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return jws.CompactSerialize()
}

// verifyIDToken checks an ID token's signature against the JWKS keys and its expiry, and returns
// its payload (for /oauth/tokeninfo).
func (e *Emulator) verifyIDToken(raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(strings.TrimSpace(raw), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("want one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	e.mu.Lock()
	var pub *rsa.PublicKey
	for _, k := range e.keys {
		if k.kid == kid {
			pub = &k.key.PublicKey
		}
	}
	now := e.now()
	e.mu.Unlock()
	if pub == nil {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return nil, err
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	if now.Unix() >= c.Exp {
		return nil, errors.New("expired")
	}
	return payload, nil
}

func (e *Emulator) handleTokenInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	if !isForm(r) {
		kauthError(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded", "KOE001")
		return
	}
	raw := r.PostFormValue("id_token")
	if raw == "" {
		kauthError(w, http.StatusBadRequest, "invalid_request", "id_token is required", "KOE001")
		return
	}
	payload, err := e.verifyIDToken(raw)
	if err != nil {
		kauthError(w, http.StatusBadRequest, "invalid_token", "invalid id_token: "+err.Error(), "KOE400")
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(payload)
}

// nowLocked returns the emulator clock's time truncated to seconds; e.mu must be held.
func (e *Emulator) nowLocked() time.Time { return e.now().Truncate(time.Second) }
