package p2p

import (
	"context"
	"errors"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// A proposal gossiped compact reaches a peer as a compact message (no
// transactions), and that peer fetches the transactions it lacks from the
// proposer, in the order it asks for them.
func TestCompactProposalAndProposalTxs(t *testing.T) {
	cs := newTestChainSet(t, 3)
	block := cs.buildChainPayload(t, 1, 12, 200)[0].Block
	proposer := cs.set.Proposer(1, 0)
	var key *chain.PrivateKey
	for _, k := range cs.keys {
		if k.Public() == proposer.PubKey {
			key = k
		}
	}
	src := &source{proposals: map[chain.Hash]*chain.Block{block.Hash(): block}}
	keys := []*chain.PrivateKey{key}
	for _, k := range cs.keys {
		if k != key {
			keys = append(keys, k)
		}
	}
	nodes := startCluster(t, keys, nodeOpts{src: src})
	prop := &chain.Proposal{Height: 1, Round: 0, POLRound: -1, BlockHash: block.Hash()}
	prop.Sign(testChain, key)
	msg := (&chain.Message{Proposal: prop, Block: block}).Compacted(nil)
	waitFor(t, "consensus topic peers", func() bool { return topicHasPeers(nodes[0].Host, kindConsensus, nodes[1].ID()) })
	if err := nodes[0].PublishConsensus(context.Background(), msg); err != nil {
		t.Fatalf("publish compact proposal: %v", err)
	}
	waitFor(t, "compact proposal delivered", func() bool { return nodes[1].rec.consCount() > 0 }, nodes[1].rec.notify)
	nodes[1].rec.mu.Lock()
	got := nodes[1].rec.cons[0]
	nodes[1].rec.mu.Unlock()
	if got.Compact == nil || got.Block != nil || len(got.Compact.TxHashes) != 12 || got.Compact.Hash() != block.Hash() {
		t.Fatalf("delivered %+v, want the compact proposal of %s", got, block.Hash().Short())
	}

	ctx := context.Background()
	idx := []uint32{7, 0, 11}
	want := []chain.Hash{got.Compact.TxHashes[7], got.Compact.TxHashes[0], got.Compact.TxHashes[11]}
	txs, err := nodes[1].FetchProposalTxs(ctx, nodes[0].ID(), block.Hash(), idx, want)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	for k := range txs {
		if txs[k].Hash() != want[k] {
			t.Fatalf("tx %d is %s, want %s", k, txs[k].Hash().Short(), want[k].Short())
		}
	}
	// A block the server does not hold: an error, and no penalty.
	if _, err := nodes[1].FetchProposalTxs(ctx, nodes[0].ID(), chain.Hash{1}, idx, want); !errors.Is(err, ErrSync) || errors.Is(err, ErrVerify) {
		t.Fatalf("unknown block: %v, want ErrSync", err)
	}
	// An index beyond the block.
	if _, err := nodes[1].FetchProposalTxs(ctx, nodes[0].ID(), block.Hash(), []uint32{12}, want[:1]); !errors.Is(err, ErrSync) {
		t.Fatalf("index out of range: %v, want ErrSync", err)
	}
	if _, err := nodes[1].FetchProposalTxs(ctx, nodes[0].ID(), block.Hash(), nil, nil); !errors.Is(err, ErrSync) {
		t.Fatalf("nothing asked: %v, want ErrSync", err)
	}
	if p := nodes[1].SyncPenalty(nodes[0].ID()); p != 0 {
		t.Fatalf("honest server penalised: %v", p)
	}
}

// A peer that answers with other transactions than the hashes asked for is
// penalised, and nothing it sent is returned.
func TestProposalTxsFromLiarRefused(t *testing.T) {
	cs := newTestChainSet(t, 2)
	block := cs.buildChainPayload(t, 1, 6, 50)[0].Block
	other := cs.buildChainPayload(t, 2, 6, 51)[1].Block
	// The liar serves other's txs under block's hash.
	liar := &source{proposals: map[chain.Hash]*chain.Block{block.Hash(): other}}
	nodes := startCluster(t, cs.keys, nodeOpts{src: liar})
	want := block.Compact(nil).TxHashes[:3]
	txs, err := nodes[1].FetchProposalTxs(context.Background(), nodes[0].ID(), block.Hash(), []uint32{0, 1, 2}, want)
	if !errors.Is(err, ErrVerify) || txs != nil {
		t.Fatalf("liar's txs: %d, %v; want ErrVerify and none", len(txs), err)
	}
	if p := nodes[1].SyncPenalty(nodes[0].ID()); p <= 0 {
		t.Fatalf("liar not penalised: %v", p)
	}
}

// A compact proposal whose proposal does not sign its header is rejected
// at publication, as receivers would.
func TestPublishCompactChecks(t *testing.T) {
	cs := newTestChainSet(t, 2)
	block := cs.buildChainPayload(t, 1, 4, 50)[0].Block
	nodes := startCluster(t, cs.keys, nodeOpts{})
	prop := &chain.Proposal{Height: 1, Round: 0, POLRound: -1, BlockHash: chain.Hash{9}}
	prop.Sign(testChain, cs.keys[0])
	bad := &chain.Message{Proposal: prop, Compact: block.Compact(nil)}
	if err := nodes[0].PublishConsensus(context.Background(), bad); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("mismatched compact proposal: %v, want ErrInvalidMessage", err)
	}
}
