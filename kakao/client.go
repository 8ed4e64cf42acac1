// Package kakao is a client for Kakao Login: the authorize URL (PKCE S256,
// OIDC nonce), the code exchange and refresh at kauth's /oauth/token (through
// golang.org/x/oauth2), ID-token verification against Kakao's JWKS (through
// github.com/coreos/go-oidc/v3), and the kapi user endpoints (/v2/user/me,
// access_token_info, logout, unlink, scopes, service terms, OIDC userinfo), and
// the "logout with Kakao Account" URL.
//
// Every failure is an *Error with a stable Kind and, for Kakao's answers, the
// KOE or kapi code; Explain gives a one-line fix in Korean and English.
//
// # Using it on its own
//
// The client needs no kakaoauth server: a program that signs people in with
// Kakao makes one Client with New (only Config.ClientID is required), sends
// the browser to AuthCodeURL with values from NewState, NewNonce and
// NewCodeVerifier, and in its callback checks ParseRedirectError and the
// state, then calls Exchange, VerifyIDToken and Me. The examples show the whole
// flow.
//
// In tests, point Config.AuthURL and Config.APIURL at the emulator in
// package kakaotest: kakaotest.NewServer starts one, and its ClientConfig
// returns a Config for it. Set Config.Now to the emulator's clock to test
// expiry without sleeping.
package kakao

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Default Kakao hosts.
const (
	DefaultAuthURL = "https://kauth.kakao.com"
	DefaultAPIURL  = "https://kapi.kakao.com"
)

// Defaults of Config.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBodyBytes = 1 << 20
	DefaultJWKSCooldown = 30 * time.Second
)

// Config configures a Client. Only ClientID is required.
type Config struct {
	ClientID     string        // REST API key (client_id)
	ClientSecret string        // sent in the form body (AuthStyleInParams) when non-empty
	AdminKey     string        // for KakaoAK admin calls
	AppID        int64         // numeric app id (VerifyAccessToken compares access_token_info's app_id with it)
	AuthURL      string        // default DefaultAuthURL; also the expected ID-token issuer
	APIURL       string        // default DefaultAPIURL
	Audiences    []string      // accepted ID-token aud values; default []string{ClientID}
	HTTPClient   *http.Client  // default: own client with a sane transport
	Timeout      time.Duration // per call total deadline (incl. body read), default 10s
	MaxBodyBytes int64         // response body cap, default 1 MiB
	JWKSCooldown time.Duration // min time between JWKS refetches on unknown kid, default 30s
	// Now is the clock for token expiry, ID-token times, the JWKS cooldown and Retry-After;
	// default time.Now.
	Now func() time.Time
}

// Client talks to Kakao. It is safe for concurrent use; create one per app and
// reuse it, since it caches Kakao's signing keys.
type Client struct {
	cfg       Config
	now       func() time.Time
	hc        *http.Client // capped bodies, no redirects
	oauth     oauth2.Config
	authURL   string // AuthURL without a trailing slash; the expected issuer
	apiURL    string
	audiences []string
	keys      *keySet
	verifier  *oidc.IDTokenVerifier
}

// New checks cfg, fills defaults and returns a Client. It makes no network
// call: Kakao's JWKS is fetched on the first ID-token verification.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("kakao: Config.ClientID (REST API key) is required")
	}
	if cfg.AuthURL == "" {
		cfg.AuthURL = DefaultAuthURL
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	authURL, err := baseURL("AuthURL", cfg.AuthURL)
	if err != nil {
		return nil, err
	}
	apiURL, err := baseURL("APIURL", cfg.APIURL)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.JWKSCooldown <= 0 {
		cfg.JWKSCooldown = DefaultJWKSCooldown
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	auds := make([]string, 0, len(cfg.Audiences)+1)
	for _, a := range cfg.Audiences {
		if a != "" {
			auds = append(auds, a)
		}
	}
	if len(auds) == 0 {
		auds = append(auds, cfg.ClientID)
	}
	cfg.Audiences = auds

	var base http.RoundTripper
	var jar http.CookieJar
	if cfg.HTTPClient != nil {
		base = cfg.HTTPClient.Transport
		jar = cfg.HTTPClient.Jar
	}
	if base == nil {
		base = defaultTransport()
	}
	capped := &capTransport{base: base, max: cfg.MaxBodyBytes}
	c := &Client{
		cfg:       cfg,
		now:       cfg.Now,
		authURL:   authURL,
		apiURL:    apiURL,
		audiences: auds,
		hc: &http.Client{
			Transport:     capped,
			Jar:           jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:   authURL + "/oauth/authorize",
				TokenURL:  authURL + "/oauth/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
	}
	c.keys = newKeySet(authURL+"/.well-known/jwks.json", capped, cfg)
	c.verifier = oidc.NewVerifier(authURL, c.keys, &oidc.Config{
		SupportedSigningAlgs: []string{oidc.RS256},
		SkipClientIDCheck:    true, // aud ∈ Audiences and azp are checked in VerifyIDToken
		SkipExpiryCheck:      true, // exp/iat/nbf are checked with leeway in VerifyIDToken
		Now:                  cfg.Now,
	})
	return c, nil
}

func baseURL(name, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("kakao: Config.%s %q must be an absolute http(s) URL without query", name, raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	t.ResponseHeaderTimeout = DefaultTimeout
	t.TLSHandshakeTimeout = 5 * time.Second
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return t
}

// errBodyTooLarge is returned (wrapped) when a response body exceeds MaxBodyBytes.
var errBodyTooLarge = errors.New("kakao: response body exceeds MaxBodyBytes")

// capTransport reads every response body completely, up to max bytes, inside
// RoundTrip. Reading inside RoundTrip keeps the call's deadline on the body and
// lets callers that lose error chains (x/oauth2 formats read errors with %v)
// see errBodyTooLarge from Client.Do.
type capTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > t.max {
		return nil, errBodyTooLarge
	}
	var body []byte
	if n := resp.ContentLength; n >= 0 {
		// The usual case: read exactly the announced length, in one allocation (net/http
		// ends the body there).
		body = make([]byte, n)
		_, err = io.ReadFull(resp.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(resp.Body, t.max+1))
	}
	if err != nil {
		return nil, fmt.Errorf("kakao: read response body: %w", err)
	}
	if int64(len(body)) > t.max {
		return nil, errBodyTooLarge
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// apiRequest describes one kapi call.
type apiRequest struct {
	op     string
	method string
	path   string
	auth   string     // the whole Authorization header value
	query  url.Values // GET parameters
	form   url.Values // POST body
	retry  bool       // retry once on a network error or 5xx (GETs only)
}

// call performs r within the client's deadline and decodes a 2xx JSON answer
// into out; out's check method (if any) validates required fields.
func (c *Client) call(ctx context.Context, r apiRequest, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	attempts := 1
	if r.retry {
		attempts = 2
	}
	var last *Error
	for i := 0; i < attempts; i++ {
		status, header, body, err := c.send(ctx, r)
		if err != nil {
			last = transportError(ctx, r.op, err)
			if last.Kind == KindUnavailable && ctx.Err() == nil {
				continue
			}
			return last
		}
		if status >= 200 && status < 300 {
			if err := decodeJSON(body, out); err != nil {
				return &Error{Op: r.op, Status: status, Kind: KindBadResponse, Err: err}
			}
			return nil
		}
		last = parseErrorBody(r.op, status, header, body, c.now())
		if status >= 500 && ctx.Err() == nil {
			continue
		}
		return last
	}
	return last
}

func (c *Client) send(ctx context.Context, r apiRequest) (int, http.Header, []byte, error) {
	u := c.apiURL + r.path
	var body io.Reader
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", r.auth)
	req.Header.Set("Accept", "application/json")
	if r.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body) // already buffered and capped by capTransport
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

// transportError classifies an error that came before any HTTP status.
func transportError(ctx context.Context, op string, err error) *Error {
	e := &Error{Op: op, Err: err}
	switch {
	case errors.Is(err, errBodyTooLarge):
		e.Kind = KindBadResponse
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.Kind = KindTimeout
	case errors.Is(err, context.Canceled), ctx.Err() != nil:
		e.Kind = KindTimeout
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			e.Kind = KindTimeout
		} else {
			e.Kind = KindUnavailable
		}
	}
	return e
}

// errorBody is the union of kauth's and kapi's error bodies.
type errorBody struct {
	Error          string   `json:"error"`
	Description    string   `json:"error_description"`
	ErrorCode      string   `json:"error_code"`
	Code           *int     `json:"code"`
	Msg            string   `json:"msg"`
	RequiredScopes []string `json:"required_scopes"`
	AllowedScopes  []string `json:"allowed_scopes"`
}

// parseErrorBody turns a non-2xx answer (or a 2xx answer carrying "error")
// into an *Error. A body that is not Kakao's JSON leaves only the status.
func parseErrorBody(op string, status int, header http.Header, body []byte, now time.Time) *Error {
	e := &Error{Op: op, Status: status}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		e.OAuthError = clip(eb.Error, 128)
		e.KOE = clip(eb.ErrorCode, 16)
		e.Description = clip(eb.Description, 512)
		if eb.Code != nil {
			e.APICode = *eb.Code
		}
		if e.Description == "" {
			e.Description = clip(eb.Msg, 512)
		}
		e.RequiredScopes = eb.RequiredScopes
		e.AllowedScopes = eb.AllowedScopes
	} else {
		e.Err = fmt.Errorf("undecodable error body (%d bytes)", len(body))
	}
	e.Kind = classify(status, e.KOE, e.APICode, e.OAuthError)
	if e.Kind == KindUnknown && e.Err != nil && status >= 200 && status < 300 {
		e.Kind = KindBadResponse
	}
	if header != nil {
		e.RetryAfter = retryAfter(header.Get("Retry-After"), now)
	}
	return e
}

func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32); err == nil {
		if s > 0 {
			return time.Duration(s) * time.Second
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// checker is implemented by response types with required fields.
type checker interface{ check() error }

// decodeJSON decodes one JSON value into out and runs out's check.
func decodeJSON(body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return err
	}
	if c, ok := out.(checker); ok {
		return c.check()
	}
	return nil
}

// callFor performs r and returns its answer decoded into a new T (checked as call checks it).
func callFor[T any](ctx context.Context, c *Client, r apiRequest) (*T, error) {
	out := new(T)
	if err := c.call(ctx, r, out); err != nil {
		return nil, err
	}
	return out, nil
}

// bearerAuth is the Authorization header for a user's access token. A token that is empty or
// could not be a header value is refused before any request, as Kakao would refuse it: a
// KindInvalidToken error of op.
func (c *Client) bearerAuth(op, token string) (string, error) {
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", &Error{Op: op, Kind: KindInvalidToken, Description: "empty or malformed access token"}
	}
	return "Bearer " + token, nil
}

func (c *Client) adminAuth(op string) (string, error) {
	if c.cfg.AdminKey == "" {
		return "", &Error{Op: op, Kind: KindMisconfigured, Description: "Config.AdminKey is not set"}
	}
	return "KakaoAK " + c.cfg.AdminKey, nil
}
