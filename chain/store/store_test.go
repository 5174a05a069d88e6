package store

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/zwnode/zwnode/chain"
)

func TestHeadBeforeFirstBlock(t *testing.T) {
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	s, err := Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	g := testGenesis(testChain)
	b := &chain.Block{Header: chain.Header{ChainID: testChain, Height: 1}}
	if err := s.CommitBlock(ctx, b, &chain.Commit{Height: 1}, nil); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("commit before Init: got %v, want ErrNotInitialized", err)
	}
	if err := s.Init(ctx, g); err != nil {
		t.Fatal(err)
	}
	h, hash := s.Head()
	if h != 0 || hash != g.Hash() {
		t.Fatalf("head = %d %s, want 0 and the genesis hash", h, hash.Short())
	}
	if got := s.HeadStateRoot(); got != StateRoot(g.Hash(), nil) {
		t.Fatalf("genesis state root %s, want StateRoot(genesis, nil)", got.Short())
	}
	if _, err := s.Block(ctx, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("block 1 before commit: %v, want ErrNotFound", err)
	}
	auths, err := s.Authorities(ctx, 1)
	if err != nil || len(auths) != 4 || auths[0] != g.Authorities[0] {
		t.Fatalf("authorities at 1 = %v, %v; want the genesis set", auths, err)
	}
}

func TestGenesisStateWrites(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, dssync.MutexWrap(ds.NewMapDatastore()))
	if err != nil {
		t.Fatal(err)
	}
	g := testGenesis(testChain)
	writes := []Write{{Key: []byte("acct/b"), Value: []byte("2")}, {Key: []byte("acct/a"), Value: []byte("1")}}
	if err := s.Init(ctx, g, writes...); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.State(ctx, []byte("acct/a")); err != nil || !ok || string(v) != "1" {
		t.Fatalf("genesis state acct/a = %q %v %v", v, ok, err)
	}
	if got, want := s.HeadStateRoot(), StateRoot(g.Hash(), writes); got != want {
		t.Fatalf("genesis state root %s, want %s", got.Short(), want.Short())
	}
}

func TestInitRefusesOtherGenesis(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	commitNext(t, s, nil, nil)

	// Same genesis again: fine, head untouched.
	if err := s.Init(ctx, testGenesis(testChain)); err != nil {
		t.Fatalf("re-init with the same genesis: %v", err)
	}
	other := testGenesis("zw-other")
	changed := testGenesis(testChain)
	changed.Params.MaxTxBytes = 1000
	for name, g := range map[string]*chain.Genesis{"chain id": other, "genesis content": changed} {
		t.Run(name, func(t *testing.T) {
			before := snapshot(t, d)
			err := s.Init(ctx, g)
			if !errors.Is(err, ErrGenesisMismatch) {
				t.Fatalf("got %v, want ErrGenesisMismatch", err)
			}
			for _, want := range []string{testChain, g.ChainID, testGenesis(testChain).Hash().String(), g.Hash().String()} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			sameSnapshot(t, before, snapshot(t, d))
		})
	}
	// A reopened store refuses too.
	s2, err := Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Init(ctx, other); !errors.Is(err, ErrGenesisMismatch) {
		t.Fatalf("reopened: got %v, want ErrGenesisMismatch", err)
	}
}

func TestCommitAndReadBack(t *testing.T) {
	ctx := context.Background()
	s, _ := newMapStore(t)
	alice := key("alice")
	txs := []chain.Tx{makeTx(alice, 1, []byte("one")), makeTx(alice, 2, []byte("two"))}
	writes := []Write{{Key: []byte("n/alice"), Value: u64(3)}, {Key: []byte("r/1"), Value: []byte("x")}}
	b1 := commitNext(t, s, txs, writes)
	b2 := commitNext(t, s, nil, []Write{{Key: []byte("r/1")}})

	if h, hash := s.Head(); h != 2 || hash != b2.Hash() {
		t.Fatalf("head = %d %s, want 2 %s", h, hash.Short(), b2.Hash().Short())
	}
	got, err := s.Block(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Encode(), b1.Encode()) {
		t.Fatal("block 1 read back differs")
	}
	c, err := s.Commit(ctx, 1)
	if err != nil || c.BlockHash != b1.Hash() || c.Height != 1 {
		t.Fatalf("certificate 1 = %+v, %v", c, err)
	}
	// Block 2 carries block 1's certificate.
	if got2, err := s.Block(ctx, 2); err != nil || got2.LastCommit.Hash() != c.Hash() {
		t.Fatalf("block 2 last commit does not match stored certificate 1: %v", err)
	}
	if bb, err := s.BlockByHash(ctx, b2.Hash()); err != nil || bb.Hash() != b2.Hash() {
		t.Fatalf("block by hash: %v", err)
	}
	if _, err := s.BlockByHash(ctx, chain.Hash{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown hash: %v, want ErrNotFound", err)
	}
	if _, err := s.Commit(ctx, 3); !errors.Is(err, ErrNotFound) {
		t.Fatalf("certificate 3: %v, want ErrNotFound", err)
	}
	if v, ok, err := s.State(ctx, []byte("n/alice")); err != nil || !ok || !bytes.Equal(v, u64(3)) {
		t.Fatalf("state n/alice = %x %v %v", v, ok, err)
	}
	if _, ok, err := s.State(ctx, []byte("r/1")); err != nil || ok {
		t.Fatalf("deleted state r/1 still present (%v)", err)
	}
	if raw, err := s.RawBlock(ctx, 2); err != nil || !bytes.Equal(raw, b2.Encode()) {
		t.Fatalf("raw block 2 differs: %v", err)
	}
}

func TestIndexes(t *testing.T) {
	ctx := context.Background()
	s, _ := newMapStore(t)
	alice, bob := key("alice"), key("bob")
	var aliceTxs []chain.Tx
	nonce := uint64(0)
	for h := 1; h <= 3; h++ {
		var txs []chain.Tx
		for range 2 {
			nonce++
			tx := makeTx(alice, nonce, []byte{byte(h)})
			txs = append(txs, tx)
			aliceTxs = append(aliceTxs, tx)
		}
		txs = append(txs, makeTx(bob, uint64(h), nil))
		commitNext(t, s, txs, nil)
	}
	// Tx index: alice's 4th tx is block 2, index 1.
	h, i, err := s.TxLocation(ctx, aliceTxs[3].Hash())
	if err != nil || h != 2 || i != 1 {
		t.Fatalf("tx location = %d/%d %v, want 2/1", h, i, err)
	}
	tx, ref, err := s.Tx(ctx, aliceTxs[3].Hash())
	if err != nil || tx.Hash() != aliceTxs[3].Hash() || ref.Height != 2 {
		t.Fatalf("tx = %v %+v %v", tx, ref, err)
	}
	if _, _, err := s.TxLocation(ctx, chain.Hash{9}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tx: %v", err)
	}
	// Account index: newest first, limited.
	refs, err := s.AccountTxs(ctx, alice.Public(), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []TxRef{
		{Hash: aliceTxs[5].Hash(), Height: 3, Index: 1},
		{Hash: aliceTxs[4].Hash(), Height: 3, Index: 0},
		{Hash: aliceTxs[3].Hash(), Height: 2, Index: 1},
	}
	if len(refs) != len(want) {
		t.Fatalf("account txs = %+v, want %+v", refs, want)
	}
	for j := range want {
		if refs[j] != want[j] {
			t.Fatalf("account txs[%d] = %+v, want %+v", j, refs[j], want[j])
		}
	}
	if refs, err := s.AccountTxs(ctx, bob.Public(), 100); err != nil || len(refs) != 3 || refs[2].Height != 1 {
		t.Fatalf("bob's txs = %+v %v", refs, err)
	}
	if refs, err := s.AccountTxs(ctx, key("nobody").Public(), 10); err != nil || len(refs) != 0 {
		t.Fatalf("unknown account txs = %+v %v", refs, err)
	}
	if _, err := s.AccountTxs(ctx, alice.Public(), 0); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("limit 0: %v, want ErrInvalid", err)
	}
}

func TestEvidenceIndex(t *testing.T) {
	ctx := context.Background()
	s, _ := newMapStore(t)
	a := &chain.Vote{Type: chain.Prevote, Height: 1, BlockHash: chain.Hash{1}}
	b := &chain.Vote{Type: chain.Prevote, Height: 1, BlockHash: chain.Hash{2}}
	a.Sign(testChain, validators[3])
	b.Sign(testChain, validators[3])
	ev := chain.NewDuplicateVoteEvidence(a, b)
	blk, c := nextBlock(t, s, nil, nil, *ev)
	if err := s.CommitBlock(ctx, blk, c, nil); err != nil {
		t.Fatal(err)
	}
	h, i, err := s.EvidenceLocation(ctx, ev.Hash())
	if err != nil || h != 1 || i != 0 {
		t.Fatalf("evidence location = %d/%d %v", h, i, err)
	}
}

func TestCommitBlockRefusals(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	commitNext(t, s, nil, nil)
	writes := []Write{{Key: []byte("k"), Value: []byte("v")}}

	cases := []struct {
		name   string
		mutate func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption)
		want   error
	}{
		{"height skips", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			b.Header.Height = 3
			return b, certify(t, b), writes, nil
		}, ErrNotNext},
		{"height repeats", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			b.Header.Height = 1
			return b, certify(t, b), writes, nil
		}, ErrNotNext},
		{"wrong previous hash", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			b.Header.PrevHash = chain.Hash{7}
			return b, certify(t, b), writes, nil
		}, ErrNotNext},
		{"other chain", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			b.Header.ChainID = "zw-other"
			return b, certify(t, b), writes, nil
		}, chain.ErrWrongChain},
		{"certificate for another block", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			c.BlockHash = chain.Hash{5}
			return b, c, writes, nil
		}, chain.ErrInvalid},
		{"certificate for another height", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			c.Height = 5
			return b, c, writes, nil
		}, chain.ErrInvalid},
		{"state root does not match writes", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			return b, c, []Write{{Key: []byte("k"), Value: []byte("other")}}, nil
		}, ErrStateRoot},
		{"empty state key", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			return b, c, []Write{{Key: nil, Value: []byte("v")}}, nil
		}, chain.ErrInvalid},
		{"authority change not in the future", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			return b, c, writes, []CommitOption{WithAuthorities(2, testGenesis(testChain).Authorities[:3])}
		}, chain.ErrInvalid},
		{"invalid authority set", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			return b, c, writes, []CommitOption{WithAuthorities(4, nil)}
		}, chain.ErrInvalid},
		{"body does not match header", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			b.Txs = append(b.Txs, makeTx(key("alice"), 1, nil))
			return b, certify(t, b), writes, nil
		}, chain.ErrInvalid},
		{"certificate not canonical", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			c.Signatures[0], c.Signatures[1] = c.Signatures[1], c.Signatures[0]
			return b, c, writes, nil
		}, chain.ErrInvalid},
		{"missing certificate", func(b *chain.Block, c *chain.Commit) (*chain.Block, *chain.Commit, []Write, []CommitOption) {
			return b, nil, writes, nil
		}, chain.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, c := nextBlock(t, s, nil, writes)
			b, c, w, opts := tc.mutate(b, c)
			before := snapshot(t, d)
			h0, hash0 := s.Head()
			err := s.CommitBlock(ctx, b, c, w, opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			sameSnapshot(t, before, snapshot(t, d))
			if h, hash := s.Head(); h != h0 || hash != hash0 {
				t.Fatalf("head moved to %d", h)
			}
		})
	}
	// The store is still usable.
	b := commitNext(t, s, nil, writes)
	if h, _ := s.Head(); h != 2 || b.Header.Height != 2 {
		t.Fatalf("head after refusals = %d, want 2", h)
	}
}

func TestAuthorityChanges(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	g := testGenesis(testChain)
	three := g.Authorities[:3]
	b, c := nextBlock(t, s, nil, nil)
	if err := s.CommitBlock(ctx, b, c, nil, WithAuthorities(3, three)); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, h uint64, want int) {
		t.Helper()
		got, err := s.Authorities(ctx, h)
		if err != nil || len(got) != want {
			t.Fatalf("authorities at %d = %d members (%v), want %d", h, len(got), err, want)
		}
	}
	check(s, 1, 4)
	check(s, 2, 4)
	check(s, 3, 3)
	check(s, 100, 3)
	if _, err := s.Authorities(ctx, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("authorities at 0: %v", err)
	}
	if err := s.SaveAuthorities(ctx, 1, g.Authorities); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("rewrite history: %v, want ErrInvalid", err)
	}
	if err := s.SaveAuthorities(ctx, 10, g.Authorities[1:]); err != nil {
		t.Fatal(err)
	}
	// A reopened store sees the same history.
	s2, err := Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	check(s2, 2, 4)
	check(s2, 9, 3)
	check(s2, 10, 3)
	if got, _ := s2.Authorities(ctx, 10); got[0] != g.Authorities[1] {
		t.Fatalf("set at 10 starts with %v, want %v", got[0], g.Authorities[1])
	}
}

func TestSignState(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	if _, ok, err := s.LoadSignState(ctx); err != nil || ok {
		t.Fatalf("empty sign-state: ok=%v err=%v", ok, err)
	}
	v := []byte("h=5 r=0 step=prevote")
	if err := s.SaveSignState(ctx, v); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X' // the store must have kept its own copy
	s2, err := Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.LoadSignState(ctx)
	if err != nil || !ok || string(got) != "h=5 r=0 step=prevote" {
		t.Fatalf("sign-state = %q %v %v", got, ok, err)
	}
}

// TestWriteSignStateFailedEncodeWritesNothing: WriteSignState hands
// encode the batch's own buffer on Pebble (and a fresh one on a map
// datastore); if encode fails, the last record stays as it was, after a
// reopen too.
func TestWriteSignStateFailedEncodeWritesNothing(t *testing.T) {
	ctx := context.Background()
	bad := errors.New("encode failed")
	for _, backend := range []string{"map", "pebble"} {
		t.Run(backend, func(t *testing.T) {
			s, reopen := backendStore(t, backend)
			if err := s.SaveSignState(ctx, []byte("signed 5/0")); err != nil {
				t.Fatal(err)
			}
			err := s.WriteSignState(ctx, 1<<20, func(dst []byte) error {
				copy(dst, "signed 6/0")
				return bad
			}, nil)
			if !errors.Is(err, bad) {
				t.Fatalf("WriteSignState with a failing encode: %v", err)
			}
			check := func(st *Store) {
				t.Helper()
				got, ok, err := st.LoadSignState(ctx)
				if err != nil || !ok || string(got) != "signed 5/0" {
					t.Fatalf("sign-state after a failed write = %q %v %v, want the previous one", got, ok, err)
				}
			}
			check(s)
			check(reopen())
		})
	}
}

func TestCorruptDataNamesKey(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	commitNext(t, s, nil, nil)
	if err := d.Put(ctx, blockKey(1), []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Block(ctx, 1)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), blockKey(1).String()) {
		t.Fatalf("got %v, want ErrCorrupt naming %s", err, blockKey(1))
	}
	if err := d.Put(ctx, keyHead, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, d); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "/m/head") {
		t.Fatalf("open with corrupt head: %v", err)
	}
}

func TestClosedStore(t *testing.T) {
	ctx := context.Background()
	s, _ := newMapStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := s.Block(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := s.SaveSignState(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestAccountTxsPaging(t *testing.T) {
	backends := map[string]func(t *testing.T) *Store{
		"map": func(t *testing.T) *Store { s, _ := newMapStore(t); return s },
		"pebble": func(t *testing.T) *Store {
			s := openPebbleStore(t, t.TempDir())
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			alice, bob := key("alice"), key("bob")
			nonce := uint64(0)
			for h := uint64(1); h <= 5; h++ {
				var txs []chain.Tx
				for range 3 {
					nonce++
					txs = append(txs, makeTx(alice, nonce, nil), makeTx(bob, nonce, nil))
				}
				commitNext(t, s, txs, nil)
			}
			all, err := s.AccountTxs(ctx, alice.Public(), 100)
			if err != nil || len(all) != 15 {
				t.Fatalf("all = %d %v", len(all), err)
			}
			// Page sizes below, at and above the 3 txs alice has per block.
			for _, size := range []int{1, 2, 3, 4, 7} {
				var paged []TxRef
				page, err := s.AccountTxs(ctx, alice.Public(), size)
				for len(page) > 0 && err == nil {
					if len(page) > size {
						t.Fatalf("page size %d: page of %d", size, len(page))
					}
					paged = append(paged, page...)
					last := page[len(page)-1]
					page, err = s.AccountTxsBefore(ctx, alice.Public(), last.Height, last.Index, size)
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(paged) != len(all) {
					t.Fatalf("page size %d: paged %d, want %d", size, len(paged), len(all))
				}
				for i := range all {
					if paged[i] != all[i] {
						t.Fatalf("page size %d: entry %d = %+v, want %+v", size, i, paged[i], all[i])
					}
				}
			}
			// Before the first tx of a block: nothing of that block.
			first := all[2] // alice's lowest index in block 5
			if refs, err := s.AccountTxsBefore(ctx, alice.Public(), first.Height, first.Index, 2); err != nil || len(refs) != 2 || refs[0].Height != first.Height-1 {
				t.Fatalf("before the first tx of block %d: %+v, %v; want the newest two of the block below", first.Height, refs, err)
			}
			for i := range all {
				if i > 0 && (all[i].Height > all[i-1].Height || all[i].Height == all[i-1].Height && all[i].Index >= all[i-1].Index) {
					t.Fatalf("not newest first at %d", i)
				}
				if tx, _, err := s.Tx(ctx, all[i].Hash); err != nil || tx.Account != alice.Public() {
					t.Fatalf("entry %d is not alice's tx: %v", i, err)
				}
			}
		})
	}
}

// TestOlderFormatRefused: a data directory without the current format
// marker (written before it, or by another layout) is refused with
// ErrFormat and a message saying what to do, and is left as it was.
func TestOlderFormatRefused(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	commitNext(t, s, nil, []Write{{Key: []byte("k"), Value: []byte("v")}})
	if _, err := Open(ctx, d); err != nil {
		t.Fatalf("reopen current format: %v", err)
	}
	for name, fv := range map[string][]byte{"no marker": nil, "format 1": {0, 0, 0, 1}, "format 2": {0, 0, 0, 2},
		"format 3": {0, 0, 0, 3}, "format 4": {0, 0, 0, 4}, "format 5": {0, 0, 0, 5}, "format 6": {0, 0, 0, 6}, "format 99": {0, 0, 0, 99}} {
		if fv == nil {
			if err := d.Delete(ctx, keyFormat); err != nil {
				t.Fatal(err)
			}
		} else if err := d.Put(ctx, keyFormat, fv); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, d)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "move the data directory away") {
			t.Fatalf("%s: got %v, want ErrFormat with advice", name, err)
		}
		if v, err := d.Get(ctx, stateKey([]byte("k"))); err != nil || string(v) != "v" {
			t.Fatalf("%s: state changed: %q %v", name, v, err)
		}
	}
}

// WithTxHashes: the indexes use the hashes given (here the right ones, so
// lookups work as without the option); a list of the wrong length is
// refused and writes nothing. BlockCommit.TxHashes does the same in a run.
func TestCommitWithTxHashes(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	alice := key("alice")
	txs := []chain.Tx{makeTx(alice, 1, []byte{1}), makeTx(alice, 2, []byte{2})}
	b, c := nextBlock(t, s, txs, nil)
	before := snapshot(t, d)
	if err := s.CommitBlock(ctx, b, c, nil, WithTxHashes(chain.TxHashes(txs[:1]))); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("one hash for two txs: %v, want ErrInvalid", err)
	}
	if err := s.CommitBlocks(ctx, []BlockCommit{{Block: b, Commit: c, TxHashes: chain.TxHashes(txs[:1])}}); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("run with one hash for two txs: %v, want ErrInvalid", err)
	}
	if after := snapshot(t, d); !reflect.DeepEqual(before, after) {
		t.Fatal("a refused commit changed the store")
	}
	if err := s.CommitBlock(ctx, b, c, nil, WithTxHashes(chain.TxHashes(txs))); err != nil {
		t.Fatal(err)
	}
	b2txs := []chain.Tx{makeTx(alice, 3, []byte{3})}
	b2, c2 := nextBlock(t, s, b2txs, nil)
	if err := s.CommitBlocks(ctx, []BlockCommit{{Block: b2, Commit: c2, TxHashes: chain.TxHashes(b2txs)}}); err != nil {
		t.Fatal(err)
	}
	for i, tx := range append(txs, b2txs...) {
		if _, _, err := s.TxLocation(ctx, tx.Hash()); err != nil {
			t.Fatalf("tx %d not indexed: %v", i, err)
		}
	}
	refs, err := s.AccountTxs(ctx, alice.Public(), 10)
	if err != nil || len(refs) != 3 || refs[0].Hash != b2txs[0].Hash() || refs[2].Hash != txs[0].Hash() {
		t.Fatalf("account txs %+v, %v", refs, err)
	}
}

// A damaged account index value is reported as corrupt, not misread.
func TestAccountIndexCorrupt(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	alice := key("alice")
	commitNext(t, s, []chain.Tx{makeTx(alice, 1, nil), makeTx(alice, 2, nil)}, nil)
	bk := ds.RawKey(string(appendAccountBlockKey(nil, alice.Public(), 1)))
	good, err := d.Get(ctx, bk)
	if err != nil || len(good) != 2*accountEntryLen {
		t.Fatalf("index value %x, %v", good, err)
	}
	swapped := append(slices.Clone(good[accountEntryLen:]), good[:accountEntryLen]...)
	for name, v := range map[string][]byte{
		"empty":         {},
		"short":         good[:len(good)-1],
		"not ascending": swapped,
	} {
		if err := d.Put(ctx, bk, v); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AccountTxs(ctx, alice.Public(), 10); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}
