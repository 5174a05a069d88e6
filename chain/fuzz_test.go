package chain

import (
	"bytes"
	"testing"
)

// The fuzz targets check the properties every decoder must have on any
// input: no panic; an error or a value whose re-encoding is exactly the
// input (one value, one encoding); and that the checks a node runs on a
// decoded value (ValidateBasic, hashing, signature verification) do not
// panic either. CI runs only the seed corpus; run longer with
//
//	go test ./chain -run '^$' -fuzz FuzzDecodeBlock -fuzztime 60s

// seedVariants adds enc, some truncations and some single-byte mutations.
func seedVariants(f *testing.F, enc []byte) {
	f.Add(enc)
	for _, n := range []int{0, 1, 4, len(enc) / 2, len(enc) - 1} {
		if n >= 0 && n < len(enc) {
			f.Add(enc[:n])
		}
	}
	for _, off := range []int{0, 3, len(enc) / 3, len(enc) - 65} {
		if off >= 0 && off < len(enc) {
			m := append([]byte(nil), enc...)
			m[off] ^= 0xff
			f.Add(m)
		}
	}
	f.Add(append(append([]byte(nil), enc...), 0))
}

func FuzzDecodeTx(f *testing.F) {
	tx := fixedTx()
	seedVariants(f, tx.Encode())
	empty := Tx{ChainID: "c", Nonce: 1, Type: "t"}
	empty.Sign(testKey(2))
	seedVariants(f, empty.Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeTx(data)
		if err != nil {
			return
		}
		if re := got.Encode(); !bytes.Equal(re, data) {
			t.Fatalf("decoded tx re-encodes differently:\n in %x\nout %x", data, re)
		}
		if got.EncodedLen() != len(data) {
			t.Fatalf("EncodedLen %d for %d bytes", got.EncodedLen(), len(data))
		}
		_ = got.ValidateBasic()
		_ = got.VerifySignature()
		_ = got.Hash()
	})
}

func FuzzDecodeBlock(f *testing.F) {
	seedVariants(f, testBlock(f, 2, 16).Encode())
	b := testBlock(f, 0, 0)
	b.LastCommit, b.Evidence = nil, []Evidence{*testConflictingProposal(testKey(3))}
	b.Fill()
	seedVariants(f, b.Encode())
	seedVariants(f, (&Block{}).Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeBlock(data)
		if err != nil {
			return
		}
		if re := got.Encode(); !bytes.Equal(re, data) {
			t.Fatalf("decoded block re-encodes differently:\n in %x\nout %x", data, re)
		}
		if got.EncodedLen() != len(data) {
			t.Fatalf("EncodedLen %d for %d bytes", got.EncodedLen(), len(data))
		}
		_ = got.ValidateBasic()
		_ = got.Hash()
		for i := range got.Evidence {
			_ = got.Evidence[i].ValidateBasic()
			_ = got.Evidence[i].Offender()
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	keys := testKeys(4)
	block := testBlock(f, 1, 8)
	seedVariants(f, (&Message{Vote: signedVote(keys[0], Precommit, 5, 1, block.Hash())}).Encode())
	seedVariants(f, (&Message{Vote: signedVote(keys[1], Prevote, 5, 0, Hash{})}).Encode())
	seedVariants(f, (&Message{Proposal: signedProposal(keys[1], 5, 0, -1, block.Hash()), Block: block}).Encode())
	seedVariants(f, (&Message{Proposal: signedProposal(keys[1], 5, 0, -1, block.Hash()), Block: block}).Compacted(nil).Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeMessage(data)
		if err != nil {
			return
		}
		if re := got.Encode(); !bytes.Equal(re, data) {
			t.Fatalf("decoded message re-encodes differently:\n in %x\nout %x", data, re)
		}
		_ = got.ValidateBasic()
		_ = got.VerifySignature(testChainID)
		_, _, _, _ = got.Kind(), got.Height(), got.Round(), got.Signer()
	})
}
