package p2p

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/zwnode/zwnode/chain"
)

// startCluster starts n authorities, all bootstrapped to node 0.
func startCluster(t *testing.T, keys []*chain.PrivateKey, o nodeOpts) []*node {
	t.Helper()
	if o.authorities == nil {
		o.authorities = publicKeys(keys)
	}
	nodes := []*node{startNode(t, keys[0], o)}
	o.bootstrap = addrStrings(nodes[0])
	for _, k := range keys[1:] {
		nodes = append(nodes, startNode(t, k, o))
	}
	waitFor(t, "cluster meshed around node 0", func() bool {
		for _, a := range nodes[1:] {
			if !meshed(nodes[0].Host, a.Host) || !meshed(a.Host, nodes[0].Host) {
				return false
			}
		}
		return true
	})
	return nodes
}

// stockHost is a plain libp2p host with an arbitrary key, outside our
// admission and without our validators.
func stockHost(t *testing.T, key *chain.PrivateKey, opts ...libp2p.Option) host.Host {
	t.Helper()
	lk, err := KeyFromChain(key)
	if err != nil {
		t.Fatal(err)
	}
	base := []libp2p.Option{libp2p.Identity(lk), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics()}
	h, err := libp2p.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func addrInfo(n *node) peer.AddrInfo {
	return peer.AddrInfo{ID: n.ID(), Addrs: n.h.Addrs()}
}

// An unknown key can connect at the transport level for a moment, but can
// neither open a stream nor get a message to any node.
func TestUnknownPeerCannotStreamOrPublish(t *testing.T) {
	nodes := startCluster(t, authorityKeys(3), nodeOpts{quic: true})
	stranger := stockHost(t, seedKey("stranger"), libp2p.ListenAddrStrings("/ip4/127.0.0.1/udp/0/quic-v1"))
	ctx := context.Background()

	ps, err := pubsub.NewGossipSub(ctx, stranger, rawGossipOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	topic, err := ps.Join(TopicName(testChain, "txs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		_ = stranger.Connect(ctx, addrInfo(n)) // may "succeed"; admission is judged below
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := stranger.NewStream(sctx, n.ID(), n.syncProtocol())
		cancel()
		if err == nil {
			_ = s.Reset()
			t.Fatalf("stranger opened a sync stream to %s", n.ID())
		}
	}
	waitFor(t, "every node refused the stranger", func() bool {
		for _, n := range nodes {
			if n.Stats().GaterRefused == 0 || connected(n.Host, stranger.ID()) {
				return false
			}
		}
		return true
	})
	bad := signedTxs(testChain, seedKey("stranger-account"), 1, 2, 16)
	if err := topic.Publish(ctx, chain.EncodeTxs(bad)); err != nil {
		t.Fatal(err)
	}
	if peers := topic.ListPeers(); len(peers) != 0 {
		t.Fatalf("stranger has gossip peers %v", peers)
	}

	// A marker published afterwards by an authority reaches everyone; the
	// stranger's batch must not have.
	marker := signedTxs(testChain, seedKey("account"), 1, 1, 16)
	if err := nodes[1].PublishTxs(ctx, marker); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{nodes[0], nodes[2]} {
		waitFor(t, "marker delivered", func() bool { return n.rec.hasTx(marker[0].Hash()) }, n.rec.notify)
	}
	for _, n := range nodes {
		for i := range bad {
			if n.rec.hasTx(bad[i].Hash()) {
				t.Fatalf("stranger's tx reached %s", n.ID())
			}
		}
	}

	// Our side refuses to dial the stranger too.
	if err := nodes[0].h.Connect(ctx, peer.AddrInfo{ID: stranger.ID(), Addrs: stranger.Addrs()}); err == nil {
		t.Fatalf("node dialled a peer that is not admitted")
	}
}

// Removing an authority closes its connections and keeps it out.
func TestSetAuthoritiesDropsRemovedPeer(t *testing.T) {
	keys := authorityKeys(3)
	nodes := startCluster(t, keys, nodeOpts{})
	gone := nodes[2]
	remaining := publicKeys(keys[:2])
	for _, n := range nodes[:2] {
		n.SetAuthorities(remaining)
	}
	waitFor(t, "removed authority disconnected", func() bool {
		return !connected(nodes[0].Host, gone.ID()) && !connected(nodes[1].Host, gone.ID())
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := gone.FetchStatus(ctx, nodes[0].ID()); err == nil {
		t.Fatalf("removed authority could still use the sync protocol")
	}
	for _, p := range nodes[0].Peers() {
		if p.ID == gone.ID() {
			t.Fatalf("removed authority still listed: %+v", p)
		}
	}
}

func testPSK(b byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

// With a pre-shared key, members connect and gossip; a peer without the key
// (even an admitted one) cannot open a stream or deliver a message.
func TestPrivateNetwork(t *testing.T) {
	keys := authorityKeys(3)
	psk := testPSK(7)
	auths := publicKeys(keys)
	nodes := startCluster(t, keys[:2], nodeOpts{authorities: auths, psk: psk})
	ctx := context.Background()

	txs := signedTxs(testChain, seedKey("account"), 1, 2, 16)
	if err := nodes[0].PublishTxs(ctx, txs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "gossip inside the private network", func() bool { return nodes[1].rec.hasTx(txs[0].Hash()) }, nodes[1].rec.notify)

	// The third authority has no key: same admission, wrong network.
	outsider := startNode(t, keys[2], nodeOpts{authorities: auths, bootstrap: addrStrings(nodes[0])})
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := outsider.FetchStatus(sctx, nodes[0].ID()); err == nil {
		t.Fatalf("peer without the pre-shared key used the sync protocol")
	}
	// A stock host with the wrong key fares no better.
	wrong := stockHost(t, seedKey("wrong-psk"), libp2p.PrivateNetwork(pnet.PSK(testPSK(9))),
		libp2p.Transport(tcp.NewTCPTransport))
	_ = wrong.Connect(ctx, addrInfo(nodes[0]))
	if s, err := wrong.NewStream(sctx, nodes[0].ID(), nodes[0].syncProtocol()); err == nil {
		_ = s.Reset()
		t.Fatalf("peer with the wrong pre-shared key opened a stream")
	}
	bad := signedTxs(testChain, seedKey("outsider-account"), 1, 1, 16)
	if err := outsider.PublishTxs(ctx, bad); err != nil && !errors.Is(err, pubsub.ErrTopicClosed) {
		t.Logf("outsider publish: %v", err)
	}
	marker := signedTxs(testChain, seedKey("account"), 10, 1, 16)
	if err := nodes[1].PublishTxs(ctx, marker); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "marker", func() bool { return nodes[0].rec.hasTx(marker[0].Hash()) }, nodes[0].rec.notify)
	for _, n := range nodes {
		if n.rec.hasTx(bad[0].Hash()) {
			t.Fatalf("outsider's tx crossed into the private network")
		}
		if connected(n.Host, outsider.ID()) {
			t.Fatalf("outsider connected")
		}
	}
	if n := outsider.h.Network().Connectedness(nodes[0].ID()); n == network.Connected {
		t.Fatalf("outsider sees a connection")
	}
}

func TestPSKRejectsQUIC(t *testing.T) {
	lk, err := KeyFromChain(seedKey("psk-quic"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Config{
		ChainID: testChain, Key: lk, PSK: testPSK(1),
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"},
	}, newRecorder(), &source{})
	if !errors.Is(err, ErrPSKQUIC) {
		t.Fatalf("got %v, want ErrPSKQUIC", err)
	}
}

func TestConfigErrors(t *testing.T) {
	lk, err := KeyFromChain(seedKey("cfg"))
	if err != nil {
		t.Fatal(err)
	}
	good := Config{ChainID: testChain, Key: lk, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}}
	for name, mutate := range map[string]func(*Config){
		"bad chain id":  func(c *Config) { c.ChainID = "Bad Chain" },
		"no key":        func(c *Config) { c.Key = nil },
		"no listen":     func(c *Config) { c.ListenAddrs = nil },
		"bad listen":    func(c *Config) { c.ListenAddrs = []string{"not-an-addr"} },
		"short psk":     func(c *Config) { c.PSK = []byte{1, 2, 3} },
		"bad bootstrap": func(c *Config) { c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1"} },
	} {
		c := good
		mutate(&c)
		if _, err := New(context.Background(), c, newRecorder(), &source{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", name, err)
		}
	}
}
