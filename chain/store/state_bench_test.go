package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	pebbleds "github.com/ipfs/go-ds-pebble"

	"github.com/zwnode/zwnode/chain"
)

// BenchmarkPebbleStateGet reads ledger state the way block execution does,
// after 60 committed blocks of 2,000 record puts (360,000 state keys), with
// the store's current Pebble options ("default": 8 MB block cache, no bloom
// filters) and with the store's own options ("store": OpenPebble). "miss" reads keys that do not exist —
// every new record's head; "hit" reads random existing keys; "hot" one key
// again and again, like a schema read for every transaction.
func BenchmarkPebbleStateGet(b *testing.B) {
	for _, tuned := range []bool{false, true} {
		name := "default"
		if tuned {
			name = "store"
		}
		s, written := statefulStore(b, tuned)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		b.Run(name+"/miss", func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				if _, ok, err := s.State(ctx, fmt.Appendf(nil, "rec/absent/%09d", i)); err != nil || ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run(name+"/hit", func(b *testing.B) {
			for b.Loop() {
				if _, ok, err := s.State(ctx, written[rng.IntN(len(written))]); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run(name+"/hot", func(b *testing.B) {
			for b.Loop() {
				if _, ok, err := s.State(ctx, written[0]); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// statefulStore opens a Pebble store and commits 60 blocks of 2,000 txs,
// three state writes each. It returns the store and the keys written.
func statefulStore(b *testing.B, tuned bool) (*Store, [][]byte) {
	b.Helper()
	var d *PebbleDatastore
	if tuned {
		var err error
		if d, err = OpenPebble(b.TempDir()); err != nil {
			b.Fatal(err)
		}
	} else {
		pd, err := pebbleds.NewDatastore(b.TempDir(), pebbleds.WithPebbleWriteOptions(pebble.Sync))
		if err != nil {
			b.Fatal(err)
		}
		d = &PebbleDatastore{Datastore: pd}
	}
	s, err := Open(context.Background(), d)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if err := s.Init(context.Background(), testGenesis(testChain)); err != nil {
		b.Fatal(err)
	}
	const blocks, txsPerBlock = 60, 2000
	acct := key("bench-state")
	txs := make([]chain.Tx, txsPerBlock)
	for i := range txs {
		txs[i] = makeTx(acct, uint64(i+1), make([]byte, 200))
	}
	value := make([]byte, 250)
	var written [][]byte
	for h := 0; h < blocks; h++ {
		writes := make([]Write, 0, 3*txsPerBlock)
		for i := 0; i < txsPerBlock; i++ {
			subject := fmt.Appendf(nil, "%04d%05d", h, i)
			writes = append(writes,
				Write{Key: append([]byte("rec/head/"), subject...), Value: value},
				Write{Key: append([]byte("rec/ver/"), subject...), Value: value},
				Write{Key: append([]byte("ix/time/"), subject...), Value: value[:8]},
			)
		}
		writes = NormalizeWrites(writes)
		for _, w := range writes {
			written = append(written, w.Key)
		}
		blk, c := nextBlock(b, s, txs, writes)
		if err := s.CommitBlock(context.Background(), blk, c, writes); err != nil {
			b.Fatal(err)
		}
	}
	return s, written
}
