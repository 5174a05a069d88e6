package consensus

import (
	"github.com/zwnode/zwnode/chain"
)

// voteSet holds one vote type's votes of one round: at most one vote per
// authority (the first one seen; a conflicting second one is evidence, not
// a vote) and a tally per block hash (the zero hash is nil).
type voteSet struct {
	votes map[chain.PublicKey]*chain.Vote
	tally map[chain.Hash]int
	order []*chain.Vote // arrival order, for deterministic output
}

func newVoteSet() *voteSet {
	return &voteSet{votes: make(map[chain.PublicKey]*chain.Vote), tally: make(map[chain.Hash]int)}
}

// add records v and returns the earlier vote it conflicts with, if any.
// A repeat of the same vote is ignored.
func (s *voteSet) add(v *chain.Vote) (conflict *chain.Vote) {
	if old, ok := s.votes[v.Validator]; ok {
		if old.BlockHash != v.BlockHash {
			return old
		}
		return nil
	}
	s.votes[v.Validator] = v
	s.tally[v.BlockHash]++
	s.order = append(s.order, v)
	return nil
}

// count is the number of authorities that voted for block (zero hash: nil).
func (s *voteSet) count(block chain.Hash) int { return s.tally[block] }

// total is the number of authorities that voted, for anything.
func (s *voteSet) total() int { return len(s.votes) }

// quorumBlock returns a non-nil block hash with at least q votes, if any.
// Two different ones cannot both have q votes from distinct authorities
// unless more than f are faulty; the first in arrival order wins then.
func (s *voteSet) quorumBlock(q int) (chain.Hash, bool) {
	for _, v := range s.order {
		if !v.BlockHash.IsZero() && s.tally[v.BlockHash] >= q {
			return v.BlockHash, true
		}
	}
	return chain.Hash{}, false
}

// votesFor returns the votes for block in arrival order.
func (s *voteSet) votesFor(block chain.Hash) []*chain.Vote {
	var out []*chain.Vote
	for _, v := range s.order {
		if v.BlockHash == block {
			out = append(out, v)
		}
	}
	return out
}

// maxProposalsPerRound bounds how many distinct proposals of one round's
// proposer are kept. An honest proposer sends one; more than one is
// evidence, and keeping a few lets us decide whichever one a quorum chose.
const maxProposalsPerRound = 4

// proposal is a received proposal with its block. Its verdict (the
// paper's valid(v)) is computed when first needed, see Engine.isValid.
type proposal struct {
	msg    *chain.Message
	hash   chain.Hash
	judged bool
	valid  bool
}

// roundState is everything received at one round of the current height,
// plus the "for the first time" flags of the paper's rules.
type roundState struct {
	proposals  []*proposal // from proposer(h, r), first one first
	prevotes   *voteSet
	precommits *voteSet
	// senders of any message in this round, for the f+1 round-skip rule.
	senders map[chain.PublicKey]bool

	prevoteTimerArmed   bool // line 34
	precommitTimerArmed bool // line 47
	polSeen             bool // line 36
}

func newRoundState() *roundState {
	return &roundState{prevotes: newVoteSet(), precommits: newVoteSet(), senders: make(map[chain.PublicKey]bool)}
}

// votes returns the set for vote type t.
func (rs *roundState) votes(t chain.VoteType) *voteSet {
	if t == chain.Precommit {
		return rs.precommits
	}
	return rs.prevotes
}

// proposalFor returns the proposal of this round for block, if any.
func (rs *roundState) proposalFor(block chain.Hash) *proposal {
	for _, p := range rs.proposals {
		if p.hash == block {
			return p
		}
	}
	return nil
}
