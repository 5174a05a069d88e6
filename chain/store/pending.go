package store

import (
	"context"
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// A validator saves the valid block of the height being decided with its
// sign-state (consensus.ValidState: what lets it re-propose after a crash)
// and, a moment later, commits that same block. Both used to carry the
// block, a few MB at full load: it went to the WAL, the memtables and the
// flushes twice per height, and each flush of a sign-state's chunks pushed
// L0 towards another compaction of the whole base level. Now
// WriteSignState stores the valid block where the commit would, under its
// height's block key, ahead of the head; the commit of a block with that
// hash then writes everything but the block. A block above the head is
// not served (RawBlock, Block) until a commit moves the head past it.

// pendingBlock describes the block stored above the head, at head+1.
type pendingBlock struct {
	height uint64 // 0: none
	// hash is the block's hash; zero when it was found at Open, so that a
	// commit at its height writes its block again rather than trust it.
	hash   chain.Hash
	chunks int // chunk count of the stored value (0: whole)
}

// loadPending finds a block stored above the head by an earlier process.
func (s *Store) loadPending(ctx context.Context) error {
	h := s.head.height + 1
	m, ok, err := s.get(ctx, blockKey(h))
	if err != nil || !ok {
		return err
	}
	s.pending = pendingBlock{height: h, chunks: manifestChunks(m)}
	return nil
}

// pendingAt is how a commit of the block with hash at height h treats the
// pending block: skip when it is that block, otherwise the chunk count
// the commit's own block must replace. Callers hold writeMu.
func (s *Store) pendingAt(h uint64, hash chain.Hash) (skip bool, prevChunks int) {
	p := s.pending
	if p.height != h {
		return false, 0
	}
	return !p.hash.IsZero() && p.hash == hash, p.chunks
}

// validBatchSize is what putValid may add to a batch.
func (s *Store) validBatchSize(valid *chain.Block) int {
	kl := len(blockKey(valid.Height()).String())
	return chunkedBatchSize(kl, valid.EncodedLen()) + s.pending.chunks*(batchRecordOverhead+kl+9)
}

// putValid adds valid, the valid block saved with a sign-state, to batch
// under its height's block key, unless it is stored there already, and
// returns what the store holds above the head once batch is committed.
// valid must be at the height after the head. Callers hold writeMu.
func (s *Store) putValid(batch writeBatch, valid *chain.Block) (pendingBlock, error) {
	head, _ := s.Head()
	h := valid.Height()
	if h != head+1 {
		return s.pending, fmt.Errorf("%w: valid block at height %d, the head is at %d", chain.ErrInvalid, h, head)
	}
	hash := valid.Hash()
	skip, prev := s.pendingAt(h, hash)
	if skip {
		return s.pending, nil
	}
	if err := putBlock(batch, blockKey(h).Bytes(), valid, prev); err != nil {
		return s.pending, fmt.Errorf("valid block: %w", err)
	}
	return pendingBlock{height: h, hash: hash, chunks: chunkCount(valid.EncodedLen())}, nil
}

// committed forgets the pending block once the head has reached it.
// Callers hold writeMu.
func (s *Store) committed(head uint64) {
	if s.pending.height <= head {
		s.pending = pendingBlock{}
	}
}

// PendingBlock returns the valid block WriteSignState stored at height h
// above the head, or ErrNotFound.
func (s *Store) PendingBlock(ctx context.Context, h uint64) (*chain.Block, error) {
	head, _ := s.Head()
	if h <= head {
		return nil, fmt.Errorf("pending block %d: %w (the head is at %d)", h, ErrNotFound, head)
	}
	b, err := s.block(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("pending %w", err)
	}
	return b, nil
}
