package kakao

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// ID-token limits.
const (
	idTokenLeeway  = 60 * time.Second // clock skew allowed on exp, iat and nbf
	idTokenMaxAge  = 24 * time.Hour   // iat older than this is refused (Kakao ID tokens live ≤ 12 h)
	maxHeaderBytes = 1 << 10          // decoded JOSE header
)

// MaxIDTokenBytes is the largest ID token VerifyIDToken reads. Kakao's are about 1 KiB, but
// the nickname claim is the person's own text: a few thousand Hangul characters (3 bytes each
// in UTF-8, 4/3 of that in base64url) must still fit. A larger token from Kakao's token
// endpoint is Kakao's fault, not the caller's (the login adapter answers it as a Kakao error).
const MaxIDTokenBytes = 64 << 10

// IDTokenClaims are the verified claims of a Kakao ID token.
type IDTokenClaims struct {
	Issuer, Subject string
	Audience        []string
	IssuedAt        time.Time
	Expiry          time.Time
	AuthTime        time.Time // zero when absent
	Nonce           string
	Nickname        string
	Picture         string
	Email           string // present only when the email is valid and verified (and consented)

	UserID          int64  // Subject as a number (Kakao's user ID, 회원번호)
	AuthorizedParty string // "azp", when present
}

// VerifyIDToken checks a Kakao ID token: RS256 signature against Kakao's JWKS
// (cached; at most one refetch per JWKSCooldown), iss == AuthURL exactly,
// every aud ∈ Audiences (several need azp ∈ Audiences), exp and iat present
// with 60 s leeway, iat not in the future nor older than a day, sub a user ID,
// and nonce when expectedNonce is not empty. A JWKS outage with no cached key
// is KindUnavailable; any check that fails is KindInvalidToken.
func (c *Client) VerifyIDToken(ctx context.Context, rawIDToken, expectedNonce string) (*IDTokenClaims, error) {
	const op = "id_token"
	invalid := func(reason string, err error) error {
		return &Error{Op: op, Kind: KindInvalidToken, Description: reason, Err: err}
	}
	if rawIDToken == "" {
		return nil, invalid("empty ID token", nil)
	}
	if len(rawIDToken) > MaxIDTokenBytes {
		return nil, invalid("ID token too large", nil)
	}
	kid, reason := checkHeader(rawIDToken)
	if reason != "" {
		return nil, invalid(reason, nil)
	}

	probe := &verifyProbe{kid: kid}
	tok, err := c.verifier.Verify(context.WithValue(ctx, probeKey{}, probe), rawIDToken)
	if err != nil {
		if probe.kind != "" && probe.kind != KindInvalidToken {
			return nil, &Error{Op: op, Kind: probe.kind, Description: "cannot get Kakao's signing keys", Err: probe.err}
		}
		return nil, invalid("signature, format or issuer check failed", err)
	}

	var cl idClaims
	if err := tok.Claims(&cl); err != nil {
		return nil, invalid("claims of the wrong type", err)
	}
	now := c.now()
	switch {
	case cl.Sub == "":
		return nil, invalid("missing sub", nil)
	case len(tok.Audience) == 0:
		return nil, invalid("missing aud", nil)
	}
	userID, err := strconv.ParseInt(cl.Sub, 10, 64)
	if err != nil || userID <= 0 || strconv.FormatInt(userID, 10) != cl.Sub {
		return nil, invalid("sub is not a Kakao user ID", nil)
	}
	for _, a := range tok.Audience {
		if !contains(c.audiences, a) {
			return nil, invalid("aud not accepted", nil)
		}
	}
	if cl.Azp.set && !contains(c.audiences, cl.Azp.v) {
		return nil, invalid("azp not accepted", nil)
	}
	if len(tok.Audience) > 1 && !cl.Azp.set {
		return nil, invalid("several aud values without azp", nil)
	}
	if !cl.Exp.ok {
		return nil, invalid("missing exp", nil)
	}
	if !cl.Iat.ok {
		return nil, invalid("missing iat", nil)
	}
	exp, iat := cl.Exp.time(), cl.Iat.time()
	switch {
	case now.After(exp.Add(idTokenLeeway)):
		return nil, invalid("expired", nil)
	case iat.After(now.Add(idTokenLeeway)):
		return nil, invalid("iat in the future", nil)
	case iat.Before(now.Add(-idTokenMaxAge)):
		return nil, invalid("iat too old", nil)
	case exp.Before(iat):
		return nil, invalid("exp before iat", nil)
	case cl.Nbf.ok && cl.Nbf.time().After(now.Add(idTokenLeeway)):
		return nil, invalid("not valid yet (nbf)", nil)
	}
	if expectedNonce != "" && subtle.ConstantTimeCompare([]byte(cl.Nonce), []byte(expectedNonce)) != 1 {
		return nil, invalid("nonce mismatch", nil)
	}
	out := &IDTokenClaims{
		Issuer:          tok.Issuer,
		Subject:         cl.Sub,
		Audience:        tok.Audience,
		IssuedAt:        iat,
		Expiry:          exp,
		Nonce:           cl.Nonce,
		Nickname:        cl.Nickname,
		Picture:         cl.Picture,
		Email:           cl.Email,
		UserID:          userID,
		AuthorizedParty: cl.Azp.v,
	}
	if cl.AuthTime.ok {
		out.AuthTime = cl.AuthTime.time()
	}
	return out, nil
}

// checkHeader decodes the JOSE header of a compact JWS and refuses what go-jose
// would accept but Kakao never sends: an alg other than RS256, "crit" (go-jose
// understands "b64"), "b64", and oversized headers. It returns the kid, or the
// reason for refusal.
func checkHeader(raw string) (kid, reason string) {
	i := strings.IndexByte(raw, '.')
	if i <= 0 || strings.Count(raw, ".") != 2 {
		return "", "not a compact JWS"
	}
	seg := raw[:i]
	if base64.RawURLEncoding.DecodedLen(len(seg)) > maxHeaderBytes {
		return "", "JOSE header too large"
	}
	buf := make([]byte, base64.RawURLEncoding.DecodedLen(len(seg)))
	n, err := base64.RawURLEncoding.Decode(buf, []byte(seg))
	if err != nil {
		return "", "JOSE header is not base64url"
	}
	var h struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
		B64  json.RawMessage `json:"b64"`
	}
	if err := json.Unmarshal(buf[:n], &h); err != nil {
		return "", "JOSE header is not a JSON object"
	}
	switch {
	case h.Alg != "RS256":
		return "", "alg is not RS256"
	case h.Crit != nil:
		return "", "crit header not supported"
	case h.B64 != nil:
		return "", "b64 header not supported"
	}
	return h.Kid, ""
}

// idClaims are the claims VerifyIDToken reads itself, with strict types:
// times must be JSON numbers (go-oidc also accepts numeric strings).
type idClaims struct {
	Sub      string      `json:"sub"`
	Azp      optString   `json:"azp"`
	Exp      numericDate `json:"exp"`
	Iat      numericDate `json:"iat"`
	Nbf      numericDate `json:"nbf"`
	AuthTime numericDate `json:"auth_time"`
	Nonce    string      `json:"nonce"`
	Nickname string      `json:"nickname"`
	Picture  string      `json:"picture"`
	Email    string      `json:"email"`
}

type optString struct {
	v   string
	set bool
}

func (s *optString) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s.set = true
	return json.Unmarshal(b, &s.v)
}

// numericDate is an RFC 7519 NumericDate: a JSON number of seconds.
type numericDate struct {
	sec int64
	ok  bool
}

var errNumericDate = errors.New("NumericDate must be a JSON number within range")

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errNumericDate
	}
	s := string(b)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > maxNumericDate {
			return errNumericDate
		}
		d.sec, d.ok = n, true
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return errNumericDate
	}
	d.sec, d.ok = int64(f), true
	return nil
}

// maxNumericDate is the year 9999, far beyond any real token.
const maxNumericDate = 253402300799

func (d numericDate) time() time.Time { return time.Unix(d.sec, 0) }
