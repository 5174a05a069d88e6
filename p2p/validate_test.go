package p2p

import (
	"bytes"
	"context"
	"errors"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

func txPtrs(txs []chain.Tx) []*chain.Tx {
	ptrs := make([]*chain.Tx, len(txs))
	for i := range txs {
		ptrs[i] = &txs[i]
	}
	return ptrs
}

// The parallel verifier finds a bad signature wherever it sits in a batch,
// whether or not spare verification slots are free.
func TestVerifyTxsFindsBadSignatureAnywhere(t *testing.T) {
	n := 2*minParallelTxs + 100 // split into several chunks when slots are free
	txs := signedTxs(testChain, seedKey("account"), 1, n, 16)
	for _, slots := range []int{0, 1, 4} {
		g := &gossip{verifySlots: make(chan struct{}, slots)}
		if err := g.verifyTxs(txPtrs(txs)); err != nil {
			t.Fatalf("slots=%d: valid batch refused: %v", slots, err)
		}
		for _, i := range []int{0, minVerifyChunk - 1, minParallelTxs + 7, n - 1} {
			bad := append([]chain.Tx(nil), txs...)
			bad[i].Signature[9] ^= 1
			if err := g.verifyTxs(txPtrs(bad)); !errors.Is(err, chain.ErrBadSignature) {
				t.Fatalf("slots=%d: bad signature at %d not found: %v", slots, i, err)
			}
		}
		if len(g.verifySlots) != 0 {
			t.Fatalf("slots=%d: verification slots leaked", slots)
		}
	}
	short := txs[:3]
	short[2].Nonce++ // signature no longer matches
	g := &gossip{verifySlots: make(chan struct{}, 2)}
	if err := g.verifyTxs(txPtrs(short)); !errors.Is(err, chain.ErrBadSignature) {
		t.Fatalf("small batch: %v", err)
	}
}

// txHashes hashes slices of the message instead of re-encoding: the
// result must be exactly each tx's Hash, or the mempool's index would break.
func TestTxHashesMatchTxHash(t *testing.T) {
	txs := signedTxs(testChain, seedKey("hash-account"), 1, 20, 8)
	for i := range txs {
		txs[i].Payload = bytes.Repeat([]byte{byte(i)}, i*37) // varied lengths, empty included
		txs[i].Type = "t" + string(rune('a'+i))
	}
	data := chain.EncodeTxs(txs)
	decoded, err := chain.DecodeTxs(data, len(txs))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range [][]byte{data, append(data, 0)} { // the second does not add up: slow path
		hashes := txHashes(d, decoded)
		for i := range txs {
			if hashes[i] != txs[i].Hash() {
				t.Fatalf("%d bytes: tx %d: hash %s, Hash() %s", len(d), i, hashes[i].Short(), txs[i].Hash().Short())
			}
		}
	}
}

// knownTxs is a TxHandler that reports a fixed set of hashes as verified.
type knownTxs struct {
	*recorder
	known map[chain.Hash]bool
}

func (k *knownTxs) KnownTx(h chain.Hash) bool { return k.known[h] }

func (k *knownTxs) HandleHashedTxs(from peer.ID, txs []chain.Tx, _ []chain.Hash) {
	k.HandleTxs(from, txs)
}

// The validator skips the signature check only of txs the node reports as
// known by hash, and the hash covers the signature: knowing a tx does not
// vouch for another signature on the same body.
func TestValidatorSkipsOnlyKnownTxs(t *testing.T) {
	n := startNode(t, seedKey("validator"), nodeOpts{})
	txs := signedTxs(testChain, seedKey("account"), 1, 5, 40)
	original := txs[2].Hash()
	txs[2].Signature[7] ^= 1
	forged := txs[2].Hash()
	data := chain.EncodeTxs(txs)
	from := peerID(t, seedKey("sender"))

	for _, tc := range []struct {
		name  string
		known map[chain.Hash]bool
		want  pubsub.ValidationResult
	}{
		{"nothing known", nil, pubsub.ValidationReject},
		{"the signed body known with its real signature", map[chain.Hash]bool{original: true}, pubsub.ValidationReject},
		{"the forged tx itself known", map[chain.Hash]bool{forged: true}, pubsub.ValidationAccept},
	} {
		h := &knownTxs{recorder: newRecorder(), known: tc.known}
		g := &gossip{n: &Host{cfg: n.cfg, log: n.log, h: n.h, handler: h}, verifySlots: make(chan struct{}, 2)}
		msg := &pubsub.Message{Message: &pb.Message{Data: data}, ReceivedFrom: from}
		if got := g.validateTxs(context.Background(), from, msg); got != tc.want {
			t.Fatalf("%s: validator says %v, want %v", tc.name, got, tc.want)
		}
		if tc.want != pubsub.ValidationAccept {
			continue
		}
		b, ok := msg.ValidatorData.(*txBatch)
		if !ok || len(b.txs) != len(txs) || len(b.hashes) != len(txs) {
			t.Fatalf("%s: validator data %#v", tc.name, msg.ValidatorData)
		}
		for i := range txs {
			if b.hashes[i] != txs[i].Hash() {
				t.Fatalf("%s: tx %d handed over with hash %s, want %s", tc.name, i, b.hashes[i].Short(), txs[i].Hash().Short())
			}
		}
	}
}

// A TxHandler gets gossip txs through HandleHashedTxs, with their hashes.
func TestGossipHandsHashesToTxHandler(t *testing.T) {
	nodes := startCluster(t, authorityKeys(2), nodeOpts{hashed: true})
	txs := signedTxs(testChain, seedKey("account"), 1, 3, 64)
	if err := nodes[0].PublishTxs(context.Background(), txs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "txs delivered", func() bool { return nodes[1].rec.txCount() == len(txs) }, nodes[1].rec.notify)
	if hashed, wrong := nodes[1].hrec.counts(); hashed != len(txs) || wrong != 0 {
		t.Fatalf("HandleHashedTxs got %d txs, %d with a wrong hash; want %d and 0", hashed, wrong, len(txs))
	}
}
