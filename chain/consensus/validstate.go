package consensus

import (
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// ValidState is the paper's validValue/validRound together with the
// prevotes that prove it (a quorum for Block at Round). The lock itself is
// in the SignState (safety); this record is what lets a restarted node
// still re-propose its locked or valid block and lets peers that lost the
// round's prevotes accept it (liveness): without it, nodes locked on a
// block that nobody holds any more can stall a height forever.
//
// The caller persists it when Ready.Valid is set (before sending that
// Ready's messages, like the SignState) and hands it back in
// Config.LastValid.
type ValidState struct {
	Height   uint64
	Round    uint32
	Block    *chain.Block
	Prevotes []*chain.Vote
}

// Marshal returns the encoding: uint64(Height) ‖ uint32(Round) ‖
// bytes(encoded Block) ‖ list of encoded votes.
func (v *ValidState) Marshal() []byte {
	e := chain.NewEncoder(v.EncodedLen())
	v.EncodeTo(e)
	return e.Bytes()
}

// EncodedLen is the size of Marshal's encoding.
func (v *ValidState) EncodedLen() int {
	return 8 + 4 + 4 + v.Block.EncodedLen() + 4 + len(v.Prevotes)*chain.VoteEncodedLen
}

// EncodeTo appends Marshal's encoding to e, with the block encoded in
// place rather than into a buffer of its own first.
func (v *ValidState) EncodeTo(e *chain.Encoder) {
	e.Uint64(v.Height)
	e.Uint32(v.Round)
	e.Uint32(uint32(v.Block.EncodedLen()))
	v.Block.EncodeTo(e)
	writeVotes(e, v.Prevotes)
}

// UnmarshalValidState decodes what Marshal produced and checks its shape.
func UnmarshalValidState(b []byte) (*ValidState, error) {
	d := chain.NewDecoder(b)
	v := &ValidState{Height: d.Uint64(), Round: d.Uint32()}
	blk := d.ByteStringView(chain.MaxBlockBytes) // DecodeBlock copies what it keeps
	raw := readVotes(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode valid-state: %w", err)
	}
	var err error
	if v.Block, err = chain.DecodeBlock(blk); err != nil {
		return nil, fmt.Errorf("decode valid-state: %w", err)
	}
	if v.Prevotes, err = decodeVotes(raw); err != nil {
		return nil, err
	}
	if err := v.check(); err != nil {
		return nil, err
	}
	return v, nil
}

// check verifies the record's shape: a basically valid block at Height and
// prevotes for it at (Height, Round).
func (v *ValidState) check() error {
	if v.Block == nil {
		return fmt.Errorf("valid-state: %w: missing block", ErrInvalidConfig)
	}
	if err := v.Block.ValidateBasic(); err != nil {
		return fmt.Errorf("valid-state: %w: %w", ErrInvalidConfig, err)
	}
	hash := v.Block.Hash()
	if v.Block.Header.Height != v.Height {
		return fmt.Errorf("valid-state: %w: block for height %d, record for %d", ErrInvalidConfig, v.Block.Header.Height, v.Height)
	}
	for _, p := range v.Prevotes {
		if err := p.ValidateBasic(); err != nil {
			return fmt.Errorf("valid-state: %w: %w", ErrInvalidConfig, err)
		}
		if p.Type != chain.Prevote || p.Height != v.Height || p.Round != v.Round || p.BlockHash != hash {
			return fmt.Errorf("valid-state: %w: vote is not a prevote for the block at %d/%d", ErrInvalidConfig, v.Height, v.Round)
		}
	}
	return nil
}

// emitValid reports the new valid value for persistence.
func (e *Engine) emitValid() {
	if e.signer == nil {
		return
	}
	votes := e.rounds[e.valid.round].prevotes.votesFor(e.valid.block.Hash())
	e.ready.Valid = &ValidState{Height: e.height, Round: e.valid.round, Block: e.valid.block, Prevotes: votes}
}

// restoreValid takes back a persisted valid value at the start height:
// the block to re-propose and its proof, which peers can fetch from
// CurrentMessages.
func (e *Engine) restoreValid(v *ValidState) {
	e.valid = &validValue{round: v.Round, block: v.Block}
	for _, p := range v.Prevotes {
		if e.set.Contains(p.Validator) {
			e.addVote(p)
		}
	}
}

// ValidRef is a ValidState without its block, which the caller stores
// elsewhere and names by hash: the node keeps the valid block where the
// block's commit will find it (chain/store's pending block), so that a
// block decided as it was validated is written once, not twice.
type ValidRef struct {
	Height    uint64
	Round     uint32
	BlockHash chain.Hash
	Prevotes  []*chain.Vote
}

// Ref returns v without its block.
func (v *ValidState) Ref() ValidRef {
	return ValidRef{Height: v.Height, Round: v.Round, BlockHash: v.Block.Hash(), Prevotes: v.Prevotes}
}

// EncodedLen is the size of EncodeTo's encoding.
func (r *ValidRef) EncodedLen() int {
	return 8 + 4 + chain.HashSize + 4 + len(r.Prevotes)*chain.VoteEncodedLen
}

// EncodeTo appends uint64(Height) ‖ uint32(Round) ‖ BlockHash ‖ list of
// encoded votes.
func (r *ValidRef) EncodeTo(e *chain.Encoder) {
	e.Uint64(r.Height)
	e.Uint32(r.Round)
	e.Raw(r.BlockHash[:])
	writeVotes(e, r.Prevotes)
}

// DecodeValidRef decodes what EncodeTo produced.
func DecodeValidRef(b []byte) (*ValidRef, error) {
	d := chain.NewDecoder(b)
	r := &ValidRef{Height: d.Uint64(), Round: d.Uint32()}
	d.Raw(r.BlockHash[:])
	raw := readVotes(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode valid-state: %w", err)
	}
	var err error
	if r.Prevotes, err = decodeVotes(raw); err != nil {
		return nil, err
	}
	return r, nil
}

// writeVotes appends a list of encoded votes.
func writeVotes(e *chain.Encoder, votes []*chain.Vote) {
	e.Uint32(uint32(len(votes)))
	for _, p := range votes {
		p.EncodeTo(e)
	}
}

// readVotes reads a list of encoded votes (writeVotes).
func readVotes(d *chain.Decoder) [][]byte {
	n := d.Count(chain.MaxAuthorities*maxVotesPerValidator, chain.VoteEncodedLen)
	raw := make([][]byte, n)
	for i := range raw {
		raw[i] = make([]byte, chain.VoteEncodedLen)
		d.Raw(raw[i])
	}
	return raw
}

func decodeVotes(raw [][]byte) ([]*chain.Vote, error) {
	var votes []*chain.Vote
	for _, r := range raw {
		p, err := chain.DecodeVote(r)
		if err != nil {
			return nil, fmt.Errorf("decode valid-state: %w", err)
		}
		votes = append(votes, p)
	}
	return votes, nil
}

// WithBlock returns r's ValidState with its block b, checked as
// UnmarshalValidState checks a whole record: b must be the block r names.
func (r *ValidRef) WithBlock(b *chain.Block) (*ValidState, error) {
	if b == nil || b.Hash() != r.BlockHash {
		return nil, fmt.Errorf("valid-state: %w: the stored block is not the one the record names (%s)", ErrInvalidConfig, r.BlockHash.Short())
	}
	v := &ValidState{Height: r.Height, Round: r.Round, Block: b, Prevotes: r.Prevotes}
	if err := v.check(); err != nil {
		return nil, err
	}
	return v, nil
}
