package mempool

import (
	"sync"

	"github.com/zwnode/zwnode/chain"
)

// recentVerifiedCap bounds the hashes Known remembers beyond the pending
// txs: a few blocks' worth at the target rate (32 bytes plus map overhead
// each, about 1.5 MiB in all).
const recentVerifiedCap = 1 << 14

// recentSet is a bounded set of hashes; the oldest is forgotten first.
type recentSet struct {
	mu   sync.Mutex
	set  map[chain.Hash]struct{}
	ring []chain.Hash
	next int // ring slot the next hash overwrites once the ring is full
}

func (r *recentSet) add(hs []chain.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		r.set = make(map[chain.Hash]struct{}, recentVerifiedCap)
	}
	for _, h := range hs {
		if _, ok := r.set[h]; ok {
			continue
		}
		if len(r.ring) < recentVerifiedCap {
			r.ring = append(r.ring, h)
		} else {
			delete(r.set, r.ring[r.next])
			r.ring[r.next] = h
			r.next = (r.next + 1) % recentVerifiedCap
		}
		r.set[h] = struct{}{}
	}
}

func (r *recentSet) has(h chain.Hash) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.set[h]
	return ok
}

// MarkVerified records the hashes of txs whose signatures the caller has
// just verified outside the pool (for instance in a block from another
// proposer), so that Known answers true for them when the same txs arrive
// again by gossip. Each hash must be the tx's Hash, which covers the
// signature: a tx with the same hash is the same signed bytes.
func (m *Mempool) MarkVerified(hashes []chain.Hash) { m.verified.add(hashes) }

// Known reports whether the tx with hash h needs no signature check on this
// node: it is pending (every pending tx was verified before admission) or
// was marked verified recently. Whether it may still enter a block is for
// Add and the ledger to say.
func (m *Mempool) Known(h chain.Hash) bool { return m.Has(h) || m.verified.has(h) }
