package chain

import (
	"fmt"
)

// EvidenceKind names the misbehaviour an Evidence proves.
type EvidenceKind uint8

// Evidence kinds.
const (
	// DuplicateVote: two votes of one type by one validator at one
	// (height, round) for different blocks.
	DuplicateVote EvidenceKind = 1
	// ConflictingProposal: two proposals by one proposer at one
	// (height, round) for different blocks.
	ConflictingProposal EvidenceKind = 2
)

func (k EvidenceKind) String() string {
	switch k {
	case DuplicateVote:
		return "duplicate-vote"
	case ConflictingProposal:
		return "conflicting-proposal"
	}
	return fmt.Sprintf("evidence-kind(%d)", uint8(k))
}

// Evidence proves that one authority signed two conflicting messages. The
// pair is stored in canonical order (smaller block hash first) so the same
// misbehaviour always has the same encoding and hash.
//
// Encoding: uint8(Kind) ‖ A ‖ B, where A and B are encoded votes or
// proposals according to Kind.
type Evidence struct {
	Kind      EvidenceKind `json:"kind"`
	VoteA     *Vote        `json:"vote_a,omitempty"`
	VoteB     *Vote        `json:"vote_b,omitempty"`
	ProposalA *Proposal    `json:"proposal_a,omitempty"`
	ProposalB *Proposal    `json:"proposal_b,omitempty"`
}

// NewDuplicateVoteEvidence orders the two votes canonically.
func NewDuplicateVoteEvidence(a, b *Vote) *Evidence {
	if hashLess(b.BlockHash, a.BlockHash) {
		a, b = b, a
	}
	return &Evidence{Kind: DuplicateVote, VoteA: a, VoteB: b}
}

// NewConflictingProposalEvidence orders the two proposals canonically.
func NewConflictingProposalEvidence(a, b *Proposal) *Evidence {
	if hashLess(b.BlockHash, a.BlockHash) {
		a, b = b, a
	}
	return &Evidence{Kind: ConflictingProposal, ProposalA: a, ProposalB: b}
}

func hashLess(a, b Hash) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Offender returns the authority the evidence accuses.
func (ev *Evidence) Offender() PublicKey {
	if ev.Kind == DuplicateVote && ev.VoteA != nil {
		return ev.VoteA.Validator
	}
	if ev.ProposalA != nil {
		return ev.ProposalA.Proposer
	}
	return PublicKey{}
}

// Height returns the height of the misbehaviour.
func (ev *Evidence) Height() uint64 {
	if ev.Kind == DuplicateVote && ev.VoteA != nil {
		return ev.VoteA.Height
	}
	if ev.ProposalA != nil {
		return ev.ProposalA.Height
	}
	return 0
}

// encodedLen is the size of the encoding: a kind byte and two votes or
// two proposals.
func (ev *Evidence) encodedLen() int {
	switch ev.Kind {
	case DuplicateVote:
		return 1 + 2*VoteEncodedLen
	case ConflictingProposal:
		return 1 + 2*ProposalEncodedLen
	}
	return 1
}

func (ev *Evidence) encode(e *Encoder) {
	e.Uint8(uint8(ev.Kind))
	switch ev.Kind {
	case DuplicateVote:
		ev.VoteA.encode(e)
		ev.VoteB.encode(e)
	case ConflictingProposal:
		ev.ProposalA.encode(e)
		ev.ProposalB.encode(e)
	}
}

func (ev *Evidence) decode(d *Decoder) {
	ev.Kind = EvidenceKind(d.Uint8())
	switch ev.Kind {
	case DuplicateVote:
		ev.VoteA, ev.VoteB = new(Vote), new(Vote)
		ev.VoteA.decode(d)
		ev.VoteB.decode(d)
	case ConflictingProposal:
		ev.ProposalA, ev.ProposalB = new(Proposal), new(Proposal)
		ev.ProposalA.decode(d)
		ev.ProposalB.decode(d)
	default:
		d.fail("unknown evidence kind %d", ev.Kind)
	}
}

// Encode returns the canonical encoding.
func (ev *Evidence) Encode() []byte {
	e := NewEncoder(1 + 2*ProposalEncodedLen)
	ev.encode(e)
	return e.Bytes()
}

// DecodeEvidence decodes one piece of evidence.
func DecodeEvidence(b []byte) (*Evidence, error) {
	d := NewDecoder(b)
	ev := new(Evidence)
	ev.decode(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode evidence: %w", err)
	}
	return ev, nil
}

// Hash is SHA-256 of the encoding.
func (ev *Evidence) Hash() Hash { return HashBytes(ev.Encode()) }

// ValidateBasic checks that the pair really conflicts: same signer, same
// height, round (and vote type), different blocks, canonical order.
func (ev *Evidence) ValidateBasic() error {
	switch ev.Kind {
	case DuplicateVote:
		a, b := ev.VoteA, ev.VoteB
		if a == nil || b == nil {
			return fmt.Errorf("evidence: %w: missing vote", ErrInvalid)
		}
		if err := a.ValidateBasic(); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		if err := b.ValidateBasic(); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		if a.Validator != b.Validator || a.Type != b.Type || a.Height != b.Height || a.Round != b.Round {
			return fmt.Errorf("evidence: %w: votes are not by one validator at one height, round and type", ErrInvalid)
		}
		if !hashLess(a.BlockHash, b.BlockHash) {
			return fmt.Errorf("evidence: %w: votes do not conflict or are not in canonical order", ErrInvalid)
		}
	case ConflictingProposal:
		a, b := ev.ProposalA, ev.ProposalB
		if a == nil || b == nil {
			return fmt.Errorf("evidence: %w: missing proposal", ErrInvalid)
		}
		if err := a.ValidateBasic(); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		if err := b.ValidateBasic(); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		if a.Proposer != b.Proposer || a.Height != b.Height || a.Round != b.Round {
			return fmt.Errorf("evidence: %w: proposals are not by one proposer at one height and round", ErrInvalid)
		}
		if !hashLess(a.BlockHash, b.BlockHash) {
			return fmt.Errorf("evidence: %w: proposals do not conflict or are not in canonical order", ErrInvalid)
		}
	default:
		return fmt.Errorf("evidence: %w: unknown kind %d", ErrInvalid, ev.Kind)
	}
	return nil
}

// Verify runs ValidateBasic, checks that the offender belongs to set (the
// authority set at the evidence's height) and both signatures.
func (ev *Evidence) Verify(chainID string, set *AuthoritySet) error {
	if err := ev.ValidateBasic(); err != nil {
		return err
	}
	if !set.Contains(ev.Offender()) {
		return fmt.Errorf("evidence against %s: %w", ev.Offender().Short(), ErrUnknownAuthority)
	}
	return ev.VerifySignatures(chainID)
}

// VerifySignatures checks both signatures of the pair, for callers that
// check membership elsewhere (or cannot yet: gossip relays evidence for
// heights whose authority set only the node knows).
func (ev *Evidence) VerifySignatures(chainID string) error {
	var err error
	switch ev.Kind {
	case DuplicateVote:
		if ev.VoteA == nil || ev.VoteB == nil {
			return fmt.Errorf("evidence: %w: missing vote", ErrInvalid)
		}
		if err = ev.VoteA.VerifySignature(chainID); err == nil {
			err = ev.VoteB.VerifySignature(chainID)
		}
	case ConflictingProposal:
		if ev.ProposalA == nil || ev.ProposalB == nil {
			return fmt.Errorf("evidence: %w: missing proposal", ErrInvalid)
		}
		if err = ev.ProposalA.VerifySignature(chainID); err == nil {
			err = ev.ProposalB.VerifySignature(chainID)
		}
	default:
		return fmt.Errorf("evidence: %w: unknown kind %d", ErrInvalid, ev.Kind)
	}
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// EvidenceHash is the Merkle root over the evidence hashes.
func EvidenceHash(evs []Evidence) Hash {
	if len(evs) == 0 {
		return Hash{}
	}
	leaves := make([]Hash, len(evs))
	for i := range evs {
		leaves[i] = MerkleLeafHash(evs[i].Encode())
	}
	return MerkleRoot(leaves)
}
