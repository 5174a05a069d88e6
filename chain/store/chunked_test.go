package store

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	ds "github.com/ipfs/go-datastore"

	"github.com/zwnode/zwnode/chain"
)

// bigTxs returns n txs of about size bytes each.
func bigTxs(acct *chain.PrivateKey, n, size int) []chain.Tx {
	txs := make([]chain.Tx, n)
	for i := range txs {
		txs[i] = makeTx(acct, uint64(i+1), bytes.Repeat([]byte{byte(i)}, size))
	}
	return txs
}

func chunkKeyOf(k ds.Key, i int) ds.Key { return ds.RawKey(string(appendChunkKey(nil, k.Bytes(), i))) }

// A block above the chunk threshold is stored as a manifest and chunks,
// and read back as the exact encoding it was, on Pebble and after a
// reopen; a small block is stored whole.
func TestLargeBlockStoredInChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openPebbleStore(t, dir)
	small := commitNext(t, s, []chain.Tx{makeTx(key("alice"), 1, []byte("x"))}, nil)
	big := commitNext(t, s, bigTxs(key("bob"), 200, 1000), nil)
	enc := big.Encode()
	if chunkCount(len(enc)) < 3 {
		t.Fatalf("test block of %d bytes is not chunked", len(enc))
	}
	check := func(st *Store) {
		t.Helper()
		for _, b := range []*chain.Block{small, big} {
			raw, err := st.RawBlock(ctx, b.Height())
			if err != nil || !bytes.Equal(raw, b.Encode()) {
				t.Fatalf("block %d: %d bytes read (%v), want its %d-byte encoding", b.Height(), len(raw), err, len(b.Encode()))
			}
			got, err := st.Block(ctx, b.Height())
			if err != nil || got.Hash() != b.Hash() {
				t.Fatalf("block %d decoded: %v", b.Height(), err)
			}
		}
		m, ok, err := st.get(ctx, blockKey(big.Height()))
		if err != nil || !ok || len(m) != manifestLen || [4]byte(m[:4]) != chunkMagic {
			t.Fatalf("big block's key holds %d bytes, want a manifest", len(m))
		}
		if v, ok, _ := st.get(ctx, blockKey(small.Height())); !ok || !bytes.Equal(v, small.Encode()) {
			t.Fatal("small block not stored whole")
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openPebbleStore(t, dir)
	defer s2.Close()
	check(s2)

	// The iterator read refuses a chunk cut short or missing.
	ck := chunkKeyOf(blockKey(big.Height()), 2)
	c2, ok, err := s2.get(ctx, ck)
	if err != nil || !ok {
		t.Fatal(err)
	}
	for name, edit := range map[string]func() error{
		"short":   func() error { return s2.db.Set(ck.Bytes(), c2[1:], pebble.Sync) },
		"missing": func() error { return s2.db.Delete(ck.Bytes(), pebble.Sync) },
	} {
		if err := edit(); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.RawBlock(ctx, big.Height()); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("chunk %s: %v, want ErrCorrupt", name, err)
		}
	}
}

// Blocks written whole by format 4 read as before; a chunked block with a
// chunk missing, cut short or a manifest that does not add up is
// reported corrupt, not returned.
func TestChunkedBlockOldLayoutAndCorruption(t *testing.T) {
	ctx := context.Background()
	s, d := newMapStore(t)
	big := commitNext(t, s, bigTxs(key("bob"), 200, 1000), nil)
	bk := blockKey(big.Height())
	enc := big.Encode()

	// Format 4: the whole encoding under the block key.
	manifest, err := d.Get(ctx, bk)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, bk, enc); err != nil {
		t.Fatal(err)
	}
	if raw, err := s.RawBlock(ctx, big.Height()); err != nil || !bytes.Equal(raw, enc) {
		t.Fatalf("whole block: %d bytes, %v", len(raw), err)
	}
	if err := d.Put(ctx, bk, manifest); err != nil {
		t.Fatal(err)
	}

	chunk1, err := d.Get(ctx, chunkKeyOf(bk, 1))
	if err != nil {
		t.Fatal(err)
	}
	bad := func(name string) {
		t.Helper()
		if _, err := s.RawBlock(ctx, big.Height()); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	if err := d.Delete(ctx, chunkKeyOf(bk, 1)); err != nil {
		t.Fatal(err)
	}
	bad("chunk missing")
	if err := d.Put(ctx, chunkKeyOf(bk, 1), chunk1[:len(chunk1)-1]); err != nil {
		t.Fatal(err)
	}
	bad("chunk short")
	if err := d.Put(ctx, chunkKeyOf(bk, 1), chunk1); err != nil {
		t.Fatal(err)
	}
	wrong := bytes.Clone(manifest)
	wrong[11]++ // one chunk more than the length needs
	if err := d.Put(ctx, bk, wrong); err != nil {
		t.Fatal(err)
	}
	bad("manifest count")
	if err := d.Put(ctx, bk, manifest[:manifestLen-1]); err != nil {
		t.Fatal(err)
	}
	bad("manifest short")
	if err := d.Put(ctx, bk, manifest); err != nil {
		t.Fatal(err)
	}
	if raw, err := s.RawBlock(ctx, big.Height()); err != nil || !bytes.Equal(raw, enc) {
		t.Fatalf("repaired block: %v", err)
	}
}

// A sign-state is stored in chunks when large; a smaller one deletes the
// chunks it no longer needs, also when the store was reopened in between
// (it then learns the old count from the manifest).
func TestSignStateChunks(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"map", "pebble"} {
		t.Run(backend, func(t *testing.T) {
			s, reopen := backendStore(t, backend)
			chunks := func(st *Store) int {
				n := 0
				for i := range 16 {
					if _, ok, _ := st.get(ctx, chunkKeyOf(keySignState, i)); ok {
						n = i + 1
					}
				}
				return n
			}
			save := func(st *Store, v []byte, wantChunks int) {
				t.Helper()
				if err := st.SaveSignState(ctx, v); err != nil {
					t.Fatal(err)
				}
				if got := chunks(st); got != wantChunks {
					t.Fatalf("%d bytes saved: %d chunks stored, want %d", len(v), got, wantChunks)
				}
				got, ok, err := st.LoadSignState(ctx)
				if err != nil || !ok || !bytes.Equal(got, v) {
					t.Fatalf("%d bytes saved, %d loaded (%v)", len(v), len(got), err)
				}
			}
			big := bytes.Repeat([]byte("s"), 5*chunkSize+7) // 6 chunks
			mid := bytes.Repeat([]byte("m"), 3*chunkSize)   // 3 chunks
			save(s, big, 6)
			save(s, mid, 3)
			save(s, big, 6)
			s = reopen()
			save(s, []byte("h=9 r=0"), 0)
			if got, ok, err := reopen().LoadSignState(ctx); err != nil || !ok || string(got) != "h=9 r=0" {
				t.Fatalf("after reopen: %q %v %v", got, ok, err)
			}
		})
	}
}
