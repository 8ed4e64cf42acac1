package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRun_Refuses checks that a bad flag value stops the command with the setting named.
func TestRun_Refuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-server", "127.0.0.1:8080"}, "ServerURL"},
		{[]string{"-redirect-uri", "/kakao/callback"}, "RedirectURI"},
		{[]string{"-client-id", ""}, "ClientID"},
		{[]string{"-addr", "127.0.0.1:-1"}, "127.0.0.1:-1"},
	} {
		err := run(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

// TestRun_Serves starts the command on a free port, gets the page with the flags' values in
// it, and stops the command by ending its context.
func TestRun_Serves(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-server", "http://127.0.0.1:18080"}, w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no start line: %v (run: %v)", err, <-done)
	}
	go io.Copy(io.Discard, out)
	_, rest, _ := strings.Cut(line, "http://")
	addr, _, _ := strings.Cut(rest, " ")

	c := &http.Client{Timeout: 5 * time.Second}
	r, err := c.Get("http://" + addr + "/kakao/callback")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(b), `data-server-url="http://127.0.0.1:18080"`) ||
		!strings.Contains(string(b), `data-client-id="kakaoauth-dev-rest-api-key"`) {
		t.Errorf("GET /kakao/callback: %d %.300s, want the page with the flags' values", r.StatusCode, b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after the context ended: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop when its context ended")
	}
}
