// Command receiver is a service's endpoint for kakaoauth's events (README: Events): it checks
// each request's Standard Webhooks signature with the library, drops repeats by webhook-id
// (delivery is at least once), and prints the event.
//
//	KAKAOAUTH_EVENTS_SECRET=whsec_… go run ./examples/events -addr 127.0.0.1:9000
//
// and start kakaoauth with KAKAOAUTH_EVENTS_URL=http://127.0.0.1:9000/kakaoauth-events and the
// same secret.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Event is the body kakaoauth POSTs.
type Event struct {
	Type      string    `json:"type"` // user.created, user.updated, user.deleted, user.disabled, user.enabled, session.created, session.revoked
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		User struct {
			ID       string  `json:"id"` // the sub of kakaoauth's access tokens
			KakaoID  *string `json:"kakao_id"`
			Nickname *string `json:"nickname"`
			Email    *string `json:"email"`
		} `json:"user"` // as in the login response
		Session *struct {
			ID   string `json:"id"` // the sid of the access tokens
			Flow string `json:"flow"`
		} `json:"session"` // session.* events only
	} `json:"data"`
}

// events:receiver-start

// eventsHandler verifies and handles kakaoauth's events. secret is KAKAOAUTH_EVENTS_SECRET.
func eventsHandler(secret string, handle func(Event) error) (http.Handler, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, err
	}
	var seen sync.Map // webhook-id → handled; in production keep it in your database
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		// The HMAC of webhook-id, webhook-timestamp and the body, and a timestamp within 5 minutes.
		if err := wh.Verify(body, r.Header); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("webhook-id") // the same on every retry of one event
		if _, dup := seen.Load(id); dup {
			w.WriteHeader(http.StatusNoContent) // handled before: say so, or it comes again
			return
		}
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		if err := handle(ev); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable) // kakaoauth retries
			return
		}
		seen.Store(id, true)
		w.WriteHeader(http.StatusNoContent) // any 2xx is delivered
	}), nil
}

// events:receiver-end

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	h, err := eventsHandler(os.Getenv("KAKAOAUTH_EVENTS_SECRET"), func(ev Event) error {
		fmt.Printf("%s %s user=%s\n", ev.Timestamp.Format(time.RFC3339), ev.Type, ev.Data.User.ID)
		return nil
	})
	if err != nil {
		log.Fatalf("KAKAOAUTH_EVENTS_SECRET: %v", err)
	}
	http.Handle("POST /kakaoauth-events", h)
	log.Printf("receiving kakaoauth events on http://%s/kakaoauth-events", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
