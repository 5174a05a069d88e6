package chain

import (
	"fmt"
)

// CompactBlock is a block with its transactions named by hash (Tx.Hash)
// instead of carried: what a proposal gossips. Every authority already
// holds nearly all of a proposal's transactions, because they were gossiped
// to it before the proposer took them from its mempool; sending them again
// inside the proposal tripled the bytes each node received per block (the
// proposal reaches it from every mesh peer) and kept a second copy of every
// transaction in memory. A receiver rebuilds the block from its mempool,
// fetches what it lacks, and only then hands the whole block to consensus
// (Rebuild checks that the transactions are the ones the header commits to).
//
// Encoding: Header ‖ uint32(n) ‖ n × Hash ‖ optional Commit ‖ list of Evidence.
type CompactBlock struct {
	Header     Header
	TxHashes   []Hash
	LastCommit *Commit
	Evidence   []Evidence
}

// Compact returns b's compact form; hashes[i] must be b.Txs[i].Hash() (nil,
// or a list of another length: computed here). The result shares LastCommit and Evidence with b.
func (b *Block) Compact(hashes []Hash) *CompactBlock {
	if len(hashes) != len(b.Txs) {
		hashes = TxHashes(b.Txs)
	}
	return &CompactBlock{Header: b.Header, TxHashes: hashes, LastCommit: b.LastCommit, Evidence: b.Evidence}
}

// Hash is the header's hash, the block's hash.
func (c *CompactBlock) Hash() Hash { return c.Header.Hash() }

// EncodedLen returns the size of the encoding.
func (c *CompactBlock) EncodedLen() int {
	n := HeaderEncodedLen + len(c.Header.ChainID) + 4 + len(c.TxHashes)*HashSize + 1 + 4
	if c.LastCommit != nil {
		n += c.LastCommit.encodedLen()
	}
	for i := range c.Evidence {
		n += c.Evidence[i].encodedLen()
	}
	return n
}

func (c *CompactBlock) encode(e *Encoder) {
	c.Header.encode(e)
	e.Uint32(uint32(len(c.TxHashes)))
	for i := range c.TxHashes {
		e.Raw(c.TxHashes[i][:])
	}
	_ = encodeCommitEvidence(e, c.LastCommit, c.Evidence, nil)
}

func (c *CompactBlock) decode(d *Decoder) {
	c.Header.decode(d)
	n := d.Count(MaxBlockTxs, HashSize)
	if n > 0 {
		c.TxHashes = make([]Hash, n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		d.Raw(c.TxHashes[i][:])
	}
	c.LastCommit, c.Evidence = decodeCommitEvidence(d)
}

// ValidateBasic checks what can be checked without the transactions: the
// header, the count of hashes, no hash twice, and the certificate and
// evidence against their hashes in the header. The transaction root is
// checked by Rebuild.
func (c *CompactBlock) ValidateBasic() error {
	h := &c.Header
	if err := h.ValidateBasic(); err != nil {
		return err
	}
	if int(h.TxCount) != len(c.TxHashes) {
		return fmt.Errorf("compact block %d: %w: header says %d txs, %d hashes", h.Height, ErrInvalid, h.TxCount, len(c.TxHashes))
	}
	if len(c.TxHashes) > MaxBlockTxs {
		return fmt.Errorf("compact block %d: %w: %d txs", h.Height, ErrTooLarge, len(c.TxHashes))
	}
	seen := make(map[Hash]struct{}, len(c.TxHashes))
	for i, th := range c.TxHashes {
		if _, dup := seen[th]; dup {
			return fmt.Errorf("compact block %d: %w: tx %d repeats tx %s", h.Height, ErrInvalid, i, th.Short())
		}
		seen[th] = struct{}{}
	}
	return validateCommitEvidence(h, c.LastCommit, c.Evidence)
}

// TxsAt returns the transactions at the given indexes, in that order
// (copies of the Tx values, sharing their bytes); ok is false if an index
// is beyond the block. It serves peers rebuilding a compact block.
func (b *Block) TxsAt(idx []uint32) (txs []Tx, ok bool) {
	txs = make([]Tx, len(idx))
	for k, i := range idx {
		if int(i) >= len(b.Txs) {
			return nil, false
		}
		txs[k] = b.Txs[i]
	}
	return txs, true
}

// Rebuild returns the whole block: txs[i] must be the transaction whose
// hash is TxHashes[i] (the caller looked it up by that hash). The result
// passed Block.ValidateBasic, so its transactions are the ones the header's
// tx root commits to. txs is kept, not copied.
func (c *CompactBlock) Rebuild(txs []Tx) (*Block, error) {
	if len(txs) != len(c.TxHashes) {
		return nil, fmt.Errorf("rebuild block %d: %w: %d txs for %d hashes", c.Header.Height, ErrInvalid, len(txs), len(c.TxHashes))
	}
	b := &Block{Header: c.Header, Txs: txs, LastCommit: c.LastCommit, Evidence: c.Evidence}
	if len(txs) == 0 {
		b.Txs = nil
	}
	if err := b.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	return b, nil
}
