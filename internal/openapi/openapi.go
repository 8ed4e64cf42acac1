// Package openapi embeds the OpenAPI 3.1 description of kakaoauth's HTTP API (openapi.json,
// written by hand) and serves it at /openapi.json. cmd/kakaoauth's end-to-end test validates
// real responses against it, so it cannot drift from the server.
package openapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

//go:embed openapi.json
var document []byte

// Document returns a copy of the OpenAPI document (JSON).
func Document() []byte { return append([]byte(nil), document...) }

// Handler serves the document as application/json, cacheable for five minutes and readable
// from any origin (API tools fetch it cross-site).
func Handler() http.Handler {
	length := strconv.Itoa(len(document))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(document)
	})
}
