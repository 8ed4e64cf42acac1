package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/kakaoauth/kakaoauth/internal/app"
	"github.com/kakaoauth/kakaoauth/internal/auth"
	"github.com/kakaoauth/kakaoauth/internal/servertest"
)

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("example-receiver-secret-32-bytes"))

// TestReceiver runs the README's receiver against the real server: it gets the events of a
// login, verified; a replayed request is not handled twice; a forged one is refused.
func TestReceiver(t *testing.T) {
	var (
		mu     sync.Mutex
		events []Event
		raw    []*http.Request
		bodies [][]byte
	)
	h, err := eventsHandler(secret, func(ev Event) error {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		raw, bodies = append(raw, r.Clone(r.Context())), append(bodies, b)
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		h.ServeHTTP(w, r)
	}))
	defer rcv.Close()
	s := servertest.Start(t, servertest.WithConfig(func(c *app.Config) {
		c.EventTargets = []auth.EventTarget{{URL: rcv.URL + "/kakaoauth-events"}}
		c.EventsSecret = secret
		c.EventsManual = true
	}))
	_, _, userID := s.SDKSignIn(t, 4217730412856391024)
	s.DrainOutbox(t)
	mu.Lock()
	got := append([]Event(nil), events...)
	mu.Unlock()
	types := map[string]bool{}
	for _, ev := range got {
		types[ev.Type] = true
		if ev.Data.User.ID != userID || ev.Timestamp.IsZero() {
			t.Errorf("%s: user %q at %v, want %s", ev.Type, ev.Data.User.ID, ev.Timestamp, userID)
		}
		if (ev.Data.Session != nil) != strings.HasPrefix(ev.Type, "session.") {
			t.Errorf("%s: session %v", ev.Type, ev.Data.Session)
		}
	}
	if len(got) != 2 || !types["user.created"] || !types["session.created"] {
		t.Fatalf("handled %+v, want user.created and session.created", got)
	}

	// The same request again (a retry whose 2xx was lost): answered 2xx, not handled again.
	replay := func(body []byte) int {
		req, _ := http.NewRequest("POST", rcv.URL+"/kakaoauth-events", bytes.NewReader(body))
		req.Header = raw[0].Header.Clone()
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if st := replay(bodies[0]); st != http.StatusNoContent {
		t.Errorf("replayed event: %d, want 204", st)
	}
	// A changed body under the same signature is refused.
	forged := bytes.Replace(bodies[0], []byte(userID), []byte("someone-else"), 1)
	if st := replay(forged); st != http.StatusUnauthorized {
		t.Errorf("forged event: %d, want 401", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 {
		t.Errorf("handled %d events after the replay and the forgery, want 2", len(events))
	}
}

// TestReadmeShowsTheReceiver: the README's snippet is this file's eventsHandler, verbatim.
func TestReadmeShowsTheReceiver(t *testing.T) {
	src, err := os.ReadFile("receiver.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	start, end := strings.Index(s, "// events:receiver-start\n"), strings.Index(s, "// events:receiver-end")
	if start < 0 || end < start {
		t.Fatal("receiver.go lacks its snippet markers")
	}
	snippet := strings.TrimSpace(s[start+len("// events:receiver-start\n") : end])
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+snippet+"\n```") {
		t.Errorf("README.md's Events section does not show eventsHandler of examples/events/receiver.go as it is:\n%s", snippet)
	}
}
