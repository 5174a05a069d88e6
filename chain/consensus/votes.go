package consensus

import (
	"github.com/zwnode/zwnode/chain"
)

// voteSet holds one vote type's votes of one round and a tally per block
// hash (the zero hash is nil). An authority's first vote is its vote; a
// conflicting one is evidence, and is also counted for its own block (up
// to maxVotesPerValidator hashes per authority). Counting an equivocator
// for each block it voted is safe: two quorums for different blocks share
// at least f+1 authorities, all of which would have to equivocate. And it
// is needed: nodes that saw different halves of an equivocation must still
// be able to agree that some block has a quorum (a proof of lock).
type voteSet struct {
	byValidator map[chain.PublicKey][]*chain.Vote
	tally       map[chain.Hash]int
	order       []*chain.Vote // arrival order, for deterministic output
}

// maxVotesPerValidator bounds the distinct votes kept per authority, type
// and round; an honest authority casts one.
const maxVotesPerValidator = 4

func newVoteSet() *voteSet {
	return &voteSet{byValidator: make(map[chain.PublicKey][]*chain.Vote), tally: make(map[chain.Hash]int)}
}

// add records v and returns the authority's first vote if v conflicts with
// it. A repeat of a vote already held is ignored.
func (s *voteSet) add(v *chain.Vote) (conflict *chain.Vote) {
	held := s.byValidator[v.Validator]
	for _, old := range held {
		if old.BlockHash == v.BlockHash {
			return nil
		}
	}
	if len(held) > 0 {
		conflict = held[0]
	}
	if len(held) >= maxVotesPerValidator {
		return conflict
	}
	s.byValidator[v.Validator] = append(held, v)
	s.tally[v.BlockHash]++
	s.order = append(s.order, v)
	return conflict
}

// count is the number of authorities that voted for block (zero hash: nil).
func (s *voteSet) count(block chain.Hash) int { return s.tally[block] }

// total is the number of authorities that voted, for anything.
func (s *voteSet) total() int { return len(s.byValidator) }

// quorumBlock returns a non-nil block hash with at least q votes, if any.
// Two different ones cannot both have q votes unless more than f
// authorities are faulty; the first in arrival order wins then.
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
