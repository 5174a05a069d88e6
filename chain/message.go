package chain

import (
	"fmt"
)

// MessageKind tags a consensus message on the wire.
type MessageKind uint8

// Message kinds.
const (
	MsgProposal MessageKind = 1
	MsgVote     MessageKind = 2
	// MsgCompactProposal is a proposal whose block names its transactions
	// by hash (CompactBlock): what gossip carries. A node rebuilds the
	// whole block before consensus sees it.
	MsgCompactProposal MessageKind = 3
)

// Message is a consensus message: a signed proposal with its block (whole
// or compact), or a signed vote. Exactly one of Vote, Block and Compact is
// set, and Proposal with either block.
//
// Encoding: uint8(kind) ‖ (Proposal ‖ Block), (Proposal ‖ CompactBlock) or
// Vote.
type Message struct {
	Proposal *Proposal
	Block    *Block
	Compact  *CompactBlock
	Vote     *Vote
}

// Kind returns the message's kind.
func (m *Message) Kind() MessageKind {
	switch {
	case m.Vote != nil:
		return MsgVote
	case m.Compact != nil:
		return MsgCompactProposal
	}
	return MsgProposal
}

// Compacted returns the message with its block in compact form (hashes as
// for Block.Compact); a vote, or a message already compact, is returned as
// it is.
func (m *Message) Compacted(hashes []Hash) *Message {
	if m.Block == nil {
		return m
	}
	return &Message{Proposal: m.Proposal, Compact: m.Block.Compact(hashes)}
}

// ChainID returns the chain id of the proposal's block, "" for a vote.
func (m *Message) ChainID() string {
	switch {
	case m.Block != nil:
		return m.Block.Header.ChainID
	case m.Compact != nil:
		return m.Compact.Header.ChainID
	}
	return ""
}

// Height returns the height the message is about.
func (m *Message) Height() uint64 {
	if m.Vote != nil {
		return m.Vote.Height
	}
	if m.Proposal != nil {
		return m.Proposal.Height
	}
	return 0
}

// Round returns the round the message is about.
func (m *Message) Round() uint32 {
	if m.Vote != nil {
		return m.Vote.Round
	}
	if m.Proposal != nil {
		return m.Proposal.Round
	}
	return 0
}

// Signer returns the key that signed the message.
func (m *Message) Signer() PublicKey {
	if m.Vote != nil {
		return m.Vote.Validator
	}
	if m.Proposal != nil {
		return m.Proposal.Proposer
	}
	return PublicKey{}
}

// Encode returns the canonical encoding.
func (m *Message) Encode() []byte {
	if m.Vote != nil {
		e := NewEncoder(1 + VoteEncodedLen)
		e.Uint8(uint8(MsgVote))
		m.Vote.encode(e)
		return e.Bytes()
	}
	if m.Compact != nil {
		e := NewEncoder(1 + ProposalEncodedLen + m.Compact.EncodedLen())
		e.Uint8(uint8(MsgCompactProposal))
		m.Proposal.encode(e)
		m.Compact.encode(e)
		return e.Bytes()
	}
	e := NewEncoder(1 + ProposalEncodedLen + m.Block.EncodedLen())
	e.Uint8(uint8(MsgProposal))
	m.Proposal.encode(e)
	m.Block.encode(e)
	return e.Bytes()
}

// DecodeMessage decodes a consensus message.
func DecodeMessage(b []byte) (*Message, error) {
	if len(b) > MaxBlockBytes+ProposalEncodedLen+1 {
		return nil, fmt.Errorf("decode consensus message: %w: %d bytes: %w", ErrTooLarge, len(b), ErrMalformed)
	}
	d := NewDecoder(b)
	m := new(Message)
	switch MessageKind(d.Uint8()) {
	case MsgVote:
		m.Vote = new(Vote)
		m.Vote.decode(d)
	case MsgProposal:
		m.Proposal, m.Block = new(Proposal), new(Block)
		m.Proposal.decode(d)
		m.Block.decode(d)
	case MsgCompactProposal:
		m.Proposal, m.Compact = new(Proposal), new(CompactBlock)
		m.Proposal.decode(d)
		m.Compact.decode(d)
	default:
		d.fail("unknown consensus message kind")
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode consensus message: %w", err)
	}
	return m, nil
}

// ValidateBasic checks the parts and, for a proposal, that the block matches
// the signed hash, height and proposer.
func (m *Message) ValidateBasic() error {
	if m.Vote != nil {
		if m.Proposal != nil || m.Block != nil || m.Compact != nil {
			return fmt.Errorf("consensus message: %w: both vote and proposal", ErrInvalid)
		}
		return m.Vote.ValidateBasic()
	}
	if m.Proposal == nil || (m.Block == nil && m.Compact == nil) {
		return fmt.Errorf("consensus message: %w: empty", ErrInvalid)
	}
	if m.Block != nil && m.Compact != nil {
		return fmt.Errorf("consensus message: %w: both a whole and a compact block", ErrInvalid)
	}
	if err := m.Proposal.ValidateBasic(); err != nil {
		return err
	}
	var hd *Header
	if m.Block != nil {
		if err := m.Block.ValidateBasic(); err != nil {
			return err
		}
		hd = &m.Block.Header
	} else {
		if err := m.Compact.ValidateBasic(); err != nil {
			return err
		}
		hd = &m.Compact.Header
	}
	if hd.Hash() != m.Proposal.BlockHash {
		return fmt.Errorf("proposal at %d/%d: %w: block hash does not match", m.Proposal.Height, m.Proposal.Round, ErrInvalid)
	}
	if hd.Height != m.Proposal.Height {
		return fmt.Errorf("proposal at %d/%d: %w: block is for height %d", m.Proposal.Height, m.Proposal.Round, ErrInvalid, hd.Height)
	}
	// The header's proposer may differ from the proposal's signer: a block
	// locked in an earlier round is re-proposed unchanged by a later proposer.
	return nil
}

// VerifySignature checks the signature of the vote or proposal.
func (m *Message) VerifySignature(chainID string) error {
	if m.Vote != nil {
		return m.Vote.VerifySignature(chainID)
	}
	return m.Proposal.VerifySignature(chainID)
}

// EncodeTxs encodes a list of transactions (a gossip or API batch).
func EncodeTxs(txs []Tx) []byte {
	n := 4
	for i := range txs {
		n += txs[i].EncodedLen()
	}
	e := NewEncoder(n)
	e.Uint32(uint32(len(txs)))
	for i := range txs {
		txs[i].encode(e)
	}
	return e.Bytes()
}

// DecodeTxs decodes a list of transactions of at most limit entries.
func DecodeTxs(b []byte, limit int) ([]Tx, error) {
	d := NewDecoder(b)
	n := d.Count(limit, minTxEncodedLen)
	txs := make([]Tx, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		txs[i].decode(d)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode tx list: %w", err)
	}
	return txs, nil
}

// EncodeEvidence encodes one piece of evidence for gossip.
func EncodeEvidence(ev *Evidence) []byte { return ev.Encode() }
