package openapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestDocument_IsOpenAPI31(t *testing.T) {
	var doc struct {
		OpenAPI    string                    `json:"openapi"`
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(Document(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	// Every schema compiles as JSON Schema 2020-12, with its $refs resolved.
	loaded, err := jsonschema.UnmarshalJSON(bytes.NewReader(Document()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("openapi.json", loaded); err != nil {
		t.Fatal(err)
	}
	for name := range doc.Components.Schemas {
		if _, err := c.Compile("openapi.json#/components/schemas/" + name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	// Operation ids are unique.
	seen := map[string]string{}
	for path, item := range doc.Paths {
		for method, op := range item {
			m, ok := op.(map[string]any)
			if !ok {
				continue
			}
			id, _ := m["operationId"].(string)
			if id == "" {
				t.Errorf("%s %s has no operationId", method, path)
			} else if prev, dup := seen[id]; dup {
				t.Errorf("operationId %q used by %s and %s %s", id, prev, method, path)
			}
			seen[id] = method + " " + path
		}
	}
}

func TestDocument_ReturnsACopy(t *testing.T) {
	a := Document()
	a[0] = 'X'
	if Document()[0] == 'X' {
		t.Fatal("Document exposes the embedded bytes")
	}
}

func TestHandler(t *testing.T) {
	for _, method := range []string{"GET", "HEAD"} {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest(method, "/openapi.json", nil))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q", method, rec.Code, rec.Header().Get("Content-Type"))
		}
		wantBody := len(document)
		if method == "HEAD" {
			wantBody = 0
		}
		if rec.Body.Len() != wantBody {
			t.Errorf("%s: body of %d bytes, want %d", method, rec.Body.Len(), wantBody)
		}
	}
}
