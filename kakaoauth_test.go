package kakaoauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"go/importer"
	"go/token"
	"go/types"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

// embedded is kakaoauth mounted under /login in a host program's mux, with the emulator as
// Kakao, all on 127.0.0.1.
type embedded struct {
	srv    *kakaoauth.Server
	host   string             // the host program's base URL
	target *servertest.Target // kakaoauth under the prefix: BaseURL is host+"/login"
}

// startEmbedded runs the host program: /login/ is kakaoauth, /api/whoami answers the
// nickname Server.User finds (401 for nobody), and nothing else is routed.
func startEmbedded(t *testing.T, change func(*kakaoauth.Config)) *embedded {
	t.Helper()
	hostTS := httptest.NewUnstartedServer(nil)
	host := "http://" + hostTS.Listener.Addr().String()
	emuURL, emuApp := servertest.StartEmulator(t, host+"/login/auth/kakao/callback", servertest.SPARedirect)

	ctx := context.Background()
	store, err := kakaoauth.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "kakaoauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := kakaoauth.Config{
		PublicURL: host + "/login",
		Secret:    servertest.DevSecret,
		Kakao: kakaoauth.Kakao{
			ClientID: emuApp.RESTKey, ClientSecret: emuApp.ClientSecret, AdminKey: emuApp.AdminKey, AppID: emuApp.AppID,
			AuthURL: emuURL, APIURL: emuURL,
		},
		RedirectURIs:   []string{servertest.SPARedirect},
		AllowedOrigins: []string{"http://localhost:3000"},
		RateLimit:      kakaoauth.RateLimit{Off: true},
	}
	if change != nil {
		change(&cfg)
	}
	srv, err := kakaoauth.New(ctx, cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login/", srv)
	mux.HandleFunc("GET /api/whoami", func(w http.ResponseWriter, r *http.Request) {
		u, ok := srv.User(r)
		if !ok {
			http.Error(w, "nobody", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(u.Nickname))
	})
	hostTS.Config.Handler = mux
	hostTS.Start()
	t.Cleanup(hostTS.Close)
	return &embedded{srv: srv, host: host, target: &servertest.Target{BaseURL: host + "/login", EmulatorURL: emuURL}}
}

var hrefs = regexp.MustCompile(`(?:href|action)="([^"#]*)`)

// checkLinks fails for a link or form action of page that leaves the prefix (the language
// switch keeps the page's own path; the fragment links are not collected).
func checkLinks(t *testing.T, name, page string) {
	t.Helper()
	links := hrefs.FindAllStringSubmatch(page, -1)
	if len(links) == 0 {
		t.Fatalf("%s: no links", name)
	}
	for _, m := range links {
		if m[1] != "" && !strings.HasPrefix(m[1], "data:") && !strings.HasPrefix(m[1], "/login/") {
			t.Errorf("%s links to %q, outside /login/", name, m[1])
		}
	}
}

// setCookiePaths is the Path of every cookie a response sets, by name.
func setCookiePaths(r *http.Response) map[string]string {
	paths := map[string]string{}
	for _, c := range r.Cookies() {
		paths[c.Name] = c.Path
	}
	return paths
}

func TestEmbedded_BrowserFlowUnderPrefix(t *testing.T) {
	e := startEmbedded(t, nil)
	c := servertest.NewBrowser(t)
	r, err := c.Get(e.host + "/login/")
	if err != nil {
		t.Fatal(err)
	}
	page := servertest.ReadBody(t, r)
	if !strings.Contains(page, `href="/login/auth/kakao/login"`) {
		t.Fatalf("login page has no login link under the prefix: %.400s", page)
	}
	checkLinks(t, "login page", page)
	css := regexp.MustCompile(`href="(/login/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatalf("login page links no stylesheet under the prefix")
	}
	if r := servertest.Do(t, c, "GET", e.host+css[1], nil, ""); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Errorf("GET %s: %d %s", css[1], r.StatusCode, r.Header.Get("Content-Type"))
	}

	// The login redirects to Kakao with the callback under the prefix.
	authz := e.target.StartLogin(t, c, "")
	if got, want := authz.Query().Get("redirect_uri"), e.host+"/login/auth/kakao/callback"; got != want {
		t.Errorf("redirect_uri = %q, want %q", got, want)
	}
	if got := e.srv.CallbackURL(); got != e.host+"/login/auth/kakao/callback" {
		t.Errorf("CallbackURL() = %q", got)
	}
	r, err = c.Get(authz.String())
	if err != nil {
		t.Fatal(err)
	}
	r = servertest.Consent(t, servertest.NoRedirects(c), r, servertest.UserWithEmail, "agree")
	servertest.ReadBody(t, r)
	callback := r.Header.Get("Location")
	if !strings.HasPrefix(callback, e.host+"/login/auth/kakao/callback?") {
		t.Fatalf("Kakao sent the browser to %q", callback)
	}
	r = servertest.Do(t, servertest.NoRedirects(c), "GET", callback, nil, "")
	if got, want := r.Header.Get("Location"), "/login/?result=signed-in#page-heading"; r.StatusCode != 303 || got != want {
		t.Fatalf("callback: %d Location %q, want 303 %q", r.StatusCode, got, want)
	}
	paths := setCookiePaths(r)
	for name, want := range map[string]string{"accessToken": "/login/", "refreshToken": "/login/auth", "csrfToken": "/login/", "kakaoauth_returning": "/login/auth/kakao"} {
		if paths[name] != want {
			t.Errorf("cookie %s: Path %q, want %q", name, paths[name], want)
		}
	}
	// The access cookie is the prefix's: the host's other pages do not receive it.
	if r := servertest.Do(t, c, "GET", e.host+"/api/whoami", nil, ""); r.StatusCode != 401 {
		t.Errorf("host page outside the prefix with the default cookie path: %d, want 401", r.StatusCode)
	}

	r, err = c.Get(e.host + "/login/?result=signed-in")
	if err != nil {
		t.Fatal(err)
	}
	page = servertest.ReadBody(t, r)
	for _, want := range []string{`action="/login/auth/logout"`, `action="/login/auth/logout?all=true"`, `href="/login/account/delete"`, "김민준"} {
		if !strings.Contains(page, want) {
			t.Errorf("account page lacks %s", want)
		}
	}
	checkLinks(t, "account page", page)
	r, err = c.Get(e.host + "/login/account/delete")
	if err != nil {
		t.Fatal(err)
	}
	page = servertest.ReadBody(t, r)
	for _, want := range []string{`action="/login/account/delete"`, `href="/login/"`} {
		if !strings.Contains(page, want) {
			t.Errorf("delete page lacks %s", want)
		}
	}
	checkLinks(t, "delete page", page)

	// Logout with the page's form: back to the prefix's root, cookies cleared on their paths.
	csrf := e.target.Cookie(c, "/login/", "csrfToken")
	r = servertest.Do(t, servertest.NoRedirects(c), "POST", e.host+"/login/auth/logout",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": e.host}, url.Values{"csrf": {csrf}}.Encode())
	if got, want := r.Header.Get("Location"), "/login/?result=signed-out#page-heading"; r.StatusCode != 303 || got != want {
		t.Fatalf("logout: %d Location %q, want 303 %q", r.StatusCode, got, want)
	}
	paths = setCookiePaths(r)
	for name, want := range map[string]string{"accessToken": "/login/", "refreshToken": "/login/auth", "csrfToken": "/login/"} {
		if paths[name] != want {
			t.Errorf("logout clears %s on Path %q, want %q", name, paths[name], want)
		}
	}
	if got := e.target.Cookie(c, "/login/", "accessToken"); got != "" {
		t.Errorf("access cookie kept after logout")
	}
}

func TestEmbedded_ErrorPagesUnderPrefix(t *testing.T) {
	e := startEmbedded(t, nil)
	c := servertest.NewBrowser(t)
	authz := e.target.StartLogin(t, c, "")
	r, err := c.Get(authz.String())
	if err != nil {
		t.Fatal(err)
	}
	r = servertest.Consent(t, c, r, servertest.UserWithEmail, "cancel")
	page := servertest.ReadBody(t, r)
	if got := r.Request.URL.Path; got != "/login/auth/error" {
		t.Fatalf("a cancelled login ends at %s, want /login/auth/error", got)
	}
	checkLinks(t, "error page", page)
	// A callback without a login in progress answers a page at once.
	r = servertest.Do(t, c, "GET", e.host+"/login/auth/kakao/callback?state=x&code=y", map[string]string{"Accept": "text/html"}, "")
	if page := servertest.ReadBody(t, r); r.StatusCode != 400 {
		t.Errorf("stray callback: %d", r.StatusCode)
	} else {
		checkLinks(t, "stray callback page", page)
	}
}

func TestEmbedded_SPAUnderPrefix(t *testing.T) {
	e := startEmbedded(t, nil)
	c := servertest.NewBrowser(t)
	origin := map[string]string{"Origin": "http://localhost:3000"}
	r := servertest.PostJSON(t, c, e.host+"/login/auth/kakao/token",
		map[string]string{"code": e.target.MintCode(t, 4217730412856391024), "redirect_uri": servertest.SPARedirect}, origin)
	body := servertest.Decode(t, r)
	if r.StatusCode != 200 {
		t.Fatalf("SPA login: %d %v", r.StatusCode, body)
	}
	access := body["token"].(map[string]any)["access"].(string)
	if got := setCookiePaths(r)["refreshToken"]; got != "/login/auth" {
		t.Errorf("refresh cookie Path %q, want /login/auth", got)
	}

	// Refresh with the cookies and the CSRF header: the jar sends the refresh cookie only
	// under /login/auth.
	csrf := r.Header.Get("X-CSRF-Token")
	r = servertest.PostJSON(t, c, e.host+"/login/auth/token/refresh", nil, map[string]string{"Origin": "http://localhost:3000", "X-CSRF-Token": csrf})
	if body := servertest.Decode(t, r); r.StatusCode != 200 {
		t.Fatalf("cookie refresh under the prefix: %d %v", r.StatusCode, body)
	}
	r = servertest.PostJSON(t, c, e.host+"/login/auth/token/refresh", nil, origin)
	if body := servertest.Decode(t, r); r.StatusCode != 403 {
		t.Errorf("cookie refresh without the CSRF header: %d %v, want 403", r.StatusCode, body)
	}

	// The host reads the user from the Bearer token, until the session ends.
	bearer := map[string]string{"Authorization": "Bearer " + access}
	if r := servertest.Do(t, http.DefaultClient, "GET", e.host+"/api/whoami", bearer, ""); r.StatusCode != 200 || servertest.ReadBody(t, r) != "김민준" {
		t.Errorf("host page with a Bearer token: %d", r.StatusCode)
	}
	if r := servertest.Do(t, http.DefaultClient, "POST", e.host+"/login/auth/logout", bearer, ""); r.StatusCode != 204 {
		t.Fatalf("Bearer logout: %d", r.StatusCode)
	}
	if r := servertest.Do(t, http.DefaultClient, "GET", e.host+"/api/whoami", bearer, ""); r.StatusCode != 401 {
		t.Errorf("host page after logout: %d, want 401 (the session is checked)", r.StatusCode)
	}
}

func TestEmbedded_WideCookiePathReachesHostPages(t *testing.T) {
	e := startEmbedded(t, func(c *kakaoauth.Config) { c.CookiePath = "/" })
	c := servertest.NewBrowser(t)
	r := servertest.PostJSON(t, c, e.host+"/login/auth/kakao/token",
		map[string]string{"code": e.target.MintCode(t, 4217730412856391024), "redirect_uri": servertest.SPARedirect}, nil)
	servertest.ReadBody(t, r)
	paths := setCookiePaths(r)
	if paths["accessToken"] != "/" || paths["csrfToken"] != "/" || paths["refreshToken"] != "/login/auth" {
		t.Errorf("cookie paths %v", paths)
	}
	if r := servertest.Do(t, c, "GET", e.host+"/api/whoami", nil, ""); r.StatusCode != 200 || servertest.ReadBody(t, r) != "김민준" {
		t.Errorf("host page with the access cookie: %d", r.StatusCode)
	}
}

func TestEmbedded_OutsidePrefixIsTheHosts(t *testing.T) {
	e := startEmbedded(t, nil)
	for _, path := range []string{"/auth/me", "/healthz", "/.well-known/jwks.json", "/static/app.css"} {
		r := servertest.Do(t, http.DefaultClient, "GET", e.host+path, nil, "")
		if body := servertest.ReadBody(t, r); r.StatusCode != 404 || body != "404 page not found\n" {
			t.Errorf("GET %s: %d %q, want the host mux's 404", path, r.StatusCode, body)
		}
	}
	// Inside the prefix, an unknown path is kakaoauth's JSON 404.
	r, body := servertest.GetJSON(t, http.DefaultClient, e.host+"/login/nope", "")
	if r.StatusCode != 404 || body["error"] == nil {
		t.Errorf("GET /login/nope: %d %v, want kakaoauth's JSON 404", r.StatusCode, body)
	}
	if r, body := servertest.GetJSON(t, http.DefaultClient, e.host+"/login/healthz", ""); r.StatusCode != 200 || body["status"] != "ok" {
		t.Errorf("GET /login/healthz: %d %v", r.StatusCode, body)
	}
}

func TestEmbedded_DiscoveryUnderPrefix(t *testing.T) {
	e := startEmbedded(t, nil)
	r, doc := servertest.GetJSON(t, http.DefaultClient, e.host+"/login/.well-known/openid-configuration", "")
	if r.StatusCode != 200 {
		t.Fatalf("discovery: %d", r.StatusCode)
	}
	base := e.host + "/login"
	want := map[string]string{
		"issuer":                 base,
		"jwks_uri":               base + "/oauth2/keys", // the OpenID Provider's (issue 9): ES256 and RS256 keys
		"authorization_endpoint": base + "/oauth2/authorize",
		"token_endpoint":         base + "/oauth2/token",
		"userinfo_endpoint":      base + "/oauth2/userinfo",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %s", k, doc[k], v)
		}
	}
	r, jwks := servertest.GetJSON(t, http.DefaultClient, doc["jwks_uri"].(string), "")
	if keys, _ := jwks["keys"].([]any); r.StatusCode != 200 || len(keys) == 0 {
		t.Errorf("jwks_uri: %d %v", r.StatusCode, jwks)
	}
	// The access tokens name the issuer as given.
	access, _ := e.target.SPASignIn(t, 4217730412856391025)
	payload, err := jwtPayload(access)
	if err != nil {
		t.Fatal(err)
	}
	if payload["iss"] != base {
		t.Errorf("iss = %v, want %s", payload["iss"], base)
	}
}

func jwtPayload(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func TestEmbedded_ReturnToRootOfPrefix(t *testing.T) {
	e := startEmbedded(t, func(c *kakaoauth.Config) { c.ReturnTo = []string{"/"} })
	for _, tc := range []struct{ returnTo, want string }{
		{"/login/", "/login/?result=signed-in#page-heading"}, // the prefix's root, always allowed
		{"/", "/"}, // the host's root, allowed by ReturnTo
		{"/elsewhere", "/login/?result=signed-in#page-heading"}, // not allowed: the root
	} {
		c := servertest.NewBrowser(t)
		authz := e.target.StartLogin(t, c, "?return_to="+url.QueryEscape(tc.returnTo))
		r, err := c.Get(authz.String())
		if err != nil {
			t.Fatal(err)
		}
		r = servertest.Consent(t, servertest.NoRedirects(c), r, servertest.UserWithEmail, "agree")
		servertest.ReadBody(t, r)
		r = servertest.Do(t, servertest.NoRedirects(c), "GET", r.Header.Get("Location"), nil, "")
		if got := r.Header.Get("Location"); got != tc.want {
			t.Errorf("return_to %q: Location %q, want %q", tc.returnTo, got, tc.want)
		}
	}
}

func TestNew_ConfigErrorsNameTheField(t *testing.T) {
	store, err := kakaoauth.OpenStore(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	good := kakaoauth.Config{PublicURL: "https://example.com/login", Secret: servertest.DevSecret, Kakao: kakaoauth.Kakao{ClientID: "rest-key"}}
	for _, tc := range []struct {
		name   string
		change func(*kakaoauth.Config)
		want   []string
	}{
		{"empty", func(c *kakaoauth.Config) { *c = kakaoauth.Config{} }, []string{"Config.PublicURL: required", "Config.Secret:", "Config.Kakao.ClientID: required"}},
		{"http elsewhere", func(c *kakaoauth.Config) { c.PublicURL = "http://example.com" }, []string{"Config.PublicURL: http:// is only allowed for loopback"}},
		{"query", func(c *kakaoauth.Config) { c.PublicURL = "https://example.com/login?x=1" }, []string{"Config.PublicURL: must not have a query"}},
		{"wildcard path", func(c *kakaoauth.Config) { c.PublicURL = "https://example.com/{id}" }, []string{"Config.PublicURL: the path may hold only"}},
		{"short secret", func(c *kakaoauth.Config) { c.Secret = "short" }, []string{"Config.Secret: must be at least 32"}},
		{"long access", func(c *kakaoauth.Config) { c.AccessTTL = 25 * time.Hour }, []string{"Config.AccessTTL: at most 24h"}},
		{"negative ttl", func(c *kakaoauth.Config) { c.RefreshTTL = -time.Hour }, []string{"Config.RefreshTTL: want a positive duration"}},
		{"long grace", func(c *kakaoauth.Config) { c.RefreshGrace = 2 * time.Minute }, []string{"Config.RefreshGrace: at most 1m"}},
		{"key rotation", func(c *kakaoauth.Config) { c.KeyRotation = time.Minute }, []string{"Config.KeyRotation: at least 1h"}},
		{"key reload", func(c *kakaoauth.Config) { c.KeyReload = 2 * time.Hour }, []string{"Config.KeyReload: want 1s to 1h"}},
		{"cookie", func(c *kakaoauth.Config) { c.CSRFCookie = "csrf token" }, []string{`Config.CSRFCookie: invalid cookie name "csrf token"`}},
		{"cookie path", func(c *kakaoauth.Config) { c.CookiePath = "/other/" }, []string{`Config.CookiePath: must be a path that contains the handler's root "/login/"`}},
		{"samesite", func(c *kakaoauth.Config) { c.SameSite = 7 }, []string{"Config.SameSite: want http.SameSiteLaxMode"}},
		{"rate limit", func(c *kakaoauth.Config) { c.RateLimit = kakaoauth.RateLimit{Burst: 5} }, []string{"Config.RateLimit: want a positive Burst and Per"}},
		{"trusted proxies", func(c *kakaoauth.Config) { c.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"} }, []string{`Config.TrustedProxies: "proxy.internal" is not an IP address`}},
		{"origin", func(c *kakaoauth.Config) { c.AllowedOrigins = []string{"https://app.example.com/path"} }, []string{"Config.AllowedOrigins:"}},
		{"redirect", func(c *kakaoauth.Config) { c.RedirectURIs = []string{"/relative"} }, []string{"Config.RedirectURIs: not an absolute URL"}},
		{"return to", func(c *kakaoauth.Config) { c.ReturnTo = []string{"//evil.example"} }, []string{"Config.ReturnTo:"}},
		{"kakao url", func(c *kakaoauth.Config) { c.Kakao.AuthURL = "ftp://kauth.kakao.com" }, []string{"Config.Kakao.AuthURL: want https://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			srv, err := kakaoauth.New(context.Background(), cfg, store)
			if err == nil {
				t.Fatalf("New accepted the config (%v)", srv)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
	if _, err := kakaoauth.New(context.Background(), good, nil); err == nil || !strings.Contains(err.Error(), "no Store") {
		t.Errorf("New without a store: %v", err)
	}
	if _, err := kakaoauth.New(context.Background(), good, store); err != nil {
		t.Errorf("New with a good config: %v", err)
	}
}

func TestOpenStore_RefusesOtherURLs(t *testing.T) {
	for _, u := range []string{"", "sqlite:", "mysql://u:secret@db/x", "kakaoauth.db"} {
		_, err := kakaoauth.OpenStore(context.Background(), u)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("OpenStore(%q) = %v, want a refusal that does not repeat the URL", u, err)
		}
	}
}

// TestExportedAPI_NoInternalTypes type-checks the package from source and walks every exported
// name: no type of an internal package may appear in a signature or an exported field.
func TestExportedAPI_NoInternalTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the module from source")
	}
	pkg, err := importer.ForCompiler(token.NewFileSet(), "source", nil).Import("github.com/kakaoauth/kakaoauth")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[types.Type]bool{}
	var walk func(where string, typ types.Type)
	walk = func(where string, typ types.Type) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		switch x := typ.(type) {
		case *types.Named:
			if p := x.Obj().Pkg(); p != nil && strings.Contains(p.Path()+"/", "/internal/") {
				t.Errorf("%s uses %s.%s", where, p.Path(), x.Obj().Name())
				return
			}
			if x.Obj().Pkg() == pkg {
				walk(where, x.Underlying())
				for i := 0; i < x.NumMethods(); i++ {
					if m := x.Method(i); m.Exported() {
						walk(x.Obj().Name()+"."+m.Name(), m.Type())
					}
				}
			}
		case *types.Pointer:
			walk(where, x.Elem())
		case *types.Slice:
			walk(where, x.Elem())
		case *types.Map:
			walk(where, x.Key())
			walk(where, x.Elem())
		case *types.Signature:
			for _, tup := range []*types.Tuple{x.Params(), x.Results()} {
				for i := 0; i < tup.Len(); i++ {
					walk(where, tup.At(i).Type())
				}
			}
		case *types.Struct:
			for i := 0; i < x.NumFields(); i++ {
				if f := x.Field(i); f.Exported() {
					walk(where+"."+f.Name(), f.Type())
				}
			}
		}
	}
	names := pkg.Scope().Names()
	if len(names) < 5 {
		t.Fatalf("only %d names in the package: %v", len(names), names)
	}
	for _, name := range names {
		if obj := pkg.Scope().Lookup(name); obj.Exported() {
			walk(name, obj.Type())
		}
	}
}
