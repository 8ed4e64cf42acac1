package tokens

import "sync"

// verifyCache remembers tokens whose signature and claims have been checked. When full, it
// drops an arbitrary entry (Go's map iteration order is random), which needs no bookkeeping on
// hits; an entry that fails its re-check (expired, key retired) is dropped when it is met.
type verifyCache struct {
	mu  sync.Mutex
	max int
	m   map[string]cacheEntry
}

type cacheEntry struct {
	kid    string
	claims *AccessClaims // never modified after insertion
}

func newVerifyCache(max int) *verifyCache {
	return &verifyCache{max: max, m: make(map[string]cacheEntry)}
}

func (c *verifyCache) get(token string) (cacheEntry, bool) {
	c.mu.Lock()
	e, ok := c.m[token]
	c.mu.Unlock()
	return e, ok
}

func (c *verifyCache) drop(token string) {
	c.mu.Lock()
	delete(c.m, token)
	c.mu.Unlock()
}

func (c *verifyCache) put(token string, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[token]; ok {
		return
	}
	for len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[token] = e
}
