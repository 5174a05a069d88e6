package store

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// maxIdleReaders bounds the Pebble iterators kept between point reads: one
// per goroutine that reads state at the same time (the consensus loop, the
// catch-up prefetcher, API handlers) is enough.
const maxIdleReaders = 8

// readers keeps Pebble iterators for point reads of ledger state.
//
// A pebble.DB.Get builds an iterator over every memtable and level for one
// key and throws it away; block execution reads a few keys per
// transaction, most of them absent (a new record's head), and building
// that iterator is most of a read's cost. An iterator's SeekPrefixGE
// reuses it, and the bloom filters still turn absent keys away without
// reading a data block: on a store of 360,000 keys an absent key costs
// about 0.5 µs instead of 2.5 µs.
//
// An iterator reads the database as it was when it was made. gen counts
// the batches the store has committed; commitBatch calls invalidate after
// each one, so an iterator older than the last commit is closed instead of
// used, and a read that starts after a commit returns always sees it. The
// idle ones are closed at once, so none pins a flushed memtable or a
// compacted-away file for longer than until the next commit.
type readers struct {
	db *pebble.DB

	mu   sync.Mutex
	gen  uint64
	idle []*reader
}

type reader struct {
	it  *pebble.Iterator
	gen uint64
}

// get returns a copy of the value of the full datastore key k.
func (r *readers) get(k []byte) ([]byte, bool, error) {
	rd, err := r.take()
	if err != nil {
		return nil, false, err
	}
	var v []byte
	found := rd.it.SeekPrefixGE(k) && bytes.Equal(rd.it.Key(), k)
	if found {
		if v, err = rd.it.ValueAndErr(); err == nil {
			v = bytes.Clone(v)
		}
	} else {
		err = rd.it.Error()
	}
	if err != nil {
		_ = rd.it.Close()
		return nil, false, fmt.Errorf("get %q: %w", k, err)
	}
	r.put(rd)
	return v, found, nil
}

// take returns an idle iterator made after the last commit, or a new one.
func (r *readers) take() (*reader, error) {
	r.mu.Lock()
	gen := r.gen
	if n := len(r.idle); n > 0 {
		rd := r.idle[n-1]
		r.idle = r.idle[:n-1]
		r.mu.Unlock()
		return rd, nil
	}
	r.mu.Unlock()
	// Made after reading gen: if a commit lands in between, the iterator
	// may see it but is tagged older and is closed when it comes back.
	it, err := r.db.NewIter(nil)
	if err != nil {
		return nil, fmt.Errorf("new iterator: %w", err)
	}
	return &reader{it: it, gen: gen}, nil
}

// put keeps rd for the next read if no commit happened since it was made.
func (r *readers) put(rd *reader) {
	r.mu.Lock()
	if rd.gen == r.gen && len(r.idle) < maxIdleReaders {
		r.idle = append(r.idle, rd)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	_ = rd.it.Close()
}

// invalidate retires every iterator made so far. The store calls it after
// each committed batch and before it closes the database.
func (r *readers) invalidate() {
	r.mu.Lock()
	r.gen++
	idle := r.idle
	r.idle = nil
	r.mu.Unlock()
	for _, rd := range idle {
		_ = rd.it.Close()
	}
}
