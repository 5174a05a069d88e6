package chain

import (
	"bytes"
	"errors"
	"testing"
)

func testKey(b byte) *PrivateKey {
	seed := bytes.Repeat([]byte{b}, 32)
	return PrivateKeyFromSeed(seed)
}

func TestTxRoundTripAndSignature(t *testing.T) {
	k := testKey(1)
	tx := Tx{ChainID: "jinan-1", Nonce: 7, Type: "record.put", Payload: []byte(`{"a":1}`)}
	tx.Sign(k)
	if err := tx.ValidateBasic(); err != nil {
		t.Fatalf("ValidateBasic: %v", err)
	}
	if err := tx.VerifySignature(); err != nil {
		t.Fatalf("VerifySignature: %v", err)
	}
	got, err := DecodeTx(tx.Encode())
	if err != nil {
		t.Fatalf("DecodeTx: %v", err)
	}
	if got.Hash() != tx.Hash() || !bytes.Equal(got.Payload, tx.Payload) {
		t.Fatalf("round trip changed the tx")
	}
	other := *got
	other.ChainID = "other-1"
	if err := other.VerifySignature(); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signature verified on another chain: %v", err)
	}
	if _, err := DecodeTx(append(tx.Encode(), 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
}

// Hash, TxHashes and the Merkle leaves, which encode into reused buffers,
// hash exactly the bytes Encode returns, for payloads below and above the
// pooled buffers' sizes, one call after another.
func TestTxHashMatchesEncode(t *testing.T) {
	var txs []Tx
	for _, n := range []int{0, 1, 300, 1100, maxPooledEncoding + 1, 10} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i*7 + n)
		}
		txs = append(txs, Tx{ChainID: "zw-test", Nonce: uint64(n), Type: "record.put", Payload: p})
	}
	leaves := TxLeaves(txs)
	hashes := TxHashes(txs)
	for i := range txs {
		if got, want := txs[i].Hash(), HashBytes(txs[i].Encode()); got != want {
			t.Errorf("tx %d (%d-byte payload): Hash %s, want %s", i, len(txs[i].Payload), got.Short(), want.Short())
		}
		if want := HashBytes(txs[i].Encode()); hashes[i] != want {
			t.Errorf("tx %d: TxHashes gives %s, want %s", i, hashes[i].Short(), want.Short())
		}
		if want := MerkleLeafHash(txs[i].Encode()); leaves[i] != want {
			t.Errorf("tx %d: leaf %s, want %s", i, leaves[i].Short(), want.Short())
		}
	}
}
