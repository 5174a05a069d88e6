package chain

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func signedTxs(n int) []*Tx {
	txs := make([]*Tx, n)
	for i := range txs {
		tx := &Tx{ChainID: "zw-batch", Nonce: uint64(i + 1), Type: "record.put", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		tx.Sign(testKey(byte(i%7 + 1)))
		txs[i] = tx
	}
	return txs
}

func TestVerifyTxSignaturesNamesEveryBadOne(t *testing.T) {
	for _, n := range []int{0, 1, 2, 65} {
		txs := signedTxs(n)
		for i, err := range VerifyTxSignatures(txs) {
			if err != nil {
				t.Fatalf("n=%d: valid tx %d refused: %v", n, i, err)
			}
		}
		if !TxSignaturesValid(txs) {
			t.Fatalf("n=%d: valid batch refused as a whole", n)
		}
		if n == 0 {
			continue
		}
		bad := map[int]bool{0: true, n - 1: true}
		txs[0].Signature[5] ^= 1
		if n > 1 {
			txs[n-1].Payload = append(txs[n-1].Payload, ' ') // signature no longer covers it
		}
		if TxSignaturesValid(txs) {
			t.Fatalf("n=%d: batch with a bad signature accepted as a whole", n)
		}
		for i, err := range VerifyTxSignatures(txs) {
			if bad[i] != (err != nil) {
				t.Fatalf("n=%d tx %d: err %v, bad=%v", n, i, err, bad[i])
			}
			if err != nil && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("n=%d tx %d: %v does not wrap ErrBadSignature", n, i, err)
			}
		}
	}
}

// TestBatchVerifierReuse: verifiers are pooled and sign bytes built in
// a shared buffer; a batch that failed (here with a signature that does
// not even decode, S above the group order) must leave nothing behind for
// the next batch, whichever goroutine gets the verifier.
func TestBatchVerifierReuse(t *testing.T) {
	good := signedTxs(40)
	undecodable := signedTxs(40)
	undecodable[7].Signature[63] = 0xff
	var wg sync.WaitGroup
	errs := make(chan string, 8*20)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if (g+i)%2 == 0 {
					if TxSignaturesValid(undecodable) {
						errs <- "batch with an undecodable signature accepted"
					}
					for j, err := range VerifyTxSignatures(undecodable) {
						if (j == 7) != (err != nil) {
							errs <- fmt.Sprintf("tx %d of the bad batch: %v", j, err)
						}
					}
				} else {
					if !TxSignaturesValid(good) {
						errs <- "good batch refused after a bad one"
					}
					for j, err := range VerifyTxSignatures(good[:10+i]) {
						if err != nil {
							errs <- fmt.Sprintf("good tx %d refused: %v", j, err)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func BenchmarkVerifyTxSignatures256(b *testing.B) {
	txs := signedTxs(256)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, err := range VerifyTxSignatures(txs) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(txs)), "ns/tx")
}

// BenchmarkVerifyTxSignaturesSizes shows how the cost per signature falls
// with the batch size, which is what callers splitting work over cores
// trade against parallelism.
func BenchmarkVerifyTxSignaturesSizes(b *testing.B) {
	for _, n := range []int{16, 64, 128, 256, 512, 1024, 2048} {
		txs := signedTxs(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				for _, err := range VerifyTxSignatures(txs) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tx")
		})
	}
}

// BenchmarkBadBatch256 is a batch of 256 with one bad signature: naming it
// (VerifyTxSignatures) checks every signature alone after the batch fails,
// refusing the batch (TxSignaturesValid) costs one batch check.
func BenchmarkBadBatch256(b *testing.B) {
	txs := signedTxs(256)
	txs[100].Signature[3] ^= 1
	b.Run("VerifyTxSignatures", func(b *testing.B) {
		for b.Loop() {
			VerifyTxSignatures(txs)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(txs)), "ns/tx")
	})
	b.Run("TxSignaturesValid", func(b *testing.B) {
		for b.Loop() {
			if TxSignaturesValid(txs) {
				b.Fatal("bad batch accepted")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(txs)), "ns/tx")
	})
}
