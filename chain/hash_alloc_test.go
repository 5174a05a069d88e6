//go:build !race

// The race detector makes sync.Pool drop buffers at random, so allocation
// counts are only meaningful without it.

package chain

import "testing"

// Hash reuses pooled buffers and TxLeaves one growing buffer: hashing a tx
// allocates nothing, and the leaves of 100 txs cost the leaves slice plus
// a few growths, not one encoding per tx.
func TestTxHashingAllocations(t *testing.T) {
	tx := Tx{ChainID: "zw-test", Type: "record.put", Payload: make([]byte, 300)}
	tx.Hash() // fill the pool
	if n := testing.AllocsPerRun(100, func() { _ = tx.Hash() }); n != 0 {
		t.Errorf("Tx.Hash: %v allocations, want 0", n)
	}
	txs := make([]Tx, 100)
	for i := range txs {
		txs[i] = tx
	}
	if n := testing.AllocsPerRun(20, func() { _ = TxLeaves(txs) }); n > 8 {
		t.Errorf("TxLeaves of 100 txs: %v allocations, want at most 8", n)
	}
}
