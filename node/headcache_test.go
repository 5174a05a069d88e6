package node

import (
	"fmt"
	"testing"
)

// TestHeadCache: values are served only for the height they were read at;
// a put for an older height than the cache's is dropped, so a reader that
// raced with a commit cannot plant a stale value; the cache stays bounded.
func TestHeadCache(t *testing.T) {
	var c headCache
	key := []byte("acct/x")
	if _, ok := c.get(5, key); ok {
		t.Fatal("empty cache served a value")
	}
	c.put(5, key, cachedValue{v: []byte("v5"), ok: true})
	if v, ok := c.get(5, key); !ok || string(v.v) != "v5" || !v.ok {
		t.Fatalf("same height: got %q %v %v", v.v, v.ok, ok)
	}
	c.put(5, []byte("absent"), cachedValue{})
	if v, ok := c.get(5, []byte("absent")); !ok || v.ok {
		t.Fatalf("cached absence: got %+v %v", v, ok)
	}
	// The head moves: the first reader at height 6 resets the cache.
	if _, ok := c.get(6, key); ok {
		t.Fatal("value of height 5 served at height 6")
	}
	// A reader that took height 5 before the commit finishes its read now.
	c.put(5, key, cachedValue{v: []byte("stale"), ok: true})
	if _, ok := c.get(6, key); ok {
		t.Fatal("a put for height 5 landed in the height-6 cache")
	}
	for i := range headCacheMax + 10 {
		c.put(6, fmt.Appendf(nil, "k%d", i), cachedValue{ok: true})
	}
	c.mu.Lock()
	n := len(c.vals)
	c.mu.Unlock()
	if n > headCacheMax {
		t.Fatalf("cache holds %d values, bound %d", n, headCacheMax)
	}
}
