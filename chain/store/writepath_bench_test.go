package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
)

// BenchmarkPebbleWritePath measures what the store costs a node per
// transaction over a run of blocks, background work included: it commits
// 30 blocks of 2,000 signed transactions with ledger-like state writes
// (account, record head and record version per record.put, one by-time
// index key per block), waits for Pebble's flushes and compactions to finish, and reports the
// process CPU time (user + system, all goroutines) per transaction and the
// bytes written to disk per transaction. Compaction runs in the
// background, so the commit latency alone hides most of the cost.
func BenchmarkPebbleWritePath(b *testing.B) {
	const blocks, txsPerBlock, accounts = 30, 2000, 256
	keys := make([]*chain.PrivateKey, accounts)
	for i := range keys {
		keys[i] = key(fmt.Sprintf("acct-%d", i))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	nonces := make([]uint64, accounts)
	blockTxs := make([][]chain.Tx, blocks)
	for h := range blockTxs {
		txs := make([]chain.Tx, txsPerBlock)
		for i := range txs {
			a := (h*txsPerBlock + i) % accounts
			nonces[a]++
			txs[i] = makeTx(keys[a], nonces[a], randLetters(rng, 200))
		}
		blockTxs[h] = txs
	}
	value := func(n int) []byte { return randLetters(rng, n) }
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := openPebbleStore(b, b.TempDir())
		ctx := context.Background()
		start := cpuTime()
		b.StartTimer()
		for h := range blockTxs {
			writes := make([]Write, 0, 3*txsPerBlock+1)
			for i := range blockTxs[h] {
				subject := fmt.Sprintf("91370100%010d", rng.Uint64()%1e10)
				writes = append(writes,
					Write{Key: fmt.Appendf(nil, "acct/%03d", i%accounts), Value: value(180)},
					Write{Key: fmt.Appendf(nil, "rec/%s/tax.clearance", subject), Value: value(400)},
					Write{Key: fmt.Appendf(nil, "recv/tax.clearance/%s/%020d", subject, 1), Value: value(360)},
				)
			}
			writes = append(writes, Write{Key: fmt.Appendf(nil, "ix/time/tax.clearance/%020d/%020d", h, h), Value: value(20 * txsPerBlock)})
			writes = NormalizeWrites(writes)
			blk, c := nextBlock(b, s, blockTxs[h], writes)
			if err := s.CommitBlock(ctx, blk, c, writes); err != nil {
				b.Fatal(err)
			}
		}
		waitCompactions(b, s)
		b.StopTimer()
		used := cpuTime() - start
		m := s.db.Metrics()
		written := m.Total().TableBytesFlushed + m.Total().TableBytesCompacted + m.WAL.BytesWritten
		b.ReportMetric(float64(used.Microseconds())/float64(blocks*txsPerBlock), "cpu-µs/tx")
		b.ReportMetric(float64(written)/float64(blocks*txsPerBlock), "disk-B/tx")
		_ = s.Close()
		b.StartTimer()
	}
}

// randLetters returns n random lowercase letters: values that compress
// about as well as the ledger's.
func randLetters(rng *rand.Rand, n int) []byte {
	v := make([]byte, n)
	for j := range v {
		v[j] = byte('a' + rng.IntN(26))
	}
	return v
}

// waitCompactions waits until Pebble has no flush or compaction running
// and has started none for half a second (its estimated debt need not reach
// zero: levels scoring below 1 are left alone). Polling is fine here: this
// is a benchmark, not a test.
func waitCompactions(b *testing.B, s *Store) {
	deadline := time.Now().Add(2 * time.Minute)
	last, quiet := int64(-1), 0
	for time.Now().Before(deadline) {
		m := s.db.Metrics()
		if m.Compact.NumInProgress == 0 && m.Flush.NumInProgress == 0 && m.Compact.Count == last {
			if quiet++; quiet == 25 {
				return
			}
		} else {
			quiet = 0
		}
		last = m.Compact.Count
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("compactions did not finish in 2 minutes:\n%s", s.db.Metrics())
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
