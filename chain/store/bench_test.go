package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// BenchmarkPebbleCommitBlock commits 2,000-transaction blocks with three
// state writes per transaction, every index, and a synced batch, on real
// Pebble. Building each block (tx root, certificate) is not timed.
func BenchmarkPebbleCommitBlock(b *testing.B) {
	const txsPerBlock = 2000
	s := openPebbleStore(b, b.TempDir())
	b.Cleanup(func() { _ = s.Close() })
	accounts := make([]*chain.PrivateKey, 50)
	for i := range accounts {
		accounts[i] = key(fmt.Sprintf("acct-%d", i))
	}
	txs := make([]chain.Tx, txsPerBlock)
	for i := range txs {
		txs[i] = makeTx(accounts[i%len(accounts)], uint64(i+1), make([]byte, 200))
	}
	ctx := context.Background()
	var bytesPerBlock int
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		h, _ := s.Head()
		writes := make([]Write, 0, 3*txsPerBlock)
		for i := range txs {
			writes = append(writes,
				Write{Key: fmt.Appendf(nil, "acct/%04d/nonce", i%len(accounts)), Value: u64(h)},
				Write{Key: fmt.Appendf(nil, "rec/%08d/%05d", h, i), Value: make([]byte, 100)},
				Write{Key: fmt.Appendf(nil, "idx/%08d/%05d", h, i), Value: u64(uint64(i))},
			)
		}
		writes = NormalizeWrites(writes)
		blk, c := nextBlock(b, s, txs, writes)
		bytesPerBlock = blk.EncodedLen()
		b.StartTimer()
		if err := s.CommitBlock(ctx, blk, c, writes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(txsPerBlock*b.N)/b.Elapsed().Seconds(), "txs/s")
	b.ReportMetric(float64(bytesPerBlock), "block-bytes")
}

// BenchmarkStateRoot hashes 6,000 writes, the state changes of a
// 2,000-transaction block.
func BenchmarkStateRoot(b *testing.B) {
	writes := make([]Write, 6000)
	for i := range writes {
		writes[i] = Write{Key: fmt.Appendf(nil, "rec/%08d", i), Value: make([]byte, 100)}
	}
	for b.Loop() {
		StateRoot(chain.Hash{}, writes)
	}
}

// BenchmarkPebbleSaveSignState is the fsync a validator pays before every
// vote it sends.
func BenchmarkPebbleSaveSignState(b *testing.B) {
	s := openPebbleStore(b, b.TempDir())
	b.Cleanup(func() { _ = s.Close() })
	v := make([]byte, 120)
	for b.Loop() {
		if err := s.SaveSignState(context.Background(), v); err != nil {
			b.Fatal(err)
		}
	}
}
