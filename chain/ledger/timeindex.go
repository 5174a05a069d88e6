package ledger

import (
	"fmt"
	"slices"
	"strings"
)

// The by-time index lists the record versions each block wrote, one key
// per schema and block:
//
//	ix/time/<schema>/<time>/<height> → 01 · count uvarint · that many
//	                                    (subject str · version uvarint)
//
// in transaction order. Storage format 5 had one empty key per version,
// ix/time/<schema>/<time>/<subject>/<version>: a quarter of the keys a
// block of record.puts wrote, and Pebble's flushes and compactions cost
// per key, not per byte (docs/BENCHMARK.md, tenth round).

// versionRef names one record version.
type versionRef struct {
	schema, subject string
	version         uint64
}

const fmtTimeIndex = 1

// timeIndexKey is the by-time index key of schema for the block at height
// with time t.
func timeIndexKey(schema string, t int64, height uint64) string {
	return pfxIxTime + schema + "/" + tnum(t) + "/" + num(height)
}

// putTimeIndex writes the block's by-time index keys, one per schema its
// transactions wrote versions of.
func putTimeIndex(blk *overlay, b *blockCtx) {
	if len(b.versions) == 0 {
		return
	}
	// Grouped by schema in place (nothing reads b.versions after this);
	// stable, so each schema's versions stay in transaction order.
	vs := b.versions
	slices.SortStableFunc(vs, func(x, y versionRef) int { return strings.Compare(x.schema, y.schema) })
	for len(vs) > 0 {
		n := 1
		for n < len(vs) && vs[n].schema == vs[0].schema {
			n++
		}
		blk.put(timeIndexKey(vs[0].schema, b.h.Time, b.h.Height), encodeTimeIndex(vs[:n]))
		vs = vs[n:]
	}
}

func encodeTimeIndex(vs []versionRef) []byte {
	size := 1 + 10
	for _, v := range vs {
		size += 2 + len(v.subject) + 10
	}
	w := binWriter{b: make([]byte, 0, size)}
	w.b = append(w.b, fmtTimeIndex)
	w.uvarint(uint64(len(vs)))
	for _, v := range vs {
		w.str(v.subject)
		w.uvarint(v.version)
	}
	return w.b
}

// decodeTimeIndex is the inverse of encodeTimeIndex; schema is taken from
// the key.
func decodeTimeIndex(b []byte, schema string) ([]versionRef, error) {
	r := binReader{b: b}
	r.format(fmtTimeIndex)
	n := r.count("versions")
	out := make([]versionRef, 0, n)
	for range n {
		v := versionRef{schema: schema, subject: r.str()}
		v.version = r.uvarint()
		if r.err != "" {
			break
		}
		out = append(out, v)
	}
	if err := r.done("by-time index"); err != nil {
		return nil, err
	}
	return out, nil
}

// RecordsBySchema returns versions of schema written at block times in
// [from, to) (to 0: no upper bound), oldest first, at most limit.
func (l *Ledger) RecordsBySchema(st ScanKV, schema string, from, to int64, limit int) ([]RecordVersion, error) {
	prefix := pfxIxTime + schema + "/"
	lo, hi := tnum(from), tnum(to)
	var out []RecordVersion
	var ferr error
	err := st.Scan([]byte(prefix), func(key, val []byte) bool {
		t, _, ok := strings.Cut(string(key[len(prefix):]), "/")
		if !ok || t < lo {
			return true
		}
		if to > 0 && t >= hi {
			return false
		}
		refs, err := decodeTimeIndex(val, schema)
		if err != nil {
			ferr = err
			return false
		}
		for _, ref := range refs {
			v, ok, err := getVersion(st, schema, ref.subject, ref.version)
			if err != nil {
				ferr = err
				return false
			}
			if !ok {
				ferr = fatal{fmt.Errorf("%w: by-time index names version %d of %s/%s, which is not stored", ErrState, ref.version, schema, ref.subject)}
				return false
			}
			out = append(out, *v)
			if len(out) >= lim(limit) {
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("scan records of %s: %w", schema, err)
	}
	return out, ferr
}
