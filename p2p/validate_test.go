package p2p

import (
	"errors"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// The parallel verifier finds a bad signature wherever it sits in a batch,
// whether or not spare verification slots are free.
func TestVerifyTxsFindsBadSignatureAnywhere(t *testing.T) {
	txs := signedTxs(testChain, seedKey("account"), 1, 300, 16)
	for _, slots := range []int{0, 1, 4} {
		g := &gossip{verifySlots: make(chan struct{}, slots)}
		if err := g.verifyTxs(txs); err != nil {
			t.Fatalf("slots=%d: valid batch refused: %v", slots, err)
		}
		for _, i := range []int{0, 63, 150, 299} {
			bad := append([]chain.Tx(nil), txs...)
			bad[i].Signature[9] ^= 1
			if err := g.verifyTxs(bad); !errors.Is(err, chain.ErrBadSignature) {
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
	if err := g.verifyTxs(short); !errors.Is(err, chain.ErrBadSignature) {
		t.Fatalf("small batch: %v", err)
	}
}
