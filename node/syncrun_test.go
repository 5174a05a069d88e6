package node

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/store"
)

// syncChain is a chain built and committed block by block on a source node
// (the path of live consensus), to be applied by sync on another node.
type syncChain struct {
	f      *benchFixture
	src    *Node
	srcDS  ds.Datastore
	blocks []certified
}

// mapNode opens a node on a map datastore (so its contents can be
// compared); key < 0 makes an observer.
func (f *benchFixture) mapNode(tb testing.TB, key int) (*Node, ds.Datastore) {
	tb.Helper()
	k := chain.PrivateKeyFromSeed(seed32("observer"))
	if key >= 0 {
		k = f.authKeys[key]
	}
	d := dssync.MutexWrap(ds.NewMapDatastore())
	n, err := New(Options{Genesis: f.genesis, Key: k, Datastore: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = n.closeStore() })
	return n, d
}

// certifyAt signs a certificate for b with a quorum of the authority set
// at b's height on n, whose head must be just below b.
func (f *benchFixture) certifyAt(tb testing.TB, n *Node, b *chain.Block) *chain.Commit {
	tb.Helper()
	return f.certifyBy(tb, n.chainState().sets[b.Height()], b)
}

// certifyBy signs a certificate for b with a quorum of set.
func (f *benchFixture) certifyBy(tb testing.TB, set *chain.AuthoritySet, b *chain.Block) *chain.Commit {
	tb.Helper()
	var votes []*chain.Vote
	for _, k := range f.authKeys {
		if len(votes) < set.Quorum() && set.Contains(k.Public()) {
			v := &chain.Vote{Type: chain.Precommit, Height: b.Height(), BlockHash: b.Hash()}
			v.Sign(benchChain, k)
			votes = append(votes, v)
		}
	}
	c, err := chain.NewCommit(votes)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// adminTx signs a governance transaction of authority department i's admin.
func (f *benchFixture) adminTx(tb testing.TB, i int, nonce uint64, typ string, payload any) chain.Tx {
	tb.Helper()
	p, err := json.Marshal(payload)
	if err != nil {
		tb.Fatal(err)
	}
	tx := chain.Tx{ChainID: benchChain, Nonce: nonce, Type: typ, Payload: p}
	tx.Sign(f.authKeys[i])
	return tx
}

// newSyncChain builds blocks of perBlock record.put txs each. With gov,
// block 2 removes "tax" from the authorities by governance (effective at
// height 4), so later certificates are signed by another set.
func newSyncChain(tb testing.TB, blocks, perBlock int, gov bool) *syncChain {
	tb.Helper()
	f := newBenchFixture(80)
	all := f.txs(tb, blocks*perBlock)
	blockTxs := make([][]chain.Tx, blocks)
	for i := range blocks {
		blockTxs[i] = all[i*perBlock : (i+1)*perBlock]
	}
	return buildSyncChain(tb, f, blockTxs, gov)
}

// buildSyncChain commits blocks of blockTxs on a source node; gov adds a
// governance proposal with the votes that decide it to the second block.
func buildSyncChain(tb testing.TB, f *benchFixture, blockTxs [][]chain.Tx, gov bool) *syncChain {
	tb.Helper()
	src, srcDS := f.mapNode(tb, 0)
	sc := &syncChain{f: f, src: src, srcDS: srcDS}
	ctx := context.Background()
	for i, txs := range blockTxs {
		if gov && i == 1 {
			prop := f.adminTx(tb, 0, 1, ledger.TxGovPropose, ledger.GovPropose{Action: ledger.GovRemove, Department: "tax"})
			id := ledger.ApplicationID(prop.Hash())
			txs = append([]chain.Tx{prop}, txs...)
			for d := 1; d < 4; d++ {
				txs = append(txs, f.adminTx(tb, d, 1, ledger.TxGovVote, ledger.GovVote{Proposal: id, Yes: true}))
			}
		}
		b, a := f.proposal(tb, src, txs)
		res, err := a.result(b)
		if err != nil {
			tb.Fatal(err)
		}
		if gov && i == 1 && res.next == nil {
			tb.Fatal("governance block decided no authority change")
		}
		c := f.certifyAt(tb, src, b)
		if err := src.commitBlock(ctx, b, c, res); err != nil {
			tb.Fatal(err)
		}
		sc.blocks = append(sc.blocks, certified{block: b, commit: c})
	}
	return sc
}

// target opens an observer node to sync the chain onto, with a loop whose
// engine runs (as in a node catching up).
func (sc *syncChain) target(tb testing.TB) (*loop, ds.Datastore) {
	tb.Helper()
	n, d := sc.f.mapNode(tb, -1)
	l, err := n.newLoop()
	if err != nil {
		tb.Fatal(err)
	}
	l.eng.Start()
	tb.Cleanup(l.stopTimers)
	return l, d
}

func dsContents(tb testing.TB, d ds.Datastore) map[string]string {
	tb.Helper()
	res, err := d.Query(context.Background(), query.Query{})
	if err != nil {
		tb.Fatal(err)
	}
	entries, err := res.Rest()
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.Key] = string(e.Value)
	}
	return out
}

func sameContents(t *testing.T, want, got map[string]string) {
	t.Helper()
	var diff []string
	for k, v := range want {
		if w, ok := got[k]; !ok || w != v {
			diff = append(diff, "differs or missing: "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, "extra: "+k)
		}
	}
	if len(diff) > 0 {
		t.Fatalf("%d keys differ from the one-by-one commits, e.g. %v", len(diff), diff[:min(5, len(diff))])
	}
}

func applyAll(t *testing.T, l *loop, blocks []certified) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	return l.applySynced(ctx, syncBatch{blocks: blocks, done: make(chan error, 1)})
}

// TestSyncRunStoresWhatOneByOneCommitsStore: applying a synced chain in
// runs (including an authority change inside the run, so later
// certificates verify against the new set) leaves exactly the datastore
// contents of committing the blocks one by one, and the same head.
func TestSyncRunStoresWhatOneByOneCommitsStore(t *testing.T) {
	sc := newSyncChain(t, 8, 200, true)
	want := dsContents(t, sc.srcDS)
	l, d := sc.target(t)
	prev := debug.SetMemoryLimit(200 << 20)
	defer debug.SetMemoryLimit(prev)
	if err := applyAll(t, l, sc.blocks); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Fatalf("memory limit %d after the catch-up, want it restored to %d", got, 200<<20)
	}
	sameContents(t, want, dsContents(t, d))
	got, src := l.n.chainState(), sc.src.chainState()
	if got.height != 8 || got.hash != src.hash || got.stateRoot != src.stateRoot {
		t.Fatalf("head %d/%s, want 8/%s", got.height, got.hash.Short(), src.hash.Short())
	}
	for h := got.height + 1; h <= got.height+2; h++ {
		if got.sets[h].Hash() != src.sets[h].Hash() || got.sets[h].Size() != 3 {
			t.Fatalf("authority set at %d differs from the source's (%d members)", h, got.sets[h].Size())
		}
	}
	if st := l.eng.Status(); st.Height != 9 {
		t.Fatalf("engine at height %d, want 9", st.Height)
	}
}

// TestSyncRunSplitsLargeBatches: a batch larger than one run commits in
// several runs, with the same result.
func TestSyncRunSplitsLargeBatches(t *testing.T) {
	sc := newSyncChain(t, 5, 300, false)
	l, d := sc.target(t)
	// Each block's payloads are over a third of the limit: runs of 3.
	per := txBytes(sc.blocks[0].block)
	old := syncRunLimit
	syncRunLimit = 3*per - 1
	defer func() { syncRunLimit = old }()
	run, rest, err := l.executeRun(l.n.chainState(), newRunState(l.n.store, nil), sc.blocks, func(applied) {})
	if err != nil || len(run) != 3 || len(rest) != 2 {
		t.Fatalf("first run: %d blocks, %d left, %v; want 3 and 2", len(run), len(rest), err)
	}
	if err := applyAll(t, l, sc.blocks); err != nil {
		t.Fatal(err)
	}
	sameContents(t, dsContents(t, sc.srcDS), dsContents(t, d))

	// Runs so small that every block is a chunk of its own: the head
	// moves after each, with the same result.
	l2, d2 := sc.target(t)
	syncRunLimit = max(1, per/syncChunkRuns)
	if err := applyAll(t, l2, sc.blocks); err != nil {
		t.Fatal(err)
	}
	sameContents(t, dsContents(t, sc.srcDS), dsContents(t, d2))
}

// TestSyncRunPrefetchSeesEarlierBlocks: every block puts the same
// subjects again from the same operators, so each block's record heads and
// accounts are written by the block before it. The prefetcher reads all of
// them before the first block executes (the worst case of the race with
// the batch's own commits); a value read ahead of a write it missed would
// give a wrong version or nonce and a state root the header does not have.
// Blocks are applied one chunk each, committed between. The result must
// equal the one-by-one commits.
func TestSyncRunPrefetchSeesEarlierBlocks(t *testing.T) {
	f := newBenchFixture(80)
	const blocks, per = 6, 160 // per: two txs per operator and block
	first := f.txs(t, per)
	blockTxs := make([][]chain.Tx, blocks)
	for b := range blockTxs {
		blockTxs[b] = make([]chain.Tx, per)
		for i, tx := range first {
			tx.Nonce += uint64(b * per / len(f.operators))
			tx.Sign(f.operators[i%len(f.operators)])
			blockTxs[b][i] = tx
		}
	}
	sc := buildSyncChain(t, f, blockTxs, false)
	l, d := sc.target(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pre := startPrefetch(ctx, l.n.store.StateKV(ctx), l.n.ledger.ReadHints, sc.blocks)
	<-pre.done
	if n := len(pre.vals); n != per+len(f.operators) {
		t.Fatalf("prefetched %d keys, want %d (record heads and accounts)", n, per+len(f.operators))
	}
	for _, cb := range sc.blocks {
		if _, err := l.applyChunk(ctx, []certified{cb}, pre); err != nil {
			t.Fatal(err)
		}
	}
	sameContents(t, dsContents(t, sc.srcDS), dsContents(t, d))
	if h := l.n.chainState().height; h != blocks {
		t.Fatalf("head %d, want %d", h, blocks)
	}
}

// TestSyncRunStopsAtBadBlock: a block in the middle of a batch that fails
// (wrong state root, a certificate of the wrong set, a forged certificate,
// a gap) leaves the store at the block before it, as if the good prefix had
// been committed one by one; nothing of the bad block or after it is stored.
func TestSyncRunStopsAtBadBlock(t *testing.T) {
	sc := newSyncChain(t, 7, 100, true)
	const bad = 5 // index: height 6, certified by the new set
	cases := map[string]struct {
		spoil func(tb testing.TB, blocks []certified)
		want  string
	}{
		"wrong state root": {func(tb testing.TB, blocks []certified) {
			b := *blocks[bad].block
			b.Header.StateRoot = chain.HashBytes([]byte("wrong"))
			blocks[bad] = certified{block: &b, commit: sc.f.certifyBy(tb, sc.src.chainState().sets[sc.src.chainState().height+1], &b)}
		}, "state root"},
		"certificate of the old set": {func(tb testing.TB, blocks []certified) {
			var votes []*chain.Vote
			for _, k := range sc.f.authKeys[:3] { // tax was removed at height 4
				v := &chain.Vote{Type: chain.Precommit, Height: blocks[bad].block.Height(), BlockHash: blocks[bad].block.Hash()}
				v.Sign(benchChain, k)
				votes = append(votes, v)
			}
			c, err := chain.NewCommit(votes)
			if err != nil {
				tb.Fatal(err)
			}
			blocks[bad].commit = c
		}, "block 6"},
		"certificate of another block": {func(tb testing.TB, blocks []certified) {
			blocks[bad].commit = blocks[bad-1].commit
		}, "block 6"},
		"gap": {func(tb testing.TB, blocks []certified) {
			blocks[bad] = blocks[bad+1]
		}, "does not follow head 5"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			blocks := append([]certified(nil), sc.blocks...)
			c.spoil(t, blocks)
			// The reference: the good prefix committed one by one.
			ref, refDS := sc.f.mapNode(t, -1)
			for _, cb := range sc.blocks[:bad] {
				res, err := (&app{n: ref, cache: map[chain.Hash]*execResult{}}).execute(cb.block)
				if err != nil {
					t.Fatal(err)
				}
				if err := ref.commitBlock(context.Background(), cb.block, cb.commit, res); err != nil {
					t.Fatal(err)
				}
			}
			l, d := sc.target(t)
			err := applyAll(t, l, blocks)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
			if isFatal(err) {
				t.Fatalf("a bad block from a peer halts the node: %v", err)
			}
			if h := l.n.chainState().height; h != bad {
				t.Fatalf("head %d after the failure, want %d", h, bad)
			}
			sameContents(t, dsContents(t, refDS), dsContents(t, d))
		})
	}
}

// TestRunStateReadsRunWrites: execution inside a run sees the writes of
// the run's earlier blocks over the committed state, deletions included,
// and cached reads cannot be changed by the caller.
func TestRunStateReadsRunWrites(t *testing.T) {
	f := newBenchFixture(1)
	n, _ := f.mapNode(t, -1)
	ctx := context.Background()
	st := newRunState(n.store, nil)
	// A key of the genesis state.
	var gk, gv []byte
	if err := n.store.StateIter(ctx, nil, func(k, v []byte) error {
		gk, gv = k, v
		return store.ErrStop
	}); err != nil || gk == nil {
		t.Fatalf("no genesis state: %v", err)
	}
	v, ok, err := st.Get(gk)
	if err != nil || !ok || string(v) != string(gv) {
		t.Fatalf("committed read = %q %v %v", v, ok, err)
	}
	v[0] ^= 0xff
	if v2, _, _ := st.Get(gk); string(v2) != string(gv) {
		t.Fatal("caller changed the cached value")
	}
	st.apply([]store.Write{{Key: gk}, {Key: []byte("zz/new"), Value: []byte("x")}})
	if _, ok, _ := st.Get(gk); ok {
		t.Fatal("deleted by an earlier block, still visible")
	}
	seen := map[string]string{}
	if err := st.Scan([]byte("zz/"), func(k, v []byte) bool { seen[string(k)] = string(v); return true }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen["zz/new"] != "x" {
		t.Fatalf("scan = %v, want the run's write", seen)
	}
	if _, ok, _ := n.store.State(ctx, []byte("zz/new")); ok {
		t.Fatal("run writes reached the store before the commit")
	}
}

// BenchmarkSyncApply is a node applying 20 synced blocks of 1,000
// record.put txs on real Pebble: certificate checks, execution, commit,
// engine catch-up. "runs" is applySynced (blocks executed on the run's
// earlier writes, one synced batch per run); "per-block" is the path it
// replaced (execute on committed state, one synced batch per block, engine
// moved and drained after each), kept here for comparison.
func BenchmarkSyncApply(b *testing.B) {
	const blocks, per = 20, 1000
	sc := newSyncChain(b, blocks, per, false)
	perBlock := func(ctx context.Context, l *loop) error {
		for _, cb := range sc.blocks {
			if err := l.n.verifyCertified(l.n.chainState(), cb); err != nil {
				return err
			}
			res, err := l.app.execute(cb.block)
			if err != nil {
				return err
			}
			if err := l.n.commitBlock(ctx, cb.block, cb.commit, res); err != nil {
				return err
			}
			l.app.reset()
			if err := l.eng.SyncTo(cb.block, cb.commit, res.next); err != nil {
				return err
			}
			if err := l.drain(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	runs := func(ctx context.Context, l *loop) error {
		return l.applySynced(ctx, syncBatch{blocks: sc.blocks, done: make(chan error, 1)})
	}
	for _, bc := range []struct {
		name  string
		apply func(context.Context, *loop) error
	}{{"runs", runs}, {"per-block", perBlock}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				n, err := New(Options{
					Genesis: sc.f.genesis, Key: chain.PrivateKeyFromSeed(seed32("observer")), DataDir: b.TempDir(),
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
				if err != nil {
					b.Fatal(err)
				}
				l, err := n.newLoop()
				if err != nil {
					b.Fatal(err)
				}
				l.eng.Start()
				ctx, cancel := context.WithCancel(context.Background())
				b.StartTimer()
				err = bc.apply(ctx, l)
				b.StopTimer()
				cancel()
				l.stopTimers()
				_ = n.closeStore()
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*blocks*per), "ns/tx")
		})
	}
}

// raiseMemoryLimit raises a set limit by the headroom while any caller
// holds it, and the last restore puts back the limit it found; with no
// limit set it changes nothing.
func TestRaiseMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(100 << 20)
	defer debug.SetMemoryLimit(prev)
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	r1 := raiseMemoryLimit(16 << 20)
	r2 := raiseMemoryLimit(16 << 20)
	if got := limit(); got != 116<<20 {
		t.Fatalf("limit %d while raised twice, want %d", got, 116<<20)
	}
	r1()
	if got := limit(); got != 116<<20 {
		t.Fatalf("limit %d after the first restore, want still %d", got, 116<<20)
	}
	r2()
	if got := limit(); got != 100<<20 {
		t.Fatalf("limit %d after both restores, want %d", got, 100<<20)
	}
	raiseMemoryLimit(0)()
	if got := limit(); got != 100<<20 {
		t.Fatalf("limit %d after a raise by 0, want %d", got, 100<<20)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	raiseMemoryLimit(16 << 20)()
	if got := limit(); got != math.MaxInt64 {
		t.Fatalf("no limit became %d", got)
	}
	// Only a catch-up batch gets headroom, not a block or two at the tip.
	for n, want := range map[int]int64{1: 0, syncFirstBlocks: 0, syncFirstBlocks + 1: syncMemoryHeadroom, syncBatchBlocks: syncMemoryHeadroom} {
		if got := syncHeadroom(n); got != want {
			t.Fatalf("headroom for %d blocks: %d, want %d", n, got, want)
		}
	}
}
