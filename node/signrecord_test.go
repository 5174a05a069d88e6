package node

import (
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
