package main

import (
	"os"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
)

// TestSignLoadNonces checks the pre-signed stream: every tx verifies, each
// account's nonces run 1, 2, … in stream order and per node after the
// split, and a second stream continues where the first stopped.
func TestSignLoadNonces(t *testing.T) {
	ops := newOperators("test", 6, []string{"tax", "market", "hrss", "credit"})
	stream, err := signLoad("zw-test", ops, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	next := map[chain.PublicKey]uint64{}
	for i := range stream {
		tx := &stream[i].tx
		if err := tx.VerifySignature(); err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		if stream[i].hash != tx.Hash() {
			t.Fatalf("tx %d: stored hash differs", i)
		}
		if tx.Type != ledger.TxRecordPut {
			t.Fatalf("tx %d: type %s", i, tx.Type)
		}
		if want := next[tx.Account] + 1; tx.Nonce != want {
			t.Fatalf("tx %d: nonce %d, want %d", i, tx.Nonce, want)
		}
		next[tx.Account] = tx.Nonce
	}
	for node, part := range splitByNode(stream, len(ops), 4) {
		owner := map[chain.PublicKey]uint64{}
		for _, bt := range part {
			if last, ok := owner[bt.tx.Account]; ok && bt.tx.Nonce != last+1 {
				t.Fatalf("node %d: account nonce %d after %d", node, bt.tx.Nonce, last)
			}
			owner[bt.tx.Account] = bt.tx.Nonce
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
	for _, bt := range more {
		if bt.tx.Nonce != next[bt.tx.Account]+1 {
			t.Fatalf("second stream starts at nonce %d, want %d", bt.tx.Nonce, next[bt.tx.Account]+1)
		}
	}
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
