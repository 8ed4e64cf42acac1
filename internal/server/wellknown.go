package server

import (
	"encoding/json"
	"net/http"
)

// publicDocument serves next as a public document, readable from any origin without
// credentials. For an allowed origin the CORS middleware has already answered that origin with
// Access-Control-Allow-Credentials: true; "*" together with credentials is what browsers refuse
// and what checklist case 57 forbids, so both give way to a plain "*".
func publicDocument(next http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Del("Access-Control-Allow-Credentials")
		h.Set("Access-Control-Allow-Origin", "*")
		next.ServeHTTP(w, r)
	}
}

// handleJWKS serves the public keys of our access tokens.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.cfg.JWKS())
}

// discoveryDocument is the issuer metadata, made once at start.
func (s *Server) discoveryDocument() []byte {
	base := origin(s.cfg.PublicURL)
	b, _ := json.Marshal(map[string]any{
		"issuer":                                s.cfg.PublicURL.String(),
		"jwks_uri":                              base + s.path("/.well-known/jwks.json"),
		"authorization_endpoint":                base + s.path("/auth/kakao/login"),
		"token_endpoint":                        base + s.path("/auth/kakao/token"),
		"userinfo_endpoint":                     base + s.path("/auth/me"),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"access_token_audience":                 s.cfg.Audience,
	})
	return b
}

// handleDiscovery serves the issuer metadata.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.discovery)
}

// handleHealthz is liveness: the process answers.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header()["Cache-Control"] = hdrNoStore
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz is readiness: the database answers and a signing key is loaded.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header()["Cache-Control"] = hdrNoStore
	if s.cfg.Ready != nil {
		if err := s.readyCheck(r); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
