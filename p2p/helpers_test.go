package p2p

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

const testChain = "zw-test"

// waitTimeout is generous: the machine is shared and tests run with -race.
const waitTimeout = 30 * time.Second

// seedKey derives a deterministic key from a label.
func seedKey(label string) *chain.PrivateKey {
	s := sha256.Sum256([]byte(label))
	return chain.PrivateKeyFromSeed(s[:])
}

func authorityKeys(n int) []*chain.PrivateKey {
	out := make([]*chain.PrivateKey, n)
	for i := range out {
		out[i] = seedKey(fmt.Sprintf("authority-%d", i))
	}
	return out
}

func publicKeys(keys []*chain.PrivateKey) []chain.PublicKey {
	out := make([]chain.PublicKey, len(keys))
	for i, k := range keys {
		out[i] = k.Public()
	}
	return out
}

func peerID(t testing.TB, k *chain.PrivateKey) peer.ID {
	t.Helper()
	id, err := PeerIDFromPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func testLogger() *slog.Logger {
	if os.Getenv("P2P_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// recorder is a Handler that remembers what it was given and wakes waiters.
type recorder struct {
	mu     sync.Mutex
	txs    map[chain.Hash]peer.ID
	cons   []*chain.Message
	evs    []*chain.Evidence
	notify chan struct{}
}

func newRecorder() *recorder {
	return &recorder{txs: make(map[chain.Hash]peer.ID), notify: make(chan struct{}, 1)}
}

func (r *recorder) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) HandleTxs(from peer.ID, txs []chain.Tx) {
	r.mu.Lock()
	for i := range txs {
		r.txs[txs[i].Hash()] = from
	}
	r.mu.Unlock()
	r.wake()
}

func (r *recorder) HandleConsensus(_ peer.ID, m *chain.Message) {
	r.mu.Lock()
	r.cons = append(r.cons, m)
	r.mu.Unlock()
	r.wake()
}

func (r *recorder) HandleEvidence(_ peer.ID, ev *chain.Evidence) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	r.wake()
}

func (r *recorder) hasTx(h chain.Hash) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.txs[h]
	return ok
}

func (r *recorder) txCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.txs)
}

func (r *recorder) hasVote(v *chain.Vote) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.cons {
		if m.Vote != nil && *m.Vote == *v {
			return true
		}
	}
	return false
}

func (r *recorder) consCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cons)
}

// waitFor waits until cond holds, re-checking whenever the recorder is
// handed something and at least every 50ms (for conditions on other state).
func waitFor(t testing.TB, what string, cond func() bool, wake ...<-chan struct{}) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var w <-chan struct{}
	if len(wake) > 0 {
		w = wake[0]
	}
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		case <-w:
		}
	}
}

// source is a SyncSource over an in-memory chain.
type source struct {
	mu     sync.Mutex
	blocks []CertifiedBlock // blocks[i] is height i+1
	cur    []*chain.Message
	reads  int    // RawCertified calls
	failAt uint64 // if set, reads from this height on fail
	// proposals are the whole blocks of proposals served to peers that
	// received them compact (ProposalTxSource).
	proposals map[chain.Hash]*chain.Block
}

func (s *source) ProposalTxs(hash chain.Hash, idx []uint32) ([]chain.Tx, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.proposals[hash]
	if b == nil {
		return nil, false
	}
	return b.TxsAt(idx)
}

func (s *source) Status() SyncStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.blocks) == 0 {
		return SyncStatus{}
	}
	last := s.blocks[len(s.blocks)-1].Block
	return SyncStatus{Height: last.Height(), Head: last.Hash()}
}

func (s *source) RawCertified(h uint64) ([]byte, []byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if h == 0 || h > uint64(len(s.blocks)) {
		return nil, nil, false, nil
	}
	if s.failAt != 0 && h >= s.failAt {
		return nil, nil, false, errors.New("read failed")
	}
	cb := s.blocks[h-1]
	return cb.Block.Encode(), cb.Commit.Encode(), true, nil
}

// readCount is how many blocks the server has read from s.
func (s *source) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func (s *source) CurrentMessages() []*chain.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*chain.Message(nil), s.cur...)
}

// hashedRecorder is a recorder that is also a TxHandler: it knows no tx
// and counts the hashes it is handed, and how many were wrong.
type hashedRecorder struct {
	*recorder
	mu            sync.Mutex
	hashed, wrong int
}

func (r *hashedRecorder) KnownTx(chain.Hash) bool { return false }

func (r *hashedRecorder) HandleHashedTxs(from peer.ID, txs []chain.Tx, hashes []chain.Hash) {
	r.mu.Lock()
	for i := range txs {
		r.hashed++
		if hashes[i] != txs[i].Hash() {
			r.wrong++
		}
	}
	r.mu.Unlock()
	r.HandleTxs(from, txs)
}

func (r *hashedRecorder) counts() (hashed, wrong int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hashed, r.wrong
}

// node is one test host with its handler and source.
type node struct {
	*Host
	key  *chain.PrivateKey
	rec  *recorder
	hrec *hashedRecorder // the handler, if nodeOpts.hashed
	src  *source
}

type nodeOpts struct {
	authorities []chain.PublicKey
	observers   []peer.ID
	bootstrap   []string
	dht         bool
	psk         []byte
	quic        bool
	maxTxBytes  int
	direct      bool
	src         *source
	hashed      bool // the handler is a TxHandler (hashedRecorder)
}

func startNode(t testing.TB, key *chain.PrivateKey, o nodeOpts) *node {
	t.Helper()
	lk, err := KeyFromChain(key)
	if err != nil {
		t.Fatal(err)
	}
	listen := []string{"/ip4/127.0.0.1/tcp/0"}
	if o.quic {
		listen = append(listen, "/ip4/127.0.0.1/udp/0/quic-v1")
	}
	src := o.src
	if src == nil {
		src = &source{}
	}
	rec := newRecorder()
	var handler Handler = rec
	var hrec *hashedRecorder
	if o.hashed {
		hrec = &hashedRecorder{recorder: rec}
		handler = hrec
	}
	h, err := New(context.Background(), Config{
		ChainID:         testChain,
		Key:             lk,
		ListenAddrs:     listen,
		Bootstrap:       o.bootstrap,
		Authorities:     o.authorities,
		Observers:       o.observers,
		PSK:             o.psk,
		EnableDHT:       o.dht,
		MaxTxBatchBytes: o.maxTxBytes,
		DirectPeers:     o.direct,
		Logger:          testLogger(),
	}, handler, src)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return &node{Host: h, key: key, rec: rec, hrec: hrec, src: src}
}

func addrStrings(n *node) []string {
	var out []string
	for _, a := range n.Addrs() {
		out = append(out, a.String())
	}
	return out
}

func connected(a *Host, b peer.ID) bool {
	return a.h.Network().Connectedness(b) == network.Connected
}

// meshed reports whether b is in a's GossipSub mesh. A message is relayed
// only to mesh peers, and a peer grafted just after a message passed never
// gets it by gossip, so tests that need relaying wait for this. Before any
// message flows, time in mesh is the only positive part of a peer's score.
func meshed(a, b *Host) bool {
	s, ok := a.PeerScore(b.ID())
	return ok && s > 0
}

// topicPeers reports whether h's topic of the given kind has every id as a
// gossip peer (so a publication will reach them).
func topicHasPeers(h *Host, kind int, ids ...peer.ID) bool {
	have := make(map[peer.ID]bool)
	for _, p := range h.gossip.topics[kind].ListPeers() {
		have[p] = true
	}
	for _, id := range ids {
		if !have[id] {
			return false
		}
	}
	return true
}

// signedTxs builds n valid transactions from one account, nonces from start.
func signedTxs(chainID string, account *chain.PrivateKey, start uint64, n, payload int) []chain.Tx {
	txs := make([]chain.Tx, n)
	for i := range txs {
		p := make([]byte, payload)
		binary.BigEndian.PutUint64(p[:min(8, payload)], start+uint64(i))
		txs[i] = chain.Tx{ChainID: chainID, Nonce: start + uint64(i), Type: "record.put", Payload: p}
		txs[i].Sign(account)
	}
	return txs
}

func signedVote(chainID string, key *chain.PrivateKey, height uint64, block byte) *chain.Vote {
	v := &chain.Vote{Type: chain.Prevote, Height: height, Round: 0, BlockHash: chain.Hash{block, 1}}
	v.Sign(chainID, key)
	return v
}
