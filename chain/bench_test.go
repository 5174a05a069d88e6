package chain

import (
	"fmt"
	"testing"
)

// benchTxs returns n signed transactions with payloads of payloadLen bytes.
func benchTxs(n, payloadLen int) []Tx {
	key := testKey(100)
	txs := make([]Tx, n)
	for i := range txs {
		txs[i] = signedTx(key, uint64(i+1), payloadLen)
	}
	return txs
}

// BenchmarkMerkleRoot10k is the per-block tx root work: encode and leaf-hash
// 10,000 transactions of about 300 bytes, then build the RFC 6962 root.
func BenchmarkMerkleRoot10k(b *testing.B) {
	txs := benchTxs(10_000, 200) // 200-byte payload: 333-byte encoded tx
	size := 0
	for i := range txs {
		size += txs[i].EncodedLen()
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		_ = TxRoot(txs)
	}
}

func BenchmarkCommitVerify(b *testing.B) {
	for _, n := range []int{4, 7, 21} {
		set, keys := testSet(b, n)
		for _, sigs := range []int{set.Quorum(), n} {
			block := fixedHash(0x77)
			c := testCommit(b, keys[:sigs], 12, 0, block)
			b.Run(fmt.Sprintf("n=%d/sigs=%d", n, sigs), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := c.Verify(testChainID, set, 12, block); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkTxDecodeVerify is what a node does for every gossiped tx before
// it enters the mempool.
func BenchmarkTxDecodeVerify(b *testing.B) {
	tx := signedTx(testKey(1), 1, 300)
	enc := tx.Encode()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := DecodeTx(enc)
		if err != nil {
			b.Fatal(err)
		}
		if err := got.VerifySignature(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlockEncode(b *testing.B) {
	block := testBlock(b, 5_000, 300)
	b.SetBytes(int64(len(block.Encode())))
	b.ReportAllocs()
	for b.Loop() {
		_ = block.Encode()
	}
}

func BenchmarkBlockDecode(b *testing.B) {
	enc := testBlock(b, 5_000, 300).Encode()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBlock(enc); err != nil {
			b.Fatal(err)
		}
	}
}
