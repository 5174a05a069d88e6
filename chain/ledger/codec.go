package ledger

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
)

// The hottest state values (accounts, record heads and record versions:
// every record.put writes all three) are stored in a small binary format
// instead of JSON: encoding/json was a third of block execution, and the
// JSON spellings (base64 keys, hex hashes, field names) doubled the bytes
// each block wrote and Pebble later compacted. STATE.md documents the
// layouts.
//
// Every value starts with a format byte so a later layout can be told
// apart; then fields follow in a fixed order as
//
//	uvarint  unsigned integers (minimal encoding)
//	varint   signed integers (zigzag, minimal encoding)
//	bytes    uvarint length, then the bytes
//	fixed    32 raw bytes (keys, hashes)
//	bool     one byte, 0 or 1
//
// The encoding of a value is a function of the value alone, so two nodes
// write the same bytes. Decoding accepts exactly what encoding produces:
// an unknown format byte, a non-minimal varint, a bool other than 0 or 1,
// a length past the end or trailing bytes are ErrState.

// binWriter appends fields to a buffer.
type binWriter struct{ b []byte }

func (w *binWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *binWriter) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *binWriter) fixed(v []byte)   { w.b = append(w.b, v...) }
func (w *binWriter) bytes(v []byte) {
	w.uvarint(uint64(len(v)))
	w.b = append(w.b, v...)
}
func (w *binWriter) str(v string) {
	w.uvarint(uint64(len(v)))
	w.b = append(w.b, v...)
}
func (w *binWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// binReader consumes fields; the first problem sticks and is reported by
// done, so decoders read straight through without checking each field.
type binReader struct {
	b   []byte
	err string
}

func (r *binReader) fail(what string) {
	if r.err == "" {
		r.err = what
	}
	r.b = nil
}

// count reads the length of a list whose items take at least one byte
// each; it is 0 after any failure.
func (r *binReader) count(what string) uint64 {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("too many " + what)
	}
	if r.err != "" {
		return 0
	}
	return n
}

func (r *binReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if !r.consume(n, "bad uvarint") {
		return 0
	}
	return v
}

func (r *binReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if !r.consume(n, "bad varint") {
		return 0
	}
	return v
}

// consume drops a varint of n bytes just decoded, refusing a failed decode
// and a non-minimal encoding (a trailing zero byte), so every value has one
// encoding.
func (r *binReader) consume(n int, what string) bool {
	if n <= 0 || (n > 1 && r.b[n-1] == 0) {
		r.fail(what)
		return false
	}
	r.b = r.b[n:]
	return true
}

func (r *binReader) take(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail("length past the end")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *binReader) fixed(dst []byte) { copy(dst, r.take(uint64(len(dst)))) }

// bytes returns a copy, or nil for length 0 (as encoding/json decodes an
// omitted field).
func (r *binReader) bytes() []byte {
	v := r.take(r.uvarint())
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

func (r *binReader) str() string { return string(r.take(r.uvarint())) }

func (r *binReader) bool() bool {
	v := r.take(1)
	if len(v) == 1 && v[0] > 1 {
		r.fail("bad bool")
	}
	return len(v) == 1 && v[0] == 1
}

// format checks the leading format byte.
func (r *binReader) format(want byte) {
	v := r.take(1)
	if len(v) == 1 && v[0] != want {
		r.fail(fmt.Sprintf("unknown format %d, want %d", v[0], want))
	}
}

// done reports the first problem, or trailing bytes.
func (r *binReader) done(what string) error {
	if r.err == "" && len(r.b) > 0 {
		r.err = fmt.Sprintf("%d trailing bytes", len(r.b))
	}
	if r.err != "" {
		return fatal{fmt.Errorf("%w: decode %s: %s", ErrState, what, r.err)}
	}
	return nil
}

// Format bytes of the binary values.
const (
	fmtAccount = 1
	fmtHead    = 2
	fmtVersion = 1
)

// encodeAccount is the stored form of an Account.
func encodeAccount(a *Account) []byte {
	w := binWriter{b: make([]byte, 0, 64+len(a.Department)+len(a.Role)+len(a.Name))}
	w.b = append(w.b, fmtAccount)
	w.fixed(a.PubKey[:])
	w.str(a.Department)
	w.str(string(a.Role))
	w.str(a.Name)
	w.uvarint(a.Nonce)
	w.bool(a.Active)
	w.uvarint(a.AddedHeight)
	w.uvarint(a.RemovedHeight)
	return w.b
}

// decodeAccount is the inverse of encodeAccount.
func decodeAccount(b []byte, a *Account) error {
	r := binReader{b: b}
	r.format(fmtAccount)
	r.fixed(a.PubKey[:])
	a.Department = r.str()
	a.Role = Role(r.str())
	a.Name = r.str()
	a.Nonce = r.uvarint()
	a.Active = r.bool()
	a.AddedHeight = r.uvarint()
	a.RemovedHeight = r.uvarint()
	return r.done("account")
}

// putAccount stores a and keeps its decoded form for the rest of the
// block when o caches accounts.
func putAccount(o *overlay, a *Account) { putAccountAt(o, string(acctKey(a.PubKey)), a) }

// putAccountAt is putAccount with the key already built.
func putAccountAt(o *overlay, key string, a *Account) {
	o.put(key, encodeAccount(a))
	if o.decoded != nil {
		cp := *a
		o.decoded[key] = &cp
	}
}

// getAccount loads the account under pk; ok is false when absent. The
// result is the caller's own copy.
func getAccount(kv KV, pk chain.PublicKey) (*Account, bool, error) {
	return getAccountAt(kv, acctKey(pk))
}

// getAccountAt is getAccount with the key already built.
func getAccountAt(kv KV, key []byte) (*Account, bool, error) {
	return getCached(kv, key, decodeAccount)
}

// encodeHead is the stored form of a RecordHead, the latest version's
// encoding included.
func encodeHead(h *RecordHead) []byte {
	w := binWriter{b: make([]byte, 0, 8+10*len(h.Recent)+10+len(h.Latest))}
	w.b = append(w.b, fmtHead)
	w.uvarint(h.Version)
	w.uvarint(uint64(len(h.Recent)))
	for _, t := range h.Recent {
		w.varint(t)
	}
	w.varint(h.AlertedUntil)
	w.bytes(h.Latest)
	return w.b
}

// decodeHead is the inverse of encodeHead. h.Latest is a view of b, not a
// copy: callers that store it again clone it.
func decodeHead(b []byte, h *RecordHead) error {
	r := binReader{b: b}
	r.format(fmtHead)
	h.Version = r.uvarint()
	n := r.count("times")
	h.Recent = nil
	if n > 0 {
		h.Recent = make([]int64, n)
		for i := range h.Recent {
			h.Recent[i] = r.varint()
		}
	}
	h.AlertedUntil = r.varint()
	h.Latest = r.take(r.uvarint())
	if err := r.done("record head"); err != nil {
		return err
	}
	if h.Version == 0 || len(h.Latest) == 0 {
		return fatal{fmt.Errorf("%w: decode record head: version %d with %d bytes of latest version", ErrState, h.Version, len(h.Latest))}
	}
	return nil
}

// encodeVersion is the stored form of a RecordVersion. Schema and subject
// are left out: the key names them. The envelope of a confidential record
// is kept as its JSON (sharing's own encoding).
func encodeVersion(v *RecordVersion) ([]byte, error) {
	var env []byte
	if v.Envelope != nil {
		var err error
		if env, err = json.Marshal(v.Envelope); err != nil {
			return nil, fatal{fmt.Errorf("%w: encode envelope: %v", ErrState, err)}
		}
	}
	w := binWriter{b: make([]byte, 0, 100+len(v.Department)+len(v.Fields)+len(env))}
	w.b = append(w.b, fmtVersion)
	w.uvarint(v.Version)
	w.fixed(v.Writer[:])
	w.str(v.Department)
	w.varint(v.Time)
	w.uvarint(v.Height)
	w.fixed(v.TxHash[:])
	w.bytes(v.Fields)
	w.bytes(env)
	w.uvarint(uint64(len(v.Readers)))
	for _, d := range v.Readers {
		w.str(d)
	}
	return w.b, nil
}

// decodeVersion is the inverse of encodeVersion for a value stored under
// the key of (schema, subject).
func decodeVersion(b []byte, schema, subject string, v *RecordVersion) error {
	r := binReader{b: b}
	r.format(fmtVersion)
	v.Schema, v.Subject = schema, subject
	v.Version = r.uvarint()
	r.fixed(v.Writer[:])
	v.Department = r.str()
	v.Time = r.varint()
	v.Height = r.uvarint()
	r.fixed(v.TxHash[:])
	v.Fields = r.bytes()
	env := r.take(r.uvarint())
	n := r.count("readers")
	v.Readers = nil
	if n > 0 {
		v.Readers = make([]string, n)
		for i := range v.Readers {
			v.Readers[i] = r.str()
		}
	}
	if err := r.done("record version"); err != nil {
		return err
	}
	v.Envelope = nil
	if len(env) > 0 {
		v.Envelope = new(sharing.Envelope)
		if err := json.Unmarshal(env, v.Envelope); err != nil {
			return fatal{fmt.Errorf("%w: decode record version envelope: %v", ErrState, err)}
		}
	}
	return nil
}

// getHead loads the head of (schema, subject); ok is false when the
// record has no version yet.
func getHead(kv KV, schema, subject string) (RecordHead, bool, error) {
	var h RecordHead
	key := recordKey(schema, subject)
	b, ok, err := kv.Get(key)
	if err != nil {
		return h, false, fatal{fmt.Errorf("read %s: %w", key, err)}
	}
	if !ok {
		return h, false, nil
	}
	return h, true, decodeHead(b, &h)
}

// getVersion loads one stored version; ok is false when absent.
func getVersion(kv KV, schema, subject string, ver uint64) (*RecordVersion, bool, error) {
	h, ok, err := getHead(kv, schema, subject)
	if err != nil || !ok || ver == 0 || ver > h.Version {
		return nil, false, err
	}
	v, err := versionOf(kv, &h, schema, subject, ver)
	return v, err == nil, err
}

// latestVersion loads the newest version of (schema, subject) from its
// head; ok is false when there is none.
func latestVersion(kv KV, schema, subject string) (*RecordVersion, bool, error) {
	h, ok, err := getHead(kv, schema, subject)
	if err != nil || !ok {
		return nil, false, err
	}
	v, err := versionOf(kv, &h, schema, subject, h.Version)
	return v, err == nil, err
}

// versionOf decodes version ver, 1 to h.Version, of the record whose head
// is h: the latest is in the head, earlier ones under their version keys.
func versionOf(kv KV, h *RecordHead, schema, subject string, ver uint64) (*RecordVersion, error) {
	b := h.Latest
	if ver != h.Version {
		key := recVersionKey(schema, subject, ver)
		var ok bool
		var err error
		if b, ok, err = kv.Get(key); err != nil {
			return nil, fatal{fmt.Errorf("read %s: %w", key, err)}
		} else if !ok {
			return nil, fatal{fmt.Errorf("%w: %s/%s is at version %d, but version %d is not stored", ErrState, schema, subject, h.Version, ver)}
		}
	}
	var v RecordVersion
	if err := decodeVersion(b, schema, subject, &v); err != nil {
		return nil, err
	}
	if v.Version != ver {
		return nil, fatal{fmt.Errorf("%w: version %d of %s/%s is stored as version %d", ErrState, ver, schema, subject, v.Version)}
	}
	return &v, nil
}
