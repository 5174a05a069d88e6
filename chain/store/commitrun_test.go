package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// buildRun builds n consecutive certified blocks on s's head without
// committing them. Blocks rewrite and delete keys written by earlier ones
// in the run, and block 2 decides an authority change, so a multi-block
// commit that got the order of writes or the authority history wrong would
// differ from committing them one by one.
func buildRun(t testing.TB, s *Store, n int, seed uint64) []BlockCommit {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 1))
	h, prev := s.Head()
	root := s.HeadStateRoot()
	var last *chain.Commit
	if h > 0 {
		c, err := s.Commit(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		last = c
	}
	acct := key("run-account")
	run := make([]BlockCommit, 0, n)
	for i := range n {
		height := h + uint64(i) + 1
		var txs []chain.Tx
		for j := range 3 {
			txs = append(txs, makeTx(acct, height*10+uint64(j), fmt.Appendf(nil, `{"i":%d}`, rng.Uint64())))
		}
		writes := []Write{
			{Key: []byte("shared"), Value: u64(height)},
			{Key: fmt.Appendf(nil, "k/%d", rng.IntN(4)), Value: u64(rng.Uint64())},
		}
		if i%2 == 1 {
			writes = append(writes, Write{Key: fmt.Appendf(nil, "k/%d", rng.IntN(4))}) // delete
		}
		writes = NormalizeWrites(writes)
		b := &chain.Block{
			Header: chain.Header{
				ChainID: testChain, Height: height, Time: int64(1_700_000_000_000 + height), PrevHash: prev,
				StateRoot: StateRoot(root, writes), Proposer: validators[int(height)%len(validators)].Public(),
				AuthoritySetHash: testGenesis(testChain).AuthoritySet().Hash(),
			},
			Txs:        txs,
			LastCommit: last,
		}
		b.Fill()
		c := certify(t, b)
		bc := BlockCommit{Block: b, Commit: c, Writes: writes}
		if i == 1 {
			bc.Authorities = testGenesis(testChain).Authorities[:3]
		}
		run = append(run, bc)
		prev, root, last = b.Hash(), b.Header.StateRoot, c
	}
	return run
}

// commitOneByOne commits run with CommitBlock, the per-block path.
func commitOneByOne(t testing.TB, s *Store, run []BlockCommit) {
	t.Helper()
	for _, bc := range run {
		var opts []CommitOption
		if bc.Authorities != nil {
			opts = append(opts, WithAuthorities(bc.Block.Header.Height+2, bc.Authorities))
		}
		if err := s.CommitBlock(context.Background(), bc.Block, bc.Commit, bc.Writes, opts...); err != nil {
			t.Fatal(err)
		}
	}
}

// sameStores asserts that two stores hold the same keys and values and
// report the same head and authority history.
func sameStores(t *testing.T, a, b *Store, da, db map[string]string, upTo uint64) {
	t.Helper()
	sameSnapshot(t, da, db)
	ha, hasha := a.Head()
	hb, hashb := b.Head()
	if ha != hb || hasha != hashb || a.HeadStateRoot() != b.HeadStateRoot() {
		t.Fatalf("heads differ: %d/%s/%s vs %d/%s/%s", ha, hasha.Short(), a.HeadStateRoot().Short(), hb, hashb.Short(), b.HeadStateRoot().Short())
	}
	for h := uint64(1); h <= upTo; h++ {
		la, err := a.Authorities(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := b.Authorities(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(la, lb) {
			t.Fatalf("authorities at %d differ: %d vs %d members", h, len(la), len(lb))
		}
	}
}

func TestCommitBlocksEqualsOneByOne(t *testing.T) {
	one, dOne := newMapStore(t)
	many, dMany := newMapStore(t)
	// A common first block, so the run starts after a non-genesis head.
	commitNext(t, one, nil, []Write{{Key: []byte("shared"), Value: u64(0)}})
	commitNext(t, many, nil, []Write{{Key: []byte("shared"), Value: u64(0)}})
	run := buildRun(t, one, 7, 42)
	commitOneByOne(t, one, run)
	if err := many.CommitBlocks(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if h, _ := many.Head(); h != 8 {
		t.Fatalf("head after run = %d, want 8", h)
	}
	if got, _ := many.Authorities(context.Background(), 4); len(got) != 4 {
		t.Fatalf("authority change of block 3 effective too early: %d members at height 4", len(got))
	}
	if got, _ := many.Authorities(context.Background(), 5); len(got) != 3 {
		t.Fatalf("authority change of block 3 not stored: %d members at height 5", len(got))
	}
	sameStores(t, one, many, snapshot(t, dOne), snapshot(t, dMany), 12)
	// The store goes on from the run's head.
	commitNext(t, many, nil, nil)
}

func TestCommitBlocksPebbleEqualsOneByOne(t *testing.T) {
	one := openPebbleStore(t, t.TempDir())
	defer one.Close()
	many := openPebbleStore(t, t.TempDir())
	defer many.Close()
	run := buildRun(t, one, 6, 7)
	commitOneByOne(t, one, run)
	if err := many.CommitBlocks(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	sameStores(t, one, many, snapshot(t, one.d), snapshot(t, many.d), 10)
}

func TestCommitBlocksRefusesWholeRun(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	commitNext(t, s, nil, nil)
	cases := map[string]func(run []BlockCommit){
		"wrong state root in the middle": func(run []BlockCommit) {
			run[3].Writes = []Write{{Key: []byte("shared"), Value: u64(999)}}
		},
		"gap": func(run []BlockCommit) {
			run[3] = run[4]
		},
		"certificate of another block": func(run []BlockCommit) {
			run[3].Commit = run[2].Commit
		},
		"missing certificate": func(run []BlockCommit) {
			run[3].Commit = nil
		},
		"empty authority set": func(run []BlockCommit) {
			run[3].Authorities = []chain.Authority{}
		},
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			before := snapshot(t, d)
			h0, hash0 := s.Head()
			run := buildRun(t, s, 5, 3)
			spoil(run)
			err := s.CommitBlocks(ctx, run)
			if err == nil {
				t.Fatal("spoiled run committed")
			}
			sameSnapshot(t, before, snapshot(t, d))
			if h, hash := s.Head(); h != h0 || hash != hash0 {
				t.Fatalf("head moved to %d after a refused run", h)
			}
		})
	}
	run := buildRun(t, s, 5, 3)
	run[3].Writes = nil
	if err := s.CommitBlocks(ctx, run); !errors.Is(err, ErrStateRoot) {
		t.Fatalf("wrong root: %v, want ErrStateRoot", err)
	}
	// Still usable afterwards.
	if err := s.CommitBlocks(ctx, buildRun(t, s, 2, 9)); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitBlocks(ctx, nil); err != nil {
		t.Fatalf("empty run: %v", err)
	}
}

// TestRunDiscardAndFailure: a discarded run writes nothing and frees the
// writer lock; a run whose Add failed refuses more blocks and commits
// nothing; an empty run commits nothing.
func TestRunDiscardAndFailure(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	commitNext(t, s, nil, nil)
	before := snapshot(t, d)
	run := buildRun(t, s, 3, 5)

	r, err := s.BeginRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(ctx, run[0]); err != nil {
		t.Fatal(err)
	}
	r.Discard()
	r.Discard() // idempotent
	sameSnapshot(t, before, snapshot(t, d))

	r, err = s.BeginRun(ctx) // the lock was released
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(ctx, run[1]); !errors.Is(err, ErrNotNext) {
		t.Fatalf("block 2 of the run first: %v, want ErrNotNext", err)
	}
	if err := r.Add(ctx, run[0]); err == nil {
		t.Fatal("a failed run took another block")
	}
	if err := r.Commit(ctx); !errors.Is(err, ErrNotNext) {
		t.Fatalf("commit of a failed run: %v, want its first error", err)
	}
	sameSnapshot(t, before, snapshot(t, d))

	r, err = s.BeginRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(ctx); err != nil {
		t.Fatalf("empty run: %v", err)
	}
	sameSnapshot(t, before, snapshot(t, d))
	if err := s.CommitBlocks(ctx, run); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Head(); h != 4 {
		t.Fatalf("head %d, want 4", h)
	}
}
