package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// BenchmarkPebbleWritePathGrown is BenchmarkPebbleWritePath at the scale a
// max-rate bench reaches in a few minutes (200 blocks of 3,000 record.put
// transactions, 600,000 in all), where compaction costs the most: every
// level of the LSM is populated, so each flushed byte is rewritten more
// often. The write set per transaction follows what the ledger writes in
// a real run (sizes measured on a benchmarked devnet's store): the
// account (one of 256, hot), a new or updated record head holding the
// latest version, the version it supersedes if any (storage format 6
// wrote every version under a key of its own), and the block's by-time
// index key (format 5 wrote one per transaction); blocks carry the
// transactions. Signatures are not checked by
// the store, so transactions carry a fixed fake signature instead of
// paying for 600,000 signings. It reports process CPU per transaction
// (flushes and compactions included) for the whole run and for its last
// quarter, and disk bytes written per transaction.
func BenchmarkPebbleWritePathGrown(b *testing.B) {
	const blocks, txsPerBlock, accounts = 200, 3000, 256
	accts := make([]chain.PublicKey, accounts)
	for i := range accts {
		accts[i] = key(fmt.Sprintf("acct-%d", i)).Public()
	}
	var sig chain.Signature
	for i := range sig {
		sig[i] = byte(i)
	}
	for range b.N {
		b.StopTimer()
		rng := rand.New(rand.NewPCG(11, 11))
		letters := func(n int) []byte { return randLetters(rng, n) }
		s := openPebbleStore(b, b.TempDir())
		ctx := context.Background()
		nonces := make([]uint64, accounts)
		var subjects []string
		start := cpuTime()
		qStart := start
		b.StartTimer()
		for h := range blocks {
			if h == blocks*3/4 {
				qStart = cpuTime()
			}
			txs := make([]chain.Tx, txsPerBlock)
			writes := make([]Write, 0, 2*txsPerBlock+1+accounts)
			for i := range txs {
				a := (h*txsPerBlock + i) % accounts
				nonces[a]++
				txs[i] = chain.Tx{ChainID: testChain, Account: accts[a], Nonce: nonces[a], Type: "record.put", Payload: letters(280), Signature: sig}
				// Two in three record.puts name a new subject; an update
				// moves the superseded version out of the head.
				var subject string
				update := len(subjects) > 0 && rng.IntN(3) == 0
				if update {
					subject = subjects[rng.IntN(len(subjects))]
				} else {
					subject = fmt.Sprintf("91370100%010d", rng.Uint64()%1e10)
					subjects = append(subjects, subject)
				}
				writes = append(writes, Write{Key: fmt.Appendf(nil, "rec/%s/tax.clearance", subject), Value: letters(12 + 156)})
				if update {
					ver := uint64(1 + rng.IntN(3))
					writes = append(writes, Write{Key: fmt.Appendf(nil, "recv/tax.clearance/%s/%020d", subject, ver), Value: letters(156)})
				}
			}
			// The block's by-time index: (subject, version) per transaction.
			writes = append(writes, Write{Key: fmt.Appendf(nil, "ix/time/tax.clearance/%020d/%020d", 1_700_000_000_000+h, h), Value: letters(20 * txsPerBlock)})
			for a := range accounts {
				var v [71]byte
				binary.BigEndian.PutUint64(v[:], nonces[a])
				hh := sha256.Sum256(accts[a][:])
				writes = append(writes, Write{Key: fmt.Appendf(nil, "acct/%x", hh[:]), Value: v[:]})
			}
			writes = NormalizeWrites(writes)
			blk, c := nextBlock(b, s, txs, writes)
			if err := s.CommitBlock(ctx, blk, c, writes); err != nil {
				b.Fatal(err)
			}
		}
		waitCompactions(b, s)
		b.StopTimer()
		end := cpuTime()
		m := s.db.Metrics()
		written := m.Total().TableBytesFlushed + m.Total().TableBytesCompacted + m.WAL.BytesWritten
		n := float64(blocks * txsPerBlock)
		b.ReportMetric(float64((end-start).Microseconds())/n, "cpu-µs/tx")
		b.ReportMetric(float64((end-qStart).Microseconds())/(n/4), "last-quarter-cpu-µs/tx")
		b.ReportMetric(float64(written)/n, "disk-B/tx")
		_ = s.Close()
	}
}
