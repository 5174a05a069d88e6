package node

import (
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
