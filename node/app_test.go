package node

import (
	"context"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
)

func TestProposalSizeFollowsExecutionCost(t *testing.T) {
	g := &chain.Genesis{Params: chain.DefaultParams()}
	g.Params.TimeoutProposeMS = 1000
	g.Params.MaxBlockTxs = 10_000
	a := &app{n: &Node{genesis: g}}
	if got := a.maxProposalTxs(); got != 10_000 {
		t.Fatalf("before any measurement: %d, want the genesis limit", got)
	}
	// 100 µs per tx: a quarter of the 1 s timeout fits 2,500 txs.
	a.observe(1000, 100*time.Millisecond)
	if got := a.maxProposalTxs(); got != 2500 {
		t.Fatalf("at 100 µs/tx: %d, want 2500", got)
	}
	// Tiny blocks say nothing reliable about cost and are ignored.
	a.observe(3, time.Second)
	if got := a.maxProposalTxs(); got != 2500 {
		t.Fatalf("after a 3-tx block: %d, want 2500 unchanged", got)
	}
	// Very slow execution still leaves room for a useful block.
	a.observe(100, 10*time.Second)
	a.observe(100, 10*time.Second)
	if got := a.maxProposalTxs(); got != 100 {
		t.Fatalf("at 100 ms/tx: %d, want the floor of 100", got)
	}
}

// A validator computes each tx hash once (ValidateBlock) and the commit
// uses those hashes everywhere: the block event lists the txs' real
// hashes in order, the store indexes them, and the txs' signatures are
// remembered as verified under them. The event also carries the round the
// certificate decided the block in.
func TestCommitUsesBlockTxHashes(t *testing.T) {
	f := newBenchFixture(4)
	txs := f.txs(t, 12)
	blk, _ := f.proposal(t, f.node(t, 0), txs)
	v := f.node(t, 1)
	a := &app{n: v, cache: make(map[chain.Hash]*execResult)}
	if _, err := a.ValidateBlock(blk); err != nil {
		t.Fatal(err)
	}
	for i := range blk.Txs {
		if !v.mempool.Known(blk.Txs[i].Hash()) {
			t.Fatalf("tx %d not remembered as verified", i)
		}
	}
	res, err := a.result(blk)
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := v.events.subscribe()
	defer cancel()
	if err := v.commitBlock(context.Background(), blk, f.certifyRound(t, blk, 2), res); err != nil {
		t.Fatal(err)
	}
	evs := <-events
	if len(evs) == 0 || evs[0].Kind != "block" || len(evs[0].TxHashes) != len(blk.Txs) {
		t.Fatalf("block event %+v", evs)
	}
	if evs[0].Round == nil || *evs[0].Round != 2 {
		t.Fatalf("block event round %v, want 2 (the certificate's)", evs[0].Round)
	}
	for i := range blk.Txs {
		want := blk.Txs[i].Hash()
		if evs[0].TxHashes[i] != want {
			t.Fatalf("event tx %d: hash %s, want %s", i, evs[0].TxHashes[i].Short(), want.Short())
		}
		if h, idx, err := v.store.TxLocation(context.Background(), want); err != nil || h != blk.Height() || idx != uint32(i) {
			t.Fatalf("tx %d indexed at %d/%d (%v), want %d/%d", i, h, idx, err, blk.Height(), i)
		}
	}
}
