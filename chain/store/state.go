package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

	"github.com/zwnode/zwnode/chain"
)

// KV is the read side of the ledger state as the ledger sees it: keys are
// the ledger's own, without the store's namespace.
type KV interface {
	// Get returns the value of key; ok is false if it is absent.
	Get(key []byte) (value []byte, ok bool, err error)
	// Iterate calls fn for every key starting with prefix, in key order,
	// until fn returns an error (ErrStop ends it early without one).
	Iterate(prefix []byte, fn func(key, value []byte) error) error
}

// State returns the committed value of a ledger key.
func (s *Store) State(ctx context.Context, key []byte) ([]byte, bool, error) {
	if len(key) == 0 || len(key) > MaxStateKeyLen {
		return nil, false, fmt.Errorf("state: %w: key of %d bytes (1..%d allowed)", chain.ErrInvalid, len(key), MaxStateKeyLen)
	}
	if err := s.enter(); err != nil {
		return nil, false, fmt.Errorf("state: %w", err)
	}
	defer s.life.RUnlock()
	v, ok, err := s.getState(ctx, stateKey(key))
	if err != nil {
		return nil, false, fmt.Errorf("state: %w", err)
	}
	return v, ok, nil
}

// getState reads a state key through the kept iterators where the store
// has them (see readers). State keys are written only by committed
// batches, which retire the iterators, so those never serve a stale value.
func (s *Store) getState(ctx context.Context, k ds.Key) ([]byte, bool, error) {
	if s.readers != nil {
		return s.readers.get(k.Bytes())
	}
	return s.get(ctx, k)
}

// StateIter calls fn for every committed ledger key starting with prefix,
// in key order. fn gets copies it may keep. Returning ErrStop ends the scan
// with a nil error; any other error ends it and is returned. On Pebble the
// scan reads only the keys under prefix.
func (s *Store) StateIter(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	if err := s.enter(); err != nil {
		return fmt.Errorf("state scan: %w", err)
	}
	defer s.life.RUnlock()
	var err error
	if s.db != nil {
		err = s.iterPebble(prefix, fn)
	} else {
		err = s.iterQuery(ctx, prefix, fn)
	}
	if errors.Is(err, ErrStop) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state scan of prefix %x: %w", prefix, err)
	}
	return nil
}

// iterPebble scans [lower, upper) where lower is the encoded prefix and
// upper the first key after everything starting with it.
func (s *Store) iterPebble(prefix []byte, fn func(key, value []byte) error) error {
	lower := []byte(statePrefixString(prefix))
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: successor(lower)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		key, err := parseStateKey(string(it.Key()))
		if err != nil {
			_ = it.Close()
			return err
		}
		if !bytes.HasPrefix(key, prefix) {
			continue // prefix ends in keyEnd and key is prefix minus it
		}
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		if err := fn(key, bytes.Clone(v)); err != nil {
			_ = it.Close()
			return err
		}
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return err
	}
	return it.Close()
}

// iterQuery is the portable scan through the datastore query interface.
func (s *Store) iterQuery(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	res, err := s.d.Query(ctx, query.Query{
		Prefix:  prefixState,
		Filters: []query.Filter{query.FilterKeyPrefix{Prefix: statePrefixString(prefix)}},
		Orders:  []query.Order{query.OrderByKey{}},
	})
	if err != nil {
		return err
	}
	defer res.Close()
	for r := range res.Next() {
		if r.Error != nil {
			return r.Error
		}
		key, err := parseStateKey(r.Key)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(key, prefix) {
			continue
		}
		if err := fn(key, bytes.Clone(r.Value)); err != nil {
			return err
		}
	}
	return nil
}

// StateKV returns the committed state as a KV bound to ctx.
func (s *Store) StateKV(ctx context.Context) KV { return stateKV{s: s, ctx: ctx} }

type stateKV struct {
	s   *Store
	ctx context.Context
}

func (k stateKV) Get(key []byte) ([]byte, bool, error) { return k.s.State(k.ctx, key) }

func (k stateKV) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	return k.s.StateIter(k.ctx, prefix, fn)
}

// successor returns the smallest key greater than every key starting with
// p, or nil (no upper bound) when p is all 0xff.
func successor(p []byte) []byte {
	out := bytes.Clone(p)
	for len(out) > 0 && out[len(out)-1] == 0xff {
		out = out[:len(out)-1]
	}
	if len(out) == 0 {
		return nil
	}
	out[len(out)-1]++
	return out
}

// scanPebbleBackward visits up to limit keys in [prefix, before), or under
// prefix if before is "", from the last one down, reading only those keys.
func (s *Store) scanPebbleBackward(prefix, before string, limit int, fn func(k string, v []byte) error) error {
	lower := []byte(prefix)
	upper := []byte(before)
	if before == "" {
		upper = successor(lower)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	n := 0
	for ok := it.Last(); ok && n < limit; ok = it.Prev() {
		v, err := it.ValueAndErr()
		if err == nil {
			err = fn(string(it.Key()), bytes.Clone(v))
		}
		if err != nil {
			_ = it.Close()
			return err
		}
		n++
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return err
	}
	return it.Close()
}
