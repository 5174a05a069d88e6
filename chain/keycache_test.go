package chain

import "testing"

func TestKeyCacheExpandsOnSecondSighting(t *testing.T) {
	c := &keyCache{keys: map[PublicKey]*expandedKey{}, seen: map[PublicKey]struct{}{}}
	k := testKey(3).Public()
	if c.get(k) != nil {
		t.Fatal("a key met once was expanded")
	}
	e := c.get(k)
	if e == nil {
		t.Fatal("a key met twice was not expanded")
	}
	if got := e.CompressedY(); PublicKey(got) != k {
		t.Fatalf("expanded key keeps %x, want the original bytes %x", got, k)
	}
	if c.get(k) != e {
		t.Fatal("a cached key was expanded again")
	}
	var notAPoint PublicKey
	notAPoint[0] = 2 // y = 2 is not the y of a curve point
	for range 3 {
		if c.get(notAPoint) != nil {
			t.Fatal("bytes that are no curve point were expanded")
		}
	}
}

func TestKeyCacheStaysBounded(t *testing.T) {
	c := &keyCache{keys: map[PublicKey]*expandedKey{}, seen: map[PublicKey]struct{}{}}
	keys := testKeys(maxCachedKeys + 5)
	for range 2 {
		for _, k := range keys {
			c.get(k.Public())
			if len(c.keys) > maxCachedKeys || len(c.seen) > maxCachedKeys {
				t.Fatalf("cache holds %d expanded and %d seen keys, bound %d", len(c.keys), len(c.seen), maxCachedKeys)
			}
		}
	}
	if c.len() == 0 {
		t.Fatal("no key was expanded after two rounds")
	}
}
