package consensus_test

import (
	"fmt"
	"slices"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

// simChecker checks the safety invariants as the run goes: agreement,
// validity, no double signing by honest nodes (across restarts), sign-state
// persisted before sending, and evidence naming only real offenders.
type simChecker struct {
	w         *simWorld
	byzantine map[chain.PublicKey]bool
	decisions map[uint64]chain.Hash // first block decided at each height
	truth     *simApp               // authority sets implied by the decided chain
	verified  map[chain.Hash]bool   // commits already verified
	signedBy  map[signKey]chain.Hash
	violation string
	// statistics for the summary
	setChanges, evidenceCount int
}

type signKey struct {
	signer chain.PublicKey
	height uint64
	round  uint32
	step   consensus.Step
}

func newSimChecker(w *simWorld) *simChecker {
	return &simChecker{
		w:         w,
		byzantine: make(map[chain.PublicKey]bool),
		decisions: make(map[uint64]chain.Hash),
		verified:  make(map[chain.Hash]bool),
		signedBy:  make(map[signKey]chain.Hash),
	}
}

func (c *simChecker) failed() bool { return c.violation != "" }

func (c *simChecker) fail(format string, args ...any) {
	if c.violation == "" {
		c.violation = fmt.Sprintf("at %dms: ", c.w.now) + fmt.Sprintf(format, args...)
		c.w.log("VIOLATION %s", c.violation)
	}
}

// decided checks a block an honest node finalizes (by decision or sync).
func (c *simChecker) decided(nd *simNode, b *chain.Block, cm *chain.Commit, next []chain.Authority) {
	if c.truth == nil {
		c.truth = newSimApp(c.w.genesis, c.w.spare)
	}
	h, hash := b.Header.Height, b.Hash()
	if h != nd.decided()+1 {
		c.fail("%s finalized height %d after %d", nd.name, h, nd.decided())
		return
	}
	c.w.log("%s decides %d/%d %s", nd.name, h, cm.Round, hash.Short())
	if nd.byz != nil {
		return
	}
	if prev, ok := c.decisions[h]; ok {
		if prev != hash {
			c.fail("agreement: %s finalized %s at height %d, another honest node %s", nd.name, hash.Short(), h, prev.Short())
			return
		}
	} else {
		if h > 1 && b.Header.PrevHash != c.decisions[h-1] || h == 1 && b.Header.PrevHash != simGenesisHash {
			c.fail("validity: block %d does not extend the decided chain", h)
			return
		}
		want, err := c.truth.ValidateBlock(b)
		if err != nil {
			c.fail("validity: %s finalized block %d that fails validation: %v", nd.name, h, err)
			return
		}
		c.decisions[h] = hash
		c.truth.apply(h, want)
		if want != nil {
			c.setChanges++
		}
	}
	if !slices.Equal(next, c.truthNext(h)) {
		c.fail("validity: %s finalized block %d with next authorities %v, want %v", nd.name, h, next, c.truthNext(h))
		return
	}
	if err := c.verifyCommit(cm, c.truth.setFor(h), h, hash); err != nil {
		c.fail("validity: %s finalized block %d with a bad certificate: %v", nd.name, h, err)
	}
}

// verifyCommit is Commit.Verify, skipped when every signature was already
// verified in an earlier certificate of the same block (each node builds
// its own certificate from the precommits it received, so they overlap).
func (c *simChecker) verifyCommit(cm *chain.Commit, set *chain.AuthoritySet, h uint64, hash chain.Hash) error {
	known := cm.Height == h && cm.BlockHash == hash && len(cm.Signatures) >= set.Quorum() && cm.ValidateBasic() == nil
	for i := range cm.Signatures {
		v := cm.Vote(i)
		known = known && c.verified[sigKey(&v)] && set.Contains(v.Validator)
	}
	if known {
		return nil
	}
	if err := cm.Verify(simChainID, set, h, hash); err != nil {
		return err
	}
	for i := range cm.Signatures {
		v := cm.Vote(i)
		c.verified[sigKey(&v)] = true
	}
	return nil
}

// sigKey names a verified vote signature.
func sigKey(v *chain.Vote) chain.Hash {
	return chain.HashBytes(append(v.SignBytes(simChainID), v.Signature[:]...))
}

// truthNext is the authority list block h scheduled (nil: none).
func (c *simChecker) truthNext(h uint64) []chain.Authority {
	s1, s2 := c.truth.setFor(h+1), c.truth.setFor(h+2)
	if s1 == s2 {
		return nil
	}
	return s2.List()
}

// signed records a message an honest node sends.
func (c *simChecker) signed(nd *simNode, m *chain.Message) {
	k := signKey{signer: m.Signer(), height: m.Height(), round: m.Round(), step: consensus.StepPropose}
	var hash chain.Hash
	if m.Vote != nil {
		k.step = consensus.StepPrevote
		if m.Vote.Type == chain.Precommit {
			k.step = consensus.StepPrecommit
		}
		hash = m.Vote.BlockHash
	} else {
		hash = m.Proposal.BlockHash
	}
	if prev, ok := c.signedBy[k]; ok && prev != hash {
		c.fail("double signing: honest %s signed %s and %s at %d/%d step %s", nd.name, prev.Short(), hash.Short(), k.height, k.round, k.step)
	}
	c.signedBy[k] = hash
	s := nd.signState
	if s == nil || s.Height < k.height || s.Height == k.height && (s.Round < k.round || s.Round == k.round && s.Step < k.step) {
		c.fail("%s sent %d/%d %s before persisting a sign-state covering it (have %+v)", nd.name, k.height, k.round, k.step, s)
	}
}

// evidence checks that evidence from an honest node accuses a Byzantine one.
func (c *simChecker) evidence(nd *simNode, ev *chain.Evidence) {
	if nd.byz != nil {
		return
	}
	if err := ev.ValidateBasic(); err != nil {
		c.fail("%s produced malformed evidence: %v", nd.name, err)
		return
	}
	c.evidenceCount++
	if !c.byzantine[ev.Offender()] {
		c.fail("%s produced %s evidence against honest %s", nd.name, ev.Kind, ev.Offender().Short())
	}
}
