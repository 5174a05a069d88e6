package node

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"sync"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/store"
)

// syncRunLimit bounds the transaction payload bytes of the blocks committed
// as one run (one synced Pebble batch). A run's batch holds about ten times
// that (encoded blocks, hex-keyed indexes and state) and peak memory grows
// with it (peak RSS of the BenchmarkSyncApply process, source chain
// included: about 250 MB with runs of 256 KiB, 360 MB with 1 MiB), while
// speed hardly depends on it once runs are committed beside execution. A
// variable so tests can force small runs.
var syncRunLimit = 256 << 10

// syncChunkRuns is how many runs are executed and committed before the
// head moves: their writes stay in memory until then, and all but the
// last one's fsync overlap execution. 32 runs of syncRunLimit are 8 MiB of
// transactions, a whole sync response, so a batch waits for its commits
// once instead of two or three times (each wait 25–80 ms behind 200–500
// ms of execution at max load). Catch-ups alternating 32 and 8, five
// pairs: 42.8–51.5 k tx/s against 34.8–42.3 k, peak RSS 175–191 MB
// against 174–189 MB.
const syncChunkRuns = 32

// applied is a synced block that verified and executed on the head left by
// the block before it, waiting to be committed with its run.
type applied struct {
	certified
	res  *execResult
	head *chainState // the head once this block is committed
}

// applySynced applies certified blocks fetched from a peer, in runs: each
// block's certificate is verified against the authority set for its height
// (which earlier blocks of the batch may have changed), the block is
// executed on the state the earlier blocks leave (its signatures are
// covered by the quorum's certificate) and its state root compared. A
// committer goroutine checks each executed block and adds it to the store
// batch of its run, and commits each run in one synced batch, while the
// loop executes the next. Once all are durable the head moves and the
// engine is moved past every block, in order. Meanwhile a prefetcher reads
// the state keys the ledger hints for the batch's transactions ahead of
// execution (see prefetch).
//
// A block that fails verification or execution ends the batch: the blocks
// before it are committed (they are certified and executed), it and those
// after it are not, and its error is returned.
func (l *loop) applySynced(ctx context.Context, b syncBatch) error {
	defer raiseMemoryLimit(syncHeadroom(len(b.blocks)))()
	pre := startPrefetch(ctx, l.n.store.StateKV(ctx), l.n.ledger.ReadHints, b.blocks)
	defer func() { pre.stop() }()
	blocks := b.blocks
	for len(blocks) > 0 {
		n, size := 0, 0
		for n < len(blocks) && size < syncChunkRuns*syncRunLimit {
			size += txBytes(blocks[n].block)
			n++
		}
		last, err := l.applyChunk(ctx, blocks[:n], pre)
		if err != nil {
			return err
		}
		if pre != nil && l.n.chainState().height != last {
			// Consensus committed a block meanwhile (afterCommit drains
			// the engine): writes the prefetcher was not told of.
			pre.stop()
			pre = nil
		}
		blocks = blocks[n:]
	}
	return nil
}

// applyChunk applies up to syncChunkRuns runs of blocks, holding their
// writes in memory until all are durable, reading committed state through
// pre where it has a key (pre may be nil). It returns the height of the
// last block it committed (the head's if none).
func (l *loop) applyChunk(ctx context.Context, blocks []certified, pre *prefetch) (uint64, error) {
	head := l.n.chainState()
	st := newRunState(l.n.store, pre)
	com := startCommitter(ctx, l.n.store)
	var all []applied
	var runErr error
	for len(blocks) > 0 && runErr == nil {
		var run []applied
		run, blocks, runErr = l.executeRun(head, st, blocks, com.add)
		if len(run) > 0 {
			com.endRun()
			all = append(all, run...)
			head = run[len(run)-1].head
		}
	}
	if err := com.wait(); err != nil {
		return 0, fatal(fmt.Errorf("node: commit synced blocks: %w (halting: the node never carries on after a failed write, and these verified and executed)", err))
	}
	if err := l.afterCommit(ctx, all); err != nil {
		return 0, err
	}
	return head.height, runErr
}

// committer adds executed blocks to store runs and commits each run, on its
// own goroutine, in the order it is given them.
type committer struct {
	in  chan commitItem
	out chan error
}

// commitItem is a block to add, or (end) the end of the current run.
type commitItem struct {
	bc  store.BlockCommit
	end bool
}

func startCommitter(ctx context.Context, s *store.Store) *committer {
	c := &committer{in: make(chan commitItem, 8), out: make(chan error, 1)}
	go func() {
		var sr *store.Run
		var err error
		for it := range c.in {
			switch {
			case err != nil: // drain after a failure
			case it.end:
				err = sr.Commit(ctx)
				sr = nil
			default:
				if sr == nil {
					if sr, err = s.BeginRun(ctx); err != nil {
						continue
					}
				}
				err = sr.Add(ctx, it.bc)
			}
		}
		if sr != nil {
			sr.Discard()
		}
		c.out <- err
	}()
	return c
}

func (c *committer) add(a applied) {
	c.in <- commitItem{bc: store.BlockCommit{Block: a.block, Commit: a.commit, Writes: a.res.writes, Authorities: a.res.next, TxHashes: a.res.hashes}}
}

// endRun commits the blocks added since the last endRun.
func (c *committer) endRun() { c.in <- commitItem{end: true} }

// wait returns once every run ended is durable, or with the first error
// (the failed run and any after it are not committed).
func (c *committer) wait() error {
	close(c.in)
	return <-c.out
}

// executeRun verifies and executes blocks in order on head and st until the
// first error or until syncRunLimit bytes of transaction payloads, passing
// each executed block to done, and returns what executed and what is left
// for the next run.
func (l *loop) executeRun(head *chainState, st *runState, blocks []certified, done func(applied)) (run []applied, rest []certified, err error) {
	size := 0
	for i, cb := range blocks {
		h := cb.block.Height()
		if h <= head.height {
			continue // committed meanwhile (decided by consensus), or a repeat
		}
		if h != head.height+1 {
			return run, nil, fmt.Errorf("sync: block %d does not follow head %d", h, head.height)
		}
		if err := l.n.verifyCertified(head, cb); err != nil {
			return run, nil, err
		}
		res, err := l.app.runOn(st, head.stateRoot, cb.block, nil)
		if err != nil {
			return run, nil, fmt.Errorf("sync: block %d: %w", h, err)
		}
		if res.root != cb.block.Header.StateRoot {
			return run, nil, fmt.Errorf("sync: block %d: state root %s after execution, header says %s", h, res.root.Short(), cb.block.Header.StateRoot.Short())
		}
		next, err := head.after(cb.block, cb.commit, res.next)
		if err != nil {
			// A quorum certified it, so our execution disagrees with theirs.
			return run, nil, fatal(fmt.Errorf("node: sync: %w (halting: state would diverge)", err))
		}
		st.apply(res.writes)
		a := applied{certified: cb, res: res, head: next}
		done(a)
		run = append(run, a)
		head = next
		if size += txBytes(cb.block); size >= syncRunLimit {
			return run, blocks[i+1:], nil
		}
	}
	return run, nil, nil
}

func txBytes(b *chain.Block) int {
	n := 0
	for i := range b.Txs {
		n += len(b.Txs[i].Payload)
	}
	return n
}

// afterCommit publishes the head after the committed blocks run and moves
// the engine past each of them, in order.
func (l *loop) afterCommit(ctx context.Context, run []applied) error {
	if len(run) == 0 {
		return nil
	}
	last := run[len(run)-1].head
	ntx := 0
	for _, a := range run {
		ntx += len(a.block.Txs)
	}
	old := l.n.chainState()
	l.n.cs.Store(last)
	l.app.reset()
	l.n.proposals.prune(last.height)
	txs := make([]chain.Tx, 0, ntx)
	prevTime := old.time
	for _, a := range run {
		txs = append(txs, a.block.Txs...)
		l.n.dropEvidence(a.block.Evidence)
		l.n.metrics.observeBlock(a.block, prevTime)
		l.n.events.publishBlock(a.block, a.commit, a.res)
		prevTime = a.block.Header.Time
	}
	l.n.mempool.Update(txs)
	if h := l.n.host; h != nil {
		h.SetHeight(last.height + 1)
		if old.sets[old.height+1] != last.sets[last.height+1] || old.sets[old.height+2] != last.sets[last.height+2] {
			h.SetAuthorities(unionKeys(last.sets[last.height+1], last.sets[last.height+2]))
		}
	}
	l.n.publishHead(last)
	// The engine may decide a height from buffered messages as it enters
	// it; SyncTo accepts the same block again, and drain checks such
	// decisions against the store (a different block is a fork).
	for _, a := range run {
		if err := l.eng.SyncTo(a.block, a.commit, a.res.next); err != nil {
			// The block is committed; an engine that disagrees with the
			// store cannot go on safely.
			return fatal(fmt.Errorf("node: consensus engine refused synced block %d: %w", a.block.Height(), err))
		}
	}
	return l.drain(ctx)
}

// runState is the ledger state a sync batch executes on: the writes of the
// batch's earlier blocks over the committed state. Committed reads are
// cached: the only commits meanwhile are the batch's own runs, whose writes
// the overlay already holds, so a cached value of any other key stays true.
type runState struct {
	ov        *store.Overlay
	committed *cachedKV // under ov
}

// newRunState returns a runState over s's committed state, read through
// pre (which may be nil) where it has a key.
func newRunState(s *store.Store, pre *prefetch) *runState {
	c := &cachedKV{kv: s.StateKV(context.Background()), cache: make(map[string][]byte), pre: pre}
	return &runState{ov: store.NewOverlay(c), committed: c}
}

// apply adds a block's writes for the blocks after it, and tells the
// prefetcher before they can be committed.
func (r *runState) apply(writes []store.Write) {
	if pre := r.committed.pre; pre != nil {
		pre.wrote(writes)
	}
	r.ov.Apply(writes)
}

// Get implements ledger.KV.
func (r *runState) Get(key []byte) ([]byte, bool, error) { return r.ov.Get(key) }

// Scan implements ledger.ScanKV.
func (r *runState) Scan(prefix []byte, fn func(k, v []byte) bool) error {
	return scanKV(r.ov, prefix, fn)
}

// cachedKV remembers what it read (absence included); callers get copies.
// What pre read ahead counts as read.
type cachedKV struct {
	kv    store.KV
	cache map[string][]byte // nil value: absent
	pre   *prefetch
}

func (c *cachedKV) Get(key []byte) ([]byte, bool, error) {
	if v, ok := c.cache[string(key)]; ok {
		return bytes.Clone(v), v != nil, nil
	}
	if c.pre != nil {
		if v, found, ok := c.pre.get(key); ok {
			return bytes.Clone(v), found, nil
		}
	}
	v, ok, err := c.kv.Get(key)
	if err != nil {
		return nil, false, err
	}
	if ok && v == nil {
		v = []byte{}
	}
	c.cache[string(key)] = v
	return bytes.Clone(v), ok, nil
}

func (c *cachedKV) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return c.kv.Iterate(prefix, fn)
}

// syncMemoryHeadroom is how far above the Go runtime's soft memory limit
// (runtime.memory_limit_mb) the heap may go while a catch-up batch (more
// than syncFirstBlocks blocks) is applied: its blocks and their executed
// writes are held until durable (syncChunkRuns), tens of MB at once, and
// with the heap pressed against the limit the collector then ran almost
// without pause. Catch-ups at an 88 MiB limit, alternating, three pairs:
// 62.8 / 55.4 / 49.7 k tx/s with the headroom against 53.2 / 51.3 / 46.5 k
// without; the catching-up node's peak RSS 138–144 MB against 125–135
// (docs/BENCHMARK.md, ninth round).
const syncMemoryHeadroom = 16 << 20

// syncHeadroom is the memory headroom for a batch of n blocks: none for a
// block or two fetched at the tip (syncFirstBlocks), which hold little.
func syncHeadroom(n int) int64 {
	if n > syncFirstBlocks {
		return syncMemoryHeadroom
	}
	return 0
}

// memLimit tracks raiseMemoryLimit's callers, so that overlapping raises
// (several nodes in one test process) raise the limit once and the last
// restore puts back the limit they found.
var memLimit struct {
	sync.Mutex
	active int
	base   int64
}

// raiseMemoryLimit raises the Go runtime's soft memory limit by extra, if
// one is set and extra > 0, and returns the function that puts it back.
func raiseMemoryLimit(extra int64) (restore func()) {
	if extra <= 0 {
		return func() {}
	}
	memLimit.Lock()
	defer memLimit.Unlock()
	if memLimit.active == 0 {
		memLimit.base = debug.SetMemoryLimit(-1)
		if memLimit.base == math.MaxInt64 || memLimit.base > math.MaxInt64-extra {
			return func() {}
		}
		debug.SetMemoryLimit(memLimit.base + extra)
	}
	memLimit.active++
	return func() {
		memLimit.Lock()
		defer memLimit.Unlock()
		memLimit.active--
		if memLimit.active == 0 {
			debug.SetMemoryLimit(memLimit.base)
		}
	}
}
