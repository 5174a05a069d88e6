package store

import (
	"bytes"
	"errors"
	"slices"
	"strings"
)

// Overlay is a writable view of a KV that keeps changes in memory. The
// ledger executes a block against an Overlay of the committed state, then
// passes Writes() to StateRoot and CommitBlock. An Overlay is itself a KV, so
// a per-transaction Overlay on top of the block's one gives rollback: apply
// its Writes() to the parent only if the transaction succeeds. Not safe for
// concurrent use (execution is sequential).
type Overlay struct {
	base    KV
	pending map[string]pendingValue
}

type pendingValue struct {
	value   []byte
	deleted bool
}

// NewOverlay returns an empty overlay on base.
func NewOverlay(base KV) *Overlay {
	return &Overlay{base: base, pending: make(map[string]pendingValue)}
}

// Get returns the value of key with pending changes applied.
func (o *Overlay) Get(key []byte) ([]byte, bool, error) {
	if p, ok := o.pending[string(key)]; ok {
		if p.deleted {
			return nil, false, nil
		}
		return bytes.Clone(p.value), true, nil
	}
	return o.base.Get(key)
}

// Set records key = value (a nil value stores an empty one; use Delete to
// remove a key). Both slices are copied.
func (o *Overlay) Set(key, value []byte) {
	o.pending[string(key)] = pendingValue{value: append([]byte{}, value...)}
}

// Delete records the removal of key.
func (o *Overlay) Delete(key []byte) {
	o.pending[string(key)] = pendingValue{deleted: true}
}

// Apply records writes as Set (non-nil Value) or Delete (nil Value), in
// order, for instance a child overlay's Writes().
func (o *Overlay) Apply(writes []Write) {
	for _, w := range writes {
		if w.Value == nil {
			o.Delete(w.Key)
		} else {
			o.Set(w.Key, w.Value)
		}
	}
}

// Len is the number of keys changed.
func (o *Overlay) Len() int { return len(o.pending) }

// Writes returns the changes sorted by key, one per key, deletions with a
// nil Value: the form StateRoot and CommitBlock take.
func (o *Overlay) Writes() []Write {
	keys := o.sortedKeys("")
	out := make([]Write, len(keys))
	for i, k := range keys {
		p := o.pending[k]
		out[i] = Write{Key: []byte(k)}
		if !p.deleted {
			out[i].Value = bytes.Clone(p.value)
		}
	}
	return out
}

func (o *Overlay) sortedKeys(prefix string) []string {
	var keys []string
	for k := range o.pending {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// errHalt stops the base iteration when the caller's fn has stopped.
var errHalt = errors.New("store: overlay iteration halted")

// Iterate merges the base's keys under prefix with the pending changes, in
// key order, streaming the base. It sorts the pending keys under prefix on
// every call.
func (o *Overlay) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	keys := o.sortedKeys(string(prefix))
	i := 0
	var fnErr error
	emit := func(k string) error {
		p := o.pending[k]
		if p.deleted {
			return nil
		}
		return fn([]byte(k), bytes.Clone(p.value))
	}
	err := o.base.Iterate(prefix, func(k, v []byte) error {
		ks := string(k)
		for ; i < len(keys) && keys[i] < ks; i++ {
			if fnErr = emit(keys[i]); fnErr != nil {
				return errHalt
			}
		}
		if i < len(keys) && keys[i] == ks {
			i++
			fnErr = emit(ks)
		} else {
			fnErr = fn(k, v)
		}
		if fnErr != nil {
			return errHalt
		}
		return nil
	})
	if fnErr == nil && err == nil {
		for ; i < len(keys); i++ {
			if fnErr = emit(keys[i]); fnErr != nil {
				break
			}
		}
	}
	switch {
	case errors.Is(fnErr, ErrStop):
		return nil
	case fnErr != nil:
		return fnErr
	}
	return err
}
