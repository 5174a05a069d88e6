package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// commitBatchSize covers what CommitBlock puts in the batch, so a block's
// batch is allocated once, and overshoots by little; and a block
// committed through the sized batch reads back whole.
func TestCommitBatchSize(t *testing.T) {
	ctx := context.Background()
	s := openPebbleStore(t, t.TempDir())
	for _, n := range []int{0, 1, 50, 2000} {
		var txs []chain.Tx
		var writes []Write
		for i := range n {
			txs = append(txs, makeTx(key(fmt.Sprint("acct", i%7)), uint64(1+i/7), make([]byte, 300)))
			writes = append(writes,
				Write{Key: fmt.Appendf(nil, "rec/e:%018d/tax.clearance", i), Value: make([]byte, 12)},
				Write{Key: fmt.Appendf(nil, "recv/tax.clearance/e:%018d/%020d", i, 1), Value: make([]byte, 200)})
		}
		writes = NormalizeWrites(writes)
		b, c := nextBlock(t, s, txs, writes)
		est := commitBatchSize(b, c, writes)
		s.mu.RLock()
		cur := s.head
		s.mu.RUnlock()
		var x commitExtras
		hash, next, err := s.checkNext(cur, b, c, writes, &x)
		if err != nil {
			t.Fatal(err)
		}
		batch := &sizedBatch{b: s.db.NewBatchWithSize(est)}
		if err := s.fillBatch(batch, b, hash, c, writes, &x, next); err != nil {
			t.Fatal(err)
		}
		if got := len(batch.b.Repr()); got > est || est > got*3/2+1024 {
			t.Errorf("%d txs: batch of %d bytes, estimate %d", n, got, est)
		}
		batch.b.Close()
		if err := s.CommitBlock(ctx, b, c, writes); err != nil {
			t.Fatal(err)
		}
		got, err := s.Block(ctx, b.Height())
		if err != nil || got.Hash() != b.Hash() || len(got.Txs) != n {
			t.Fatalf("%d txs: block read back %v, %v", n, got, err)
		}
	}
}
