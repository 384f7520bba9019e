package identity

import (
	"crypto/sha256"
	"hash"
	"slices"
	"sync"
	"time"
)

// tokenHashers compute the SHA-256 of tokens without copying them into a
// new byte slice each time: on the cached path, that copy and its garbage
// cost about as much as the rest of the lookup.
type tokenHashers struct{ pool sync.Pool }

type tokenHasher struct {
	h   hash.Hash
	buf [512]byte
	out [sha256.Size]byte
}

func (p *tokenHashers) sum(tok string) [sha256.Size]byte {
	th, _ := p.pool.Get().(*tokenHasher)
	if th == nil {
		th = &tokenHasher{h: sha256.New()}
	}
	th.h.Reset()
	for len(tok) > 0 {
		n := copy(th.buf[:], tok)
		th.h.Write(th.buf[:n])
		tok = tok[n:]
	}
	th.h.Sum(th.out[:0])
	sum := th.out
	p.pool.Put(th)
	return sum
}

// tokenCache remembers tokens already verified, by their SHA-256, so that
// a token seen before costs a hash and a map lookup instead of a signature
// verification. An entry lives until the token expires (plus the clock
// skew) and only while the issuer's keys are the ones it was verified
// with. The token itself is never stored.
type tokenCache struct {
	max int
	mu  sync.RWMutex
	m   map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	id    Identity
	until time.Time
	gen   uint64
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: map[[sha256.Size]byte]cacheEntry{}}
}

// get returns the identity of a cached token still valid at now and
// verified with key generation gen.
func (c *tokenCache) get(sum [sha256.Size]byte, now time.Time, gen uint64) (Identity, bool) {
	c.mu.RLock()
	e, ok := c.m[sum]
	c.mu.RUnlock()
	if !ok || e.gen != gen || !now.Before(e.until) {
		return Identity{}, false
	}
	id := e.id
	id.Groups = slices.Clone(id.Groups) // the caller may keep or change it
	return id, true
}

// put caches a verified token. When the cache is full, expired entries go
// first, then arbitrary ones (Go's map order), down to 7/8 of the bound,
// so that filling it again takes many insertions.
func (c *tokenCache) put(sum [sha256.Size]byte, id Identity, until time.Time, gen uint64, now time.Time) {
	id.Groups = slices.Clone(id.Groups)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[sum]; !ok && len(c.m) >= c.max {
		for k, e := range c.m {
			if now.After(e.until) || e.gen != gen {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[sum] = cacheEntry{id: id, until: until, gen: gen}
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
