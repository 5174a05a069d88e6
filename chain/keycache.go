package chain

import (
	"sync"

	voied25519 "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// maxCachedKeys bounds the expanded public keys kept (about 1.5 KiB each)
// and, separately, the keys remembered as seen once.
const maxCachedKeys = 2048

// keyCache holds the expanded form of recently used public keys: the
// decompressed point and a table of its multiples. Decompressing a key costs
// about as much as a quarter of a batched signature check, and the same
// few hundred account and authority keys sign almost everything, so reusing
// it pays. The expansion is a pure function of the 32 key bytes (which it
// keeps verbatim for hashing), so a cached key verifies exactly as a fresh
// one.
//
// A key is expanded only on its second sighting, so a stream of one-off
// keys (which would thrash the cache) costs a map insert each, not an
// expansion, which is dearer than a plain decompression. When either map is
// full it is cleared: simple, bounded, and the working set refills it in a
// few blocks.
type keyCache struct {
	mu   sync.RWMutex
	keys map[PublicKey]*expandedKey
	seen map[PublicKey]struct{}
}

// expandedKey is a public key decompressed and tabulated for verification.
type expandedKey = voied25519.ExpandedPublicKey

var expandedKeys = &keyCache{
	keys: make(map[PublicKey]*expandedKey),
	seen: make(map[PublicKey]struct{}),
}

// get returns k expanded, or nil if k is met for the first time or is not
// the encoding of a curve point (the unexpanded path refuses those).
func (c *keyCache) get(k PublicKey) *expandedKey {
	c.mu.RLock()
	e := c.keys[k]
	c.mu.RUnlock()
	if e != nil {
		return e
	}
	c.mu.Lock()
	if e := c.keys[k]; e != nil { // expanded by another caller meanwhile
		c.mu.Unlock()
		return e
	}
	_, again := c.seen[k]
	if again {
		delete(c.seen, k)
	} else {
		if len(c.seen) >= maxCachedKeys {
			clear(c.seen)
		}
		c.seen[k] = struct{}{}
	}
	c.mu.Unlock()
	if !again {
		return nil
	}
	e, err := voied25519.NewExpandedPublicKey(k[:])
	if err != nil {
		return nil
	}
	c.mu.Lock()
	if len(c.keys) >= maxCachedKeys {
		clear(c.keys)
	}
	c.keys[k] = e
	c.mu.Unlock()
	return e
}

// len returns the number of expanded keys held (for tests).
func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.keys)
}
