// Package kakaotest is a local emulator of Kakao Login: the kauth.kakao.com OAuth 2.0 / OpenID
// Connect server and the user endpoints of kapi.kakao.com, served on one origin.
//
// The emulator follows Kakao's documented (and, where undocumented, observed) behaviour: the same
// paths, parameters, JSON field names and types, HTTP statuses, KOE and kapi error codes, token
// lifetimes, refresh-token rotation rules and RS256 ID tokens; every consent item with its
// *_needs_agreement (Details, AllConsentItems), service terms, additional consent (scope= for a
// linked person), prompt, login_hint and /oauth/logout with KOE007. It adds what tests and local
// development need: a consent page of its own, seeded users, a non-interactive mode, switchable
// faults, a call log, a settable clock and an HTTP control API under /_emulator/.
//
// Choices where Kakao's behaviour is not documented are marked "Emulator choice" in comments.
//
// # In your own tests
//
// The emulator needs no kakaoauth server: any program that talks to Kakao over HTTP can be
// pointed at it. In a Go test, NewServer starts one on 127.0.0.1 and stops it when the test
// ends; Server.ClientConfig configures a kakao.Client for it, and IssueCode mints a code without
// a browser:
//
//	srv := kakaotest.NewServer(t, kakaotest.DefaultApp(), kakaotest.DefaultUsers())
//	client, err := kakao.New(srv.ClientConfig())
//	code, err := srv.IssueCode(4217730412856391024, srv.App().RedirectURIs[0], "", "")
//	tok, err := client.Exchange(ctx, code, srv.App().RedirectURIs[0], "")
//
// Code that takes Kakao's two hosts (kauth.kakao.com and kapi.kakao.com) as settings gets the
// server's URL for both. SetFault makes an endpoint fail, slow down or hang; SetNow with a
// Clock moves time for expiry without sleeping; SetAutoConsent answers the authorize page at
// once for flows without a browser; Calls counts what reached Kakao.
//
// Outside a Go test, serve the http.Handler that New returns anywhere (kakaoauth's `dev`
// command does); tests in other languages drive it through the control API under /_emulator/,
// which does over HTTP what these methods do.
package kakaotest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/statuswriter"
)

// Token lifetimes, as reported by Kakao for REST API keys.
const (
	// AccessTokenLifetime is the access-token (and ID-token) lifetime: 6 h, reported as 21599.
	AccessTokenLifetime = 21599 * time.Second
	// RefreshTokenLifetime is the refresh-token lifetime: 60 days, reported as 5183999.
	RefreshTokenLifetime = 5183999 * time.Second
	// RefreshRotationWindow is how close to expiry a refresh token must be for a refresh to
	// return a new one (Kakao: "less than one month").
	RefreshRotationWindow = 30 * 24 * time.Hour
	// CodeLifetime is the authorization-code lifetime. Kakao only says "short"; the community
	// says 10 minutes.
	CodeLifetime = 10 * time.Minute
	// WebhookTimeout is how long Kakao waits for the unlink webhook to answer.
	WebhookTimeout = 3 * time.Second
)

// Rate limits of token issuance per user (Kakao's KOE237 quota).
const (
	// AccessTokenLimit access tokens may be issued by the authorization_code grant per
	// AccessTokenWindow.
	AccessTokenLimit  = 20
	AccessTokenWindow = 10 * time.Minute
	// RefreshTokenLimit refresh_token grants are allowed per RefreshTokenWindow.
	RefreshTokenLimit  = 30
	RefreshTokenWindow = 60 * time.Minute
)

// Consent item IDs the emulator knows by name.
const (
	ScopeProfileNickname = "profile_nickname"
	ScopeProfileImage    = "profile_image"
	ScopeProfile         = "profile" // legacy combined nickname + image item
	ScopeAccountEmail    = "account_email"
	ScopeOpenID          = "openid"
)

// App is the Kakao app the emulator serves: its keys, redirect URIs and consent items.
type App struct {
	// RESTKey is the REST API key, used as client_id by servers.
	RESTKey string
	// JavaScriptKey and NativeKey are accepted as client_id too (SDK logins); the ID token's
	// aud is whichever key was used.
	JavaScriptKey, NativeKey string
	// ClientSecret is the REST API key's client secret; "" means the feature is off.
	ClientSecret string
	// AdminKey authenticates KakaoAK calls and is sent to the unlink webhook.
	AdminKey string
	// AppID is the numeric app ID returned by access_token_info.
	AppID int64
	// Name is shown on the consent page; default "kakaoauth (dev)".
	Name string
	// RedirectURIs are the registered redirect URIs (exact match).
	RedirectURIs []string
	// LogoutRedirectURIs are the registered logout redirect URIs of /oauth/logout.
	LogoutRedirectURIs []string
	// OIDC turns OpenID Connect on: ID tokens in token responses and /v1/oidc/userinfo.
	OIDC bool
	// ConsentItems are the consent items set in the app. Default: profile_nickname
	// (required), profile_image (optional), account_email (optional).
	ConsentItems []ConsentItem
	// UnlinkWebhookURL, when set, is called by Emulator.UnlinkFromKakao.
	UnlinkWebhookURL string
	// UnlinkWebhookMethod is "POST" (form body, the default) or "GET" (query).
	UnlinkWebhookMethod string
	// ServiceTerms are the app's service terms (Kakao Sync), shown with the consent items.
	ServiceTerms []ServiceTerm
}

// ConsentItem is one consent item (scope) set in the app.
type ConsentItem struct {
	ID       string // the scope ID, e.g. ScopeAccountEmail
	Required bool   // required items cannot be unticked on the consent page nor revoked
}

// User is a Kakao account known to the emulator.
type User struct {
	// ID is the Kakao user ID ("회원번호"); 19 digits in the seeded users.
	ID       int64  `json:"id"`
	Nickname string `json:"nickname"`
	Email    string `json:"email,omitempty"` // "" for an account without an email
	// EmailValid and EmailVerified are Kakao's is_email_valid and is_email_verified: the ID
	// token carries the email only when both are true.
	EmailValid    bool `json:"email_valid"`
	EmailVerified bool `json:"email_verified"`
	// ProfileImageURL (640×640) and ThumbnailImageURL (110×110); Kakao's default images when
	// empty.
	ProfileImageURL   string `json:"profile_image_url,omitempty"`
	ThumbnailImageURL string `json:"thumbnail_image_url,omitempty"`
	// Agreed lists the consent items agreed so far; the user is linked to the app when it is
	// non-empty.
	Agreed []string `json:"agreed"`
	// Properties are the app-defined user properties returned as "properties".
	Properties map[string]string `json:"properties,omitempty"`
	// Details are the optional personal data of the account (name, gender, …): each is given
	// only for its consent item, and *_needs_agreement says whether the user has it.
	Details
	// Terms are the service terms (Kakao Sync) the user agreed to, by tag, with when.
	Terms map[string]time.Time `json:"terms,omitempty"`
}

// Options tune an Emulator.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Issuer is the ID-token issuer and the base URL of the discovery document's endpoints.
	// Default: the scheme and host of each request (NewServer sets the server URL).
	Issuer string
	// Logger receives one debug line per Kakao call; default discards.
	Logger *slog.Logger
	// WebhookClient sends the unlink webhook; default a client that follows no redirects.
	WebhookClient *http.Client
}

// Fault describes a failure injected into an endpoint.
type Fault struct {
	// Latency delays the answer (the request context still cancels the wait).
	Latency time.Duration
	// Hang never answers: the handler waits until the client gives up.
	Hang bool
	// Status answers with this status (default body: a Kakao-style error for 4xx/5xx).
	Status int
	// HTML answers with an HTML page (status Status, default 200) instead of JSON.
	HTML bool
	// TruncatedJSON answers with the first half of the real JSON response.
	TruncatedJSON bool
	// HugeBody streams a 5 MiB JSON body.
	HugeBody bool
	// Body answers with this body (Content-Type JSON, status Status or 200).
	Body string
	// Times limits the fault to that many calls; 0 means until cleared.
	Times int
}

// Call is one request to a Kakao endpoint, as recorded in the call log.
type Call struct {
	Time   time.Time `json:"time"`   // on the emulator's clock
	Method string    `json:"method"` // the HTTP method
	Path   string    `json:"path"`   // the endpoint's path, without the query
	Status int       `json:"status"` // the status answered, faults included
}

// Token is a Kakao token response, as returned by /oauth/token.
type Token struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	IDToken               string `json:"id_token,omitempty"`
	ExpiresIn             int64  `json:"expires_in"`
	Scope                 string `json:"scope,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
}

// kakaoRoutes are the Kakao endpoints served, by path, with their handlers; only these are
// logged and can get faults.
var kakaoRoutes = map[string]func(*Emulator, http.ResponseWriter, *http.Request){
	pathAuthorize:    (*Emulator).handleAuthorize,
	pathToken:        (*Emulator).handleToken,
	pathLogout:       (*Emulator).handleKauthLogout,
	pathTokenInfo:    (*Emulator).handleTokenInfo,
	pathDiscovery:    (*Emulator).handleDiscovery,
	pathJWKS:         (*Emulator).handleJWKS,
	pathUserInfo:     (*Emulator).handleUserInfo,
	pathMe:           (*Emulator).handleMe,
	pathTokenInfoAPI: (*Emulator).handleAccessTokenInfo,
	pathUserLogout:   (*Emulator).handleUserLogout,
	pathUnlink:       (*Emulator).handleUnlink,
	pathScopes:       (*Emulator).handleScopes,
	pathRevokeScopes: (*Emulator).handleRevokeScopes,
	pathServiceTerms: (*Emulator).handleServiceTerms,
}

const (
	pathAuthorize    = "/oauth/authorize"
	pathToken        = "/oauth/token"
	pathLogout       = "/oauth/logout"
	pathTokenInfo    = "/oauth/tokeninfo"
	pathDiscovery    = "/.well-known/openid-configuration"
	pathJWKS         = "/.well-known/jwks.json"
	pathUserInfo     = "/v1/oidc/userinfo"
	pathMe           = "/v2/user/me"
	pathTokenInfoAPI = "/v1/user/access_token_info"
	pathUserLogout   = "/v1/user/logout"
	pathUnlink       = "/v1/user/unlink"
	pathScopes       = "/v2/user/scopes"
	pathRevokeScopes = "/v2/user/revoke/scopes"
	pathServiceTerms = "/v2/user/service_terms"
	pathControl      = "/_emulator/"
)

// callLogSize bounds the call log kept for CallLog; counts are kept exactly.
const callLogSize = 10000

// Emulator is the Kakao emulator. It implements http.Handler; all methods are goroutine-safe.
type Emulator struct {
	log     *slog.Logger
	webhook *http.Client
	done    chan struct{}
	closeMu sync.Once

	mu          sync.Mutex
	app         App
	now         func() time.Time
	issuer      string
	autoConsent int64
	rateLimit   bool
	users       map[int64]*userRec
	userOrder   []int64
	sessions    map[string]session
	pending     map[string]*pendingAuth
	codes       map[string]*codeRec
	access      map[string]*accessRec
	refresh     map[string]*refreshRec
	atIssued    map[int64][]time.Time
	rtIssued    map[int64][]time.Time
	keys        []*signingKey // keys[len-1] signs; older ones stay in the JWKS
	keySeq      int
	mutations   int

	faultMu sync.Mutex
	faults  map[string]*Fault

	callMu  sync.Mutex
	counts  map[string]int
	calls   []Call
	callPos int
}

type userRec struct {
	User
	connectedAt time.Time
}

type session struct {
	userID   int64
	authTime time.Time
}

type codeRec struct {
	userID      int64
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	openid      bool
	authTime    time.Time
	expiry      time.Time
}

type accessRec struct {
	userID   int64
	clientID string
	openid   bool
	expiry   time.Time
	appID    int64 // the app_id access_token_info names; 0 means the emulated app's
}

type refreshRec struct {
	userID   int64
	clientID string
	openid   bool
	authTime time.Time
	expiry   time.Time
}

// DefaultApp returns the development app: fixed keys, client secret on, OIDC on, the default
// consent items and the redirect URIs a local kakaoauth uses.
func DefaultApp() App {
	return App{
		RESTKey:       "kakaoauth-dev-rest-api-key",
		JavaScriptKey: "kakaoauth-dev-javascript-key",
		NativeKey:     "kakaoauth-dev-native-app-key",
		ClientSecret:  "kakaoauth-dev-client-secret",
		AdminKey:      "kakaoauth-dev-admin-key",
		AppID:         1234567,
		Name:          "kakaoauth (dev)",
		RedirectURIs: []string{
			"http://localhost:8080/auth/kakao/callback",
			"http://127.0.0.1:8080/auth/kakao/callback",
		},
		LogoutRedirectURIs: []string{"http://localhost:8080/", "http://127.0.0.1:8080/"},
		OIDC:               true,
		ConsentItems:       defaultConsentItems(),
	}
}

func defaultConsentItems() []ConsentItem {
	return []ConsentItem{
		{ID: ScopeProfileNickname, Required: true},
		{ID: ScopeProfileImage},
		{ID: ScopeAccountEmail},
	}
}

// DefaultUsers returns the seeded test users: one with a verified email, one without an email,
// one with an unverified email, one whose email is no longer valid. None is linked yet.
func DefaultUsers() []User {
	return []User{
		{
			ID: 4217730412856391024, Nickname: "김민준", Email: "minjun.kim@example.com",
			EmailValid: true, EmailVerified: true,
			ProfileImageURL:   "http://img.kakaoemulator.test/minjun/img_640x640.jpg",
			ThumbnailImageURL: "http://img.kakaoemulator.test/minjun/img_110x110.jpg",
		},
		{ID: 4217730412856391025, Nickname: "이서연"},
		{
			ID: 4217730412856391026, Nickname: "박지호", Email: "jiho.park@example.com",
			EmailValid: true, EmailVerified: false,
		},
		{
			ID: 4217730412856391027, Nickname: "최유진", Email: "yujin.choi@example.com",
			EmailValid: false, EmailVerified: true,
			ProfileImageURL:   "http://img.kakaoemulator.test/yujin/img_640x640.jpg",
			ThumbnailImageURL: "http://img.kakaoemulator.test/yujin/img_110x110.jpg",
		},
	}
}

// New returns an Emulator serving app with the given users. Empty app fields keep their zero
// values except Name and ConsentItems, which get defaults.
func New(app App, users []User, opt Options) *Emulator {
	if app.Name == "" {
		app.Name = "kakaoauth (dev)"
	}
	if app.ConsentItems == nil {
		app.ConsentItems = defaultConsentItems()
	}
	app.RedirectURIs = slices.Clone(app.RedirectURIs)
	app.LogoutRedirectURIs = slices.Clone(app.LogoutRedirectURIs)
	app.ConsentItems = slices.Clone(app.ConsentItems)
	app.ServiceTerms = slices.Clone(app.ServiceTerms)
	e := &Emulator{
		log:      opt.Logger,
		webhook:  opt.WebhookClient,
		done:     make(chan struct{}),
		app:      app,
		now:      opt.Now,
		issuer:   strings.TrimSuffix(opt.Issuer, "/"),
		users:    map[int64]*userRec{},
		sessions: map[string]session{},
		pending:  map[string]*pendingAuth{},
		codes:    map[string]*codeRec{},
		access:   map[string]*accessRec{},
		refresh:  map[string]*refreshRec{},
		atIssued: map[int64][]time.Time{},
		rtIssued: map[int64][]time.Time{},
		faults:   map[string]*Fault{},
		counts:   map[string]int{},
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.webhook == nil {
		e.webhook = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // Kakao does not follow redirects of webhooks.
		}}
	}
	e.keys = []*signingKey{e.newKeyLocked()}
	for _, u := range users {
		e.AddUser(u)
	}
	return e
}

// Close releases requests hanging on a Hang fault. The emulator keeps answering afterwards.
func (e *Emulator) Close() {
	e.closeMu.Do(func() { close(e.done) })
}

// App returns a copy of the app settings.
func (e *Emulator) App() App {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.app
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	a.LogoutRedirectURIs = slices.Clone(a.LogoutRedirectURIs)
	a.ConsentItems = slices.Clone(a.ConsentItems)
	a.ServiceTerms = slices.Clone(a.ServiceTerms)
	return a
}

// AddRedirectURI registers one more redirect URI.
func (e *Emulator) AddRedirectURI(uri string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(e.app.RedirectURIs, uri) {
		e.app.RedirectURIs = append(e.app.RedirectURIs, uri)
	}
}

// SetIssuer sets the ID-token issuer and the base URL of the discovery document.
func (e *Emulator) SetIssuer(url string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.issuer = strings.TrimSuffix(url, "/")
}

// SetNow replaces the clock; nil restores time.Now.
func (e *Emulator) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = now
}

// SetAutoConsent makes /oauth/authorize answer at once as userID, agreeing to every consent
// item asked, without a page. 0 turns it off.
func (e *Emulator) SetAutoConsent(userID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.autoConsent = userID
}

// SetRateLimit turns Kakao's per-user token-issuance limits (KOE237) on or off; off by default
// so that load runs with few users are not limited.
func (e *Emulator) SetRateLimit(on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rateLimit = on
	clear(e.atIssued)
	clear(e.rtIssued)
}

// AddUser adds or replaces a user. A user with agreed items is linked from now on.
func (e *Emulator) AddUser(u User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.addUserLocked(u)
}

func (e *Emulator) addUserLocked(u User) *userRec {
	u.Agreed = slices.Clone(u.Agreed)
	u.Terms = maps.Clone(u.Terms)
	if u.Properties != nil {
		props := make(map[string]string, len(u.Properties))
		for k, v := range u.Properties {
			props[k] = v
		}
		u.Properties = props
	}
	rec := &userRec{User: u}
	if len(u.Agreed) > 0 {
		rec.connectedAt = e.now().UTC().Truncate(time.Second)
	}
	if _, ok := e.users[u.ID]; !ok {
		e.userOrder = append(e.userOrder, u.ID)
	}
	e.users[u.ID] = rec
	return rec
}

// User returns a copy of the user with that ID.
func (e *Emulator) User(id int64) (User, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec, ok := e.users[id]
	if !ok {
		return User{}, false
	}
	return copyUser(rec.User), true
}

// Users returns copies of all users in the order they were added.
func (e *Emulator) Users() []User {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]User, 0, len(e.userOrder))
	for _, id := range e.userOrder {
		out = append(out, copyUser(e.users[id].User))
	}
	return out
}

func copyUser(u User) User {
	u.Agreed = slices.Clone(u.Agreed)
	u.Terms = maps.Clone(u.Terms)
	if u.Properties != nil {
		props := make(map[string]string, len(u.Properties))
		for k, v := range u.Properties {
			props[k] = v
		}
		u.Properties = props
	}
	return u
}

// ServeHTTP serves the Kakao endpoints, the consent page's stylesheet and the /_emulator/
// control API.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, pathControl) {
		e.serveControl(w, r)
		return
	}
	handle, ok := kakaoRoutes[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	rw := statuswriter.New(w)
	defer func() { e.record(r, rw.Status()) }()
	if f, ok := e.takeFault(path); ok {
		if e.applyFault(rw, r, path, f) {
			return
		}
	}
	handle(e, rw, r)
}

func (e *Emulator) record(r *http.Request, status int) {
	e.mu.Lock()
	now := e.now()
	e.mu.Unlock()
	c := Call{Time: now, Method: r.Method, Path: r.URL.Path, Status: status}
	e.callMu.Lock()
	e.counts[c.Path]++
	if len(e.calls) < callLogSize {
		e.calls = append(e.calls, c)
	} else {
		e.calls[e.callPos] = c
		e.callPos = (e.callPos + 1) % callLogSize
	}
	e.callMu.Unlock()
	e.log.Debug("kakao emulator call", "method", c.Method, "path", c.Path, "status", status)
}

// Calls returns how many requests reached endpoint (a path such as "/oauth/token"); "" or "*"
// counts every Kakao endpoint. Requests to /_emulator/ are not counted.
func (e *Emulator) Calls(endpoint string) int {
	e.callMu.Lock()
	defer e.callMu.Unlock()
	if endpoint == "" || endpoint == "*" {
		n := 0
		for _, c := range e.counts {
			n += c
		}
		return n
	}
	return e.counts[endpoint]
}

// CallLog returns the most recent calls (up to 10,000), oldest first.
func (e *Emulator) CallLog() []Call {
	e.callMu.Lock()
	defer e.callMu.Unlock()
	out := make([]Call, 0, len(e.calls))
	out = append(out, e.calls[e.callPos:]...)
	out = append(out, e.calls[:e.callPos]...)
	return out
}

// ResetCalls empties the call log and the counts.
func (e *Emulator) ResetCalls() {
	e.callMu.Lock()
	defer e.callMu.Unlock()
	clear(e.counts)
	e.calls = nil
	e.callPos = 0
}

// randomToken returns n random bytes in base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomUserID returns a random 19-digit user ID.
func randomUserID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	const lo, span = 1_000_000_000_000_000_000, 8_000_000_000_000_000_000
	return lo + int64(binary.BigEndian.Uint64(b[:])%span)
}

// sweepLocked drops expired codes, tokens and pending consent requests now and then, so that
// long load runs do not grow without bound. Expired access tokens are kept a day so that
// "already expired" can still be told from "does not exist".
func (e *Emulator) sweepLocked(now time.Time) {
	e.mutations++
	if e.mutations%4096 != 0 {
		return
	}
	for k, c := range e.codes {
		if now.After(c.expiry) {
			delete(e.codes, k)
		}
	}
	for k, a := range e.access {
		if now.After(a.expiry.Add(24 * time.Hour)) {
			delete(e.access, k)
		}
	}
	for k, rt := range e.refresh {
		if now.After(rt.expiry) {
			delete(e.refresh, k)
		}
	}
	for k, p := range e.pending {
		if now.After(p.expiry) {
			delete(e.pending, k)
		}
	}
}
