package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// codec is one encodable type under test: a fixed value's encoding and a
// decoder that returns the decoded value and its re-encoding.
type codec struct {
	name   string
	value  any
	encode func() []byte
	decode func([]byte) (any, []byte, error)
}

// decodeProposal and decodeHeader reach the unexported decoders: proposals
// and headers only travel inside messages and blocks, so there is no
// exported standalone decoder.
func decodeProposal(b []byte) (*Proposal, error) {
	d := NewDecoder(b)
	p := new(Proposal)
	p.decode(d)
	return p, d.Finish()
}

func decodeHeader(b []byte) (*Header, error) {
	d := NewDecoder(b)
	h := new(Header)
	h.decode(d)
	return h, d.Finish()
}

// wrap adapts a typed decoder to codec.decode.
func wrap[T interface{ Encode() []byte }](dec func([]byte) (T, error)) func([]byte) (any, []byte, error) {
	return func(b []byte) (any, []byte, error) {
		v, err := dec(b)
		if err != nil {
			return nil, nil, err
		}
		return v, v.Encode(), nil
	}
}

type txList []Tx

func (l txList) Encode() []byte { return EncodeTxs(l) }

func testCodecs(t testing.TB) []codec {
	keys := testKeys(4)
	tx := fixedTx()
	emptyTx := Tx{ChainID: testChainID, Nonce: 1, Type: "t", Payload: []byte{}}
	emptyTx.Sign(keys[0])
	prevote := signedVote(keys[0], Prevote, 3, 0, fixedHash(3))
	precommit := signedVote(keys[1], Precommit, 3, 7, Hash{})
	prop := signedProposal(keys[2], 3, 2, 1, fixedHash(3))
	block := testBlock(t, 3, 50)
	bare := &Block{Header: block.Header}
	commit := testCommit(t, keys, 9, 1, fixedHash(9))
	dv := testDuplicateVote(keys[3])
	cp := testConflictingProposal(keys[2])
	voteMsg := &Message{Vote: precommit}
	propMsg := &Message{Proposal: signedProposal(keys[1], 5, 0, -1, block.Hash()), Block: block}
	compactMsg := propMsg.Compacted(nil)
	txs := txList{tx, emptyTx}

	return []codec{
		{"tx", &tx, tx.Encode, wrap(DecodeTx)},
		{"tx-empty-payload", &emptyTx, emptyTx.Encode, wrap(DecodeTx)},
		{"prevote", prevote, prevote.Encode, wrap(DecodeVote)},
		{"precommit-nil", precommit, precommit.Encode, wrap(DecodeVote)},
		{"proposal", prop, prop.Encode, wrap(decodeProposal)},
		{"header", &block.Header, block.Header.Encode, wrap(decodeHeader)},
		{"block", block, block.Encode, wrap(DecodeBlock)},
		{"block-bare", bare, bare.Encode, wrap(DecodeBlock)},
		{"commit", commit, commit.Encode, wrap(DecodeCommit)},
		{"evidence-duplicate-vote", dv, dv.Encode, wrap(DecodeEvidence)},
		{"evidence-conflicting-proposal", cp, cp.Encode, wrap(DecodeEvidence)},
		{"message-vote", voteMsg, voteMsg.Encode, wrap(DecodeMessage)},
		{"message-proposal", propMsg, propMsg.Encode, wrap(DecodeMessage)},
		{"message-compact-proposal", compactMsg, compactMsg.Encode, wrap(DecodeMessage)},
		{"tx-list", txs, txs.Encode, wrap(func(b []byte) (txList, error) {
			l, err := DecodeTxs(b, 10)
			return txList(l), err
		})},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, c := range testCodecs(t) {
		t.Run(c.name, func(t *testing.T) {
			enc := c.encode()
			got, re, err := c.decode(enc)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, c.value) {
				t.Errorf("decoded value differs from the original\n got %+v\nwant %+v", got, c.value)
			}
			if !bytes.Equal(re, enc) {
				t.Errorf("re-encoding differs from the original encoding")
			}
		})
	}
}

// TestDecodeCopies checks that decoded values do not alias the input, so a
// network buffer can be reused after decoding.
func TestDecodeCopies(t *testing.T) {
	tx := fixedTx()
	enc := tx.Encode()
	got, err := DecodeTx(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range enc {
		enc[i] = 0xff
	}
	if !bytes.Equal(got.Payload, tx.Payload) || got.Type != tx.Type || got.ChainID != tx.ChainID {
		t.Fatalf("decoded tx changed when the input buffer was overwritten")
	}
}

func TestDecodeTruncatedAndTrailing(t *testing.T) {
	for _, c := range testCodecs(t) {
		t.Run(c.name, func(t *testing.T) {
			enc := c.encode()
			for n := 0; n < len(enc); n++ {
				if _, _, err := c.decode(enc[:n]); !errors.Is(err, ErrMalformed) {
					t.Fatalf("truncated to %d of %d bytes: got %v, want ErrMalformed", n, len(enc), err)
				}
			}
			for _, extra := range [][]byte{{0}, {1, 2, 3}} {
				if _, _, err := c.decode(append(append([]byte(nil), enc...), extra...)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "trailing") {
					t.Fatalf("%d trailing bytes: got %v, want ErrMalformed about trailing bytes", len(extra), err)
				}
			}
		})
	}
}

// patch32 returns a copy of b with v written big-endian at off.
func patch32(b []byte, off int, v uint32) []byte {
	out := append([]byte(nil), b...)
	binary.BigEndian.PutUint32(out[off:], v)
	return out
}

// patch8 returns a copy of b with byte v at off.
func patch8(b []byte, off int, v byte) []byte {
	out := append([]byte(nil), b...)
	out[off] = v
	return out
}

func TestDecodeStrict(t *testing.T) {
	keys := testKeys(4)
	tx := fixedTx()
	txEnc := tx.Encode()
	typeOff := 4 + len(tx.ChainID) + PublicKeySize + 8
	payloadOff := typeOff + 4 + len(tx.Type)

	block := testBlock(t, 2, 10)
	blockEnc := block.Encode()
	hdrLen := HeaderEncodedLen + len(testChainID)
	flagOff := hdrLen + 4 + block.Txs[0].EncodedLen() + block.Txs[1].EncodedLen()
	evCountOff := flagOff + 1 + len(block.LastCommit.Encode())

	commitEnc := testCommit(t, keys, 9, 1, fixedHash(9)).Encode()
	sigCountOff := 8 + 4 + HashSize
	evEnc := testDuplicateVote(keys[0]).Encode()
	voteMsg := (&Message{Vote: signedVote(keys[0], Prevote, 1, 0, Hash{})}).Encode()

	table := []struct {
		name string
		in   []byte
		dec  func([]byte) error
		want string
	}{
		{"tx chain id over limit", patch32(txEnc, 0, MaxChainIDLen+1), decTx, "exceeds limit"},
		{"tx chain id length 2^32-1", patch32(txEnc, 0, 1<<32-1), decTx, "exceeds limit"},
		{"tx type over limit", patch32(txEnc, typeOff, MaxTxTypeLen+1), decTx, "exceeds limit"},
		{"tx payload over limit", patch32(txEnc, payloadOff, MaxTxPayload+1), decTx, "exceeds limit"},
		{"tx payload longer than input", patch32(txEnc, payloadOff, 10_000), decTx, "truncated"},
		{"tx input over size limit", make([]byte, MaxTxEncodedLen+1), decTx, "too large"},
		{"block presence flag 2", patch8(blockEnc, flagOff, 2), decBlock, "non-canonical bool"},
		{"block presence flag 0xff", patch8(blockEnc, flagOff, 0xff), decBlock, "non-canonical bool"},
		{"block tx count over limit", patch32(blockEnc, hdrLen, MaxBlockTxs+1), decBlock, "exceeds limit"},
		{"block tx count that cannot fit", patch32(blockEnc, hdrLen, 1000), decBlock, "cannot fit"},
		{"block tx count 2^32-1", patch32(blockEnc, hdrLen, 1<<32-1), decBlock, "exceeds limit"},
		{"block tx count too small", patch32(blockEnc, hdrLen, 1), decBlock, ""},
		{"block evidence count over limit", patch32(blockEnc, evCountOff, MaxBlockEvidence+1), decBlock, "exceeds limit"},
		{"block evidence count that cannot fit", patch32(blockEnc, evCountOff, 2), decBlock, "cannot fit"},
		{"block input over size limit", make([]byte, MaxBlockBytes+1), decBlock, "too large"},
		{"commit signature count over limit", patch32(commitEnc, sigCountOff, MaxAuthorities+1), decCommit, "exceeds limit"},
		{"commit signature count that cannot fit", patch32(commitEnc, sigCountOff, 5), decCommit, "cannot fit"},
		{"evidence kind 0", patch8(evEnc, 0, 0), decEvidence, "unknown evidence kind"},
		{"evidence kind 3", patch8(evEnc, 0, 3), decEvidence, "unknown evidence kind"},
		{"evidence kind swapped", patch8(evEnc, 0, byte(ConflictingProposal)), decEvidence, ""},
		{"message kind 0", patch8(voteMsg, 0, 0), decMessage, "unknown consensus message kind"},
		{"message kind 9", patch8(voteMsg, 0, 9), decMessage, "unknown consensus message kind"},
		{"message kind proposal with a vote body", patch8(voteMsg, 0, byte(MsgProposal)), decMessage, ""},
		{"message input over size limit", make([]byte, MaxBlockBytes+ProposalEncodedLen+2), decMessage, "too large"},
		{"tx list count over limit", patch32(EncodeTxs([]Tx{tx}), 0, 11), decTxs, "exceeds limit"},
		{"tx list count that cannot fit", patch32(EncodeTxs([]Tx{tx}), 0, 5), decTxs, "cannot fit"},
		{"empty input tx", nil, decTx, "truncated"},
		{"empty input block", nil, decBlock, "truncated"},
		{"empty input message", nil, decMessage, "truncated"},
	}
	for _, tc := range table {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.dec(tc.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want an error wrapping ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if tc.want == "too large" && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("oversize input: %v does not wrap ErrTooLarge", err)
			}
		})
	}
}

func decTx(b []byte) error       { _, err := DecodeTx(b); return err }
func decBlock(b []byte) error    { _, err := DecodeBlock(b); return err }
func decCommit(b []byte) error   { _, err := DecodeCommit(b); return err }
func decEvidence(b []byte) error { _, err := DecodeEvidence(b); return err }
func decMessage(b []byte) error  { _, err := DecodeMessage(b); return err }
func decTxs(b []byte) error      { _, err := DecodeTxs(b, 10); return err }

// TestDecoderStickyError checks that after the first failure every read
// returns a zero value and the first error is kept.
func TestDecoderStickyError(t *testing.T) {
	d := NewDecoder([]byte{2, 0, 0})
	if d.Bool() {
		t.Errorf("non-canonical bool read as true")
	}
	first := d.Err()
	if !errors.Is(first, ErrMalformed) {
		t.Fatalf("Err = %v, want ErrMalformed", first)
	}
	if d.Uint32() != 0 || d.Uint64() != 0 || d.String(10) != "" || d.ByteString(10) != nil || d.Count(10, 1) != 0 {
		t.Errorf("reads after an error return non-zero values")
	}
	if d.Err() != first || d.Finish() != first {
		t.Errorf("first error not kept: %v, %v", d.Err(), d.Finish())
	}
}

// TestBlockEncodeInto checks that EncodedLen is exact for blocks with a
// last commit and both kinds of evidence (storage encodes blocks straight
// into a value of that size), and that EncodeInto refuses a buffer of any
// other size without writing past it.
func TestBlockEncodeInto(t *testing.T) {
	keys := testKeys(4)
	withProposals := testBlock(t, 3, 40)
	withProposals.Evidence = append(withProposals.Evidence, *testConflictingProposal(keys[2]))
	withProposals.Fill()
	for name, b := range map[string]*Block{
		"txs, commit, duplicate vote": testBlock(t, 5, 100),
		"both evidence kinds":         withProposals,
		"empty":                       {},
	} {
		t.Run(name, func(t *testing.T) {
			want := b.Encode()
			if b.EncodedLen() != len(want) {
				t.Fatalf("EncodedLen %d, encoding is %d bytes", b.EncodedLen(), len(want))
			}
			dst := make([]byte, len(want))
			if err := EncodeInto(dst, b.EncodeTo); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dst, want) {
				t.Fatal("EncodeInto wrote something else than Encode")
			}
			// One byte short: the encoder must not write into the guard byte.
			buf := bytes.Repeat([]byte{0xa5}, len(want))
			if err := EncodeInto(buf[:len(want)-1], b.EncodeTo); err == nil {
				t.Fatal("EncodeInto accepted a buffer one byte short")
			}
			if buf[len(want)-1] != 0xa5 {
				t.Fatal("EncodeInto wrote past the end of its buffer")
			}
			if err := EncodeInto(make([]byte, len(want)+1), b.EncodeTo); err == nil {
				t.Fatal("EncodeInto accepted a buffer one byte long")
			}
		})
	}
}
