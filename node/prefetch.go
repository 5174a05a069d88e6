package node

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/store"
)

// prefetch reads, on its own goroutine, the committed state of the keys
// the ledger hints for a batch of synced blocks (ledger.ReadHints: the
// sender's account, a record.put's record head) ahead of the loop
// executing them. Catching up, the loop's execution is the critical path
// and a record head lookup in Pebble was most of a record.put's execution,
// while the second core was partly idle.
//
// The reads race with the batch's own writes: the loop executes and
// commits blocks while the prefetcher reads, so a key an earlier block of
// the batch writes may be read before or after that write is committed.
// The loop therefore reports each block's writes (wrote) before they can
// be committed; a reported key is dropped from what was read and never
// stored again, so its reads go to the run overlay or the store. Every
// other key's committed value cannot change meanwhile: only the loop
// commits, and applySynced stops using the prefetcher if the head moves
// other than by its own runs.
type prefetch struct {
	done   chan struct{}
	cancel context.CancelFunc

	mu      sync.Mutex
	seed    maphash.Seed
	vals    map[string][]byte // nil value: absent
	written map[uint64]struct{}
}

// startPrefetch starts reading the hinted keys of blocks from kv, in order,
// until it has read them all, ctx ends or stop is called.
func startPrefetch(ctx context.Context, kv store.KV, hints func(*chain.Tx, func([]byte)), blocks []certified) *prefetch {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetch{done: make(chan struct{}), cancel: cancel, seed: maphash.MakeSeed(),
		vals: make(map[string][]byte), written: make(map[uint64]struct{})}
	read := func(key []byte) { p.read(kv, key) }
	go func() {
		defer close(p.done)
		for _, cb := range blocks {
			for i := range cb.block.Txs {
				if ctx.Err() != nil {
					return
				}
				hints(&cb.block.Txs[i], read)
			}
		}
	}()
	return p
}

// read reads one key into vals unless it is there or was written. A
// failed read is left out: execution reads the key itself and meets the
// error.
func (p *prefetch) read(kv store.KV, key []byte) {
	h := maphash.Bytes(p.seed, key)
	p.mu.Lock()
	_, have := p.vals[string(key)]
	_, dirty := p.written[h]
	p.mu.Unlock()
	if have || dirty {
		return
	}
	v, ok, err := kv.Get(key)
	if err != nil {
		return
	}
	if ok && v == nil {
		v = []byte{}
	}
	p.mu.Lock()
	if _, dirty := p.written[h]; !dirty {
		p.vals[string(key)] = v
	}
	p.mu.Unlock()
}

// wrote records writes the loop is about to commit: their keys are
// dropped and not read again. A hash collision only drops a key too many.
func (p *prefetch) wrote(ws []store.Write) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range ws {
		p.written[maphash.Bytes(p.seed, w.Key)] = struct{}{}
		delete(p.vals, string(w.Key))
	}
}

// get returns a key's committed value if it was read ahead (nil, false
// when it is absent from state), and whether it was.
func (p *prefetch) get(key []byte) (v []byte, found, ok bool) {
	p.mu.Lock()
	v, ok = p.vals[string(key)]
	p.mu.Unlock()
	return v, v != nil, ok
}

// stop ends the reads and waits for the goroutine; a nil p is stopped.
func (p *prefetch) stop() {
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
}
