package p2p

import (
	"context"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/prometheus/client_golang/prometheus"
)

// With a registerer, libp2p's metrics and our counters are exported.
func TestPrometheusMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	lk, err := KeyFromChain(seedKey("metrics"))
	if err != nil {
		t.Fatal(err)
	}
	keys := authorityKeys(1)
	h, err := New(context.Background(), Config{
		ChainID: testChain, Key: lk, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Authorities: publicKeys(keys), Registerer: reg, Logger: testLogger(),
	}, newRecorder(), &source{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	if err := h.PublishTxs(context.Background(), signedTxs(testChain, seedKey("a"), 1, 1, 8)); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var ours, libp2p bool
	for _, f := range families {
		switch name := f.GetName(); {
		case name == "zwnode_p2p_gossip_messages_total":
			for _, m := range f.GetMetric() {
				if m.GetCounter().GetValue() == 1 {
					ours = true
				}
			}
		case len(name) > 7 && name[:7] == "libp2p_":
			libp2p = true
		}
	}
	if !ours || !libp2p {
		t.Fatalf("metrics missing: ours=%v libp2p=%v", ours, libp2p)
	}
}

func TestStartCancelled(t *testing.T) {
	lk, err := KeyFromChain(seedKey("cancelled"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(ctx, Config{ChainID: testChain, Key: lk, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}}, newRecorder(), &source{}); err == nil {
		t.Fatal("started with a cancelled context")
	}
}

// An outgoing RPC dropped for a full send queue counts each message it
// carried as dropped, under the message's own topic.
func TestDroppedRPCCounted(t *testing.T) {
	g := &gossip{}
	for k := range numKinds {
		g.names[k] = TopicName(testChain, kindNames[k])
	}
	c := &counters{}
	tr := &tracer{c: c, kindOf: g.kindOf}
	txs, cons := g.names[kindTxs], g.names[kindConsensus]
	tr.DropRPC(&pubsub.RPC{RPC: pb.RPC{Publish: []*pb.Message{{Topic: &txs}, {Topic: &txs}, {Topic: &cons}}}}, "")
	tr.DropRPC(&pubsub.RPC{RPC: pb.RPC{}}, "") // control only: nothing lost
	s := c.snapshot()
	if s.Txs.Dropped != 2 || s.Consensus.Dropped != 1 || s.Evidence.Dropped != 0 {
		t.Fatalf("dropped txs %d consensus %d evidence %d, want 2, 1, 0", s.Txs.Dropped, s.Consensus.Dropped, s.Evidence.Dropped)
	}
}
