package consensus

import (
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// SignState is the last thing this node signed, plus its lock. The caller
// persists it before sending what was signed; on restart it is handed back
// in Config.LastSigned, so the node never signs two conflicting messages
// and never forgets a lock (forgetting one would make an honest node act
// like a Byzantine one).
type SignState struct {
	Height    uint64
	Round     uint32
	Step      Step
	BlockHash chain.Hash // zero for a nil vote
	// LockedRound and LockedHash are the lock at Height when this was
	// signed (LockedHash zero: not locked).
	LockedRound uint32
	LockedHash  chain.Hash
}

// signStateEncodedLen: uint64 ‖ uint32 ‖ uint8 ‖ hash ‖ uint32 ‖ hash.
const signStateEncodedLen = 8 + 4 + 1 + chain.HashSize + 4 + chain.HashSize

// Marshal returns the canonical encoding: uint64(Height) ‖ uint32(Round) ‖
// uint8(Step) ‖ BlockHash ‖ uint32(LockedRound) ‖ LockedHash.
func (s *SignState) Marshal() []byte {
	e := chain.NewEncoder(signStateEncodedLen)
	e.Uint64(s.Height)
	e.Uint32(s.Round)
	e.Uint8(uint8(s.Step))
	e.Raw(s.BlockHash[:])
	e.Uint32(s.LockedRound)
	e.Raw(s.LockedHash[:])
	return e.Bytes()
}

// UnmarshalSignState decodes what Marshal produced.
func UnmarshalSignState(b []byte) (*SignState, error) {
	d := chain.NewDecoder(b)
	s := &SignState{Height: d.Uint64(), Round: d.Uint32(), Step: Step(d.Uint8())}
	d.Raw(s.BlockHash[:])
	s.LockedRound = d.Uint32()
	d.Raw(s.LockedHash[:])
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode sign-state: %w", err)
	}
	if s.Step < StepPropose || s.Step > StepPrecommit {
		return nil, fmt.Errorf("decode sign-state: %w: step %d", ErrInvalidConfig, s.Step)
	}
	return s, nil
}

// cmpPosition orders (height, round, step) lexicographically.
func cmpPosition(h1 uint64, r1 uint32, s1 Step, h2 uint64, r2 uint32, s2 Step) int {
	switch {
	case h1 != h2:
		return cmp3(h1 < h2)
	case r1 != r2:
		return cmp3(r1 < r2)
	case s1 != s2:
		return cmp3(s1 < s2)
	}
	return 0
}

func cmp3(less bool) int {
	if less {
		return -1
	}
	return 1
}

// maySign is the double-signing guard: (h, r, step) must be after the last
// sign-state, or equal to it for the same block (re-emitting the identical,
// deterministically signed message).
func (s *SignState) maySign(h uint64, r uint32, step Step, block chain.Hash) bool {
	if s == nil {
		return true
	}
	c := cmpPosition(h, r, step, s.Height, s.Round, s.Step)
	return c > 0 || (c == 0 && block == s.BlockHash)
}

// claimSign records the new sign-state (to be persisted by the caller via Ready)
// and reports whether signing is allowed.
func (e *Engine) claimSign(r uint32, step Step, block chain.Hash) bool {
	if e.signer == nil || !e.isMember {
		return false
	}
	if !e.lastSigned.maySign(e.height, r, step, block) {
		return false
	}
	s := &SignState{Height: e.height, Round: r, Step: step, BlockHash: block}
	if e.locked != nil {
		s.LockedRound, s.LockedHash = e.locked.round, e.locked.hash
	}
	e.lastSigned = s
	cp := *s
	e.ready.SignState = &cp
	return true
}

// signVote signs and emits a vote at the current height and feeds it back
// into the engine. It does nothing if the sign-state forbids it.
func (e *Engine) signVote(t chain.VoteType, r uint32, block chain.Hash) {
	step := StepPrevote
	if t == chain.Precommit {
		step = StepPrecommit
	}
	if !e.claimSign(r, step, block) {
		return
	}
	v := &chain.Vote{Type: t, Height: e.height, Round: r, BlockHash: block, Validator: e.signer.Public()}
	v.Signature = e.signer.Sign(v.SignBytes(e.chainID))
	m := &chain.Message{Vote: v}
	e.ready.Messages = append(e.ready.Messages, m)
	e.addVote(v)
}

// signProposal signs and emits a proposal for b at the current round.
func (e *Engine) signProposal(b *chain.Block, polRound int64) {
	h := b.Hash()
	if !e.claimSign(e.round, StepPropose, h) {
		return
	}
	p := &chain.Proposal{Height: e.height, Round: e.round, POLRound: polRound, BlockHash: h, Proposer: e.signer.Public()}
	p.Signature = e.signer.Sign(p.SignBytes(e.chainID))
	m := &chain.Message{Proposal: p, Block: b}
	e.ready.Messages = append(e.ready.Messages, m)
	// Our own block passed the same checks as any other (Propose ran
	// them), so an error here is a broken invariant.
	if err := e.addProposal(m); err != nil {
		panic(fmt.Sprintf("consensus: own proposal rejected: %v", err))
	}
}
