package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"
)

// The canonical form of a public record's fields is what encoding/json
// produced when the ledger decoded them into map[string]any (numbers as
// json.Number) and marshalled the map again: object keys sorted by their
// decoded bytes, the last of duplicate keys kept, no whitespace, numbers
// as written, strings escaped the way json.Marshal escapes them (HTML
// characters, U+2028/U+2029, invalid UTF-8 as \ufffd). Building the map
// and marshalling it was a quarter of block execution, so this file
// produces the same bytes from the raw text directly. String literals
// that json.Marshal would write unchanged (the usual case) are copied;
// others are decoded and re-encoded by encoding/json itself.
// canonjson_test.go checks the result against encoding/json on seeded
// random inputs.

// errNotJSON is returned for text that is not exactly one JSON value.
var errNotJSON = errors.New("not a JSON value")

// maxJSONDepth is encoding/json's nesting limit: deeper input is an error
// there, so it must be one here too.
const maxJSONDepth = 10000

// jsonKind is the type of a parsed JSON value.
type jsonKind byte

const (
	kindString jsonKind = iota + 1
	kindNumber
	kindTrue
	kindFalse
	kindNull
	kindObject
	kindArray
)

// jsonMember is one member of a parsed object.
type jsonMember struct {
	key  []byte // decoded key, for ordering and lookup
	lit  []byte // the key's literal as written, quotes included
	val  []byte // the value's text as written
	kind jsonKind
}

// jsonParser walks JSON text; it never allocates for scalars.
type jsonParser struct {
	b     []byte
	i     int
	depth int
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value skips one value starting at p.i (after whitespace) and returns its
// kind and text.
func (p *jsonParser) value() (jsonKind, []byte, error) {
	p.ws()
	if p.i >= len(p.b) {
		return 0, nil, errNotJSON
	}
	start := p.i
	var k jsonKind
	var err error
	switch c := p.b[p.i]; {
	case c == '"':
		k, err = kindString, p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		k, err = kindNumber, p.number()
	case c == 't':
		k, err = kindTrue, p.lit("true")
	case c == 'f':
		k, err = kindFalse, p.lit("false")
	case c == 'n':
		k, err = kindNull, p.lit("null")
	case c == '{':
		k, err = kindObject, p.object(nil)
	case c == '[':
		k, err = kindArray, p.array(nil)
	default:
		err = errNotJSON
	}
	return k, p.b[start:p.i], err
}

func (p *jsonParser) lit(want string) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte(want)) {
		return errNotJSON
	}
	p.i += len(want)
	return nil
}

// str skips a string literal, checking its escapes.
func (p *jsonParser) str() error {
	p.i++ // opening quote
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return nil
		case c < 0x20:
			return errNotJSON
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return errNotJSON
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.b) {
					return errNotJSON
				}
				for _, h := range p.b[p.i+2 : p.i+6] {
					if !isHex(h) {
						return errNotJSON
					}
				}
				p.i += 6
			default:
				return errNotJSON
			}
		default:
			p.i++
		}
	}
	return errNotJSON
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (p *jsonParser) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() error {
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if p.digits() == 0 {
		return errNotJSON
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return errNotJSON
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return errNotJSON
		}
	}
	return nil
}

// nest counts one level of object or array nesting.
func (p *jsonParser) nest() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return errNotJSON
	}
	return nil
}

// object skips an object; with out non-nil it appends the members.
func (p *jsonParser) object(out *[]jsonMember) error {
	if err := p.nest(); err != nil {
		return err
	}
	p.i++ // {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return errNotJSON
		}
		ks := p.i
		if err := p.str(); err != nil {
			return err
		}
		lit := p.b[ks:p.i]
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return errNotJSON
		}
		p.i++
		k, v, err := p.value()
		if err != nil {
			return err
		}
		if out != nil {
			key, err := decodeJSONString(lit)
			if err != nil {
				return err
			}
			*out = append(*out, jsonMember{key: key, lit: lit, val: v, kind: k})
		}
		if done, err := p.sep('}'); done || err != nil {
			return err
		}
	}
}

// array skips an array; with out non-nil it appends the element texts.
func (p *jsonParser) array(out *[][]byte) error {
	if err := p.nest(); err != nil {
		return err
	}
	p.i++ // [
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return nil
	}
	for {
		_, v, err := p.value()
		if err != nil {
			return err
		}
		if out != nil {
			*out = append(*out, v)
		}
		if done, err := p.sep(']'); done || err != nil {
			return err
		}
	}
}

// sep reads what follows a member or element: a comma (more follow) or the
// closing bracket (done, one level up).
func (p *jsonParser) sep(closing byte) (done bool, err error) {
	p.ws()
	if p.i >= len(p.b) {
		return false, errNotJSON
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		p.depth--
		return true, nil
	}
	return false, errNotJSON
}

// plainString reports whether json.Marshal writes the decoded form of the
// string literal lit exactly as lit: no escapes, no HTML characters, valid
// UTF-8 without U+2028/U+2029.
func plainString(lit []byte) bool {
	s := lit[1 : len(lit)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '\\' || c == '"' || c == '<' || c == '>' || c == '&' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if (r == utf8.RuneError && n == 1) || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += n
	}
	return true
}

// decodeJSONString returns the bytes a string literal stands for. Plain
// literals are their own content; others go through encoding/json so
// escapes and invalid UTF-8 decode exactly as it decodes them.
func decodeJSONString(lit []byte) ([]byte, error) {
	if plainString(lit) {
		return lit[1 : len(lit)-1], nil
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return nil, errNotJSON
	}
	return []byte(s), nil
}

// appendJSONString appends the canonical literal of a string whose
// literal is lit.
func appendJSONString(dst, lit []byte) ([]byte, error) {
	if plainString(lit) {
		return append(dst, lit...), nil
	}
	s, err := decodeJSONString(lit)
	if err != nil {
		return nil, err
	}
	enc, err := json.Marshal(string(s))
	if err != nil {
		return nil, errNotJSON
	}
	return append(dst, enc...), nil
}

// sortMembers orders members by decoded key and keeps the last of each
// run of equal keys, as decoding into a map does.
func sortMembers(ms []jsonMember) []jsonMember {
	slices.SortStableFunc(ms, func(a, b jsonMember) int { return bytes.Compare(a.key, b.key) })
	out := ms[:0]
	for i := range ms {
		if i+1 < len(ms) && bytes.Equal(ms[i].key, ms[i+1].key) {
			continue
		}
		out = append(out, ms[i])
	}
	return out
}

// parseObject parses raw, which must be one JSON object, into its members
// sorted and deduplicated as a map would hold them. The members are
// appended to ms[:0] (nil allocates).
func parseObject(ms []jsonMember, raw []byte) ([]jsonMember, error) {
	p := jsonParser{b: raw}
	p.ws()
	if p.i >= len(raw) || raw[p.i] != '{' {
		return nil, errNotJSON
	}
	ms = ms[:0]
	if err := p.object(&ms); err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(raw) {
		return nil, errNotJSON
	}
	return sortMembers(ms), nil
}

// appendCanonicalObject appends the canonical form of an object given its
// sorted members.
func appendCanonicalObject(dst []byte, ms []jsonMember, depth int) ([]byte, error) {
	dst = append(dst, '{')
	var err error
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = appendJSONString(dst, m.lit); err != nil {
			return nil, err
		}
		dst = append(dst, ':')
		if dst, err = appendCanonical(dst, m.kind, m.val, depth); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendCanonical appends the canonical form of the value text v of kind
// k, found at nesting depth depth.
func appendCanonical(dst []byte, k jsonKind, v []byte, depth int) ([]byte, error) {
	switch k {
	case kindString:
		return appendJSONString(dst, v)
	case kindNumber, kindTrue, kindFalse, kindNull:
		return append(dst, v...), nil
	case kindObject, kindArray:
		p := jsonParser{b: v, depth: depth}
		return p.canon(dst)
	}
	return nil, errNotJSON
}

// canon parses one value at p.i and appends its canonical form, in one
// pass (re-parsing nested text per level would be quadratic in depth).
func (p *jsonParser) canon(dst []byte) ([]byte, error) {
	p.ws()
	if p.i >= len(p.b) {
		return nil, errNotJSON
	}
	var err error
	switch p.b[p.i] {
	case '{':
		if err := p.nest(); err != nil {
			return nil, err
		}
		p.i++
		var ms []jsonMember
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			p.depth--
			return append(dst, '{', '}'), nil
		}
		for {
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, errNotJSON
			}
			ks := p.i
			if err := p.str(); err != nil {
				return nil, err
			}
			m := jsonMember{lit: p.b[ks:p.i]}
			if m.key, err = decodeJSONString(m.lit); err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, errNotJSON
			}
			p.i++
			if m.val, err = p.canon(nil); err != nil {
				return nil, err
			}
			ms = append(ms, m)
			p.ws()
			if p.i >= len(p.b) {
				return nil, errNotJSON
			}
			if p.b[p.i] == '}' {
				p.i++
				p.depth--
				break
			}
			if p.b[p.i] != ',' {
				return nil, errNotJSON
			}
			p.i++
		}
		dst = append(dst, '{')
		for i, m := range sortMembers(ms) {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSONString(dst, m.lit); err != nil {
				return nil, err
			}
			dst = append(append(dst, ':'), m.val...)
		}
		return append(dst, '}'), nil
	case '[':
		if err := p.nest(); err != nil {
			return nil, err
		}
		p.i++
		dst = append(dst, '[')
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			p.depth--
			return append(dst, ']'), nil
		}
		for {
			if dst, err = p.canon(dst); err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.b) {
				return nil, errNotJSON
			}
			if p.b[p.i] == ']' {
				p.i++
				p.depth--
				return append(dst, ']'), nil
			}
			if p.b[p.i] != ',' {
				return nil, errNotJSON
			}
			p.i++
			dst = append(dst, ',')
		}
	default:
		k, v, err := p.value()
		if err != nil {
			return nil, err
		}
		return appendCanonical(dst, k, v, p.depth)
	}
}

// canonicalJSON returns the canonical form of raw, one JSON value: what
// json.Marshal writes for the value json.Decoder (with UseNumber) decodes
// from raw into an any.
func canonicalJSON(raw []byte) ([]byte, error) {
	p := jsonParser{b: raw}
	out, err := p.canon(make([]byte, 0, len(raw)))
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(raw) {
		return nil, errNotJSON
	}
	return out, nil
}
