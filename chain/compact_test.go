package chain

import (
	"errors"
	"strings"
	"testing"
)

// TestCompactRebuild checks that a compact block rebuilt from its
// transactions is the original block, and that the compact encoding is
// about 32 bytes per transaction whatever the transactions' size.
func TestCompactRebuild(t *testing.T) {
	b := testBlock(t, 40, 300)
	c := b.Compact(nil)
	if got := len(c.TxHashes); got != 40 {
		t.Fatalf("%d hashes, want 40", got)
	}
	for i := range b.Txs {
		if c.TxHashes[i] != b.Txs[i].Hash() {
			t.Fatalf("hash %d is not tx %d's hash", i, i)
		}
	}
	if err := c.ValidateBasic(); err != nil {
		t.Fatalf("ValidateBasic: %v", err)
	}
	if c.Hash() != b.Hash() {
		t.Fatalf("compact hash %s, block hash %s", c.Hash().Short(), b.Hash().Short())
	}
	full := len(b.Encode())
	m := &Message{Proposal: signedProposal(testKey(2), 5, 0, -1, b.Hash()), Block: b}
	cm := m.Compacted(nil)
	if cm.Kind() != MsgCompactProposal || cm.Block != nil {
		t.Fatalf("Compacted gave kind %d, block set %v", cm.Kind(), cm.Block != nil)
	}
	small := len(cm.Encode())
	if small >= full/4 || small < 40*HashSize {
		t.Errorf("compact message %d bytes, whole block %d: want about 32 bytes per tx", small, full)
	}
	got, err := c.Rebuild(append([]Tx(nil), b.Txs...))
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if got.Hash() != b.Hash() || len(got.Txs) != len(b.Txs) || string(got.Encode()) != string(b.Encode()) {
		t.Fatalf("rebuilt block differs from the original")
	}
}

// TestCompactRebuildRefusesOtherTxs checks that Rebuild refuses anything
// but the transactions the header commits to: another tx, the right txs
// in another order, too few.
func TestCompactRebuildRefusesOtherTxs(t *testing.T) {
	b := testBlock(t, 6, 50)
	c := b.Compact(nil)
	other := testBlock(t, 1, 51).Txs[0]
	swapped := append([]Tx(nil), b.Txs...)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	replaced := append([]Tx(nil), b.Txs...)
	replaced[3] = other
	for name, txs := range map[string][]Tx{
		"swapped":  swapped,
		"replaced": replaced,
		"too few":  b.Txs[:5],
		"none":     nil,
	} {
		if _, err := c.Rebuild(txs); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Rebuild gave %v, want ErrInvalid", name, err)
		}
	}
}

// TestCompactValidateBasic checks the refusals that need no transactions.
func TestCompactValidateBasic(t *testing.T) {
	b := testBlock(t, 5, 20)
	cases := map[string]struct {
		edit func(c *CompactBlock)
		want string
	}{
		"count mismatch":     {func(c *CompactBlock) { c.TxHashes = c.TxHashes[:4] }, "header says 5 txs, 4 hashes"},
		"repeated hash":      {func(c *CompactBlock) { c.TxHashes[2] = c.TxHashes[0] }, "repeats"},
		"evidence dropped":   {func(c *CompactBlock) { c.Evidence = nil }, "evidence does not match"},
		"commit dropped":     {func(c *CompactBlock) { c.LastCommit = nil }, "last commit does not match"},
		"header height zero": {func(c *CompactBlock) { c.Header.Height = 0 }, "height 0"},
	}
	for name, tc := range cases {
		c := b.Compact(nil)
		c.TxHashes = append([]Hash(nil), c.TxHashes...)
		tc.edit(c)
		err := c.ValidateBasic()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrInvalid mentioning %q", name, err, tc.want)
		}
	}
}

// TestCompactMessageValidateBasic checks the message-level rules: the
// proposal signs the compact header's hash, and a proposal carries exactly
// one block, whole or compact.
func TestCompactMessageValidateBasic(t *testing.T) {
	b := testBlock(t, 3, 20)
	key := testKey(2)
	good := (&Message{Proposal: signedProposal(key, 5, 0, -1, b.Hash()), Block: b}).Compacted(nil)
	if err := good.ValidateBasic(); err != nil {
		t.Fatalf("good compact proposal: %v", err)
	}
	if err := good.VerifySignature(testChainID); err != nil {
		t.Fatalf("good compact proposal signature: %v", err)
	}
	if good.ChainID() != testChainID || good.Height() != 5 || good.Signer() != key.Public() {
		t.Fatalf("accessors: chain %q height %d", good.ChainID(), good.Height())
	}
	wrongHash := &Message{Proposal: signedProposal(key, 5, 0, -1, fixedHash(9)), Compact: good.Compact}
	both := &Message{Proposal: good.Proposal, Block: b, Compact: good.Compact}
	wrongHeight := &Message{Proposal: signedProposal(key, 6, 0, -1, b.Hash()), Compact: good.Compact}
	for name, m := range map[string]*Message{"hash": wrongHash, "both blocks": both, "height": wrongHeight} {
		if err := m.ValidateBasic(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

// EncodeChunks yields Encode's bytes in pieces of exactly the asked size
// (the last one shorter), for sizes below, around and above a
// transaction's and the whole block's.
func TestBlockEncodeChunks(t *testing.T) {
	b := testBlock(t, 30, 300)
	want := b.Encode()
	for _, size := range []int{1, 7, 100, 333, 4096, len(want) - 1, len(want), len(want) + 5} {
		var got []byte
		pieces := 0
		err := b.EncodeChunks(size, func(p []byte) error {
			pieces++
			if len(p) != size && len(got)+len(p) != len(want) {
				t.Fatalf("size %d: piece %d has %d bytes", size, pieces, len(p))
			}
			got = append(got, p...)
			return nil
		})
		if err != nil || string(got) != string(want) {
			t.Fatalf("size %d: %d bytes in %d pieces (%v), want Encode's %d", size, len(got), pieces, err, len(want))
		}
		if wantPieces := (len(want) + size - 1) / size; pieces != wantPieces {
			t.Fatalf("size %d: %d pieces, want %d", size, pieces, wantPieces)
		}
	}
	stop := errors.New("stop")
	if err := b.EncodeChunks(100, func([]byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("emit's error: got %v", err)
	}
	if err := b.EncodeChunks(0, func([]byte) error { return nil }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("size 0: got %v", err)
	}
}
