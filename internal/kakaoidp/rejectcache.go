package kakaoidp

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/kakaoauth/kakaoauth/internal/auth"
)

// Reject cache limits (checklist case 81): a Kakao SDK token Kakao refused is refused again
// from memory for a while, so a flood of the same bad token does not burn Kakao's quota.
const (
	rejectTTL = time.Minute
	rejectMax = 10000 // entries; past it the cache starts over
)

// rejectCache remembers SDK logins that Kakao (or our checks of its answer) refused as
// invalid_token, by a hash of what the client sent. Outages are never remembered (case 32).
type rejectCache struct {
	mu sync.Mutex
	m  map[[32]byte]rejected
}

type rejected struct {
	until time.Time
	err   *auth.Error
}

func rejectKey(accessToken, idToken, nonce string) [32]byte {
	return sha256.Sum256([]byte(accessToken + "\x00" + idToken + "\x00" + nonce))
}

// get returns the remembered refusal of key, if it is still fresh.
func (c *rejectCache) get(key [32]byte, now time.Time) (*auth.Error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[key]
	if !ok {
		return nil, false
	}
	if !now.Before(r.until) {
		delete(c.m, key)
		return nil, false
	}
	return r.err, true
}

// put remembers a refusal.
func (c *rejectCache) put(key [32]byte, err *auth.Error, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= rejectMax {
		c.m = make(map[[32]byte]rejected)
	}
	c.m[key] = rejected{until: now.Add(rejectTTL), err: err}
}
