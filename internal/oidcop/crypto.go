package oidcop

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// accessTokenType is the JOSE typ of client access tokens (RFC 9068 §2.1).
const accessTokenType = "at+jwt"

// accessTokenIDPrefix starts the token ids Decrypt reports: "oat." and the grant's session id.
const accessTokenIDPrefix = "oat."

// accessClaims are the claims of a client access token (RFC 9068 §2.2).
type accessClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	Expiry   int64  `json:"exp"`
	IssuedAt int64  `json:"iat"`
	JWTID    string `json:"jti"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	AuthTime int64  `json:"auth_time,omitempty"`
	// SessionID is the grant's session: revoking it ends the token at once.
	SessionID string `json:"sid"`
}

// signAccess makes a client's access token: an RS256 JWT of RFC 9068, which the op package hands
// to the client as it is (see tokenCrypto.Encrypt). The token is returned as the op package's
// "token id".
func (p *Provider) signAccess(sess auth.Session, clientID string, scopes []string, authTime time.Time) (string, time.Time, error) {
	now := p.cfg.Now().UTC().Truncate(time.Second)
	exp := now.Add(p.cfg.AccessTTL)
	if !sess.ExpiresAt.IsZero() && sess.ExpiresAt.Before(exp) {
		exp = sess.ExpiresAt.Truncate(time.Second)
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	c := accessClaims{
		Issuer: p.cfg.Issuer, Subject: sess.UserID, Audience: p.userinfoAudience(), Expiry: exp.Unix(), IssuedAt: now.Unix(),
		JWTID: base64.RawURLEncoding.EncodeToString(jti[:]), ClientID: clientID, Scope: strings.Join(scopes, " "),
		SessionID: sess.ID,
	}
	if !authTime.IsZero() {
		c.AuthTime = authTime.Unix()
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, err
	}
	kid, priv := p.cfg.RSA.Signer()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(accessTokenType))
	if err != nil {
		return "", time.Time{}, err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", time.Time{}, err
	}
	tok, err := jws.CompactSerialize()
	return tok, exp, err
}

// verifyAccess checks a client access token: signature by a published RSA key, typ, iss and
// expiry. Revocation is checked by the caller (the grant's session).
func (p *Provider) verifyAccess(token string) (accessClaims, error) {
	if len(token) > 8192 {
		return accessClaims{}, errors.New("token too long")
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return accessClaims{}, errors.New("not a JWS")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != accessTokenType {
		return accessClaims{}, errors.New("not an access token")
	}
	key, ok := p.cfg.RSA.PublicKey(h.KeyID)
	if !ok {
		return accessClaims{}, errors.New("unknown key")
	}
	payload, err := jws.Verify(&key)
	if err != nil {
		return accessClaims{}, errors.New("bad signature")
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return accessClaims{}, errors.New("bad claims")
	}
	if c.Issuer != p.cfg.Issuer || c.Audience != p.userinfoAudience() || c.Subject == "" || c.SessionID == "" || c.ClientID == "" {
		return accessClaims{}, errors.New("wrong issuer or missing claims")
	}
	if !p.cfg.Now().Before(time.Unix(c.Expiry, 0).Add(leeway)) {
		return accessClaims{}, errors.New("expired")
	}
	return c, nil
}

// leeway is the clock skew allowed on exp.
const leeway = 30 * time.Second

// tokenCrypto is the op package's Crypto, put to use for our token formats instead of
// encrypting: the op package calls Encrypt("<token id>:<subject>") to make a bearer access
// token, and our token id already is the signed JWT (CreateAccessToken), so Encrypt returns it;
// Encrypt of anything else is an authorization code, which gets 256 random bits (the store
// keeps its hash). Decrypt verifies an access token and returns "oat.<session id>:<subject>".
type tokenCrypto struct{ p *Provider }

func (c tokenCrypto) Encrypt(s string) (string, error) {
	if i := strings.LastIndexByte(s, ':'); i > 0 && strings.Count(s[:i], ".") == 2 {
		return s[:i], nil
	}
	return randomToken(), nil
}

func (c tokenCrypto) Decrypt(s string) (string, error) {
	claims, err := c.p.verifyAccess(s)
	if err != nil {
		return "", err
	}
	return accessTokenIDPrefix + claims.SessionID + ":" + claims.Subject, nil
}

// userinfoAudience is the aud of client access tokens: the resource they are for, our UserInfo
// endpoint (RFC 9068 §3 asks for a default resource). It is not the first-party audience, so a
// resource server of the first-party API does not take a third-party app's token for its own.
func (p *Provider) userinfoAudience() string { return p.cfg.Issuer + "/oauth2/userinfo" }
