package statuswriter

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriter_Records(t *testing.T) {
	for _, tc := range []struct {
		name      string
		handler   func(w http.ResponseWriter)
		status    int
		bodyBytes int
	}{
		{"nothing written", func(w http.ResponseWriter) {}, 200, 0},
		{"implicit 200", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "hello") }, 200, 5},
		{"explicit status", func(w http.ResponseWriter) { w.WriteHeader(401); _, _ = io.WriteString(w, "{}") }, 401, 2},
		{"first status wins", func(w http.ResponseWriter) { w.WriteHeader(503); w.WriteHeader(200) }, 503, 0},
		{"informational ignored", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(204) }, 204, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := New(httptest.NewRecorder())
			tc.handler(w)
			if got := w.Status(); got != tc.status {
				t.Errorf("Status() = %d, want %d", got, tc.status)
			}
			if got := w.Bytes(); got != tc.bodyBytes {
				t.Errorf("Bytes() = %d, want %d", got, tc.bodyBytes)
			}
		})
	}
}

// TestWriter_ResponseControllerStillWorks: flushing through the wrapper reaches the connection.
func TestWriter_ResponseControllerStillWorks(t *testing.T) {
	for _, flush := range []struct {
		name string
		do   func(w http.ResponseWriter) error
	}{
		{"ResponseController", func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }},
		{"Flusher", func(w http.ResponseWriter) error { w.(http.Flusher).Flush(); return nil }},
	} {
		t.Run(flush.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := New(rec)
			_, _ = io.WriteString(w, "x")
			if err := flush.do(w); err != nil || !rec.Flushed {
				t.Fatalf("Flush through the wrapper: err %v, flushed %v", err, rec.Flushed)
			}
		})
	}
}

// Of reuses a Writer it is given (so a handler inside the request log's wrapper reads the same
// status) and wraps anything else.
func TestOf(t *testing.T) {
	rec := httptest.NewRecorder()
	outer := New(rec)
	if Of(outer) != outer {
		t.Error("Of wrapped a Writer again")
	}
	inner := Of(rec)
	inner.WriteHeader(http.StatusTeapot)
	if inner.Status() != http.StatusTeapot || rec.Code != http.StatusTeapot {
		t.Errorf("Of(recorder): status %d, recorder %d", inner.Status(), rec.Code)
	}
}
