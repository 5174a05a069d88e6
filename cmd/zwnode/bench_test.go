package main

import (
	"bytes"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
)

// TestSignLoadNonces checks the pre-signed stream: every tx decodes from
// its arena and verifies, its entry's hash, account and nonce are the
// tx's, a batch body is what chain.EncodeTxs writes, each account's nonces
// run 1, 2, … in stream order and per node after the split, and a second
// stream continues where the first stopped.
func TestSignLoadNonces(t *testing.T) {
	ops := newOperators("test", 6, []string{"tax", "market", "hrss", "credit"})
	stream, err := signLoad("zw-test", ops, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(stream.arenas) < 2 && runtime.GOMAXPROCS(0) > 1 {
		t.Fatalf("%d arenas from %d signing cores", len(stream.arenas), runtime.GOMAXPROCS(0))
	}
	txs := decodeLoad(t, stream, stream.txs)
	next := map[chain.PublicKey]uint64{}
	for i := range txs {
		tx := &txs[i]
		if err := tx.VerifySignature(); err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		if bt := stream.txs[i]; bt.hash != tx.Hash() || bt.account != tx.Account || bt.nonce != tx.Nonce || int(bt.size) != tx.EncodedLen() {
			t.Fatalf("tx %d: entry %s/%d/%d bytes, tx %s/%d/%d bytes", i, bt.hash.Short(), bt.nonce, bt.size, tx.Hash().Short(), tx.Nonce, tx.EncodedLen())
		}
		if tx.Type != ledger.TxRecordPut {
			t.Fatalf("tx %d: type %s", i, tx.Type)
		}
		if want := next[tx.Account] + 1; tx.Nonce != want {
			t.Fatalf("tx %d: nonce %d, want %d", i, tx.Nonce, want)
		}
		next[tx.Account] = tx.Nonce
	}
	if got, want := stream.batchBody(stream.txs[3:9]), chain.EncodeTxs(txs[3:9]); !bytes.Equal(got, want) {
		t.Fatalf("batch body of %d bytes differs from chain.EncodeTxs (%d bytes)", len(got), len(want))
	}
	for node, part := range splitByNode(stream.txs, len(ops), 4) {
		owner := map[chain.PublicKey]uint64{}
		for _, bt := range part {
			if last, ok := owner[bt.account]; ok && bt.nonce != last+1 {
				t.Fatalf("node %d: account nonce %d after %d", node, bt.nonce, last)
			}
			owner[bt.account] = bt.nonce
		}
	}
	for _, op := range ops {
		if op.nonce != next[op.key.Public()] {
			t.Fatalf("account nonce %d after signing, stream ended at %d", op.nonce, next[op.key.Public()])
		}
	}
	more, err := signLoad("zw-test", ops, 6, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range decodeLoad(t, more, more.txs) {
		if tx.Nonce != next[tx.Account]+1 {
			t.Fatalf("second stream starts at nonce %d, want %d", tx.Nonce, next[tx.Account]+1)
		}
	}
}

// decodeLoad decodes txs of l from the batch body the bench would post.
func decodeLoad(t *testing.T, l *benchLoad, txs []benchTx) []chain.Tx {
	t.Helper()
	out, err := chain.DecodeTxs(l.batchBody(txs), len(txs))
	if err != nil {
		t.Fatalf("decode %d pre-signed txs: %v", len(txs), err)
	}
	return out
}

// TestRecordPayloadSize checks the padded records land near the target
// size and name a valid enterprise subject.
func TestRecordPayloadSize(t *testing.T) {
	overhead := (&chain.Tx{ChainID: "zw-bench", Type: ledger.TxRecordPut}).EncodedLen()
	for _, dept := range []string{"tax", "market", "hrss"} {
		p, err := recordPayload(dept, 42, overhead)
		if err != nil {
			t.Fatal(err)
		}
		if size := overhead + len(p); size < benchTxTarget-40 || size > benchTxTarget+40 {
			t.Errorf("%s: tx of %d bytes, target %d", dept, size, benchTxTarget)
		}
	}
	if _, err := benchUSCC(7); err != nil {
		t.Fatal(err)
	}
}

func TestLatencyStats(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	s := latencyStats(lat)
	if s.Count != 100 || s.P50 != 50 || s.P90 != 90 || s.P99 != 99 || s.Max != 100 {
		t.Fatalf("got %+v", s)
	}
	if z := latencyStats(nil); z.Count != 0 {
		t.Fatalf("empty: %+v", z)
	}
}

func TestMedian(t *testing.T) {
	ps := []PhaseResult{{Label: "max", FinalizedTPS: 3}, {Label: "max", FinalizedTPS: 1}, {Label: "fixed", FinalizedTPS: 100}, {Label: "max", FinalizedTPS: 2}}
	if m := median(ps, "max", func(p *PhaseResult) float64 { return p.FinalizedTPS }); m != 2 {
		t.Fatalf("median %v, want 2", m)
	}
	if m := median(ps, "none", func(p *PhaseResult) float64 { return p.FinalizedTPS }); m != 0 {
		t.Fatalf("median of nothing %v", m)
	}
}

// TestReadProcStats reads this test process: it has used some CPU and
// holds some memory.
func TestReadProcStats(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	st, err := readProcStats(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSSMB <= 0 || st.PeakRSSMB < st.RSSMB || st.CPUSeconds < 0 {
		t.Fatalf("implausible stats %+v", st)
	}
	if _, err := readProcStats(-1); err == nil {
		t.Fatal("stats of pid -1 read without error")
	}
}

func TestBenchOptionsValidate(t *testing.T) {
	ok := benchOptions{nodes: 4, duration: time.Second, accounts: 1, batch: 1, maxTxs: 1, runs: 1, params: chain.DefaultParams()}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	auto := ok
	auto.maxTxs = 0 // sized from the window
	if err := auto.validate(); err != nil {
		t.Fatalf("--max-txs 0: %v", err)
	}
	for name, mut := range map[string]func(*benchOptions){
		"nodes":    func(o *benchOptions) { o.nodes = 0 },
		"rate":     func(o *benchOptions) { o.rate = -1 },
		"fraction": func(o *benchOptions) { o.rateFraction = 2 },
		"duration": func(o *benchOptions) { o.duration = 0 },
		"catchup":  func(o *benchOptions) { o.catchup, o.devnet = true, "x/devnet.json" },
		"max-txs":  func(o *benchOptions) { o.maxTxs = -1 },
		"max-txs+": func(o *benchOptions) { o.maxTxs = maxPreSigned + 1 },
	} {
		o := ok
		mut(&o)
		if o.validate() == nil {
			t.Errorf("%s: bad option accepted", name)
		}
	}
}

// The reported catch-up is the run with the median tx/s; of an even count
// the lower middle run, never an average that did not happen.
func TestMedianCatchUp(t *testing.T) {
	if medianCatchUp(nil) != nil {
		t.Fatal("median of no runs")
	}
	runs := []CatchUpResult{{TxPerS: 40_000, FromHeight: 1}, {TxPerS: 30_000, FromHeight: 2}, {TxPerS: 45_000, FromHeight: 3}}
	if m := medianCatchUp(runs); m.TxPerS != 40_000 || m.FromHeight != 1 {
		t.Fatalf("median of 3: %+v, want the 40,000 tx/s run", m)
	}
	if m := medianCatchUp(runs[1:]); m.TxPerS != 30_000 {
		t.Fatalf("median of 2: %+v, want the lower run", m)
	}
	if m := medianCatchUp(runs[:1]); m.TxPerS != 40_000 {
		t.Fatalf("median of 1: %+v", m)
	}
}

// Round changes are counted from the rounds the block events carry, for
// the blocks first seen inside the window only.
func TestBlockRoundsFromEvents(t *testing.T) {
	b := &benchRun{tr: newTracker(2)}
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	for i, r := range []uint32{0, 2, 0, 1, 3} {
		at := t0.Add(time.Duration(i) * time.Second)
		b.tr.onBlock(0, at, &benchEvent{Kind: "block", Height: uint64(i + 1), Round: r})
		// The same block seen later on another node changes nothing.
		b.tr.onBlock(1, at.Add(time.Second), &benchEvent{Kind: "block", Height: uint64(i + 1), Round: r})
	}
	if changed, maxRound := b.blockRounds(t0, t0.Add(4*time.Second)); changed != 3 || maxRound != 3 {
		t.Errorf("whole window: %d changed, max round %d; want 3 and 3", changed, maxRound)
	}
	if changed, maxRound := b.blockRounds(t0, t0.Add(2*time.Second)); changed != 1 || maxRound != 2 {
		t.Errorf("first three blocks: %d changed, max round %d; want 1 and 2", changed, maxRound)
	}
	if changed, maxRound := b.blockRounds(t0.Add(10*time.Second), t0.Add(20*time.Second)); changed != 0 || maxRound != 0 {
		t.Errorf("empty window: %d changed, max round %d", changed, maxRound)
	}
}

// A submission's latency runs from its submission to the block event of
// the node it was submitted to, counted once; a retry does not restart its
// clock; a block's own transactions are counted on its first sighting.
func TestTrackerLatency(t *testing.T) {
	tr := newTracker(2)
	t0 := time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)
	a, b, c := chain.HashBytes([]byte("a")), chain.HashBytes([]byte("b")), chain.HashBytes([]byte("c"))
	tr.submitted(0, t0, []chain.Hash{a, b})
	tr.submitted(1, t0.Add(100*time.Millisecond), []chain.Hash{c})
	tr.submitted(0, t0.Add(time.Second), []chain.Hash{a}) // a retry
	if n := tr.inflight(); n != 3 {
		t.Fatalf("%d in flight, want 3", n)
	}
	ev := &benchEvent{Kind: "block", Height: 1, TxCount: 4, TxHashes: []chain.Hash{a, c, chain.HashBytes([]byte("not ours"))}}
	tr.onBlock(1, t0.Add(300*time.Millisecond), ev) // first sighting; finalizes c only
	tr.onBlock(0, t0.Add(500*time.Millisecond), ev) // finalizes a
	tr.onBlock(0, t0.Add(900*time.Millisecond), ev) // a repeat changes nothing
	if got, want := tr.latencies, []time.Duration{200 * time.Millisecond, 500 * time.Millisecond}; !slices.Equal(got, want) {
		t.Fatalf("latencies %v, want %v", got, want)
	}
	if n := tr.inflight(); n != 1 {
		t.Fatalf("%d in flight, want 1 (b)", n)
	}
	if bs := tr.blocks[1]; bs.ours != 2 || bs.txs != 4 || !bs.at.Equal(t0.Add(300*time.Millisecond)) {
		t.Fatalf("block seen %+v, want 2 of ours, 4 txs, first at +300ms", bs)
	}
	tr.forget([]chain.Hash{a, b})
	if n := tr.inflight(); n != 0 {
		t.Fatalf("%d in flight after forgetting b, want 0", n)
	}
}
