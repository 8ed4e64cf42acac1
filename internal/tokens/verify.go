package tokens

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of Verify. Both mean 401 invalid_token; ErrTokenExpired lets the server tell the client
// to refresh rather than to sign in again. Verify returns a *TokenError that wraps one of them.
var (
	ErrTokenInvalid = errors.New("invalid access token")
	ErrTokenExpired = errors.New("access token expired")
)

// TokenError is the error of Verify: Kind is ErrTokenInvalid or ErrTokenExpired, Reason a short
// English phrase for logs (safe to show, it contains nothing from the token).
type TokenError struct {
	Kind   error
	Reason string
}

func (e *TokenError) Error() string { return e.Kind.Error() + ": " + e.Reason }

// Unwrap lets errors.Is match Kind.
func (e *TokenError) Unwrap() error { return e.Kind }

func invalid(reason string) error { return &TokenError{Kind: ErrTokenInvalid, Reason: reason} }

// MaxTokenLength bounds the tokens Verify reads; ours are about 400 bytes.
const MaxTokenLength = 4096

// Verify checks an access token and returns its claims. It accepts exactly what Sign produces:
//   - three segments of canonical unpadded base64url, with nothing else (no whitespace, padding
//     or extra segments);
//   - a header with exactly the members alg, kid and typ (no crit, jku, jwk, x5u, ...): alg
//     ES256, typ at+jwt or application/at+jwt (case-insensitive), kid one of our keys that is
//     still within its overlap; every key is bound to ES256, so alg none, HS256 or RS256 fail;
//   - an ES256 signature (64 bytes, verified with the cached public key);
//   - header and claims without duplicate members at any depth (RFC 8725 §3.4; parsers differ
//     in which duplicate wins, so none is accepted);
//   - iss equal to ours, aud non-empty with every value one of our audiences, exp present and
//     not past (with Leeway), nbf if present and iat (required) not in the future beyond Leeway,
//     sub, sid and jti non-empty strings, NumericDates as integers.
//
// The error is a *TokenError wrapping ErrTokenExpired (authentic but expired) or ErrTokenInvalid.
//
// The signature check (ECDSA P-256, some 95% of the cost) is done once per token: the claims of
// tokens that passed are remembered, keyed by the exact token text, in a bounded cache. A cache
// hit still checks that the key is published and within its overlap and checks the time claims
// at now, so it answers exactly what a full verification would. The returned claims are the
// caller's; their Audience slice must not be modified.
func (i *Issuer) Verify(token string) (*AccessClaims, error) {
	if len(token) > MaxTokenLength {
		return nil, invalid("token too long")
	}
	ring := i.ring.Load()
	if i.cache != nil {
		if e, ok := i.cache.get(token); ok {
			now := i.now()
			err := ring.keyUsable(e.kid, now)
			if err == nil {
				err = i.checkTimes(e.claims, now)
			}
			if err != nil {
				i.cache.drop(token)
				return nil, err
			}
			c := *e.claims
			return &c, nil
		}
	}
	d1 := strings.IndexByte(token, '.')
	if d1 <= 0 {
		return nil, invalid("not a compact JWS")
	}
	d2 := d1 + 1 + strings.IndexByte(token[d1+1:], '.')
	if d2 <= d1 || d2 == len(token)-1 || strings.IndexByte(token[d2+1:], '.') >= 0 {
		return nil, invalid("not a compact JWS of three segments")
	}
	if !validB64(token[:d1]) || !validB64(token[d1+1:d2]) || !validB64(token[d2+1:]) {
		return nil, invalid("segment is not unpadded base64url")
	}
	hdr, err := decodeSegment(token[:d1])
	if err != nil {
		return nil, invalid("header encoding")
	}
	kid, err := parseHeader(hdr)
	if err != nil {
		return nil, err
	}
	now := i.now()
	if err := ring.keyUsable(kid, now); err != nil {
		return nil, err
	}
	key := ring.verify[kid]
	// An ES256 signature is r‖s, 64 bytes: 86 characters. Check the length before decoding
	// into the fixed buffer.
	var sig [64]byte
	if len(token)-d2-1 != 86 {
		return nil, invalid("signature length")
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(sig[:], []byte(token[d2+1:])); err != nil || n != 64 {
		return nil, invalid("signature encoding")
	}
	digest := sha256.Sum256([]byte(token[:d2]))
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key.pub, digest[:], r, s) {
		return nil, invalid("signature")
	}
	payload, err := decodeSegment(token[d1+1 : d2])
	if err != nil {
		return nil, invalid("payload encoding")
	}
	c, err := i.parseClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := i.checkTimes(c, now); err != nil {
		return nil, err
	}
	if i.cache != nil {
		cached := *c
		i.cache.put(token, cacheEntry{kid: kid, claims: &cached})
	}
	return c, nil
}

// keyUsable reports whether kid is one of the ring's keys and still verifies at now.
func (r *keyRing) keyUsable(kid string, now time.Time) error {
	key, ok := r.verify[kid]
	if !ok {
		return invalid("unknown kid")
	}
	if !key.until.IsZero() && !now.Before(key.until) {
		return invalid("key retired")
	}
	return nil
}

// decodeSegment decodes canonical unpadded base64url (the caller has checked the alphabet).
func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// parseHeader checks the JOSE header and returns its kid.
func parseHeader(b []byte) (string, error) {
	// encoding/json's Valid lets invalid UTF-8 through; JSON must be UTF-8 (RFC 8259 §8.1), and
	// a stricter parser elsewhere would read such a token differently (found by FuzzVerifyClaims).
	if !json.Valid(b) || !utf8.Valid(b) {
		return "", invalid("header is not JSON")
	}
	sc := jscan{b: b}
	var alg, kid, typ []byte
	var seen uint8
	err := sc.object(func(key []byte) error {
		var bit uint8
		var dst *[]byte
		switch string(key) {
		case "alg":
			bit, dst = 1, &alg
		case "kid":
			bit, dst = 2, &kid
		case "typ":
			bit, dst = 4, &typ
		default:
			return invalid("unexpected header member")
		}
		if seen&bit != 0 {
			return invalid("duplicate header member")
		}
		seen |= bit
		v, err := sc.stringValue()
		if err != nil {
			return invalid("header member is not a string")
		}
		*dst = v
		return nil
	})
	if err != nil {
		return "", asTokenError(err, "header")
	}
	if string(alg) != Algorithm {
		return "", invalid("alg is not ES256")
	}
	t := string(typ)
	if len(t) > len("application/") && strings.EqualFold(t[:len("application/")], "application/") {
		t = t[len("application/"):]
	}
	if !strings.EqualFold(t, TokenType) {
		return "", invalid("typ is not at+jwt")
	}
	if len(kid) == 0 {
		return "", invalid("kid missing")
	}
	return string(kid), nil
}

// parseClaims reads the claims in one pass, refusing duplicates and wrong types.
func (i *Issuer) parseClaims(b []byte) (*AccessClaims, error) {
	if !json.Valid(b) || !utf8.Valid(b) {
		return nil, invalid("claims are not JSON")
	}
	sc := jscan{b: b}
	c := &AccessClaims{}
	var seen uint16
	var exp, iat, nbf int64
	var other [][]byte // names of claims we do not use, for duplicate detection
	err := sc.object(func(key []byte) error {
		var bit uint16
		switch string(key) {
		case "iss":
			bit = 1 << 0
		case "sub":
			bit = 1 << 1
		case "aud":
			bit = 1 << 2
		case "exp":
			bit = 1 << 3
		case "iat":
			bit = 1 << 4
		case "nbf":
			bit = 1 << 5
		case "jti":
			bit = 1 << 6
		case "sid":
			bit = 1 << 7
		default:
			for _, o := range other {
				if bytes.Equal(o, key) {
					return invalid("duplicate claim")
				}
			}
			other = append(other, key)
			return sc.skipValue(0)
		}
		if seen&bit != 0 {
			return invalid("duplicate claim")
		}
		seen |= bit
		var err error
		switch bit {
		case 1 << 0:
			var v []byte
			if v, err = sc.stringValue(); err == nil && string(v) != i.iss {
				return invalid("wrong issuer")
			}
			c.Issuer = i.iss
		case 1 << 1:
			c.Subject, err = sc.nonEmptyString()
		case 1 << 2:
			c.Audience, err = i.audience(&sc)
		case 1 << 3:
			exp, err = sc.intValue()
		case 1 << 4:
			iat, err = sc.intValue()
		case 1 << 5:
			nbf, err = sc.intValue()
		case 1 << 6:
			c.ID, err = sc.nonEmptyString()
		case 1 << 7:
			c.SessionID, err = sc.nonEmptyString()
		}
		if err != nil {
			return asTokenError(err, "claim "+string(key)+" has a wrong type or is empty")
		}
		return nil
	})
	if err != nil {
		return nil, asTokenError(err, "claims")
	}
	const required = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<6 | 1<<7
	if seen&required != required {
		return nil, invalid("a required claim (iss, sub, aud, exp, iat, jti, sid) is missing")
	}
	c.Expiry = time.Unix(exp, 0)
	c.IssuedAt = time.Unix(iat, 0)
	if seen&(1<<5) != 0 {
		c.NotBefore = time.Unix(nbf, 0)
	}
	return c, nil
}

// audience reads aud (a string or an array of strings) and requires every value to be one of
// ours, and at least one value.
func (i *Issuer) audience(sc *jscan) ([]string, error) {
	match := func(v []byte) (string, bool) {
		for _, a := range i.aud {
			if string(v) == a {
				return a, true
			}
		}
		return "", false
	}
	if sc.peek() == '"' {
		v, err := sc.stringValue()
		if err != nil {
			return nil, err
		}
		a, ok := match(v)
		if !ok {
			return nil, invalid("wrong audience")
		}
		return []string{a}, nil
	}
	var out []string
	err := sc.array(func() error {
		v, err := sc.stringValue()
		if err != nil {
			return err
		}
		a, ok := match(v)
		if !ok {
			return invalid("wrong audience")
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, invalid("empty audience")
	}
	return out, nil
}

// asTokenError returns err if it is a *TokenError, else an invalid-token error with reason.
func asTokenError(err error, reason string) error {
	if te := (*TokenError)(nil); errors.As(err, &te) {
		return err
	}
	return invalid(reason + ": " + err.Error())
}

func (i *Issuer) checkTimes(c *AccessClaims, now time.Time) error {
	if !now.Before(c.Expiry.Add(Leeway)) {
		return &TokenError{Kind: ErrTokenExpired, Reason: "expired"}
	}
	if !c.NotBefore.IsZero() && now.Add(Leeway).Before(c.NotBefore) {
		return invalid("not yet valid (nbf)")
	}
	if now.Add(Leeway).Before(c.IssuedAt) {
		return invalid("issued in the future (iat)")
	}
	return nil
}
