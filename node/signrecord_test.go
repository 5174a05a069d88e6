package node

import (
	"bytes"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
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
				got, err := decodeSignRecord(r.encode())
				if err != nil || got.valid != nil || got.sign == nil || *got.sign != *sign {
					t.Fatalf("stored record %+v, %v; want the sign-state alone", got, err)
				}
			}
		})
	}
}

// TestSignRecordSavedOnPebble: a record with a valid block of real
// transactions goes through WriteSignState (encoded straight into the
// Pebble batch) and comes back whole, after the node's store is reopened
// too; its bytes are the layout older nodes wrote, so their records load.
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

	old := chain.NewEncoder(0)
	old.ByteString(sign.Marshal())
	old.Bool(true)
	old.ByteString(valid.Marshal())
	if !bytes.Equal(rec.encode(), old.Bytes()) {
		t.Fatal("the record's layout changed: records of older nodes would not load")
	}

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
	}
	if err := n.saveSignRecord(rec); err != nil {
		t.Fatal(err)
	}
	check(n)
	dir := n.opts.DataDir
	if err := n.closeStore(); err != nil {
		t.Fatal(err)
	}
	n2, err := New(Options{Genesis: f.genesis, Key: f.authKeys[0], DataDir: dir, Logger: n.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n2.closeStore() })
	check(n2)
}

// encode is the whole record in a buffer of its own (the node writes it
// straight into the storage batch with encodeTo).
func (r *signRecord) encode() []byte {
	e := chain.NewEncoder(r.encodedLen())
	r.encodeTo(e)
	return e.Bytes()
}
