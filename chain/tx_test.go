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
