package tokens

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// es256Signer writes compact ES256 JWS (RFC 7515 §7.1, RFC 7518 §3.4) with one key. The
// protected header is encoded once per key, and the token is built in one buffer. go-jose's
// signer encoded the header map again for every token, copied the payload three times and
// converted the signature through ASN.1: about a seventh of a login's signing time and two
// fifths of the bytes it allocated. The signature itself is crypto/ecdsa's (hedged nonce);
// go-jose still makes the keys and the JWKS, and the tests check every token with go-jose's
// and go-oidc's verifiers.
type es256Signer struct {
	priv   *ecdsa.PrivateKey
	header string // base64url of {"alg":"ES256","kid":…,"typ":"at+jwt"}
}

func newES256Signer(priv *ecdsa.PrivateKey, kid string) (*es256Signer, error) {
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{Algorithm, kid, TokenType})
	if err != nil {
		return nil, err
	}
	return &es256Signer{priv: priv, header: base64.RawURLEncoding.EncodeToString(h)}, nil
}

// sign returns header.payload.signature for payload (JSON).
func (s *es256Signer) sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(s.header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(64))
	buf = append(buf, s.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	r, ss, err := ecdsa.Sign(rand.Reader, s.priv, digest[:])
	if err != nil {
		return "", err
	}
	// The JWS form of an ES256 signature is R and S, 32 bytes each, big-endian (RFC 7518 §3.4).
	var sig [64]byte
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig[:])
	return string(buf), nil
}

// claimsWriter writes the claims of our access tokens: iss and aud are the same in every token
// and are encoded once; the rest is appended.
type claimsWriter struct {
	head string // {"iss":…,
	aud  string // ,"aud":…
}

func newClaimsWriter(iss string, audWire any) (claimsWriter, error) {
	is, err := json.Marshal(iss)
	if err != nil {
		return claimsWriter{}, err
	}
	aud, err := json.Marshal(audWire)
	if err != nil {
		return claimsWriter{}, err
	}
	return claimsWriter{head: `{"iss":` + string(is), aud: `,"aud":` + string(aud)}, nil
}

// write returns {"iss","sub","aud","exp","iat","jti","sid"} as JSON.
func (w claimsWriter) write(sub string, exp, iat int64, jti, sid string) ([]byte, error) {
	b := make([]byte, 0, len(w.head)+len(w.aud)+len(sub)+len(jti)+len(sid)+64)
	b = append(b, w.head...)
	b = append(b, `,"sub":`...)
	b, err := appendJSONString(b, sub)
	if err != nil {
		return nil, err
	}
	b = append(b, w.aud...)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, exp, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, iat, 10)
	b = append(b, `,"jti":`...)
	if b, err = appendJSONString(b, jti); err != nil {
		return nil, err
	}
	b = append(b, `,"sid":`...)
	if b, err = appendJSONString(b, sid); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string: directly when it needs no escaping (our ids and
// base64url values), through encoding/json otherwise.
func appendJSONString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				return nil, fmt.Errorf("encode claim: %w", err)
			}
			return append(b, q...), nil
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}
