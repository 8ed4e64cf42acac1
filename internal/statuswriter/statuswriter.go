// Package statuswriter is kakaoauth's one http.ResponseWriter wrapper: it remembers the status
// and size of an answer for the request log and metrics (internal/server) and for the Kakao
// emulator's call log (kakao/kakaotest).
package statuswriter

import "net/http"

// Writer records what was answered through it. Unwrap gives http.ResponseController the
// connection's writer (flush, deadlines); Flush serves callers that test for http.Flusher.
type Writer struct {
	http.ResponseWriter
	status int
	bytes  int
}

// New wraps w.
func New(w http.ResponseWriter) *Writer { return &Writer{ResponseWriter: w} }

// Of returns w itself when it is already a Writer (an outer handler wraps every answer for the
// request log), and wraps it otherwise.
func Of(w http.ResponseWriter) *Writer {
	if sw, ok := w.(*Writer); ok {
		return sw
	}
	return New(w)
}

// WriteHeader records the first final (2xx–5xx) status.
func (w *Writer) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and counts the bytes written.
func (w *Writer) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush flushes the wrapped writer when it can.
func (w *Writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the wrapped writer.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status answered: 200 when the handler wrote nothing.
func (w *Writer) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Bytes is the size of the body written.
func (w *Writer) Bytes() int { return w.bytes }
