package p2p

import (
	"context"
	"testing"
)

// Seven authorities each know only node 0; the private DHT must connect
// them all to each other, and a message from node 6 must reach everyone.
func TestDHTDiscoveryConnectsAllAndGossipReachesEveryone(t *testing.T) {
	keys := authorityKeys(7)
	auths := publicKeys(keys)
	nodes := make([]*node, len(keys))
	nodes[0] = startNode(t, keys[0], nodeOpts{authorities: auths, dht: true, quic: true})
	boot := addrStrings(nodes[0])
	for i := 1; i < len(keys); i++ {
		nodes[i] = startNode(t, keys[i], nodeOpts{authorities: auths, dht: true, bootstrap: boot, quic: true, direct: true})
	}
	waitFor(t, "full mesh of connections", func() bool {
		for _, a := range nodes {
			for _, b := range nodes {
				if a != b && !connected(a.Host, b.ID()) {
					return false
				}
			}
		}
		return true
	})
	for i, n := range nodes {
		if ps := n.Peers(); len(ps) != len(nodes)-1 {
			t.Fatalf("node %d lists %d peers, want %d", i, len(ps), len(nodes)-1)
		}
	}

	src := nodes[6]
	others := nodes[:6]
	waitFor(t, "node 6 sees every node on the txs topic", func() bool {
		for _, o := range others {
			if !topicHasPeers(src.Host, kindTxs, o.ID()) {
				return false
			}
		}
		return true
	})
	txs := signedTxs(testChain, seedKey("account"), 1, 3, 32)
	if err := src.PublishTxs(context.Background(), txs); err != nil {
		t.Fatal(err)
	}
	for i, o := range others {
		waitFor(t, "tx batch at every node", func() bool {
			for j := range txs {
				if !o.rec.hasTx(txs[j].Hash()) {
					return false
				}
			}
			return true
		}, o.rec.notify)
		if got := o.Stats().TxsIn; got != uint64(len(txs)) {
			t.Fatalf("node %d counted %d txs in, want %d", i, got, len(txs))
		}
	}
	if got := src.Stats().Txs.Out; got != 1 {
		t.Fatalf("publisher counted %d messages out, want 1", got)
	}
	if src.rec.txCount() != 0 {
		t.Fatalf("publisher's own message was handed back to it")
	}
}
