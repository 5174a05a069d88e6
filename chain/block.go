package chain

import (
	"fmt"
)

// Hard limits on a block's contents; genesis parameters set tighter ones.
const (
	MaxBlockTxs      = 100_000
	MaxBlockEvidence = 1_000
	MaxBlockBytes    = 64 << 20
)

// Header is what a block hash commits to.
//
// Encoding: string(ChainID) ‖ uint64(Height) ‖ int64(Time) ‖ PrevHash ‖
// uint32(TxCount) ‖ TxRoot ‖ StateRoot ‖ Proposer ‖ LastCommitHash ‖
// AuthoritySetHash ‖ EvidenceHash.
type Header struct {
	ChainID string `json:"chain_id"`
	Height  uint64 `json:"height"`
	// Time is the proposer's clock in Unix milliseconds. It only has to
	// increase; safety never depends on it.
	Time int64 `json:"time"`
	// PrevHash is the previous block's hash; for height 1, the genesis hash.
	PrevHash Hash   `json:"prev_hash"`
	TxCount  uint32 `json:"tx_count"`
	TxRoot   Hash   `json:"tx_root"`
	// StateRoot is the ledger state root after executing this block.
	StateRoot Hash      `json:"state_root"`
	Proposer  PublicKey `json:"proposer"`
	// LastCommitHash commits to the certificate of the previous block that
	// this block carries (zero at height 1).
	LastCommitHash Hash `json:"last_commit_hash"`
	// AuthoritySetHash names the set that must certify this block.
	AuthoritySetHash Hash `json:"authority_set_hash"`
	EvidenceHash     Hash `json:"evidence_hash"`
}

// HeaderEncodedLen is the size of an encoded header without the chain id.
const HeaderEncodedLen = 4 + 8 + 8 + HashSize + 4 + HashSize + HashSize + PublicKeySize + 3*HashSize

func (h *Header) encode(e *Encoder) {
	e.String(h.ChainID)
	e.Uint64(h.Height)
	e.Int64(h.Time)
	e.Raw(h.PrevHash[:])
	e.Uint32(h.TxCount)
	e.Raw(h.TxRoot[:])
	e.Raw(h.StateRoot[:])
	e.Raw(h.Proposer[:])
	e.Raw(h.LastCommitHash[:])
	e.Raw(h.AuthoritySetHash[:])
	e.Raw(h.EvidenceHash[:])
}

func (h *Header) decode(d *Decoder) {
	h.ChainID = d.String(MaxChainIDLen)
	h.Height = d.Uint64()
	h.Time = d.Int64()
	d.Raw(h.PrevHash[:])
	h.TxCount = d.Uint32()
	d.Raw(h.TxRoot[:])
	d.Raw(h.StateRoot[:])
	d.Raw(h.Proposer[:])
	d.Raw(h.LastCommitHash[:])
	d.Raw(h.AuthoritySetHash[:])
	d.Raw(h.EvidenceHash[:])
}

// Encode returns the canonical encoding.
func (h *Header) Encode() []byte {
	e := NewEncoder(HeaderEncodedLen + len(h.ChainID))
	h.encode(e)
	return e.Bytes()
}

// Hash is the block hash: SHA-256 of the encoded header.
func (h *Header) Hash() Hash { return HashBytes(h.Encode()) }

// ValidateBasic checks the header alone.
func (h *Header) ValidateBasic() error {
	if err := validateChainID(h.ChainID); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if h.Height == 0 {
		return fmt.Errorf("header: %w: height 0 (the first block is height 1)", ErrInvalid)
	}
	if h.Time <= 0 {
		return fmt.Errorf("header at height %d: %w: time %d", h.Height, ErrInvalid, h.Time)
	}
	if h.PrevHash.IsZero() {
		return fmt.Errorf("header at height %d: %w: missing previous hash", h.Height, ErrInvalid)
	}
	if h.Proposer.IsZero() {
		return fmt.Errorf("header at height %d: %w: missing proposer", h.Height, ErrInvalid)
	}
	if h.AuthoritySetHash.IsZero() {
		return fmt.Errorf("header at height %d: %w: missing authority set hash", h.Height, ErrInvalid)
	}
	if h.Height == 1 && !h.LastCommitHash.IsZero() {
		return fmt.Errorf("header at height 1: %w: last commit hash must be zero", ErrInvalid)
	}
	if h.Height > 1 && h.LastCommitHash.IsZero() {
		return fmt.Errorf("header at height %d: %w: missing last commit hash", h.Height, ErrInvalid)
	}
	return nil
}

// Block is a header with the transactions, the previous block's certificate
// and evidence it commits to.
//
// Encoding: Header ‖ list of Tx ‖ optional Commit ‖ list of Evidence.
type Block struct {
	Header     Header     `json:"header"`
	Txs        []Tx       `json:"txs"`
	LastCommit *Commit    `json:"last_commit,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
}

// Hash is the header's hash.
func (b *Block) Hash() Hash { return b.Header.Hash() }

// Height is the header's height.
func (b *Block) Height() uint64 { return b.Header.Height }

// Fill sets the header fields derived from the body: TxCount, TxRoot,
// LastCommitHash and EvidenceHash.
func (b *Block) Fill() {
	b.Header.TxCount = uint32(len(b.Txs))
	b.Header.TxRoot = TxRoot(b.Txs)
	b.Header.LastCommitHash = b.LastCommit.Hash()
	b.Header.EvidenceHash = EvidenceHash(b.Evidence)
}

// EncodedLen returns the size of the encoding.
func (b *Block) EncodedLen() int {
	n := HeaderEncodedLen + len(b.Header.ChainID) + 4 + 1 + 4
	for i := range b.Txs {
		n += b.Txs[i].EncodedLen()
	}
	if b.LastCommit != nil {
		n += b.LastCommit.encodedLen()
	}
	for i := range b.Evidence {
		n += b.Evidence[i].encodedLen()
	}
	return n
}

// Encode returns the canonical encoding.
func (b *Block) Encode() []byte {
	e := NewEncoder(b.EncodedLen())
	b.encode(e)
	return e.Bytes()
}

// EncodeTo appends the canonical encoding to e, for callers that place a
// block inside a larger record (see EncodeInto).
func (b *Block) EncodeTo(e *Encoder) { b.encode(e) }

// EncodeChunks hands the canonical encoding to emit in pieces of exactly
// size bytes, the last one shorter, in order: concatenated they are
// Encode's bytes. emit must not keep a piece. It holds about one piece and
// one transaction in memory, not the whole block, for storage that keeps a
// large block in chunks; emit's first error stops it and is returned.
func (b *Block) EncodeChunks(size int, emit func(piece []byte) error) error {
	if size <= 0 {
		return fmt.Errorf("encode chunks: %w: size %d", ErrInvalid, size)
	}
	e := NewEncoder(size + 4<<10)
	drain := func(all bool) error {
		for len(e.buf) >= size || (all && len(e.buf) > 0) {
			n := min(size, len(e.buf))
			if err := emit(e.buf[:n]); err != nil {
				return err
			}
			e.buf = append(e.buf[:0], e.buf[n:]...)
		}
		return nil
	}
	if err := b.encodeDraining(e, func() error { return drain(false) }); err != nil {
		return err
	}
	return drain(true)
}

func (b *Block) encode(e *Encoder) { _ = b.encodeDraining(e, nil) }

// encodeDraining encodes b into e and, unless drain is nil, calls it after
// each transaction and piece of evidence so that a caller can take the
// bytes out as they come (EncodeChunks); drain's first error stops it.
func (b *Block) encodeDraining(e *Encoder, drain func() error) error {
	b.Header.encode(e)
	e.Uint32(uint32(len(b.Txs)))
	for i := range b.Txs {
		b.Txs[i].encode(e)
		if drain != nil {
			if err := drain(); err != nil {
				return err
			}
		}
	}
	return encodeCommitEvidence(e, b.LastCommit, b.Evidence, drain)
}

// encodeCommitEvidence encodes what follows the transactions of a block,
// whole or compact: the optional certificate, then the evidence (drain as
// for encodeDraining).
func encodeCommitEvidence(e *Encoder, c *Commit, ev []Evidence, drain func() error) error {
	e.Bool(c != nil)
	if c != nil {
		c.encode(e)
	}
	e.Uint32(uint32(len(ev)))
	for i := range ev {
		ev[i].encode(e)
		if drain != nil {
			if err := drain(); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeCommitEvidence decodes what encodeCommitEvidence encodes.
func decodeCommitEvidence(d *Decoder) (*Commit, []Evidence) {
	var c *Commit
	if d.Bool() {
		c = new(Commit)
		c.decode(d)
	}
	var ev []Evidence
	if m := d.Count(MaxBlockEvidence, 1+2*VoteEncodedLen); m > 0 {
		ev = make([]Evidence, m)
		for i := 0; i < m && d.Err() == nil; i++ {
			ev[i].decode(d)
		}
	}
	return c, ev
}

const minTxEncodedLen = 4 + PublicKeySize + 8 + 4 + 4 + SignatureSize

func (b *Block) decode(d *Decoder) {
	b.Header.decode(d)
	n := d.Count(MaxBlockTxs, minTxEncodedLen)
	if n > 0 {
		b.Txs = make([]Tx, n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		b.Txs[i].decode(d)
	}
	b.LastCommit, b.Evidence = decodeCommitEvidence(d)
}

// DecodeBlock decodes one block.
func DecodeBlock(data []byte) (*Block, error) {
	if len(data) > MaxBlockBytes {
		return nil, fmt.Errorf("decode block: %w: %d bytes exceed the limit of %d: %w", ErrTooLarge, len(data), MaxBlockBytes, ErrMalformed)
	}
	d := NewDecoder(data)
	b := new(Block)
	b.decode(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode block: %w", err)
	}
	return b, nil
}

// ValidateBasic checks the header and that the body matches it: tx count and
// root, commit and evidence hashes, every transaction's and evidence's own
// ValidateBasic and chain id. Signatures are not verified here.
func (b *Block) ValidateBasic() error {
	h := &b.Header
	if err := h.ValidateBasic(); err != nil {
		return err
	}
	if int(h.TxCount) != len(b.Txs) {
		return fmt.Errorf("block %d: %w: header says %d txs, body has %d", h.Height, ErrInvalid, h.TxCount, len(b.Txs))
	}
	if len(b.Txs) > MaxBlockTxs {
		return fmt.Errorf("block %d: %w: %d txs", h.Height, ErrTooLarge, len(b.Txs))
	}
	for i := range b.Txs {
		tx := &b.Txs[i]
		if err := tx.ValidateBasic(); err != nil {
			return fmt.Errorf("block %d tx %d: %w", h.Height, i, err)
		}
		if tx.ChainID != h.ChainID {
			return fmt.Errorf("block %d tx %d: %w: %q", h.Height, i, ErrWrongChain, tx.ChainID)
		}
	}
	if root := TxRoot(b.Txs); root != h.TxRoot {
		return fmt.Errorf("block %d: %w: tx root %s, header says %s", h.Height, ErrInvalid, root.Short(), h.TxRoot.Short())
	}
	return validateCommitEvidence(h, b.LastCommit, b.Evidence)
}

// validateCommitEvidence is the part of ValidateBasic that does not look
// at the transactions, for whole and compact blocks alike: the certificate
// and evidence, and their hashes in the (already checked) header h.
func validateCommitEvidence(h *Header, c *Commit, ev []Evidence) error {
	if c.Hash() != h.LastCommitHash {
		return fmt.Errorf("block %d: %w: last commit does not match its hash in the header", h.Height, ErrInvalid)
	}
	if c != nil {
		if err := c.ValidateBasic(); err != nil {
			return fmt.Errorf("block %d last commit: %w", h.Height, err)
		}
		if c.Height+1 != h.Height {
			return fmt.Errorf("block %d: %w: last commit is for height %d", h.Height, ErrInvalid, c.Height)
		}
		if c.BlockHash != h.PrevHash {
			return fmt.Errorf("block %d: %w: last commit is for block %s, previous hash is %s", h.Height, ErrInvalid, c.BlockHash.Short(), h.PrevHash.Short())
		}
	}
	if len(ev) > MaxBlockEvidence {
		return fmt.Errorf("block %d: %w: %d pieces of evidence", h.Height, ErrTooLarge, len(ev))
	}
	for i := range ev {
		if err := ev[i].ValidateBasic(); err != nil {
			return fmt.Errorf("block %d evidence %d: %w", h.Height, i, err)
		}
	}
	if EvidenceHash(ev) != h.EvidenceHash {
		return fmt.Errorf("block %d: %w: evidence does not match its hash in the header", h.Height, ErrInvalid)
	}
	return nil
}
