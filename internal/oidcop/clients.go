package oidcop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// ClientSpec is what an operator registers (kakaoauth clients create).
type ClientSpec struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool
	FirstParty             bool
	IDTokenAlg             string // "RS256" (default) or "ES256"
}

// SecretPrefix starts every client secret, so a leaked one is recognisable (like kar_ refresh tokens).
const SecretPrefix = "kcs_"

// NewSecret returns a client secret: SecretPrefix and 256 random bits in hex. Secrets are random,
// not chosen, so a SHA-256 of them is a sufficient stored form.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return SecretPrefix + hex.EncodeToString(b[:])
}

// HashSecret is the stored form of a client secret.
func HashSecret(secret string) []byte { return hashSecret(secret) }

// CheckRedirectURI accepts an absolute URI without a fragment (OAuth 2.0 §3.1.2): https, http
// (a loopback address, or any host for a confidential client), or an app's own scheme.
func CheckRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.ContainsAny(raw, " \t\r\n#") {
		return fmt.Errorf("redirect URI %q must be an absolute URI without a fragment", raw)
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return fmt.Errorf("redirect URI %q has no host", raw)
	}
	return nil
}

// CreateClient validates spec, stores the client and returns its id and secret ("" for a
// public client). The secret is not stored, only its hash.
func CreateClient(ctx context.Context, st auth.OIDCStore, spec ClientSpec, now time.Time) (id, secret string, err error) {
	spec.Name = strings.TrimSpace(spec.Name)
	if spec.Name == "" || len(spec.Name) > 200 {
		return "", "", errors.New("a client needs a name (at most 200 bytes)")
	}
	if len(spec.RedirectURIs) == 0 {
		return "", "", errors.New("a client needs at least one redirect URI")
	}
	for _, u := range append(append([]string(nil), spec.RedirectURIs...), spec.PostLogoutRedirectURIs...) {
		if err := CheckRedirectURI(u); err != nil {
			return "", "", err
		}
	}
	switch spec.IDTokenAlg {
	case "":
		spec.IDTokenAlg = "RS256"
	case "RS256", "ES256":
	default:
		return "", "", fmt.Errorf("id-token-alg %q: use RS256 or ES256", spec.IDTokenAlg)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id = "kc_" + hex.EncodeToString(b[:])
	c := auth.OIDCClient{ID: id, Name: spec.Name, RedirectURIs: spec.RedirectURIs, PostLogoutRedirectURIs: spec.PostLogoutRedirectURIs,
		Public: spec.Public, FirstParty: spec.FirstParty, IDTokenAlg: spec.IDTokenAlg, CreatedAt: now}
	if !spec.Public {
		secret = NewSecret()
		c.SecretHash = hashSecret(secret)
	}
	if err := st.CreateClient(ctx, c); err != nil {
		return "", "", err
	}
	return id, secret, nil
}

// RotateSecret gives a confidential client a new secret (the old one stops working at once).
func RotateSecret(ctx context.Context, st auth.OIDCStore, id string) (string, error) {
	c, err := st.Client(ctx, id)
	if err != nil {
		return "", err
	}
	if c.Public {
		return "", errors.New("a public client has no secret")
	}
	secret := NewSecret()
	if err := st.SetClientSecret(ctx, id, hashSecret(secret)); err != nil {
		return "", err
	}
	return secret, nil
}
