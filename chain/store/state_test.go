package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	ds "github.com/ipfs/go-datastore"

	"github.com/zwnode/zwnode/chain"
)

// collect returns the keys and values StateIter yields for prefix.
func collect(t *testing.T, s *Store, prefix string) []string {
	t.Helper()
	var out []string
	err := s.StateIter(context.Background(), []byte(prefix), func(k, v []byte) error {
		out = append(out, fmt.Sprintf("%s=%s", k, v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stateFixture commits keys whose hex forms interleave in tricky ways: a
// prefix that is a whole key, 0xff bytes, and neighbours one byte apart.
func stateFixture(t *testing.T, s *Store) {
	t.Helper()
	writes := []Write{
		{Key: []byte("a"), Value: []byte("1")},
		{Key: []byte("a/1"), Value: []byte("2")},
		{Key: []byte("a/2"), Value: []byte("3")},
		{Key: []byte("a0"), Value: []byte("4")},
		{Key: []byte("b"), Value: []byte("5")},
		{Key: []byte{'a', 0xff}, Value: []byte("6")},
		{Key: []byte("gone"), Value: []byte("7")},
		// Raw bytes in keys: ending in '/', holding the key terminator,
		// all 0xff (no successor).
		{Key: []byte("a/"), Value: []byte("8")},
		{Key: []byte("a\x00"), Value: []byte("9")},
		{Key: []byte("\xff\xff"), Value: []byte("10")},
	}
	commitNext(t, s, nil, writes)
	commitNext(t, s, nil, []Write{{Key: []byte("gone")}, {Key: []byte("a/3"), Value: []byte{}}})
}

func checkIter(t *testing.T, s *Store) {
	t.Helper()
	cases := map[string][]string{
		"":         {"a=1", "a\x00=9", "a/=8", "a/1=2", "a/2=3", "a/3=", "a0=4", "a\xff=6", "b=5", "\xff\xff=10"},
		"a/":       {"a/=8", "a/1=2", "a/2=3", "a/3="},
		"a":        {"a=1", "a\x00=9", "a/=8", "a/1=2", "a/2=3", "a/3=", "a0=4", "a\xff=6"},
		"a\x00":    {"a\x00=9"}, // not "a", though "a" is stored as "a\x00"
		"a\xff":    {"a\xff=6"},
		"\xff":     {"\xff\xff=10"},
		"\xff\xff": {"\xff\xff=10"},
		"gone":     nil,
		"c":        nil,
	}
	for prefix, want := range cases {
		got := collect(t, s, prefix)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("prefix %q: got %q, want %q", prefix, got, want)
		}
	}
	// ErrStop ends early without an error; other errors come back.
	n := 0
	err := s.StateIter(context.Background(), []byte("a"), func(k, v []byte) error { n++; return ErrStop })
	if err != nil || n != 1 {
		t.Fatalf("ErrStop: n=%d err=%v", n, err)
	}
	boom := errors.New("boom")
	if err := s.StateIter(context.Background(), nil, func(k, v []byte) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("callback error: %v", err)
	}
	kv := s.StateKV(context.Background())
	if v, ok, err := kv.Get([]byte("a/3")); err != nil || !ok || v == nil || len(v) != 0 {
		t.Fatalf("empty value: %q %v %v", v, ok, err)
	}
}

func TestStateIter(t *testing.T) {
	s, _ := newMapStore(t)
	stateFixture(t, s)
	checkIter(t, s)
}

func TestNormalizeWrites(t *testing.T) {
	in := []Write{{Key: []byte("b"), Value: []byte("1")}, {Key: []byte("a"), Value: []byte("2")}, {Key: []byte("b")}}
	got := NormalizeWrites(in)
	if len(got) != 2 || string(got[0].Key) != "a" || string(got[1].Key) != "b" || got[1].Value != nil {
		t.Fatalf("normalized = %+v, want a=2, b deleted (later write wins)", got)
	}
	if string(in[0].Key) != "b" {
		t.Fatal("input was modified")
	}
}

// TestStateRootEncoding pins the documented encoding with an independent
// construction through chain.Encoder.
func TestStateRootEncoding(t *testing.T) {
	prev := chain.Hash{0xaa}
	writes := []Write{{Key: []byte("k2")}, {Key: []byte("k1"), Value: []byte("v1")}}
	e := chain.NewEncoder(0)
	e.String("zw/state/v1")
	e.Raw(prev[:])
	e.Uint32(2)
	e.ByteString([]byte("k1"))
	e.Bool(true)
	e.ByteString([]byte("v1"))
	e.ByteString([]byte("k2"))
	e.Bool(false)
	want := chain.Hash(sha256.Sum256(e.Bytes()))
	if got := StateRoot(prev, writes); got != want {
		t.Fatalf("state root %s, want %s", got, want)
	}
	distinct := map[chain.Hash]string{}
	for name, r := range map[string]chain.Hash{
		"base":        want,
		"other prev":  StateRoot(chain.Hash{0xab}, writes),
		"empty value": StateRoot(prev, []Write{{Key: []byte("k2"), Value: []byte{}}, {Key: []byte("k1"), Value: []byte("v1")}}),
		"no writes":   StateRoot(prev, nil),
		"moved byte":  StateRoot(prev, []Write{{Key: []byte("k1v"), Value: []byte("1")}, {Key: []byte("k2")}}),
		"other value": StateRoot(prev, []Write{{Key: []byte("k1"), Value: []byte("v2")}, {Key: []byte("k2")}}),
		"one write":   StateRoot(prev, writes[1:]),
	} {
		if other, dup := distinct[r]; dup {
			t.Fatalf("%s and %s give the same root", name, other)
		}
		distinct[r] = name
	}
}

// failingBatching is a datastore whose batch commits fail while fail is set,
// writing nothing, as an atomic backend does.
type failingBatching struct {
	ds.Batching
	fail bool
}

func (f *failingBatching) Batch(ctx context.Context) (ds.Batch, error) {
	b, err := f.Batching.Batch(ctx)
	if err != nil {
		return nil, err
	}
	return &failingBatch{Batch: b, parent: f}, nil
}

type failingBatch struct {
	ds.Batch
	parent *failingBatching
}

func (b *failingBatch) Commit(ctx context.Context) error {
	if b.parent.fail {
		return errors.New("injected: disk full")
	}
	return b.Batch.Commit(ctx)
}

func TestFailingBatchWritesNothing(t *testing.T) {
	ctx := context.Background()
	inner, d := newMapStore(t)
	commitNext(t, inner, nil, nil)
	fd := &failingBatching{Batching: d}
	s, err := Open(ctx, fd)
	if err != nil {
		t.Fatal(err)
	}
	alice := key("alice")
	txs := []chain.Tx{makeTx(alice, 1, nil)}
	writes := []Write{{Key: []byte("k"), Value: []byte("v")}}
	b, c := nextBlock(t, s, txs, writes)
	before := snapshot(t, d)
	fd.fail = true
	err = s.CommitBlock(ctx, b, c, writes)
	if err == nil || !strings.Contains(err.Error(), "commit block 2") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v, want the injected failure with context", err)
	}
	sameSnapshot(t, before, snapshot(t, d))
	if h, _ := s.Head(); h != 1 {
		t.Fatalf("head = %d after a failed commit, want 1", h)
	}
	if _, _, err := s.TxLocation(ctx, txs[0].Hash()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("tx indexed after failed commit: %v", err)
	}
	// Still usable: the same block commits once the backend recovers.
	fd.fail = false
	if err := s.CommitBlock(ctx, b, c, writes); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Head(); h != 2 {
		t.Fatalf("head = %d, want 2", h)
	}
}

// failingSync fails Sync, as a dying disk does.
type failingSync struct{ ds.Batching }

func (failingSync) Sync(context.Context, ds.Key) error { return errors.New("injected: fsync failed") }

func TestSyncFailureIsSticky(t *testing.T) {
	ctx := context.Background()
	_, d := newMapStore(t)
	s, err := Open(ctx, failingSync{d})
	if err != nil {
		t.Fatal(err)
	}
	b, c := nextBlock(t, s, nil, nil)
	if err := s.CommitBlock(ctx, b, c, nil); err == nil {
		t.Fatal("commit with failing sync succeeded")
	}
	b, c = nextBlock(t, s, nil, nil)
	if err := s.CommitBlock(ctx, b, c, nil); !errors.Is(err, ErrFailed) {
		t.Fatalf("commit after sync failure: %v, want ErrFailed", err)
	}
}
