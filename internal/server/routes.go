package server

import (
	"net/http"

	"github.com/kakaoauth/kakaoauth/internal/openapi"
)

// routes lists the whole HTTP surface in one place.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Every route is under the base path (s.path).
	route := func(path string, methods ...string) func(method string, h http.HandlerFunc) {
		path = s.path(path)
		// The bare path answers every other method with a JSON 405 and an Allow header.
		mux.Handle(path, s.methodNotAllowed(methods))
		return func(method string, h http.HandlerFunc) { mux.Handle(method+" "+path, h) }
	}

	root := route("/{$}", "GET", "HEAD")
	root("GET", s.canonical(s.handleIndex))

	if s.cfg.BasePath == "" {
		mux.Handle("GET /static/", s.cfg.Pages.Static())
	} else {
		mux.Handle("GET "+s.path("/static/"), http.StripPrefix(s.cfg.BasePath, s.cfg.Pages.Static()))
	}

	route("/auth/kakao/login", "GET")("GET", s.canonical(s.rateLimited(s.handleLogin)))
	route("/auth/kakao/callback", "GET")("GET", s.rateLimited(s.handleCallback))
	route("/auth/error", "GET")("GET", s.handleErrorPage)
	route("/auth/kakao/consent", "GET")("GET", s.canonical(s.rateLimited(s.handleConsent)))
	route("/auth/kakao/logout/callback", "GET")("GET", s.handleKakaoLogoutCallback)
	route("/auth/kakao/token", "POST", "OPTIONS")("POST", s.rateLimited(s.handleToken))
	route("/auth/kakao/sdk", "POST", "OPTIONS")("POST", s.rateLimited(s.handleSDK))
	route("/auth/token/refresh", "POST", "OPTIONS")("POST", s.rateLimited(s.handleRefresh))
	route("/auth/token/verify", "POST", "OPTIONS")("POST", s.rateLimited(s.handleVerify))
	route("/auth/logout", "POST", "OPTIONS")("POST", s.rateLimited(s.handleLogout))
	me := route("/auth/me", "GET", "DELETE", "OPTIONS")
	me("GET", s.handleMe)
	me("DELETE", s.rateLimited(s.handleDeleteMe))
	route("/auth/sessions", "GET", "OPTIONS")("GET", s.handleSessions)
	route("/auth/sessions/{id}", "DELETE", "OPTIONS")("DELETE", s.rateLimited(s.handleDeleteSession))
	// Kakao calls the webhook from its own addresses: no per-IP limit, so a burst of unlinks is
	// never refused; the admin key is what keeps others out.
	unlink := route("/auth/kakao/webhook/unlink", "GET", "POST")
	unlink("GET", s.handleUnlinkWebhook)
	unlink("POST", s.handleUnlinkWebhook)
	accountDelete := route("/account/delete", "GET", "HEAD", "POST")
	accountDelete("GET", s.handleAccountDelete)
	accountDelete("POST", s.rateLimited(s.handleAccountDeletePost))
	route("/account/deleted", "GET", "HEAD")("GET", s.handleAccountDeleted)

	route("/.well-known/jwks.json", "GET")("GET", publicDocument(http.HandlerFunc(s.handleJWKS)))
	if s.cfg.OIDC != nil {
		// The standard OpenID Provider: its discovery document replaces the first-party one.
		route("/.well-known/openid-configuration", "GET")("GET", s.cfg.OIDC.ServeHTTP)
		route("/.well-known/oauth-authorization-server", "GET")("GET", s.cfg.OIDC.ServeHTTP)
		mux.Handle(s.path("/oauth2/"), s.rateLimited(s.cfg.OIDC.ServeHTTP))
		mux.Handle(s.path("/auth/oidc/"), s.rateLimited(s.cfg.OIDC.ServeHTTP))
	} else {
		route("/.well-known/openid-configuration", "GET")("GET", publicDocument(http.HandlerFunc(s.handleDiscovery)))
	}
	route("/healthz", "GET")("GET", s.handleHealthz)
	route("/readyz", "GET")("GET", s.handleReadyz)
	if s.cfg.Metrics != nil && !s.cfg.MetricsElsewhere {
		route("/metrics", "GET")("GET", s.cfg.Metrics.Handler().ServeHTTP)
	}
	route("/openapi.json", "GET")("GET", publicDocument(openapi.Handler()))
	// The operator's API exists only with an admin token configured: otherwise /admin/ is 404.
	if len(s.cfg.AdminTokenSHA256) > 0 {
		admin := func(h http.HandlerFunc) http.HandlerFunc { return s.rateLimited(s.adminAuth(h)) }
		route("/admin/users", "GET")("GET", admin(s.handleAdminUsers))
		adminUser := route("/admin/users/{id}", "GET", "DELETE")
		adminUser("GET", admin(s.handleAdminUser))
		adminUser("DELETE", admin(s.handleAdminDeleteUser))
		route("/admin/users/{id}/disable", "POST")("POST", admin(s.handleAdminDisable(true)))
		route("/admin/users/{id}/enable", "POST")("POST", admin(s.handleAdminDisable(false)))
		route("/admin/users/{id}/sessions", "GET")("GET", admin(s.handleAdminUserSessions))
		route("/admin/sessions/{id}", "DELETE")("DELETE", admin(s.handleAdminRevokeSession))
		route("/admin/users/{id}/kakao-token", "GET")("GET", admin(s.handleAdminKakaoToken))
	}

	mux.Handle("/", s.notFound())
	if s.cfg.BasePath != "" {
		mux.Handle(s.path("/"), s.notFound())
	}

	// Outermost last. None of these copies the request, so logRequests sees the route pattern
	// the mux records on it.
	var h http.Handler = mux
	h = s.cors(h)
	h = s.limitBody(h)
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	h = s.withDeadline(h) // the one that copies the request: outside the log, which then sees the pattern
	return h
}
