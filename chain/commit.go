package chain

import (
	"bytes"
	"fmt"
	"sort"
)

// CommitSig is one authority's precommit signature inside a certificate.
type CommitSig struct {
	Validator PublicKey `json:"validator"`
	Signature Signature `json:"signature"`
}

// Commit is the certificate that finalizes a block: precommits for
// BlockHash at (Height, Round) from at least a quorum of the authority set.
// Signatures are sorted by validator key, strictly increasing, so a
// certificate has one canonical form and cannot count a validator twice.
//
// Encoding: uint64(Height) ‖ uint32(Round) ‖ BlockHash ‖ list of
// (Validator ‖ Signature).
type Commit struct {
	Height     uint64      `json:"height"`
	Round      uint32      `json:"round"`
	BlockHash  Hash        `json:"block_hash"`
	Signatures []CommitSig `json:"signatures"`
}

// NewCommit builds a certificate from precommits for one block, sorting them
// into canonical order. All votes must be precommits for the same
// (height, round, block); duplicates by one validator are dropped.
func NewCommit(votes []*Vote) (*Commit, error) {
	if len(votes) == 0 {
		return nil, fmt.Errorf("commit: %w: no votes", ErrInvalid)
	}
	first := votes[0]
	c := &Commit{Height: first.Height, Round: first.Round, BlockHash: first.BlockHash}
	seen := make(map[PublicKey]bool, len(votes))
	for _, v := range votes {
		if v.Type != Precommit || v.Height != c.Height || v.Round != c.Round || v.BlockHash != c.BlockHash {
			return nil, fmt.Errorf("commit: %w: vote %s %d/%d for %s does not match", ErrInvalid, v.Type, v.Height, v.Round, v.BlockHash.Short())
		}
		if seen[v.Validator] {
			continue
		}
		seen[v.Validator] = true
		c.Signatures = append(c.Signatures, CommitSig{Validator: v.Validator, Signature: v.Signature})
	}
	sort.Slice(c.Signatures, func(i, j int) bool {
		return bytes.Compare(c.Signatures[i].Validator[:], c.Signatures[j].Validator[:]) < 0
	})
	return c, nil
}

// Vote reconstructs the i-th precommit.
func (c *Commit) Vote(i int) Vote {
	return Vote{
		Type:      Precommit,
		Height:    c.Height,
		Round:     c.Round,
		BlockHash: c.BlockHash,
		Validator: c.Signatures[i].Validator,
		Signature: c.Signatures[i].Signature,
	}
}

// encodedLen is the size of the encoding.
func (c *Commit) encodedLen() int { return 48 + len(c.Signatures)*(PublicKeySize+SignatureSize) }

func (c *Commit) encode(e *Encoder) {
	e.Uint64(c.Height)
	e.Uint32(c.Round)
	e.Raw(c.BlockHash[:])
	e.Uint32(uint32(len(c.Signatures)))
	for _, s := range c.Signatures {
		e.Raw(s.Validator[:])
		e.Raw(s.Signature[:])
	}
}

func (c *Commit) decode(d *Decoder) {
	c.Height = d.Uint64()
	c.Round = d.Uint32()
	d.Raw(c.BlockHash[:])
	n := d.Count(MaxAuthorities, PublicKeySize+SignatureSize)
	if n > 0 {
		c.Signatures = make([]CommitSig, n)
	}
	for i := 0; i < n; i++ {
		d.Raw(c.Signatures[i].Validator[:])
		d.Raw(c.Signatures[i].Signature[:])
	}
}

// Encode returns the canonical encoding.
func (c *Commit) Encode() []byte {
	e := NewEncoder(48 + len(c.Signatures)*(PublicKeySize+SignatureSize))
	c.encode(e)
	return e.Bytes()
}

// DecodeCommit decodes one certificate.
func DecodeCommit(b []byte) (*Commit, error) {
	d := NewDecoder(b)
	c := new(Commit)
	c.decode(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode commit: %w", err)
	}
	return c, nil
}

// Hash is SHA-256 of the encoding. A nil commit hashes to the zero hash.
func (c *Commit) Hash() Hash {
	if c == nil {
		return Hash{}
	}
	return HashBytes(c.Encode())
}

// ValidateBasic checks shape and canonical order without verifying signatures.
func (c *Commit) ValidateBasic() error {
	if c.Height == 0 {
		return fmt.Errorf("commit: %w: height 0", ErrInvalid)
	}
	if c.Round > MaxRound {
		return fmt.Errorf("commit: %w: round %d above limit", ErrInvalid, c.Round)
	}
	if c.BlockHash.IsZero() {
		return fmt.Errorf("commit: %w: missing block hash", ErrInvalid)
	}
	if len(c.Signatures) == 0 {
		return fmt.Errorf("commit at height %d: %w: no signatures", c.Height, ErrInvalid)
	}
	for i := 1; i < len(c.Signatures); i++ {
		if bytes.Compare(c.Signatures[i-1].Validator[:], c.Signatures[i].Validator[:]) >= 0 {
			return fmt.Errorf("commit at height %d: %w: signatures not in strictly increasing validator order", c.Height, ErrInvalid)
		}
	}
	return nil
}

// Verify checks that c finalizes blockHash at height under set: canonical
// form, every signer a member, every signature valid, and at least a quorum
// of signers.
func (c *Commit) Verify(chainID string, set *AuthoritySet, height uint64, blockHash Hash) error {
	if err := c.ValidateBasic(); err != nil {
		return err
	}
	if c.Height != height {
		return fmt.Errorf("commit: %w: for height %d, want %d", ErrInvalid, c.Height, height)
	}
	if c.BlockHash != blockHash {
		return fmt.Errorf("commit at height %d: %w: for block %s, want %s", height, ErrInvalid, c.BlockHash.Short(), blockHash.Short())
	}
	if len(c.Signatures) < set.Quorum() {
		return fmt.Errorf("commit at height %d: %w: %d of %d needed", height, ErrNoQuorum, len(c.Signatures), set.Quorum())
	}
	for i, s := range c.Signatures {
		if !set.Contains(s.Validator) {
			return fmt.Errorf("commit at height %d: signer %s: %w", height, s.Validator.Short(), ErrUnknownAuthority)
		}
		v := c.Vote(i)
		if err := v.VerifySignature(chainID); err != nil {
			return fmt.Errorf("commit at height %d: %w", height, err)
		}
	}
	return nil
}
