package consensus

import (
	"bytes"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

func TestMaySign(t *testing.T) {
	x, y := chain.HashBytes([]byte("x")), chain.HashBytes([]byte("y"))
	last := &SignState{Height: 5, Round: 2, Step: StepPrevote, BlockHash: x}
	cases := []struct {
		name string
		h    uint64
		r    uint32
		s    Step
		hash chain.Hash
		want bool
	}{
		{"same message again", 5, 2, StepPrevote, x, true},
		{"conflicting vote, same step", 5, 2, StepPrevote, y, false},
		{"nil vote, same step", 5, 2, StepPrevote, chain.Hash{}, false},
		{"earlier step", 5, 2, StepPropose, x, false},
		{"later step", 5, 2, StepPrecommit, y, true},
		{"earlier round", 5, 1, StepPrecommit, x, false},
		{"later round", 5, 3, StepPropose, y, true},
		{"earlier height", 4, 9, StepPrecommit, x, false},
		{"later height", 6, 0, StepPropose, y, true},
	}
	for _, c := range cases {
		if got := last.maySign(c.h, c.r, c.s, c.hash); got != c.want {
			t.Errorf("%s: maySign(%d, %d, %s) = %v, want %v", c.name, c.h, c.r, c.s, got, c.want)
		}
	}
	var never *SignState
	if !never.maySign(1, 0, StepPropose, x) {
		t.Error("a node that never signed must be allowed to sign")
	}
}

func TestSignStateEncoding(t *testing.T) {
	s := &SignState{Height: 7, Round: 3, Step: StepPrecommit, BlockHash: chain.HashBytes([]byte("b")), LockedRound: 2, LockedHash: chain.HashBytes([]byte("l"))}
	got, err := UnmarshalSignState(s.Marshal())
	if err != nil || *got != *s {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	b := s.Marshal()
	for _, bad := range [][]byte{b[:len(b)-1], append(bytes.Clone(b), 0), {}} {
		if _, err := UnmarshalSignState(bad); err == nil {
			t.Errorf("decoded %d bad bytes without error", len(bad))
		}
	}
	b[12] = 9 // step
	if _, err := UnmarshalSignState(b); err == nil {
		t.Error("decoded an unknown step")
	}
}
