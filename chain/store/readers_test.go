package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// State on Pebble reads through kept iterators; every commit, by
// CommitBlock or by a run, must be visible to the next read, including
// deletions and rewrites of keys read just before.
func TestStateReadsSeeEveryCommit(t *testing.T) {
	ctx := context.Background()
	s := openPebbleStore(t, t.TempDir())
	defer s.Close()
	if s.readers == nil {
		t.Fatal("a store on OpenPebble does not read state through kept iterators")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const nkeys = 40
	keyOf := func(i int) []byte { return fmt.Appendf(nil, "k/%02d", i) }
	model := make(map[string][]byte)
	check := func(when string) {
		t.Helper()
		for i := range nkeys {
			k := keyOf(i)
			v, ok, err := s.State(ctx, k)
			if err != nil {
				t.Fatalf("%s: State(%s): %v", when, k, err)
			}
			want, wantOK := model[string(k)]
			if ok != wantOK || !bytes.Equal(v, want) {
				t.Fatalf("%s: State(%s) = %q, %v; want %q, %v", when, k, v, ok, want, wantOK)
			}
		}
	}
	for h := 1; h <= 30; h++ {
		check(fmt.Sprintf("before block %d", h))
		var writes []Write
		for range 1 + rng.IntN(12) {
			k := keyOf(rng.IntN(nkeys))
			w := Write{Key: k}
			if rng.IntN(4) != 0 { // one write in four deletes
				w.Value = fmt.Appendf(nil, "v%d-%d", h, rng.IntN(1000))
			}
			writes = append(writes, w)
		}
		writes = NormalizeWrites(writes)
		b, c := nextBlock(t, s, nil, writes)
		if h%3 == 0 {
			if err := s.CommitBlocks(ctx, []BlockCommit{{Block: b, Commit: c, Writes: writes}}); err != nil {
				t.Fatal(err)
			}
		} else if err := s.CommitBlock(ctx, b, c, writes); err != nil {
			t.Fatal(err)
		}
		for _, w := range writes {
			if w.Value == nil {
				delete(model, string(w.Key))
			} else {
				model[string(w.Key)] = w.Value
			}
		}
		check(fmt.Sprintf("after block %d", h))
	}
}

// A reader that has seen a head must see that head's state, while blocks
// are being committed and other readers hold iterators.
func TestStateReadsConcurrentWithCommits(t *testing.T) {
	ctx := context.Background()
	s := openPebbleStore(t, t.TempDir())
	defer s.Close()
	ctr := []byte("ctr")
	const blocks = 60
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				h, _ := s.Head()
				v, ok, err := s.State(ctx, ctr)
				if err != nil {
					errs <- err
					return
				}
				var got uint64
				if ok {
					got = binary.BigEndian.Uint64(v)
				}
				if got < h {
					errs <- fmt.Errorf("head was %d, then State read counter %d", h, got)
					return
				}
			}
		}()
	}
	for h := uint64(1); h <= blocks; h++ {
		commitNext(t, s, nil, []Write{{Key: ctr, Value: u64(h)}})
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.readers.mu.Lock()
	idle := len(s.readers.idle)
	s.readers.mu.Unlock()
	if idle > maxIdleReaders {
		t.Fatalf("%d idle iterators kept, at most %d allowed", idle, maxIdleReaders)
	}
}

// Pebble refuses to close with iterators open; the store's kept ones must
// not make Close fail, and reads after Close are refused.
func TestCloseWithKeptReaders(t *testing.T) {
	ctx := context.Background()
	s := openPebbleStore(t, t.TempDir())
	commitNext(t, s, nil, []Write{{Key: []byte("a"), Value: []byte("1")}})
	if v, ok, err := s.State(ctx, []byte("a")); err != nil || !ok || string(v) != "1" {
		t.Fatalf("State(a) = %q, %v, %v", v, ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close with a kept iterator: %v", err)
	}
	if _, _, err := s.State(ctx, []byte("a")); !errors.Is(err, ErrClosed) {
		t.Fatalf("State after Close: %v, want ErrClosed", err)
	}
}
