package mempool

import (
	"fmt"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// benchTxs signs n txs spread over accounts, nonces 1.. per account.
func benchTxs(n, accounts int) []*chain.Tx {
	keys := make([]*chain.PrivateKey, accounts)
	for i := range keys {
		keys[i] = key(fmt.Sprint("bench", i))
	}
	out := make([]*chain.Tx, n)
	for i := range out {
		out[i] = tx(keys[i%accounts], uint64(i/accounts+1), "payload of a typical record, some hundred bytes of ciphertext......")
	}
	return out
}

// BenchmarkMempoolAdd adds txs from 1,000 accounts; each op is one Add
// (with signature verification) or AddVerified. The pool is refilled fresh
// every 100,000 txs, outside the timer.
func BenchmarkMempoolAdd(b *testing.B) {
	const batch = 100_000
	txs := benchTxs(batch, 1000)
	for _, verified := range []bool{false, true} {
		name := "Add" // verifies the signature
		if verified {
			name = "AddVerified"
		}
		b.Run(name, func(b *testing.B) {
			var m *Mempool
			i := 0
			for b.Loop() {
				if i%batch == 0 {
					b.StopTimer()
					m, _ = newPool(Config{MaxTxs: batch})
					b.StartTimer()
				}
				var err error
				if verified {
					_, err = m.AddVerified(txs[i%batch])
				} else {
					_, err = m.Add(txs[i%batch])
				}
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkReap reaps a 2,000-tx block from a pool of 20,000 txs of 1,000
// accounts.
func BenchmarkReap(b *testing.B) {
	m, _ := newPool(Config{})
	for _, x := range benchTxs(20_000, 1000) {
		if _, err := m.AddVerified(x); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if got := m.Reap(2000, 0); len(got) != 2000 {
			b.Fatalf("reaped %d", len(got))
		}
	}
}
