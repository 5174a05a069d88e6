package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed encoding")

// Encoder appends canonical encodings to a byte slice. The zero value is ready.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an encoder whose buffer has the given capacity.
func NewEncoder(capacity int) *Encoder { return &Encoder{buf: make([]byte, 0, capacity)} }

// EncodeInto runs encode on an encoder that writes into dst, which must
// come out exactly full: callers size dst with the EncodedLen of what they
// encode and hand in memory that is not theirs to outgrow, such as a value
// reserved in a storage batch. Anything else is an error, and dst's
// contents are then unspecified.
func EncodeInto(dst []byte, encode func(*Encoder)) error {
	e := Encoder{buf: dst[:0:len(dst)]}
	encode(&e)
	if len(e.buf) != len(dst) || (len(dst) > 0 && &e.buf[0] != &dst[0]) {
		return fmt.Errorf("encode: %d bytes into a buffer of %d", len(e.buf), len(dst))
	}
	return nil
}

// Bytes returns the encoded bytes.
func (e *Encoder) Bytes() []byte { return e.buf }

// Uint8 appends one byte.
func (e *Encoder) Uint8(v uint8) { e.buf = append(e.buf, v) }

// Bool appends 1 or 0.
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Uint32 appends v big-endian.
func (e *Encoder) Uint32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }

// Uint64 appends v big-endian.
func (e *Encoder) Uint64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }

// Int64 appends v big-endian in two's complement.
func (e *Encoder) Int64(v int64) { e.Uint64(uint64(v)) }

// Raw appends b with no length prefix (fixed-size values).
func (e *Encoder) Raw(b []byte) { e.buf = append(e.buf, b...) }

// ByteString appends a uint32 length and b.
func (e *Encoder) ByteString(b []byte) {
	e.Uint32(uint32(len(b)))
	e.buf = append(e.buf, b...)
}

// String appends a uint32 length and s.
func (e *Encoder) String(s string) {
	e.Uint32(uint32(len(s)))
	e.buf = append(e.buf, s...)
}

// Decoder reads canonical encodings. The first error sticks: later reads
// return zero values and Err reports the first failure.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder returns a decoder over b. It does not copy b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err returns the first error met, if any.
func (d *Decoder) Err() error { return d.err }

// Remaining is the number of bytes not yet read.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Finish returns the first error, or an error if bytes remain unread.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.buf) {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.buf)-d.off)
	}
	return nil
}

func (d *Decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at offset %d", ErrMalformed, fmt.Sprintf(format, args...), d.off)
	}
}

func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.buf)-d.off < n {
		d.fail("truncated %s: need %d bytes, have %d", what, n, len(d.buf)-d.off)
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// Uint8 reads one byte.
func (d *Decoder) Uint8() uint8 {
	b := d.take(1, "uint8")
	if b == nil {
		return 0
	}
	return b[0]
}

// Bool reads a canonical boolean.
func (d *Decoder) Bool() bool {
	v := d.Uint8()
	if v > 1 {
		d.fail("non-canonical bool %d", v)
		return false
	}
	return v == 1
}

// Uint32 reads a big-endian uint32.
func (d *Decoder) Uint32() uint32 {
	b := d.take(4, "uint32")
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// Uint64 reads a big-endian uint64.
func (d *Decoder) Uint64() uint64 {
	b := d.take(8, "uint64")
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Int64 reads a big-endian two's complement int64.
func (d *Decoder) Int64() int64 { return int64(d.Uint64()) }

// Raw reads exactly len(dst) bytes into dst.
func (d *Decoder) Raw(dst []byte) {
	b := d.take(len(dst), "fixed-size value")
	if b != nil {
		copy(dst, b)
	}
}

// ByteString reads a length-prefixed byte string of at most limit bytes. The
// result is a copy, so it stays valid when the input buffer is reused.
func (d *Decoder) ByteString(limit int) []byte {
	b := d.ByteStringView(limit)
	if b == nil {
		return nil
	}
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

// ByteStringView is ByteString without the copy: the result aliases the
// input, for a caller that decodes it at once and keeps nothing of it.
func (d *Decoder) ByteStringView(limit int) []byte {
	n := d.Uint32()
	if d.err != nil {
		return nil
	}
	if int64(n) > int64(limit) {
		d.fail("byte string of %d bytes exceeds limit %d", n, limit)
		return nil
	}
	return d.take(int(n), "byte string")
}

// String reads a length-prefixed string of at most limit bytes.
func (d *Decoder) String(limit int) string {
	n := d.Uint32()
	if d.err != nil {
		return ""
	}
	if int64(n) > int64(limit) {
		d.fail("string of %d bytes exceeds limit %d", n, limit)
		return ""
	}
	return string(d.take(int(n), "string"))
}

// Count reads a list length and checks it against limit and against the
// bytes left, given the minimum encoded size of one element.
func (d *Decoder) Count(limit, minElem int) int {
	n := d.Uint32()
	if d.err != nil {
		return 0
	}
	if int64(n) > int64(limit) {
		d.fail("list of %d elements exceeds limit %d", n, limit)
		return 0
	}
	if minElem > 0 && int64(n)*int64(minElem) > int64(d.Remaining()) {
		d.fail("list of %d elements cannot fit in %d bytes", n, d.Remaining())
		return 0
	}
	return int(n)
}
