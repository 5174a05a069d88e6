package ledger

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// overlay buffers writes over a parent state. Execute stacks two: one per
// block over committed state and one per transaction over the block's, so
// a failed transaction is dropped whole.
type overlay struct {
	parent ScanKV
	// pending maps key to value; a nil value is a deletion.
	pending map[string][]byte
	// keys orders the pending keys for Scan.
	keys sortedKeys
	// decoded caches decoded values (*Account, *Department, *Schema) by
	// key; block overlay only, nil in a transaction's. A block of
	// thousands of txs from a few hundred accounts then decodes each
	// account once. An entry always equals the decoding of what Get
	// returns for its key: put drops it.
	decoded map[string]any
}

func newOverlay(parent ScanKV) *overlay {
	return &overlay{parent: parent, pending: make(map[string][]byte)}
}

// newBlockOverlay is the per-block overlay, which also caches decoded
// accounts. sizeHint (keys the block will likely write) saves growing the
// map step by step.
func newBlockOverlay(parent ScanKV, sizeHint int) *overlay {
	o := &overlay{parent: parent, pending: make(map[string][]byte, sizeHint)}
	o.decoded = make(map[string]any)
	return o
}

// Get implements KV.
func (o *overlay) Get(key []byte) ([]byte, bool, error) {
	if v, ok := o.pending[string(key)]; ok {
		return v, v != nil, nil
	}
	return o.parent.Get(key)
}

// Scan implements ScanKV: the parent's keys merged with pending ones, in
// byte order, deletions hidden.
func (o *overlay) Scan(prefix []byte, fn func(k, v []byte) bool) error {
	mine := o.keys.withPrefix(string(prefix))
	i := 0
	stopped := false
	emitMine := func(upTo []byte, inclusive bool) bool {
		for i < len(mine) {
			c := strings.Compare(mine[i], string(upTo))
			if upTo != nil && (c > 0 || (c == 0 && !inclusive)) {
				return true
			}
			v := o.pending[mine[i]]
			i++
			if v != nil && !fn([]byte(mine[i-1]), v) {
				return false
			}
		}
		return true
	}
	err := o.parent.Scan(prefix, func(k, v []byte) bool {
		if !emitMine(k, false) {
			stopped = true
			return false
		}
		if i < len(mine) && mine[i] == string(k) {
			return true // shadowed: emitted (or deleted) from pending below
		}
		if !fn(k, v) {
			stopped = true
			return false
		}
		return true
	})
	if err != nil || stopped {
		return err
	}
	emitMine(nil, true)
	return nil
}

func (o *overlay) set(key, value []byte) {
	o.put(string(key), append([]byte{}, value...))
}

// indexMark is the value of index keys, whose meaning is in the key. It is
// not empty so no store or client can mistake it for a deletion.
var indexMark = []byte{'1'}

// mark writes an index key.
func (o *overlay) mark(key string) { o.put(key, indexMark) }

func (o *overlay) del(key []byte) { o.put(string(key), nil) }

func (o *overlay) put(k string, v []byte) {
	if _, seen := o.pending[k]; !seen {
		o.keys.insert(k)
	}
	o.pending[k] = v
	if o.decoded != nil {
		delete(o.decoded, k)
	}
}

// commitTo moves the pending writes into parent. Deleting a key the
// parent does not have (created and dropped within one tx) is no write.
func (o *overlay) commitTo(parent *overlay) {
	for k, v := range o.pending {
		if v == nil {
			if _, ok, err := parent.Get([]byte(k)); err == nil && !ok {
				continue
			}
		}
		parent.put(k, v)
	}
}

// reset empties o for the next transaction, keeping its memory.
func (o *overlay) reset() {
	clear(o.pending)
	o.keys = sortedKeys{unsorted: o.keys.unsorted[:0]}
}

// writes returns the pending writes sorted by key. The keys share one
// buffer (each capped to its length): a block writes tens of thousands.
func (o *overlay) writes() []Write {
	keys := o.keys.withPrefix("")
	n := 0
	for _, k := range keys {
		n += len(k)
	}
	buf := make([]byte, 0, n)
	out := make([]Write, len(keys))
	for i, k := range keys {
		start := len(buf)
		buf = append(buf, k...)
		out[i] = Write{Key: buf[start:len(buf):len(buf)], Value: o.pending[k]}
	}
	return out
}

func sortStrings(s []string) { sort.Strings(s) }

// putJSON stores v as JSON. encoding/json output of structs is
// deterministic (field order; map keys sorted), which is all the state
// encoding needs.
func putJSON(o *overlay, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fatal{fmt.Errorf("%w: encode %s: %v", ErrState, key, err)}
	}
	o.set(key, b)
	return nil
}

// getJSON loads key into v; ok is false when absent.
func getJSON(kv KV, key []byte, v any) (bool, error) {
	b, ok, err := kv.Get(key)
	if err != nil {
		return false, fatal{fmt.Errorf("read %s: %w", key, err)}
	}
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fatal{fmt.Errorf("%w: decode %s: %v", ErrState, key, err)}
	}
	return true, nil
}

// has reports whether key exists.
func has(kv KV, key []byte) (bool, error) {
	_, ok, err := kv.Get(key)
	if err != nil {
		return false, fatal{fmt.Errorf("read %s: %w", key, err)}
	}
	return ok, nil
}

// scanKeys returns the keys under prefix (at most limit when limit > 0).
func scanKeys(kv ScanKV, prefix []byte, limit int) ([]string, error) {
	var out []string
	err := kv.Scan(prefix, func(k, _ []byte) bool {
		out = append(out, string(k))
		return limit <= 0 || len(out) < limit
	})
	if err != nil {
		return nil, fatal{fmt.Errorf("scan %s: %w", prefix, err)}
	}
	return out, nil
}

// scanJSON decodes every value under prefix with dec.
func scanJSON(kv ScanKV, prefix []byte, limit int, dec func(k, v []byte) error) error {
	var derr error
	n := 0
	err := kv.Scan(prefix, func(k, v []byte) bool {
		if derr = dec(k, v); derr != nil {
			return false
		}
		n++
		return limit <= 0 || n < limit
	})
	if err != nil {
		return fatal{fmt.Errorf("scan %s: %w", prefix, err)}
	}
	return derr
}

// decodeJSONState decodes a stored JSON value for getCached.
func decodeJSONState[T any](b []byte, v *T) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fatal{fmt.Errorf("%w: decode %T: %v", ErrState, v, err)}
	}
	return nil
}

// jsonUnmarshal decodes stored state; a failure is corruption.
func jsonUnmarshal(v []byte, dst any) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return fatal{fmt.Errorf("%w: %v", ErrState, err)}
	}
	return nil
}

// cacheFor finds the overlay whose decoded cache may answer for key as
// seen from kv: the nearest caching overlay with no overlay in between
// holding its own write of key. src is where to read key from (the same
// bytes kv.Get would return).
func cacheFor(kv KV, key []byte) (cache *overlay, src KV) {
	for {
		o, ok := kv.(*overlay)
		if !ok {
			return nil, kv
		}
		if o.decoded != nil {
			return o, o
		}
		if _, mine := o.pending[string(key)]; mine {
			return nil, o
		}
		kv = o.parent
	}
}

// getCached loads and decodes the value under key; ok is false when it is
// absent. Through a block overlay the decoded value is cached for the
// rest of the block. The result is the caller's own shallow copy: callers
// may set its fields but must not write into its slices.
func getCached[T any](kv KV, key []byte, decode func([]byte, *T) error) (*T, bool, error) {
	cache, src := cacheFor(kv, key)
	if cache != nil {
		if v, ok := cache.decoded[string(key)].(*T); ok {
			cp := *v
			return &cp, true, nil
		}
	}
	b, ok, err := src.Get(key)
	if err != nil {
		return nil, false, fatal{fmt.Errorf("read %s: %w", key, err)}
	}
	if !ok {
		return nil, false, nil
	}
	var v T
	if err := decode(b, &v); err != nil {
		return nil, false, fmt.Errorf("%s: %w", key, err)
	}
	if cache != nil {
		cp := v
		cache.decoded[string(key)] = &cp
	}
	return &v, true, nil
}
