package node

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
	"github.com/zwnode/zwnode/chain/store"
)

// A saved sign record keeps the valid value of the sign-state's height (a
// restart at that height needs it) and drops one of a lower height, which
// nothing reads again; an observer's record (no sign-state) keeps it.
func TestSignRecordDropsStaleValid(t *testing.T) {
	valid := func(h uint64) *consensus.ValidState {
		b := &chain.Block{Header: chain.Header{ChainID: benchChain, Height: h, Time: 1}}
		b.Fill()
		return &consensus.ValidState{Height: h, Block: b}
	}
	sign := &consensus.SignState{Height: 5, Step: consensus.StepPrevote}
	for _, tc := range []struct {
		name string
		rec  signRecord
		keep bool
	}{
		{"valid of a lower height", signRecord{sign: sign, valid: valid(4)}, false},
		{"valid of the same height", signRecord{sign: sign, valid: valid(5)}, true},
		{"valid above (store behind)", signRecord{sign: sign, valid: valid(6)}, true},
		{"no sign-state", signRecord{valid: valid(4)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rec
			r.dropStaleValid()
			if (r.valid != nil) != tc.keep {
				t.Fatalf("valid kept: %v, want %v", r.valid != nil, tc.keep)
			}
			if r.sign != tc.rec.sign {
				t.Fatal("sign-state changed")
			}
			if !tc.keep {
				// What is written holds the sign-state and no valid value.
				gotSign, gotValid, err := decodeSignRecord(r.encode())
				if err != nil || gotValid != nil || gotSign == nil || *gotSign != *sign {
					t.Fatalf("stored record %+v, %+v, %v; want the sign-state alone", gotSign, gotValid, err)
				}
			}
		})
	}
}

// TestSignRecordSavedOnPebble: a record with a valid block of real
// transactions goes through WriteSignState, the block stored once under
// its height's key, ahead of the head (not served as a block until
// committed), and comes back whole, after the node's store is reopened
// too. A record whose valid block is missing is refused; one whose valid
// height is decided loads without it.
func TestSignRecordSavedOnPebble(t *testing.T) {
	f := newBenchFixture(8)
	n := f.node(t, 0)
	b, _ := f.proposal(t, n, f.txs(t, 40))
	valid := &consensus.ValidState{Height: b.Height(), Round: 1, Block: b}
	for _, k := range f.authKeys[:3] {
		v := &chain.Vote{Type: chain.Prevote, Height: b.Height(), Round: 1, BlockHash: b.Hash()}
		v.Sign(benchChain, k)
		valid.Prevotes = append(valid.Prevotes, v)
	}
	sign := &consensus.SignState{Height: b.Height(), Round: 1, Step: consensus.StepPrecommit, BlockHash: b.Hash(), LockedRound: 1, LockedHash: b.Hash()}
	rec := &signRecord{sign: sign, valid: valid}
	if len(rec.encode()) >= b.EncodedLen() {
		t.Fatalf("record of %d bytes carries the %d-byte block", len(rec.encode()), b.EncodedLen())
	}

	ctx := context.Background()
	check := func(n *Node) {
		t.Helper()
		got, err := n.loadSignRecord()
		if err != nil {
			t.Fatal(err)
		}
		if got.sign == nil || *got.sign != *sign || got.valid == nil ||
			!bytes.Equal(got.valid.Block.Encode(), b.Encode()) || len(got.valid.Prevotes) != 3 || got.valid.Round != 1 {
			t.Fatalf("loaded record %+v, want the saved one", got)
		}
		if _, err := n.store.Block(ctx, b.Height()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("valid block served as committed block %d: %v", b.Height(), err)
		}
	}
	if err := n.saveSignRecord(rec); err != nil {
		t.Fatal(err)
	}
	check(n)
	dir := n.opts.DataDir
	if err := n.closeStore(); err != nil {
		t.Fatal(err)
	}
	reopen := func() *Node {
		t.Helper()
		n, err := New(Options{Genesis: f.genesis, Key: f.authKeys[0], DataDir: dir, Logger: n.log})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n2 := reopen()
	check(n2)

	// A record naming another block than the one stored is corrupt.
	other := *valid
	other.Block, _ = f.proposal(t, n2, f.txs(t, 10))
	if other.Block.Height() != b.Height() || other.Block.Hash() == b.Hash() {
		t.Fatal("want another block at the same height")
	}
	other.Prevotes = slices.Clone(other.Prevotes)
	for i, p := range other.Prevotes {
		v := *p
		v.BlockHash = other.Block.Hash()
		v.Sign(benchChain, f.authKeys[i])
		other.Prevotes[i] = &v
	}
	rb := chain.NewEncoder(0)
	rb.ByteString(sign.Marshal())
	rb.Bool(true)
	ref := other.Ref()
	rb.Uint32(uint32(ref.EncodedLen()))
	ref.EncodeTo(rb)
	if err := n2.store.SaveSignState(ctx, rb.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := n2.loadSignRecord(); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("record naming a block that is not stored: %v, want a corrupt sign-state error", err)
	}

	// Once the height is committed, the valid value is decided: dropped.
	if err := n2.saveSignRecord(rec); err != nil {
		t.Fatal(err)
	}
	res, err := (&app{n: n2, cache: make(map[chain.Hash]*execResult)}).result(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := n2.commitBlock(ctx, b, f.certify(t, b), res); err != nil {
		t.Fatal(err)
	}
	got, err := n2.loadSignRecord()
	if err != nil || got.valid != nil || got.sign == nil {
		t.Fatalf("record after its height was committed: %+v, %v; want the sign-state alone", got, err)
	}
	if stored, err := n2.store.Block(ctx, b.Height()); err != nil || stored.Hash() != b.Hash() {
		t.Fatalf("committed block %d: %v", b.Height(), err)
	}
	_ = n2.closeStore()
}

// encode is the whole record in a buffer of its own (the node writes it
// straight into the storage batch with encodeTo).
func (r *signRecord) encode() []byte {
	e := chain.NewEncoder(r.encodedLen())
	r.encodeTo(e)
	return e.Bytes()
}
