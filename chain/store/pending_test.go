package store

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// The valid block saved with a sign-state is stored under its height's
// block key ahead of the head: not served as a block, read back by
// PendingBlock, and not written again by the commit of the same block
// (on Pebble: the commit's WAL bytes are fewer than the block's).
func TestValidBlockStoredOnce(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"map", "pebble"} {
		t.Run(backend, func(t *testing.T) {
			s, _ := backendStore(t, backend)
			b, c := nextBlock(t, s, bigTxs(key("a"), 8, chunkSize), nil)
			saveWithValid(t, s, "h=1 r=0", b)
			if _, err := s.Block(ctx, 1); !errors.Is(err, ErrNotFound) {
				t.Fatalf("pending block served as block 1: %v", err)
			}
			if _, err := s.RawBlock(ctx, 1); !errors.Is(err, ErrNotFound) {
				t.Fatalf("pending block served as raw block 1: %v", err)
			}
			if got, err := s.PendingBlock(ctx, 1); err != nil || got.Hash() != b.Hash() {
				t.Fatalf("PendingBlock(1) = %v", err)
			}
			var walBefore uint64
			if s.db != nil {
				walBefore = s.db.Metrics().WAL.BytesIn
			}
			if err := s.CommitBlock(ctx, b, c, nil); err != nil {
				t.Fatal(err)
			}
			if s.db != nil {
				if wal := s.db.Metrics().WAL.BytesIn - walBefore; wal >= uint64(b.EncodedLen()) {
					t.Fatalf("commit of the pending block wrote %d WAL bytes, the block is %d", wal, b.EncodedLen())
				}
			}
			checkBlock(t, s, b)
			if _, err := s.PendingBlock(ctx, 1); !errors.Is(err, ErrNotFound) {
				t.Fatalf("PendingBlock(1) after its commit: %v, want ErrNotFound", err)
			}
		})
	}
}

// A commit of another block than the pending one at its height replaces
// it whole, chunks and all, also after a reopen (the pending block's hash
// is then unknown and its chunk count read from its manifest).
func TestPendingBlockReplacedByAnotherCommit(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"map", "pebble"} {
		for _, reopenFirst := range []bool{false, true} {
			name := backend
			if reopenFirst {
				name += "/reopened"
			}
			t.Run(name, func(t *testing.T) {
				s, reopen := backendStore(t, backend)
				pending, _ := nextBlock(t, s, bigTxs(key("a"), 8, chunkSize), nil)
				saveWithValid(t, s, "h=1 r=0", pending)
				if reopenFirst {
					s = reopen()
				}
				// Another block, in fewer chunks.
				b, c := nextBlock(t, s, bigTxs(key("b"), 3, chunkSize), nil)
				if err := s.CommitBlock(ctx, b, c, nil); err != nil {
					t.Fatal(err)
				}
				checkBlock(t, s, b)
				if n := storedChunks(t, s, 1); n != chunkCount(b.EncodedLen()) {
					t.Fatalf("%d chunks stored at height 1, the committed block has %d", n, chunkCount(b.EncodedLen()))
				}
				// And a pending block replaced by a small, whole one.
				saveWithValid(t, s, "h=2 r=0", mustNext(t, s, bigTxs(key("a"), 8, chunkSize)))
				if reopenFirst {
					s = reopen()
				}
				small := commitNext(t, s, []chain.Tx{makeTx(key("c"), 1, []byte("small"))}, nil)
				checkBlock(t, s, small)
				if n := storedChunks(t, s, 2); n != 0 {
					t.Fatalf("%d chunks left at height 2 under a whole block", n)
				}
			})
		}
	}
}

// A valid block not at the height after the head is refused, writing
// nothing.
func TestValidBlockAtWrongHeightRefused(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	commitNext(t, s, nil, nil)
	if err := s.SaveSignState(ctx, []byte("h=2 r=0")); err != nil {
		t.Fatal(err)
	}
	at := func(h uint64) *chain.Block {
		b := &chain.Block{Header: chain.Header{ChainID: testChain, Height: h, Time: 1}}
		b.Fill()
		return b
	}
	before := snapshot(t, d)
	for _, h := range []uint64{1, 3} {
		err := s.WriteSignState(ctx, 7, func(dst []byte) error { copy(dst, "h=9 r=9"); return nil }, at(h))
		if !errors.Is(err, chain.ErrInvalid) {
			t.Fatalf("valid block at height %d with the head at 1: %v, want ErrInvalid", h, err)
		}
	}
	sameSnapshot(t, before, snapshot(t, d))
}

func saveWithValid(t *testing.T, s *Store, rec string, valid *chain.Block) {
	t.Helper()
	err := s.WriteSignState(context.Background(), len(rec), func(dst []byte) error { copy(dst, rec); return nil }, valid)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.LoadSignState(context.Background()); err != nil || !ok || string(got) != rec {
		t.Fatalf("sign-state %q, %v, %v; want %q", got, ok, err, rec)
	}
}

func mustNext(t *testing.T, s *Store, txs []chain.Tx) *chain.Block {
	t.Helper()
	b, _ := nextBlock(t, s, txs, nil)
	return b
}

// checkBlock requires b to be the committed block at its height.
func checkBlock(t *testing.T, s *Store, b *chain.Block) {
	t.Helper()
	got, err := s.RawBlock(context.Background(), b.Height())
	if err != nil || !bytes.Equal(got, b.Encode()) {
		t.Fatalf("block %d: %d bytes stored (%v), want its %d-byte encoding", b.Height(), len(got), err, b.EncodedLen())
	}
}

// storedChunks counts the chunk keys under height h's block key.
func storedChunks(t *testing.T, s *Store, h uint64) int {
	t.Helper()
	n := 0
	for i := range 64 {
		if _, ok, err := s.get(context.Background(), chunkKeyOf(blockKey(h), i)); err != nil {
			t.Fatal(err)
		} else if ok {
			n++
		}
	}
	return n
}
