package node

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/p2p"
)

// compactProposal signs a round-0 proposal of b by the fixture's first
// authority and returns it compact, as gossip carries it.
func (f *benchFixture) compactProposal(b *chain.Block) *chain.Message {
	p := &chain.Proposal{Height: b.Height(), Round: 0, POLRound: -1, BlockHash: b.Hash()}
	p.Sign(benchChain, f.authKeys[0])
	return (&chain.Message{Proposal: p, Block: b}).Compacted(nil)
}

// inboundBlock takes the message the assembler handed the consensus loop,
// nil if there is none.
func inboundBlock(n *Node) *chain.Message {
	select {
	case in := <-n.inbound:
		return in.msg
	default:
		return nil
	}
}

func counter(n *Node, outcome string) float64 {
	return testutil.ToFloat64(n.metrics.compactProposals.WithLabelValues(outcome))
}

// A validator holding every transaction of a compact proposal rebuilds the
// whole block from its mempool, hands it to consensus and keeps it to serve
// others; one whose transactions do not make up the signed header's tx root
// hands nothing on.
func TestAssembleFromMempool(t *testing.T) {
	f := newBenchFixture(8)
	txs := f.txs(t, 40)
	blk, _ := f.proposal(t, f.node(t, 0), txs)
	msg := f.compactProposal(blk)

	v := f.node(t, 1)
	for i := range txs {
		if _, err := v.mempool.AddVerified(&txs[i]); err != nil {
			t.Fatal(err)
		}
	}
	v.assembleProposal(context.Background(), assembleJob{msg: msg})
	got := inboundBlock(v)
	if got == nil || got.Block == nil || got.Compact != nil || got.Block.Hash() != blk.Hash() || len(got.Block.Txs) != 40 {
		t.Fatalf("consensus got %+v, want the whole block %s", got, blk.Hash().Short())
	}
	if string(got.Block.Encode()) != string(blk.Encode()) {
		t.Fatal("rebuilt block differs from the proposer's")
	}
	if counter(v, "mempool") != 1 || counter(v, "failed") != 0 {
		t.Fatalf("outcomes: mempool %v, failed %v", counter(v, "mempool"), counter(v, "failed"))
	}
	served, ok := (&syncSource{n: v}).ProposalTxs(blk.Hash(), []uint32{39, 2})
	if !ok || served[0].Hash() != blk.Txs[39].Hash() || served[1].Hash() != blk.Txs[2].Hash() {
		t.Fatalf("rebuilt proposal not served: ok %v", ok)
	}
	if _, ok := (&syncSource{n: v}).ProposalTxs(blk.Hash(), []uint32{40}); ok {
		t.Fatal("served an index beyond the block")
	}

	// Hashes in another order than the header's tx root commits to: the
	// proposer signed junk, and consensus never sees it.
	w := f.node(t, 2)
	for i := range txs {
		if _, err := w.mempool.AddVerified(&txs[i]); err != nil {
			t.Fatal(err)
		}
	}
	bad := *msg.Compact
	bad.TxHashes = append([]chain.Hash(nil), bad.TxHashes...)
	bad.TxHashes[0], bad.TxHashes[1] = bad.TxHashes[1], bad.TxHashes[0]
	w.assembleProposal(context.Background(), assembleJob{msg: &chain.Message{Proposal: msg.Proposal, Compact: &bad}})
	if got := inboundBlock(w); got != nil {
		t.Fatalf("a compact block that does not match its header reached consensus: %+v", got)
	}
	if counter(w, "failed") != 1 || w.proposals.get(blk.Hash()) != nil {
		t.Fatalf("failed %v, cached %v", counter(w, "failed"), w.proposals.get(blk.Hash()) != nil)
	}

	// Once the height is decided its proposals are dropped.
	v.proposals.prune(blk.Height())
	if v.proposals.get(blk.Hash()) != nil {
		t.Fatal("proposal kept after its height was committed")
	}
}

// startHost gives a fixture node a real libp2p host on loopback, admitting
// the fixture's authorities.
func (f *benchFixture) startHost(t *testing.T, n *Node, key int, bootstrap []string) {
	t.Helper()
	lk, err := crypto.UnmarshalEd25519PrivateKey(f.authKeys[key].Ed25519())
	if err != nil {
		t.Fatal(err)
	}
	auths := make([]chain.PublicKey, len(f.authKeys))
	for i, k := range f.authKeys {
		auths[i] = k.Public()
	}
	ctx, cancel := context.WithCancel(context.Background())
	h, err := p2p.New(ctx, p2p.Config{
		ChainID: benchChain, Key: lk, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap: bootstrap, Authorities: auths, Logger: n.log,
	}, &p2pHandler{n: n}, &syncSource{n: n})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(); cancel() })
	n.host = h
}

// A validator that lacks some transactions of a compact proposal fetches
// exactly those from the proposer, over a real libp2p connection.
func TestAssembleFetchesMissingTxs(t *testing.T) {
	f := newBenchFixture(8)
	txs := f.txs(t, 40)
	prop := f.node(t, 0)
	blk, _ := f.proposal(t, prop, txs)
	prop.proposals.put(blk.Hash(), blk)
	f.startHost(t, prop, 0, nil)
	var addrs []string
	for _, a := range prop.host.Addrs() {
		addrs = append(addrs, a.String()+"/p2p/"+prop.host.ID().String())
	}

	v := f.node(t, 1)
	f.startHost(t, v, 1, addrs)
	waitUntil(t, "validator connected to the proposer", func() bool {
		for _, p := range v.host.Peers() {
			if p.ID == prop.host.ID() && p.Connected {
				return true
			}
		}
		return false
	})
	// The validator has every other transaction.
	for i := 0; i < len(txs); i += 2 {
		if _, err := v.mempool.AddVerified(&txs[i]); err != nil {
			t.Fatal(err)
		}
	}
	// The proposal reached it through a peer it cannot ask (not connected):
	// the proposer, named by the proposal's signing key, is asked.
	v.assembleProposal(context.Background(), assembleJob{from: peer.ID("relay"), msg: f.compactProposal(blk)})
	got := inboundBlock(v)
	if got == nil || got.Block == nil || string(got.Block.Encode()) != string(blk.Encode()) {
		t.Fatalf("consensus got %+v, want the whole block %s", got, blk.Hash().Short())
	}
	fetched := testutil.ToFloat64(v.metrics.compactTxs.WithLabelValues("fetched"))
	pooled := testutil.ToFloat64(v.metrics.compactTxs.WithLabelValues("mempool"))
	if counter(v, "fetched") != 1 || fetched != 20 || pooled != 20 {
		t.Fatalf("outcome fetched %v, txs fetched %v and from the mempool %v; want 1, 20, 20", counter(v, "fetched"), fetched, pooled)
	}
	// Fetched transactions are not pending: they are verified with the
	// block (ValidateBlock), not admitted on the proposer's word.
	if v.mempool.Has(blk.Txs[1].Hash()) {
		t.Fatal("a fetched transaction entered the mempool")
	}
	if _, err := (&app{n: v, cache: make(map[chain.Hash]*execResult)}).ValidateBlock(got.Block); err != nil {
		t.Fatalf("rebuilt block does not validate: %v", err)
	}
}
