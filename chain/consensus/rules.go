package consensus

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/zwnode/zwnode/chain"
)

// This file is Algorithm 1 of arXiv:1807.04938. Each upon-rule is a method
// named after what it does, with its line number; process evaluates them
// until none fires. "2f+1" is the quorum q and "f+1" is MaxFaulty()+1.

func (e *Engine) quorum() int { return e.set.Quorum() }

// process applies the upon-rules until none is enabled. During the
// commit wait nothing fires: round 0 of the new height has not started.
func (e *Engine) process() {
	if !e.started {
		return
	}
	for e.step != StepCommit && e.applyRule() {
	}
}

// applyRule fires the first enabled rule and reports whether one fired.
func (e *Engine) applyRule() bool {
	return e.uponDecision() ||
		e.uponRoundSkip() ||
		e.uponProposal() ||
		e.uponProposalWithPOL() ||
		e.uponPrevoteQuorumAny() ||
		e.uponPrevoteQuorumValue() ||
		e.uponPrevoteQuorumNil() ||
		e.uponPrecommitQuorumAny()
}

// startRound is StartRound(round), lines 11-21. Every node arms the
// propose timer, the proposer too, so a caller that never answers a
// ProposeRequest only costs one round.
func (e *Engine) startRound(r uint32) {
	e.round, e.step = r, StepPropose
	e.proposeReq, e.ready.ProposeRequest = nil, nil // a request for an earlier round is void
	e.ready.Timers = append(e.ready.Timers, Timer{Height: e.height, Round: r, Step: StepPropose, DurationMS: e.timeout(e.params.TimeoutProposeMS, r)})
	if !e.isMember || e.set.Proposer(e.height, r).PubKey != e.signer.Public() {
		return
	}
	if e.valid != nil && e.judge(e.valid.block).err == nil {
		e.signProposal(e.valid.block, int64(e.valid.round))
		return
	}
	// A fresh block: ask the caller, unless the sign-state already holds a
	// proposal for this round (we restarted after proposing): we could only
	// repeat that block, which we no longer have.
	if e.lastSigned != nil && cmpPosition(e.height, r, StepPropose, e.lastSigned.Height, e.lastSigned.Round, e.lastSigned.Step) <= 0 {
		return
	}
	e.proposeReq = &ProposeRequest{Height: e.height, Round: r, PrevHash: e.prevHash, LastCommit: e.lastCommit, Authorities: e.set}
	req := *e.proposeReq
	e.ready.ProposeRequest = &req
}

// timeout is base + round·delta: rounds that fail wait longer, so after
// GST every honest node eventually waits long enough.
func (e *Engine) timeout(base int64, r uint32) int64 {
	return base + int64(r)*e.params.TimeoutDeltaMS
}

// uponProposal, lines 22-27: the round's proposal with POLRound −1 while
// in step propose. Prevote it if it is valid and we are not locked on
// something else.
func (e *Engine) uponProposal() bool {
	if e.step != StepPropose {
		return false
	}
	for _, p := range e.roundAt(e.round).proposals {
		if p.msg.Proposal.POLRound != -1 {
			continue
		}
		if e.isValid(p) && (e.locked == nil || e.locked.hash == p.hash) {
			e.prevote(p.hash)
		} else {
			e.prevote(chain.Hash{})
		}
		return true
	}
	return false
}

// uponProposalWithPOL, lines 28-33: a re-proposal with POLRound vr < round
// backed by 2f+1 prevotes for it in round vr. Prevote it if it is valid and
// our lock is no newer than vr or is on the same block.
func (e *Engine) uponProposalWithPOL() bool {
	if e.step != StepPropose {
		return false
	}
	for _, p := range e.roundAt(e.round).proposals {
		vr := p.msg.Proposal.POLRound
		if vr < 0 || vr >= int64(e.round) {
			continue
		}
		pol, ok := e.rounds[uint32(vr)]
		if !ok || pol.prevotes.count(p.hash) < e.quorum() {
			continue
		}
		if e.isValid(p) && (e.locked == nil || int64(e.locked.round) <= vr || e.locked.hash == p.hash) {
			e.prevote(p.hash)
		} else {
			e.prevote(chain.Hash{})
		}
		return true
	}
	return false
}

// uponPrevoteQuorumAny, lines 34-35: 2f+1 prevotes for anything in this
// round, the first time, in step prevote: arm the prevote timer.
func (e *Engine) uponPrevoteQuorumAny() bool {
	rs := e.roundAt(e.round)
	if e.step != StepPrevote || rs.prevoteTimerArmed || rs.prevotes.total() < e.quorum() {
		return false
	}
	rs.prevoteTimerArmed = true
	e.ready.Timers = append(e.ready.Timers, Timer{Height: e.height, Round: e.round, Step: StepPrevote, DurationMS: e.timeout(e.params.TimeoutPrevoteMS, e.round)})
	return true
}

// uponPrevoteQuorumValue, lines 36-43: the round's proposal v is valid and
// 2f+1 prevoted it, the first time, in step prevote or later. In step
// prevote lock on v and precommit it; in any case remember v as the valid
// value to re-propose.
func (e *Engine) uponPrevoteQuorumValue() bool {
	rs := e.roundAt(e.round)
	if e.step < StepPrevote || rs.polSeen {
		return false
	}
	hash, ok := rs.prevotes.quorumBlock(e.quorum())
	if !ok {
		return false
	}
	p := rs.proposalFor(hash)
	if p == nil || !e.isValid(p) {
		return false
	}
	rs.polSeen = true
	if e.step == StepPrevote {
		e.locked = &lock{round: e.round, hash: hash}
		e.precommit(hash)
	}
	e.valid = &validValue{round: e.round, block: p.msg.Block}
	e.emitValid()
	return true
}

// uponPrevoteQuorumNil, lines 44-46: 2f+1 prevotes for nil in step
// prevote: precommit nil.
func (e *Engine) uponPrevoteQuorumNil() bool {
	if e.step != StepPrevote || e.roundAt(e.round).prevotes.count(chain.Hash{}) < e.quorum() {
		return false
	}
	e.precommit(chain.Hash{})
	return true
}

// uponPrecommitQuorumAny, lines 47-48: 2f+1 precommits for anything in
// this round, the first time: arm the precommit timer.
func (e *Engine) uponPrecommitQuorumAny() bool {
	rs := e.roundAt(e.round)
	if rs.precommitTimerArmed || rs.precommits.total() < e.quorum() {
		return false
	}
	rs.precommitTimerArmed = true
	e.ready.Timers = append(e.ready.Timers, Timer{Height: e.height, Round: e.round, Step: StepPrecommit, DurationMS: e.timeout(e.params.TimeoutPrecommitMS, e.round)})
	return true
}

// uponDecision, lines 49-54: 2f+1 precommits for v in some round r and v
// is a valid block we hold: decide v. The paper asks for round r's own
// proposal of v; any proposal of v at this height carries the same block,
// and the certificate is what makes it final, so we accept any.
func (e *Engine) uponDecision() bool {
	for _, r := range e.roundNums {
		hash, ok := e.rounds[r].precommits.quorumBlock(e.quorum())
		if !ok {
			continue
		}
		if p := e.heldProposal(hash); p != nil {
			e.decide(r, p)
			return true
		}
	}
	return false
}

// heldProposal returns a valid proposal of block hash from any round.
func (e *Engine) heldProposal(hash chain.Hash) *proposal {
	for _, r := range e.roundNums {
		if p := e.rounds[r].proposalFor(hash); p != nil && e.isValid(p) {
			return p
		}
	}
	return nil
}

// decide emits the decision with its certificate, moves to the next height
// and waits TimeoutCommitMS before its round 0.
func (e *Engine) decide(r uint32, p *proposal) {
	commit, err := chain.NewCommit(e.rounds[r].precommits.votesFor(p.hash))
	if err != nil {
		panic(fmt.Sprintf("consensus: certificate from counted precommits: %v", err))
	}
	v := e.verdicts[p.hash]
	if v == nil || v.err != nil {
		panic("consensus: deciding a block without a valid verdict")
	}
	e.ready.Decisions = append(e.ready.Decisions, Decision{Block: p.msg.Block, Commit: commit, Next: v.next})
	e.advance(p.msg.Block, commit, v.nextSet)
	e.ready.Timers = append(e.ready.Timers, Timer{Height: e.height, Round: 0, Step: StepCommit, DurationMS: e.params.TimeoutCommitMS})
}

// uponRoundSkip, lines 55-56: f+1 authorities sent messages for a round
// above ours, so at least one correct node is there: start that round.
// Rounds beyond the stored window count by each sender's highest round.
func (e *Engine) uponRoundSkip() bool {
	f1 := e.set.MaxFaulty() + 1
	target := e.round
	for _, r := range e.roundNums {
		if r > target && len(e.rounds[r].senders) >= f1 {
			target = r
		}
	}
	if r := e.farRoundReachedBy(f1); r > target {
		target = r
	}
	if target == e.round {
		return false
	}
	e.startRound(target)
	return true
}

// farRoundReachedBy returns the highest round r such that k senders sent
// messages at rounds ≥ r beyond the window (0 if fewer than k did).
func (e *Engine) farRoundReachedBy(k int) uint32 {
	if len(e.farRounds) < k {
		return 0
	}
	rounds := make([]uint32, 0, len(e.farRounds))
	for _, r := range e.farRounds {
		rounds = append(rounds, r)
	}
	slices.SortFunc(rounds, func(a, b uint32) int { return cmp.Compare(b, a) }) // descending
	return rounds[k-1]
}

// onTimeoutPropose, lines 57-60.
func (e *Engine) onTimeoutPropose(r uint32) {
	if r == e.round && e.step == StepPropose {
		e.prevote(chain.Hash{})
	}
}

// onTimeoutPrevote, lines 61-64.
func (e *Engine) onTimeoutPrevote(r uint32) {
	if r == e.round && e.step == StepPrevote {
		e.precommit(chain.Hash{})
	}
}

// onTimeoutPrecommit, lines 65-67.
func (e *Engine) onTimeoutPrecommit(r uint32) {
	if r == e.round && e.step != StepCommit && r < chain.MaxRound {
		e.startRound(r + 1)
	}
}

// prevote broadcasts PREVOTE(h, round, hash) and enters step prevote.
func (e *Engine) prevote(hash chain.Hash) {
	e.signVote(chain.Prevote, e.round, hash)
	e.step = StepPrevote
}

// precommit broadcasts PRECOMMIT(h, round, hash) and enters step precommit.
func (e *Engine) precommit(hash chain.Hash) {
	e.signVote(chain.Precommit, e.round, hash)
	e.step = StepPrecommit
}
