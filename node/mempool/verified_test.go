package mempool

import (
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// AddVerifiedHashed indexes the tx under the hash it is given, which is
// what every lookup by Hash() then finds.
func TestAddVerifiedHashedIndexesByHash(t *testing.T) {
	m, _ := newPool(Config{})
	x := tx(keyA, 1, "hashed")
	h, err := m.AddVerifiedHashed(x, x.Hash())
	if err != nil || h != x.Hash() {
		t.Fatalf("AddVerifiedHashed: %s, %v", h.Short(), err)
	}
	if got, ok := m.Get(x.Hash()); !ok || got != x {
		t.Fatal("tx not found by its hash")
	}
	if _, err := m.AddVerifiedHashed(x, x.Hash()); err == nil {
		t.Fatal("the same tx was admitted twice")
	}
	if _, err := m.AddVerifiedHashed(nil, chain.Hash{}); err == nil {
		t.Fatal("nil tx admitted")
	}
}

// Known covers pending txs and hashes marked verified, and nothing else.
func TestKnownIsPendingOrMarked(t *testing.T) {
	m, st := newPool(Config{})
	pending, marked, other := tx(keyA, 1, "p"), tx(keyB, 1, "m"), tx(keyC, 1, "o")
	mustAdd(t, m, pending)
	m.MarkVerified([]chain.Hash{marked.Hash()})
	if !m.Known(pending.Hash()) || !m.Known(marked.Hash()) || m.Known(other.Hash()) {
		t.Fatalf("known: pending %v, marked %v, other %v", m.Known(pending.Hash()), m.Known(marked.Hash()), m.Known(other.Hash()))
	}
	if m.Has(marked.Hash()) {
		t.Fatal("marking a tx verified made it pending")
	}
	// A committed tx leaves the pool and, unless marked, is unknown again.
	st.commit([]chain.Tx{*pending})
	m.Update([]chain.Tx{*pending})
	if m.Known(pending.Hash()) {
		t.Fatal("committed tx still known")
	}
}

// The marked set forgets its oldest hashes first and never grows past its
// bound.
func TestMarkedVerifiedIsBounded(t *testing.T) {
	var r recentSet
	hash := func(i int) chain.Hash { return chain.HashBytes([]byte{byte(i), byte(i >> 8), byte(i >> 16)}) }
	batch := make([]chain.Hash, 0, 1000)
	for i := range recentVerifiedCap + 1500 {
		batch = append(batch, hash(i))
		if len(batch) == cap(batch) {
			r.add(batch)
			batch = batch[:0]
		}
	}
	r.add(batch)
	r.add([]chain.Hash{hash(recentVerifiedCap + 1499)}) // a repeat takes no slot
	if len(r.set) != recentVerifiedCap || len(r.ring) != recentVerifiedCap {
		t.Fatalf("holds %d hashes (ring %d), bound %d", len(r.set), len(r.ring), recentVerifiedCap)
	}
	if r.has(hash(0)) || r.has(hash(1499)) {
		t.Fatal("oldest hashes were kept")
	}
	if !r.has(hash(1500)) || !r.has(hash(recentVerifiedCap+1499)) {
		t.Fatal("recent hashes were forgotten")
	}
}
