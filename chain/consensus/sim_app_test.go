package consensus_test

import (
	"errors"
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// The toy application of the simulation. A block's StateRoot carries
// markers instead of a real state root:
//
//	StateRoot[0] == markerInvalid: the block is invalid (a Byzantine proposer's)
//	StateRoot[1] == opAddSpare / opRemoveSpare: schedule the spare authority
//	  in or out of the set two heights later.
const (
	markerInvalid = 0xBA
	opNone        = 0
	opAddSpare    = 1
	opRemoveSpare = 2
)

var errMarkedInvalid = errors.New("block carries the invalid marker")

// simApp is one node's application: the authority sets its persisted chain
// implies. sets[h] is the set for height h.
type simApp struct {
	spare chain.Authority
	sets  []*chain.AuthoritySet // index = height; [0] unused
}

func newSimApp(genesis *chain.AuthoritySet, spare chain.Authority) *simApp {
	return &simApp{spare: spare, sets: []*chain.AuthoritySet{nil, genesis, genesis}}
}

// setFor returns the set for height h, or nil if not yet known.
func (a *simApp) setFor(h uint64) *chain.AuthoritySet {
	if h >= uint64(len(a.sets)) {
		return nil
	}
	return a.sets[h]
}

// ValidateBlock implements consensus.Application.
func (a *simApp) ValidateBlock(b *chain.Block) ([]chain.Authority, error) {
	if b.Header.StateRoot[0] == markerInvalid {
		return nil, errMarkedInvalid
	}
	return a.nextFor(b.Header.Height, b.Header.StateRoot[1])
}

// nextFor applies op to the set for h+1.
func (a *simApp) nextFor(h uint64, op byte) ([]chain.Authority, error) {
	base := a.setFor(h + 1)
	if base == nil {
		return nil, fmt.Errorf("no state for height %d yet", h)
	}
	in := base.Contains(a.spare.PubKey)
	switch {
	case op == opNone:
		return nil, nil
	case op == opAddSpare && !in:
		return append(base.List(), a.spare), nil
	case op == opRemoveSpare && in:
		var out []chain.Authority
		for _, x := range base.List() {
			if x.PubKey != a.spare.PubKey {
				out = append(out, x)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("operation %d not applicable at height %d", op, h)
}

// apply records the decision of height h (the next block after the last).
func (a *simApp) apply(h uint64, next []chain.Authority) {
	if h+1 != uint64(len(a.sets))-1 {
		panic(fmt.Sprintf("sim app: apply height %d with sets up to %d", h, len(a.sets)-1))
	}
	s := a.sets[h+1]
	if next != nil {
		var err error
		if s, err = chain.NewAuthoritySet(next); err != nil {
			panic(err)
		}
	}
	a.sets = append(a.sets, s)
}
