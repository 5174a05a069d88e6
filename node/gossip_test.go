package node

import (
	"errors"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// A validator that verified a block's txs (none of which it had pending)
// knows them afterwards, so their gossip, arriving late, is not verified
// again; a block with a bad signature marks nothing.
func TestBlockValidationRemembersVerifiedTxs(t *testing.T) {
	f := newBenchFixture(8)
	txs := f.txs(t, 40)
	blk, _ := f.proposal(t, f.node(t, 0), txs)
	v := f.node(t, 1)
	h := &p2pHandler{n: v}
	for i := range blk.Txs {
		if h.KnownTx(blk.Txs[i].Hash()) {
			t.Fatalf("tx %d known before validation", i)
		}
	}

	bad := *blk
	bad.Txs = append([]chain.Tx(nil), blk.Txs...)
	bad.Txs[7].Signature[3] ^= 1
	a := &app{n: v, cache: make(map[chain.Hash]*execResult)}
	if err := a.verifyTxSignatures(bad.Txs, chain.TxHashes(bad.Txs)); !errors.Is(err, chain.ErrBadSignature) {
		t.Fatalf("bad signature not found: %v", err)
	}
	for i := range bad.Txs {
		if h.KnownTx(bad.Txs[i].Hash()) {
			t.Fatalf("tx %d of a refused block marked verified", i)
		}
	}

	if _, err := a.ValidateBlock(blk); err != nil {
		t.Fatal(err)
	}
	for i := range blk.Txs {
		if !h.KnownTx(blk.Txs[i].Hash()) {
			t.Fatalf("tx %d verified in a block but not known", i)
		}
	}
	if v.mempool.Has(blk.Txs[0].Hash()) {
		t.Fatal("validating a block put its txs in the mempool")
	}
}

// Gossip txs enter the mempool under the hashes the validator computed.
func TestHandleHashedTxsAdmits(t *testing.T) {
	f := newBenchFixture(4)
	txs := f.txs(t, 8)
	v := f.node(t, 1)
	hashes := make([]chain.Hash, len(txs))
	for i := range txs {
		hashes[i] = txs[i].Hash()
	}
	(&p2pHandler{n: v}).HandleHashedTxs("", txs, hashes)
	for i := range txs {
		if got, ok := v.mempool.Get(hashes[i]); !ok || got.Hash() != hashes[i] {
			t.Fatalf("tx %d not pending under its hash", i)
		}
	}
}
