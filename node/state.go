package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
	"github.com/zwnode/zwnode/chain/store"
)

// initState ties the store to the genesis (writing the ledger's genesis
// state on the very first start) and loads the committed head.
func (n *Node) initState() error {
	ctx := context.Background()
	gw, err := n.ledger.GenesisWrites()
	if err != nil {
		return fmt.Errorf("node: genesis state: %w", err)
	}
	writes := make([]store.Write, len(gw))
	for i, w := range gw {
		writes[i] = store.Write{Key: w.Key, Value: w.Value}
	}
	if err := n.store.Init(ctx, n.genesis, writes...); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	height, hash := n.store.Head()
	cs := &chainState{height: height, hash: hash, stateRoot: n.store.HeadStateRoot(), sets: make(map[uint64]*chain.AuthoritySet, 2)}
	if height == 0 {
		cs.time = n.genesis.GenesisTime.UnixMilli()
	} else {
		b, err := n.store.Block(ctx, height)
		if err != nil {
			return fmt.Errorf("node: read head block %d: %w", height, err)
		}
		c, err := n.store.Commit(ctx, height)
		if err != nil {
			return fmt.Errorf("node: read head certificate %d: %w", height, err)
		}
		cs.time = b.Header.Time
		cs.lastCommit = c
	}
	for _, h := range []uint64{height + 1, height + 2} {
		list, err := n.store.Authorities(ctx, h)
		if err != nil {
			return fmt.Errorf("node: authority set for height %d: %w", h, err)
		}
		set, err := chain.NewAuthoritySet(list)
		if err != nil {
			return fmt.Errorf("node: stored authority set for height %d: %w", h, err)
		}
		cs.sets[h] = set
	}
	n.cs.Store(cs)
	n.publishHead(cs)
	return nil
}

// commitBlock writes a finalized block in one atomic synced batch and moves
// the in-memory head. Storage errors are fatal.
func (n *Node) commitBlock(ctx context.Context, b *chain.Block, c *chain.Commit, res *execResult) error {
	old := n.chainState()
	h := b.Height()
	opts := []store.CommitOption{store.WithTxHashes(res.hashes)}
	if res.next != nil {
		opts = append(opts, store.WithAuthorities(h+2, res.next))
	}
	if err := n.store.CommitBlock(ctx, b, c, res.writes, opts...); err != nil {
		return fatal(fmt.Errorf("node: commit block %d: %w (halting: the node never carries on after a failed write)", h, err))
	}
	cs := &chainState{
		height:     h,
		hash:       b.Hash(),
		time:       b.Header.Time,
		stateRoot:  b.Header.StateRoot,
		lastCommit: c,
		sets:       map[uint64]*chain.AuthoritySet{h + 1: old.sets[h+1], h + 2: old.sets[h+1]},
	}
	if res.next != nil {
		set, err := chain.NewAuthoritySet(res.next)
		if err != nil {
			return fatal(fmt.Errorf("node: block %d decided an invalid authority set: %w", h, err))
		}
		cs.sets[h+2] = set
	}
	n.cs.Store(cs)
	n.mempool.Update(b.Txs)
	n.dropEvidence(b.Evidence)
	if n.host != nil {
		n.host.SetHeight(h + 1)
		if res.next != nil || old.sets[h+1] != old.sets[h+2] {
			n.host.SetAuthorities(unionKeys(cs.sets[h+1], cs.sets[h+2]))
		}
	}
	n.publishHead(cs)
	n.metrics.observeBlock(b, old.time)
	n.events.publishBlock(b, c, res)
	return nil
}

func unionKeys(a, b *chain.AuthoritySet) []chain.PublicKey {
	keys := authorityKeys(a)
	for _, k := range authorityKeys(b) {
		if !a.Contains(k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// stateKV reads committed ledger state.
func (n *Node) stateKV() *storeKV { return &storeKV{s: n.store} }

type storeKV struct{ s *store.Store }

func (k *storeKV) Get(key []byte) ([]byte, bool, error) {
	return k.s.State(context.Background(), key)
}

func (k *storeKV) Scan(prefix []byte, fn func(k, v []byte) bool) error {
	return scanKV(k.s.StateKV(context.Background()), prefix, fn)
}

// scanKV is the ledger's Scan (fn returns false to stop) over a store.KV's
// Iterate (which stops on store.ErrStop).
func scanKV(kv store.KV, prefix []byte, fn func(k, v []byte) bool) error {
	err := kv.Iterate(prefix, func(key, value []byte) error {
		if !fn(key, value) {
			return store.ErrStop
		}
		return nil
	})
	if errors.Is(err, store.ErrStop) {
		return nil
	}
	return err
}

// mempoolState gives the mempool the committed nonces and the ledger's
// stateful pre-check. Admission reads the sender's account for every tx
// (twice: nonce and CheckTx) while a few hundred accounts send thousands of
// txs per block, so its reads go through a cache of committed values that
// lives for one head height.
type mempoolState struct {
	n     *Node
	cache headCache
}

func (m *mempoolState) NextNonce(acct chain.PublicKey) (uint64, error) {
	return m.n.ledger.NextNonce(m.kv(), acct)
}

func (m *mempoolState) CheckTx(tx *chain.Tx) error {
	return m.n.ledger.CheckTx(m.kv(), tx)
}

func (m *mempoolState) kv() *headKV {
	return &headKV{storeKV: storeKV{s: m.n.store}, c: &m.cache}
}

// headCache holds committed state values read at one head height. Values
// read after the head moved are never stored under the old height: a reader
// takes the height before it reads, and a put for a height other than the
// current one is dropped; the store moves its head only after the block's
// writes are visible, so a value read at height h is at least as new as h.
type headCache struct {
	mu     sync.Mutex
	height uint64
	vals   map[string]cachedValue
}

type cachedValue struct {
	v  []byte
	ok bool
}

// headCacheMax bounds the cache; it is cleared when full.
const headCacheMax = 8192

func (c *headCache) get(height uint64, key []byte) (cachedValue, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.height != height || c.vals == nil {
		c.height, c.vals = height, make(map[string]cachedValue)
		return cachedValue{}, false
	}
	v, ok := c.vals[string(key)]
	return v, ok
}

func (c *headCache) put(height uint64, key []byte, v cachedValue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.height != height || c.vals == nil {
		return
	}
	if len(c.vals) >= headCacheMax {
		clear(c.vals)
	}
	c.vals[string(key)] = v
}

// headKV is storeKV with Get served from a headCache. Callers must not
// modify returned values (the ledger does not: it decodes them).
type headKV struct {
	storeKV
	c *headCache
}

func (k *headKV) Get(key []byte) ([]byte, bool, error) {
	h, _ := k.s.Head()
	if v, ok := k.c.get(h, key); ok {
		return v.v, v.ok, nil
	}
	v, ok, err := k.storeKV.Get(key)
	if err != nil {
		return nil, false, err
	}
	k.c.put(h, key, cachedValue{v: v, ok: ok})
	return v, ok, nil
}

// Sign-state: what this node last signed (with its lock) and its valid
// value with the prevotes proving it, persisted as one synced record
// before anything they cover leaves the process.
//
// Record: bytes(SignState.Marshal()) ‖ bool ‖ if true, bytes(the valid
// value without its block, consensus.ValidRef). The same synced write
// stores the block under its height's block key (store.WriteSignState),
// where the commit of that height finds it: at full load it is a few MB,
// and writing it with the record and again at its commit doubled what a
// validator wrote per height.

type signRecord struct {
	sign  *consensus.SignState
	valid *consensus.ValidState
}

// dropStaleValid forgets a valid value of a height below the sign-state's.
// It is never used again — the engine restores a valid value only at its
// own height, and signing at a later height means the node has left it.
func (r *signRecord) dropStaleValid() {
	if r.valid != nil && r.sign != nil && r.valid.Height < r.sign.Height {
		r.valid = nil
	}
}

// dropDecidedValid forgets a valid value whose height is not the one
// being decided, the height after head: at or below head it is decided
// and its block committed (maybe another one), so nothing restores it.
// Above head+1 it cannot be: the loop commits the decisions that come
// with such a value before it saves the record.
func (r *signRecord) dropDecidedValid(head uint64) {
	if r.valid != nil && r.valid.Height != head+1 {
		r.valid = nil
	}
}

func (r *signRecord) encodedLen() int {
	n := 4 + 1
	if r.sign != nil {
		n += len(r.sign.Marshal())
	}
	if r.valid != nil {
		ref := r.valid.Ref()
		n += 4 + ref.EncodedLen()
	}
	return n
}

func (r *signRecord) encodeTo(e *chain.Encoder) {
	var sb []byte
	if r.sign != nil {
		sb = r.sign.Marshal()
	}
	e.ByteString(sb)
	e.Bool(r.valid != nil)
	if r.valid != nil {
		ref := r.valid.Ref()
		e.Uint32(uint32(ref.EncodedLen()))
		ref.EncodeTo(e)
	}
}

// decodeSignRecord decodes a record; its valid value comes without the
// block, which the caller loads from the store.
func decodeSignRecord(b []byte) (*consensus.SignState, *consensus.ValidRef, error) {
	d := chain.NewDecoder(b)
	// Views, not copies: both are decoded at once and nothing keeps them.
	sb := d.ByteStringView(1 << 10)
	var vb []byte
	if d.Bool() {
		vb = d.ByteStringView(1 << 20)
	}
	if err := d.Finish(); err != nil {
		return nil, nil, err
	}
	var sign *consensus.SignState
	var ref *consensus.ValidRef
	var err error
	if len(sb) > 0 {
		if sign, err = consensus.UnmarshalSignState(sb); err != nil {
			return nil, nil, err
		}
	}
	if vb != nil {
		if ref, err = consensus.DecodeValidRef(vb); err != nil {
			return nil, nil, err
		}
	}
	return sign, ref, nil
}

// saveSignRecord persists r, after dropping a valid value nothing will
// restore: one below the sign-state's height (dropStaleValid) or not at the
// height after the store's head (dropDecidedValid).
func (n *Node) saveSignRecord(r *signRecord) error {
	r.dropStaleValid()
	head, _ := n.store.Head()
	if r.valid != nil && r.valid.Height > head+1 {
		n.log.Warn("valid value above the next height: not persisted", "height", r.valid.Height, "head", head)
	}
	r.dropDecidedValid(head)
	var blk *chain.Block
	if r.valid != nil {
		blk = r.valid.Block
	}
	return n.store.WriteSignState(context.Background(), r.encodedLen(), func(dst []byte) error {
		return chain.EncodeInto(dst, r.encodeTo)
	}, blk)
}

func (n *Node) loadSignRecord() (*signRecord, error) {
	const corrupt = "node: stored sign-state is corrupt (refusing to start: signing without it could double-sign)"
	ctx := context.Background()
	b, ok, err := n.store.LoadSignState(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: load sign-state: %w", err)
	}
	if !ok {
		return &signRecord{}, nil
	}
	sign, ref, err := decodeSignRecord(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", corrupt, err)
	}
	r := &signRecord{sign: sign}
	if head, _ := n.store.Head(); ref != nil && ref.Height == head+1 {
		// Saved with the record in one synced batch: missing or another
		// block means the store was damaged.
		blk, err := n.store.PendingBlock(ctx, ref.Height)
		if err != nil {
			return nil, fmt.Errorf("%s: its valid block: %w", corrupt, err)
		}
		if r.valid, err = ref.WithBlock(blk); err != nil {
			return nil, fmt.Errorf("%s: %w", corrupt, err)
		}
	}
	return r, nil
}

// Evidence pool: conflicting messages seen by this node or gossiped by
// others, waiting to be committed in a block.

type evidencePool struct {
	mu      sync.Mutex
	pending map[chain.Hash]*chain.Evidence
}

func (n *Node) addEvidence(ev *chain.Evidence) {
	n.evidence.mu.Lock()
	defer n.evidence.mu.Unlock()
	if n.evidence.pending == nil {
		n.evidence.pending = make(map[chain.Hash]*chain.Evidence)
	}
	if len(n.evidence.pending) < 1000 {
		n.evidence.pending[ev.Hash()] = ev
	}
}

func (n *Node) dropEvidence(evs []chain.Evidence) {
	n.evidence.mu.Lock()
	defer n.evidence.mu.Unlock()
	for i := range evs {
		delete(n.evidence.pending, evs[i].Hash())
	}
}

// pendingEvidence returns up to 16 pieces in hash order.
func (n *Node) pendingEvidence() []chain.Evidence {
	n.evidence.mu.Lock()
	hashes := make([]chain.Hash, 0, len(n.evidence.pending))
	for h := range n.evidence.pending {
		hashes = append(hashes, h)
	}
	slices.SortFunc(hashes, func(a, b chain.Hash) int { return bytes.Compare(a[:], b[:]) })
	var out []chain.Evidence
	for _, h := range hashes {
		if len(out) == 16 {
			break
		}
		out = append(out, *n.evidence.pending[h])
	}
	n.evidence.mu.Unlock()
	// Drop what is already on chain (committed by another proposer).
	kept := out[:0]
	for _, ev := range out {
		if _, _, err := n.store.EvidenceLocation(context.Background(), ev.Hash()); errors.Is(err, store.ErrNotFound) {
			kept = append(kept, ev)
		}
	}
	return kept
}

// verifyEvidence checks a block's evidence: valid, signed by a member of
// the set at its height, recent, not already committed, no duplicates.
func (n *Node) verifyEvidence(evs []chain.Evidence) error {
	seen := make(map[chain.Hash]bool, len(evs))
	head := n.chainState().height
	for i := range evs {
		ev := &evs[i]
		h := ev.Hash()
		if seen[h] {
			return fmt.Errorf("evidence %d: duplicate", i)
		}
		seen[h] = true
		if ev.Height() > head+1 || ev.Height()+maxEvidenceAge < head+1 {
			return fmt.Errorf("evidence %d: height %d outside the accepted window", i, ev.Height())
		}
		set, err := n.setAt(ev.Height())
		if err != nil {
			return fmt.Errorf("evidence %d: %w", i, err)
		}
		if err := ev.Verify(n.chainID, set); err != nil {
			return fmt.Errorf("evidence %d: %w", i, err)
		}
		if _, _, err := n.store.EvidenceLocation(context.Background(), h); err == nil {
			return fmt.Errorf("evidence %d: already committed", i)
		} else if !errors.Is(err, store.ErrNotFound) {
			return fatal(fmt.Errorf("evidence %d: %w", i, err))
		}
	}
	return nil
}

const maxEvidenceAge = 10_000
