package store

import (
	"context"
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// BlockCommit is one block of a CommitBlocks run: the finalized block, its
// certificate, the state changes executing it caused and the authority set
// it decided (effective at its height + 2), nil if none.
type BlockCommit struct {
	Block       *chain.Block
	Commit      *chain.Commit
	Writes      []Write
	Authorities []chain.Authority
}

// CommitBlocks appends a run of consecutive finalized blocks in one synced
// batch: one fsync for the run instead of one per block, which is what a
// node catching up needs. The result is exactly what calling CommitBlock
// (with WithAuthorities when Authorities is set) for each block in order
// would store: each block is checked against the head left by the one
// before it, and later state writes to a key override earlier ones.
//
// If any block fails CommitBlock's checks, nothing of the run is written
// and the error names that block's height. A crash before the batch is
// durable leaves none of it visible.
func (s *Store) CommitBlocks(ctx context.Context, run []BlockCommit) error {
	if len(run) == 0 {
		return nil
	}
	if err := s.enter(); err != nil {
		return fmt.Errorf("commit blocks: %w", err)
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.writable(); err != nil {
		return fmt.Errorf("commit blocks: %w", err)
	}
	s.mu.RLock()
	cur := s.head
	s.mu.RUnlock()
	batch, err := s.d.Batch(ctx)
	if err != nil {
		return fmt.Errorf("commit blocks: new batch: %w", err)
	}
	extras := make([]commitExtras, len(run))
	for i := range run {
		bc := &run[i]
		if bc.Block == nil || bc.Commit == nil {
			return fmt.Errorf("commit blocks: block %d of the run: %w: missing block or certificate", i, chain.ErrInvalid)
		}
		h := bc.Block.Header.Height
		x := &extras[i]
		if bc.Authorities != nil {
			x.setAuths, x.authHeight, x.auths = true, h+2, bc.Authorities
		}
		writes := NormalizeWrites(bc.Writes)
		hash, next, err := s.checkNext(cur, bc.Block, bc.Commit, writes, x)
		if err != nil {
			return fmt.Errorf("commit block %d: %w", h, err)
		}
		if err := s.fillBatch(ctx, batch, bc.Block, hash, bc.Commit, writes, x, next); err != nil {
			return fmt.Errorf("commit block %d: %w", h, err)
		}
		cur = next
	}
	if err := s.commitBatch(ctx, batch); err != nil {
		return fmt.Errorf("commit blocks %d..%d: %w", run[0].Block.Header.Height, cur.height, err)
	}
	s.mu.Lock()
	s.head = cur
	s.mu.Unlock()
	for _, x := range extras {
		if x.setAuths {
			s.setAuthorities(x.authHeight, x.auths)
		}
	}
	return nil
}
