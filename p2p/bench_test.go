package p2p

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

// arrivals is a Handler that timestamps consensus messages by round and
// counts transactions.
type arrivals struct {
	mu     sync.Mutex
	rounds map[uint32]time.Time
	txs    int
	notify chan struct{}
}

func newArrivals() *arrivals {
	return &arrivals{rounds: make(map[uint32]time.Time), notify: make(chan struct{}, 1)}
}

func (a *arrivals) wake() {
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

func (a *arrivals) HandleTxs(_ peer.ID, txs []chain.Tx) {
	a.mu.Lock()
	a.txs += len(txs)
	a.mu.Unlock()
	a.wake()
}

func (a *arrivals) HandleConsensus(_ peer.ID, m *chain.Message) {
	a.mu.Lock()
	a.rounds[m.Round()] = time.Now()
	a.mu.Unlock()
	a.wake()
}

func (a *arrivals) HandleEvidence(peer.ID, *chain.Evidence) {}

func (a *arrivals) arrived(round uint32) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.rounds[round]
	return t, ok
}

func (a *arrivals) txCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.txs
}

// benchCluster starts n authorities that all bootstrap to every earlier
// node, and waits until each sees the others on the given topic.
//
// The caller closes the hosts (closeHosts) when its round ends. A
// benchmark function runs once per b.N tried, and Cleanup runs only after
// the last: hosts left open would share peer IDs with the next round's
// and, with content message ids, swallow its messages as seen.
func benchCluster(b testing.TB, n int, kind int, handlers []Handler, srcs []SyncSource) []*Host {
	b.Helper()
	keys := authorityKeys(n)
	auths := publicKeys(keys)
	var hosts []*Host
	var boot []string
	for i, k := range keys {
		lk, err := KeyFromChain(k)
		if err != nil {
			b.Fatal(err)
		}
		var src SyncSource = &source{}
		if srcs != nil {
			src = srcs[i]
		}
		h, err := New(context.Background(), Config{
			ChainID: testChain, Key: lk, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
			Bootstrap: boot, Authorities: auths, Logger: testLogger(),
		}, handlers[i], src)
		if err != nil {
			b.Fatal(err)
		}
		hosts = append(hosts, h)
		for _, a := range h.Addrs() {
			boot = append(boot, a.String())
		}
	}
	waitFor(b, "bench cluster meshed", func() bool {
		for _, h := range hosts {
			for _, o := range hosts {
				if h != o && !topicHasPeers(h, kind, o.ID()) {
					return false
				}
			}
		}
		return true
	})
	return hosts
}

func closeHosts(hosts []*Host) {
	for _, h := range hosts {
		_ = h.Close()
	}
}

// proposalOf builds a ~size-byte proposal message for round r around one
// fixed block.
func proposalBlock(key *chain.PrivateKey, size int) *chain.Block {
	const txPayload = 4 << 10
	txs := signedTxs(testChain, seedKey("bench-account"), 1, size/(txPayload+200), txPayload)
	b := &chain.Block{Header: chain.Header{
		ChainID: testChain, Height: 1, Time: 1, PrevHash: genesisHash,
		Proposer: key.Public(), AuthoritySetHash: chain.HashBytes([]byte("set")),
	}, Txs: txs}
	b.Fill()
	return b
}

// BenchmarkProposalPropagation publishes a 1 MiB proposal from one node and
// measures when each of 7 peers has it validated and delivered.
func BenchmarkProposalPropagation(b *testing.B) {
	const peers = 7
	handlers := make([]Handler, peers+1)
	arr := make([]*arrivals, peers+1)
	for i := range handlers {
		arr[i] = newArrivals()
		handlers[i] = arr[i]
	}
	hosts := benchCluster(b, peers+1, kindConsensus, handlers, nil)
	defer closeHosts(hosts)
	key := authorityKeys(1)[0]
	block := proposalBlock(key, 1<<20)
	msgs := make([]*chain.Message, b.N)
	for i := range msgs {
		p := &chain.Proposal{Height: 1, Round: uint32(i), POLRound: -1, BlockHash: block.Hash()}
		p.Sign(testChain, key)
		msgs[i] = &chain.Message{Proposal: p, Block: block}
	}
	b.SetBytes(int64(len(msgs[0].Encode())))
	var lat []time.Duration
	ctx := context.Background()
	b.ResetTimer()
	for i, m := range msgs {
		start := time.Now()
		if err := hosts[0].PublishConsensus(ctx, m); err != nil {
			b.Fatal(err)
		}
		for _, a := range arr[1:] {
			var at time.Time
			waitFor(b, "proposal at every peer", func() bool {
				t, ok := a.arrived(uint32(i))
				at = t
				return ok
			}, a.notify)
			lat = append(lat, at.Sub(start))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkTxGossip pushes b.N batches from one node to three others, each
// batch validated (every signature verified) at every hop.
func BenchmarkTxGossip(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			arr := make([]*arrivals, 4)
			handlers := make([]Handler, 4)
			for i := range arr {
				arr[i] = newArrivals()
				handlers[i] = arr[i]
			}
			hosts := benchCluster(b, 4, kindTxs, handlers, nil)
			defer closeHosts(hosts)
			account := seedKey("bench-account")
			batches := make([][]chain.Tx, b.N)
			for i := range batches {
				batches[i] = signedTxs(testChain, account, uint64(i*batch+1), batch, 200)
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for i, txs := range batches {
				if err := hosts[0].PublishTxs(ctx, txs); err != nil {
					b.Fatal(err)
				}
				// Flow control: stay within a window of the slowest receiver
				// so queues never overflow (drops would stall the benchmark).
				// The publisher signs nothing and checks no signatures, so
				// without it the send queues (peerOutboundQueue) fill.
				if i%64 == 63 {
					waitAll(b, arr[1:], (i+1-256)*batch)
				}
			}
			waitAll(b, arr[1:], b.N*batch)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(b.N*batch)/elapsed.Seconds(), "txs/s")
			for _, h := range hosts {
				if d := h.Stats().Txs.Dropped; d != 0 {
					b.Fatalf("%d messages dropped", d)
				}
			}
		})
	}
}

func waitAll(b *testing.B, arr []*arrivals, want int) {
	if want <= 0 {
		return
	}
	for _, a := range arr {
		waitFor(b, "txs delivered", func() bool { return a.txCount() >= want }, a.notify)
	}
}

// BenchmarkSync catches up on 10,000 certified blocks (10 txs each) from one
// peer, verifying every certificate.
func BenchmarkSync(b *testing.B) {
	const blocks, txsPerBlock = 10_000, 10
	cs := newTestChainSet(b, 4)
	chainBlocks := cs.buildChain(b, blocks, txsPerBlock)
	handlers := []Handler{newArrivals(), newArrivals()}
	srcs := []SyncSource{&source{blocks: chainBlocks}, &source{}}
	hosts := benchCluster(b, 2, kindTxs, handlers, srcs)
	defer closeHosts(hosts)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		got, err := hosts[1].FetchBlocks(ctx, hosts[0].ID(), 1, blocks, cs.verifier())
		if err != nil || len(got) != blocks {
			b.Fatalf("fetched %d: %v", len(got), err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	n := float64(b.N * blocks)
	b.ReportMetric(n/elapsed.Seconds(), "blocks/s")
	b.ReportMetric(n*txsPerBlock/elapsed.Seconds(), "txs/s")
}

// BenchmarkVerifyTxBatch measures the validator's signature check alone on
// 100-tx batches: the per-node ceiling for tx gossip.
func BenchmarkVerifyTxBatch(b *testing.B) {
	txs := signedTxs(testChain, seedKey("bench-account"), 1, 100, 200)
	g := &gossip{verifySlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	b.ResetTimer()
	for range b.N {
		if err := g.verifyTxs(txPtrs(txs)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(txs))/b.Elapsed().Seconds(), "txs/s")
}
