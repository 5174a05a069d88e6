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
	// TxHashes, if set, are the block's transaction hashes (as
	// WithTxHashes).
	TxHashes []chain.Hash
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
	r, err := s.BeginRun(ctx)
	if err != nil {
		return err
	}
	for _, bc := range run {
		if err := r.Add(ctx, bc); err != nil {
			r.Discard()
			return err
		}
	}
	return r.Commit(ctx)
}

// Run is a CommitBlocks batch assembled one block at a time, so a caller
// can add each block as soon as it has executed it (the checks and the
// batch encoding then overlap the execution of the next block). It holds
// the store's writer lock from BeginRun until Commit or Discard, one of
// which the caller must call. Not safe for concurrent use.
type Run struct {
	s      *Store
	batch  writeBatch
	first  uint64
	cur    head
	auths  []commitExtras
	blocks int
	err    error
	ended  bool
}

// BeginRun starts a run on the current head. The run holds the writer lock
// (other commits wait), not the store open: a Close meanwhile makes Commit
// fail with ErrClosed.
func (s *Store) BeginRun(ctx context.Context) (*Run, error) {
	if err := s.enter(); err != nil {
		return nil, fmt.Errorf("commit blocks: %w", err)
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	fail := func(err error) (*Run, error) {
		s.writeMu.Unlock()
		return nil, fmt.Errorf("commit blocks: %w", err)
	}
	if err := s.writable(); err != nil {
		return fail(err)
	}
	batch, err := s.newBatch(ctx, 0)
	if err != nil {
		return fail(fmt.Errorf("new batch: %w", err))
	}
	s.mu.RLock()
	cur := s.head
	s.mu.RUnlock()
	return &Run{s: s, batch: batch, cur: cur, first: cur.height + 1}, nil
}

// Add checks bc against the head the run's earlier blocks leave and adds it
// to the batch. After an error the run can only be discarded.
func (r *Run) Add(ctx context.Context, bc BlockCommit) error {
	if r.err != nil || r.ended {
		return fmt.Errorf("commit blocks: %w: run already failed or ended", chain.ErrInvalid)
	}
	r.err = r.add(ctx, bc)
	return r.err
}

func (r *Run) add(ctx context.Context, bc BlockCommit) error {
	if bc.Block == nil || bc.Commit == nil {
		return fmt.Errorf("commit block %d: %w: missing block or certificate", r.cur.height+1, chain.ErrInvalid)
	}
	h := bc.Block.Header.Height
	var x commitExtras
	if bc.Authorities != nil {
		x.setAuths, x.authHeight, x.auths = true, h+2, bc.Authorities
	}
	x.txHashes = bc.TxHashes
	writes := NormalizeWrites(bc.Writes)
	hash, next, err := r.s.checkNext(r.cur, bc.Block, bc.Commit, writes, &x)
	if err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	if err := r.s.fillBatch(r.batch, bc.Block, hash, bc.Commit, writes, &x, next); err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	if x.setAuths {
		r.auths = append(r.auths, x)
	}
	r.cur = next
	r.blocks++
	return nil
}

// Commit makes the run's blocks durable in one synced batch and moves the
// head to its last block. A run that failed or holds no block commits
// nothing (the first error is returned for a failed one).
func (r *Run) Commit(ctx context.Context) error {
	if r.ended {
		return fmt.Errorf("commit blocks: %w: run already ended", chain.ErrInvalid)
	}
	defer r.end()
	if r.err != nil {
		return r.err
	}
	if r.blocks == 0 {
		return nil
	}
	s := r.s
	if err := s.enter(); err != nil {
		return fmt.Errorf("commit blocks %d..%d: %w", r.first, r.cur.height, err)
	}
	defer s.life.RUnlock()
	if err := s.commitBatch(ctx, r.batch); err != nil {
		return fmt.Errorf("commit blocks %d..%d: %w", r.first, r.cur.height, err)
	}
	s.mu.Lock()
	s.head = r.cur
	s.mu.Unlock()
	s.committed(r.cur.height)
	for _, x := range r.auths {
		s.setAuthorities(x.authHeight, x.auths)
	}
	return nil
}

// Discard drops the run, writing nothing. It does nothing after Commit.
func (r *Run) Discard() {
	if !r.ended {
		r.end()
	}
}

func (r *Run) end() {
	r.ended = true
	r.batch = nil
	r.s.writeMu.Unlock()
}
