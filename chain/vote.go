package chain

import (
	"fmt"
)

// VoteType distinguishes prevotes from precommits.
type VoteType uint8

// Vote types.
const (
	Prevote   VoteType = 1
	Precommit VoteType = 2
)

func (t VoteType) String() string {
	switch t {
	case Prevote:
		return "prevote"
	case Precommit:
		return "precommit"
	}
	return fmt.Sprintf("vote-type(%d)", uint8(t))
}

func (t VoteType) domain() string {
	if t == Precommit {
		return DomainPrecommit
	}
	return DomainPrevote
}

// MaxRound bounds rounds so that timeouts and arithmetic never overflow.
const MaxRound = 1 << 20

// Vote is a prevote or precommit for a block hash at (height, round). A zero
// BlockHash is a vote for nil.
//
// Encoding: uint8(Type) ‖ uint64(Height) ‖ uint32(Round) ‖ BlockHash ‖
// Validator ‖ Signature. Signed: SignBytes(Type's domain, chainID, the same
// without Signature).
type Vote struct {
	Type      VoteType  `json:"type"`
	Height    uint64    `json:"height"`
	Round     uint32    `json:"round"`
	BlockHash Hash      `json:"block_hash"`
	Validator PublicKey `json:"validator"`
	Signature Signature `json:"signature"`
}

// VoteEncodedLen is the fixed size of an encoded vote.
const VoteEncodedLen = 1 + 8 + 4 + HashSize + PublicKeySize + SignatureSize

func (v *Vote) encodeBody(e *Encoder) {
	e.Uint8(uint8(v.Type))
	e.Uint64(v.Height)
	e.Uint32(v.Round)
	e.Raw(v.BlockHash[:])
	e.Raw(v.Validator[:])
}

// SignBytes returns the bytes the validator signs.
func (v *Vote) SignBytes(chainID string) []byte {
	e := NewEncoder(VoteEncodedLen)
	v.encodeBody(e)
	return SignBytes(v.Type.domain(), chainID, e.Bytes())
}

// Sign sets the validator and signature from key.
func (v *Vote) Sign(chainID string, key *PrivateKey) {
	v.Validator = key.Public()
	v.Signature = key.Sign(v.SignBytes(chainID))
}

// VerifySignature checks the signature.
func (v *Vote) VerifySignature(chainID string) error {
	if !v.Validator.Verify(v.SignBytes(chainID), v.Signature) {
		return fmt.Errorf("%s by %s at %d/%d: %w", v.Type, v.Validator.Short(), v.Height, v.Round, ErrBadSignature)
	}
	return nil
}

func (v *Vote) encode(e *Encoder) {
	v.encodeBody(e)
	e.Raw(v.Signature[:])
}

func (v *Vote) decode(d *Decoder) {
	v.Type = VoteType(d.Uint8())
	v.Height = d.Uint64()
	v.Round = d.Uint32()
	d.Raw(v.BlockHash[:])
	d.Raw(v.Validator[:])
	d.Raw(v.Signature[:])
}

// Encode returns the canonical encoding.
func (v *Vote) Encode() []byte {
	e := NewEncoder(VoteEncodedLen)
	v.encode(e)
	return e.Bytes()
}

// EncodeTo appends the canonical encoding to e.
func (v *Vote) EncodeTo(e *Encoder) { v.encode(e) }

// DecodeVote decodes one vote.
func DecodeVote(b []byte) (*Vote, error) {
	d := NewDecoder(b)
	v := new(Vote)
	v.decode(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode vote: %w", err)
	}
	return v, nil
}

// ValidateBasic checks type, height, round and presence of key and signature.
func (v *Vote) ValidateBasic() error {
	if v.Type != Prevote && v.Type != Precommit {
		return fmt.Errorf("vote: %w: unknown type %d", ErrInvalid, v.Type)
	}
	if v.Height == 0 {
		return fmt.Errorf("vote: %w: height 0", ErrInvalid)
	}
	if v.Round > MaxRound {
		return fmt.Errorf("vote: %w: round %d above limit %d", ErrInvalid, v.Round, MaxRound)
	}
	if v.Validator.IsZero() {
		return fmt.Errorf("vote: %w: missing validator", ErrInvalid)
	}
	if v.Signature.IsZero() {
		return fmt.Errorf("vote: %w: missing signature", ErrInvalid)
	}
	return nil
}

// Proposal is the proposer's signed statement "at (height, round) I propose
// the block with this hash", with POLRound the round of the proof of lock it
// re-proposes (-1 if none). The block itself travels next to it.
//
// Encoding: uint64(Height) ‖ uint32(Round) ‖ int64(POLRound) ‖ BlockHash ‖
// Proposer ‖ Signature. Signed: SignBytes("proposal", chainID, the same
// without Signature).
type Proposal struct {
	Height    uint64    `json:"height"`
	Round     uint32    `json:"round"`
	POLRound  int64     `json:"pol_round"`
	BlockHash Hash      `json:"block_hash"`
	Proposer  PublicKey `json:"proposer"`
	Signature Signature `json:"signature"`
}

// ProposalEncodedLen is the fixed size of an encoded proposal.
const ProposalEncodedLen = 8 + 4 + 8 + HashSize + PublicKeySize + SignatureSize

func (p *Proposal) encodeBody(e *Encoder) {
	e.Uint64(p.Height)
	e.Uint32(p.Round)
	e.Int64(p.POLRound)
	e.Raw(p.BlockHash[:])
	e.Raw(p.Proposer[:])
}

// SignBytes returns the bytes the proposer signs.
func (p *Proposal) SignBytes(chainID string) []byte {
	e := NewEncoder(ProposalEncodedLen)
	p.encodeBody(e)
	return SignBytes(DomainProposal, chainID, e.Bytes())
}

// Sign sets the proposer and signature from key.
func (p *Proposal) Sign(chainID string, key *PrivateKey) {
	p.Proposer = key.Public()
	p.Signature = key.Sign(p.SignBytes(chainID))
}

// VerifySignature checks the signature.
func (p *Proposal) VerifySignature(chainID string) error {
	if !p.Proposer.Verify(p.SignBytes(chainID), p.Signature) {
		return fmt.Errorf("proposal by %s at %d/%d: %w", p.Proposer.Short(), p.Height, p.Round, ErrBadSignature)
	}
	return nil
}

func (p *Proposal) encode(e *Encoder) {
	p.encodeBody(e)
	e.Raw(p.Signature[:])
}

func (p *Proposal) decode(d *Decoder) {
	p.Height = d.Uint64()
	p.Round = d.Uint32()
	p.POLRound = d.Int64()
	d.Raw(p.BlockHash[:])
	d.Raw(p.Proposer[:])
	d.Raw(p.Signature[:])
}

// Encode returns the canonical encoding.
func (p *Proposal) Encode() []byte {
	e := NewEncoder(ProposalEncodedLen)
	p.encode(e)
	return e.Bytes()
}

// ValidateBasic checks height, rounds, block hash and presence of key and
// signature.
func (p *Proposal) ValidateBasic() error {
	if p.Height == 0 {
		return fmt.Errorf("proposal: %w: height 0", ErrInvalid)
	}
	if p.Round > MaxRound {
		return fmt.Errorf("proposal: %w: round %d above limit %d", ErrInvalid, p.Round, MaxRound)
	}
	if p.POLRound < -1 || p.POLRound >= int64(p.Round) {
		return fmt.Errorf("proposal: %w: pol round %d must be -1 or below round %d", ErrInvalid, p.POLRound, p.Round)
	}
	if p.BlockHash.IsZero() {
		return fmt.Errorf("proposal: %w: missing block hash", ErrInvalid)
	}
	if p.Proposer.IsZero() {
		return fmt.Errorf("proposal: %w: missing proposer", ErrInvalid)
	}
	if p.Signature.IsZero() {
		return fmt.Errorf("proposal: %w: missing signature", ErrInvalid)
	}
	return nil
}
