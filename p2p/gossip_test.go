package p2p

import (
	"bytes"
	"context"
	"errors"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

// An observer syncs and receives gossip. A vote it signs itself is
// rejected; an authority's signed vote that it relays is delivered, as
// from anyone (gossip messages have no author of their own).
func TestObserverSyncsAndListensButCannotVote(t *testing.T) {
	cs := newTestChainSet(t, 3)
	blocks := cs.buildChain(t, 20, 2)
	obsKey := seedKey("observer")
	obsID := peerID(t, obsKey)
	nodes := startCluster(t, cs.keys, nodeOpts{observers: []peer.ID{obsID}, src: &source{blocks: blocks}})
	obs := startNode(t, obsKey, nodeOpts{authorities: publicKeys(cs.keys), bootstrap: addrStrings(nodes[0])})
	waitFor(t, "observer in node 0's mesh", func() bool { return meshed(nodes[0].Host, obs.Host) && meshed(obs.Host, nodes[0].Host) })
	ctx := context.Background()

	got, err := obs.FetchBlocks(ctx, nodes[0].ID(), 1, 20, cs.verifier())
	if err != nil || len(got) != 20 {
		t.Fatalf("observer fetched %d blocks: %v", len(got), err)
	}
	if st, err := obs.FetchStatus(ctx, nodes[0].ID()); err != nil || st.Height != 20 || st.Head != blocks[19].Block.Hash() {
		t.Fatalf("status %+v, %v", st, err)
	}

	txs := signedTxs(testChain, seedKey("account"), 1, 2, 16)
	if err := nodes[1].PublishTxs(ctx, txs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "observer receives txs", func() bool { return obs.rec.hasTx(txs[1].Hash()) }, obs.rec.notify)

	own := signedVote(testChain, obsKey, 3, 1)
	if err := obs.PublishConsensus(ctx, &chain.Message{Vote: own}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("observer published a vote signed by itself: %v", err)
	}
	// Bypass the local check to see what the authorities do with it.
	if err := obs.gossip.topics[kindConsensus].Publish(ctx, (&chain.Message{Vote: own}).Encode()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node 0 rejected the observer's vote", func() bool { return nodes[0].Stats().Consensus.Rejected >= 1 })
	// A vote an authority signed is delivered whoever first gossips it:
	// gossip messages have no author of their own, and the observer
	// cannot make an authority's signature.
	relayed := signedVote(testChain, cs.keys[0], 3, 2)
	if err := obs.PublishConsensus(ctx, &chain.Message{Vote: relayed}); err != nil {
		t.Fatal(err)
	}

	marker := signedVote(testChain, cs.keys[2], 3, 3)
	if err := nodes[2].PublishConsensus(ctx, &chain.Message{Vote: marker}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{nodes[0], nodes[1], obs} {
		waitFor(t, "authority vote delivered", func() bool { return n.rec.hasVote(marker) }, n.rec.notify)
	}
	for _, n := range nodes {
		waitFor(t, "relayed authority vote delivered", func() bool { return n.rec.hasVote(relayed) }, n.rec.notify)
		if n.rec.hasVote(own) {
			t.Fatalf("the observer's own vote reached %s", n.ID())
		}
	}
	if s := nodes[0].Stats().Consensus.Rejected; s != 1 {
		t.Fatalf("node 0 rejected %d consensus messages, want 1 (the observer's own vote)", s)
	}
	for _, p := range nodes[0].Peers() {
		if p.ID == obsID && (p.Role != RoleObserver || !p.Connected) {
			t.Fatalf("observer listed as %+v", p)
		}
	}
}

// rawGossipOptions make a stock gossipsub router speak our wire rules
// (unsigned messages, content ids), so that what it publishes is judged
// by our validators and admission, not refused for its signature policy.
func rawGossipOptions() []pubsub.Option {
	return []pubsub.Option{pubsub.WithMessageSignaturePolicy(gossipSignaturePolicy), pubsub.WithMessageIdFn(messageID)}
}

// rawPublisher is an admitted key running plain gossipsub with no
// validators, so it can put anything on the wire.
type rawPublisher struct {
	id     peer.ID
	topics map[string]*pubsub.Topic
}

func newRawPublisher(t *testing.T, key *chain.PrivateKey, to *node) *rawPublisher {
	t.Helper()
	h := stockHost(t, key)
	ctx := context.Background()
	ps, err := pubsub.NewGossipSub(ctx, h, append(rawGossipOptions(), pubsub.WithMaxMessageSize(8<<20))...)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawPublisher{id: h.ID(), topics: make(map[string]*pubsub.Topic)}
	for _, k := range kindNames {
		tp, err := ps.Join(TopicName(testChain, k))
		if err != nil {
			t.Fatal(err)
		}
		r.topics[k] = tp
	}
	if err := h.Connect(ctx, addrInfo(to)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "raw publisher sees the node on every topic", func() bool {
		for _, tp := range r.topics {
			if len(tp.ListPeers()) == 0 {
				return false
			}
		}
		return true
	})
	return r
}

func (r *rawPublisher) publish(t *testing.T, kind string, data []byte) {
	t.Helper()
	if err := r.topics[kind].Publish(context.Background(), data); err != nil {
		t.Fatalf("raw publish on %s: %v", kind, err)
	}
}

// A message that arrives again (here the same batch published by two
// peers, which do not subscribe, so the node sends them nothing) is
// counted as a duplicate and delivered once.
func TestDuplicateMessagesCounted(t *testing.T) {
	keys := authorityKeys(3)
	nodes := startCluster(t, keys[:1], nodeOpts{authorities: publicKeys(keys)})
	raw1 := newRawPublisher(t, keys[1], nodes[0])
	raw2 := newRawPublisher(t, keys[2], nodes[0])
	account := seedKey("account")
	batch := chain.EncodeTxs(signedTxs(testChain, account, 1, 3, 16))
	raw1.publish(t, "txs", batch)
	raw2.publish(t, "txs", batch)
	n := nodes[0]
	waitFor(t, "the second copy counted", func() bool { return n.Stats().Txs.Duplicate >= 1 })
	// A later batch is delivered too: both copies were handled by then.
	marker := signedTxs(testChain, account, 4, 1, 16)
	raw1.publish(t, "txs", chain.EncodeTxs(marker))
	waitFor(t, "marker", func() bool { return n.rec.hasTx(marker[0].Hash()) }, n.rec.notify)
	s := n.Stats()
	if s.Txs.Duplicate != 1 || s.Txs.In != 2 || s.TxsIn != 4 {
		t.Fatalf("stats %+v, TxsIn %d: want 1 duplicate, 2 batches and 4 txs delivered", s.Txs, s.TxsIn)
	}
}

// Garbage, oversized, wrong-chain and badly signed messages from an admitted
// peer are rejected by the first node, never relayed, and lower the sender's
// score.
func TestInvalidMessagesRejectedNotRelayedAndScored(t *testing.T) {
	keys := authorityKeys(4)
	// Node 3's key is admitted but run by a raw publisher connected to node 0 only.
	nodes := startCluster(t, keys[:3], nodeOpts{authorities: publicKeys(keys), maxTxBytes: 64 << 10})
	raw := newRawPublisher(t, keys[3], nodes[0])
	account := seedKey("account")

	// A valid batch from the raw publisher travels: the path works.
	good := signedTxs(testChain, account, 1, 2, 16)
	raw.publish(t, "txs", chain.EncodeTxs(good))
	for _, n := range nodes {
		waitFor(t, "valid raw batch delivered", func() bool { return n.rec.hasTx(good[0].Hash()) }, n.rec.notify)
	}

	wrongChain := signedTxs("other-chain", account, 5, 1, 16)
	badSig := signedTxs(testChain, account, 6, 1, 16)
	badSig[0].Signature[0] ^= 0xff
	oversized := signedTxs(testChain, account, 7, 1, 100<<10) // one valid tx, batch above 64 KiB
	badVote := signedVote(testChain, keys[3], 2, 9)
	badVote.Signature[5] ^= 0xff
	wrongChainVote := signedVote("other-chain", keys[3], 2, 8)
	cases := []struct {
		kind string
		data []byte
	}{
		{"txs", []byte("definitely not a tx batch")},
		{"txs", chain.EncodeTxs(wrongChain)},
		{"txs", chain.EncodeTxs(badSig)},
		{"txs", chain.EncodeTxs(oversized)},
		{"consensus", bytes.Repeat([]byte{0xee}, 300)},
		{"consensus", (&chain.Message{Vote: badVote}).Encode()},
		{"consensus", (&chain.Message{Vote: wrongChainVote}).Encode()},
		{"evidence", []byte{1, 2, 3}},
	}
	for _, c := range cases {
		raw.publish(t, c.kind, c.data)
	}
	waitFor(t, "node 0 rejected every invalid message", func() bool {
		s := nodes[0].Stats()
		return s.Txs.Rejected == 4 && s.Consensus.Rejected == 3 && s.Evidence.Rejected == 1
	})
	waitFor(t, "raw publisher's score drops below zero", func() bool {
		s, ok := nodes[0].PeerScore(raw.id)
		return ok && s < 0
	})
	for _, p := range nodes[0].Peers() {
		if p.ID == raw.id && p.Score >= 0 {
			t.Fatalf("Peers() shows score %v for the raw publisher", p.Score)
		}
	}

	// Flush: a message published after the bad ones reaches every node, so
	// anything relayed would have been seen by now.
	marker := signedTxs(testChain, account, 100, 1, 16)
	if err := nodes[0].PublishTxs(context.Background(), marker); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		waitFor(t, "marker", func() bool { return n.rec.hasTx(marker[0].Hash()) }, n.rec.notify)
		s := n.Stats()
		if s.Txs.Rejected+s.Consensus.Rejected+s.Evidence.Rejected != 0 {
			t.Fatalf("invalid messages were relayed to %s: %+v", n.ID(), s)
		}
	}
	for _, n := range nodes {
		if n.rec.consCount() != 0 {
			t.Fatalf("an invalid consensus message was delivered")
		}
		for _, tx := range [][]chain.Tx{wrongChain, badSig, oversized} {
			if n.rec.hasTx(tx[0].Hash()) {
				t.Fatalf("an invalid tx was delivered")
			}
		}
	}
}

// Consensus messages far from our height are ignored (no penalty); those
// near it pass.
func TestStaleConsensusIgnored(t *testing.T) {
	keys := authorityKeys(2)
	nodes := startCluster(t, keys, nodeOpts{})
	nodes[1].SetHeight(100)
	ctx := context.Background()
	stale := signedVote(testChain, keys[0], 50, 1)
	future := signedVote(testChain, keys[0], 100+maxFutureHeights+1, 1)
	current := signedVote(testChain, keys[0], 99, 1)
	for _, v := range []*chain.Vote{stale, future, current} {
		if err := nodes[0].PublishConsensus(ctx, &chain.Message{Vote: v}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "current vote delivered", func() bool { return nodes[1].rec.hasVote(current) }, nodes[1].rec.notify)
	waitFor(t, "two ignored", func() bool { return nodes[1].Stats().Consensus.Ignored == 2 })
	if nodes[1].rec.hasVote(stale) || nodes[1].rec.hasVote(future) {
		t.Fatalf("stale vote delivered")
	}
	if s := nodes[1].Stats().Consensus.Rejected; s != 0 {
		t.Fatalf("stale votes counted as rejected: %d", s)
	}
}

// Publish refuses what receivers would reject, before it leaves the node.
func TestPublishChecksOutgoing(t *testing.T) {
	keys := authorityKeys(1)
	n := startNode(t, keys[0], nodeOpts{authorities: publicKeys(keys), maxTxBytes: 4 << 10})
	ctx := context.Background()
	wrong := signedTxs("other-chain", seedKey("a"), 1, 1, 8)
	if err := n.PublishTxs(ctx, wrong); err == nil {
		t.Fatal("wrong chain id published")
	}
	if err := n.PublishTxs(ctx, nil); err == nil {
		t.Fatal("empty batch published")
	}
	if err := n.PublishTxs(ctx, signedTxs(testChain, seedKey("a"), 1, 1, 8<<10)); err == nil {
		t.Fatal("oversized batch published")
	}
	v := signedVote(testChain, keys[0], 1, 1)
	v.Signature[0] ^= 1
	if err := n.PublishConsensus(ctx, &chain.Message{Vote: v}); err == nil {
		t.Fatal("badly signed vote published")
	}
	if s := n.Stats(); s.Txs.Out+s.Consensus.Out != 0 {
		t.Fatalf("counted %+v out", s)
	}
}

// Valid evidence is delivered; evidence whose signature does not verify is
// refused at Publish.
func TestEvidenceGossip(t *testing.T) {
	keys := authorityKeys(2)
	nodes := startCluster(t, keys, nodeOpts{})
	waitFor(t, "evidence topic meshed", func() bool { return topicHasPeers(nodes[0].Host, kindEvidence, nodes[1].ID()) })
	a, b := signedVote(testChain, keys[1], 4, 1), signedVote(testChain, keys[1], 4, 2)
	ev := chain.NewDuplicateVoteEvidence(a, b)
	ctx := context.Background()
	if err := nodes[0].PublishEvidence(ctx, ev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "evidence delivered", func() bool {
		nodes[1].rec.mu.Lock()
		defer nodes[1].rec.mu.Unlock()
		return len(nodes[1].rec.evs) == 1 && nodes[1].rec.evs[0].Hash() == ev.Hash()
	}, nodes[1].rec.notify)

	forged := *b
	forged.Signature[0] ^= 1
	if err := nodes[0].PublishEvidence(ctx, chain.NewDuplicateVoteEvidence(a, &forged)); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("forged evidence: %v", err)
	}
}
