package ledger

import (
	"encoding/base64"

	"github.com/zwnode/zwnode/chain/ledger/sharing"
)

// decodeFast fills p from data when data is a record.put payload in the
// plain form clients send: one object with the keys "schema", "subject",
// "fields" and "envelope" (and the envelope's and its recipients' keys)
// spelled exactly so, each at most once, plain string values (no
// escapes), non-empty base64 for byte fields, an object for fields. It
// returns false for anything else (escapes, other spellings, unknown
// keys, null, bad syntax), and the caller decodes with decodeStrict,
// which then accepts or refuses it with the same result and message as
// always. When it returns true, p
// holds exactly what decodeStrict would have decoded (payload_fast_test.go
// checks this on seeded random payloads). json.Decoder was the largest
// part of admitting a record.put.
func (p *RecordPut) decodeFast(data []byte) bool {
	ps := jsonParser{b: data}
	var buf [4]jsonMember
	ms, ok := ps.plainObject(buf[:0], len(buf))
	if !ok {
		return false
	}
	ps.ws()
	if ps.i != len(data) {
		return false
	}
	var seen [4]bool
	var out RecordPut
	for _, m := range ms {
		switch string(m.lit) {
		case `"schema"`:
			if seen[0] || !plainStringValue(&m, &out.Schema) {
				return false
			}
			seen[0] = true
		case `"subject"`:
			if seen[1] || !plainStringValue(&m, &out.Subject) {
				return false
			}
			seen[1] = true
		case `"fields"`:
			if m.kind != kindObject || seen[2] {
				return false
			}
			seen[2], out.Fields = true, m.val
		case `"envelope"`:
			if m.kind != kindObject || seen[3] {
				return false
			}
			seen[3], out.Envelope = true, new(sharing.Envelope)
			if !decodeEnvelopeFast(m.val, out.Envelope) {
				return false
			}
		default:
			return false
		}
	}
	*p = out
	return true
}

// plainObject parses the object at p.i into at most limit members with
// keys as written (callers match them literally, so an escaped spelling
// falls back); ok is false for anything but such an object.
func (p *jsonParser) plainObject(ms []jsonMember, limit int) (_ []jsonMember, ok bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' || p.nest() != nil {
		return nil, false
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return ms, true
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' || len(ms) == limit {
			return nil, false
		}
		ks := p.i
		if p.str() != nil {
			return nil, false
		}
		lit := p.b[ks:p.i]
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		k, v, err := p.value()
		if err != nil {
			return nil, false
		}
		ms = append(ms, jsonMember{lit: lit, val: v, kind: k})
		done, err := p.sep('}')
		if err != nil {
			return nil, false
		}
		if done {
			return ms, true
		}
	}
}

// plainStringValue sets *dst to a plain string member's content.
func plainStringValue(m *jsonMember, dst *string) bool {
	if m.kind != kindString || !plainString(m.val) {
		return false
	}
	*dst = string(m.val[1 : len(m.val)-1])
	return true
}

// base64Value sets *dst as encoding/json decodes base64 into []byte, for
// a plain, non-empty string of the base64 alphabet ("" would decode to an
// empty, non-nil slice; leave such cases to encoding/json).
func base64Value(m *jsonMember, dst *[]byte) bool {
	if m.kind != kindString || len(m.val) <= 2 {
		return false
	}
	s := m.val[1 : len(m.val)-1]
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		return false
	}
	*dst = b[:n]
	return true
}

// decodeEnvelopeFast fills env from the envelope object text v when every
// member is in the plain form (see decodeFast).
func decodeEnvelopeFast(v []byte, env *sharing.Envelope) bool {
	ps := jsonParser{b: v, depth: 1}
	var buf [5]jsonMember
	ms, ok := ps.plainObject(buf[:0], len(buf))
	if !ok {
		return false
	}
	var seen [5]bool
	for _, m := range ms {
		var i int
		var ok bool
		switch string(m.lit) {
		case `"alg"`:
			i, ok = 0, plainStringValue(&m, &env.Alg)
		case `"ephemeral"`:
			i, ok = 1, base64Value(&m, &env.Ephemeral)
		case `"nonce"`:
			i, ok = 2, base64Value(&m, &env.Nonce)
		case `"ciphertext"`:
			i, ok = 3, base64Value(&m, &env.Ciphertext)
		case `"recipients"`:
			i, ok = 4, m.kind == kindArray && decodeRecipientsFast(m.val, env)
		}
		if !ok || seen[i] {
			return false
		}
		seen[i] = true
	}
	return true
}

// decodeRecipientsFast fills env.Recipients from a non-empty array of
// plain recipient objects.
func decodeRecipientsFast(v []byte, env *sharing.Envelope) bool {
	ps := jsonParser{b: v, depth: 2}
	var elems [][]byte
	if ps.array(&elems) != nil || len(elems) == 0 {
		return false
	}
	env.Recipients = make([]sharing.Recipient, len(elems))
	for j, e := range elems {
		r := &env.Recipients[j]
		rp := jsonParser{b: e, depth: 3}
		var buf [3]jsonMember
		ms, ok := rp.plainObject(buf[:0], len(buf))
		if !ok {
			return false
		}
		var seen [3]bool
		for _, m := range ms {
			var i int
			var ok bool
			switch string(m.lit) {
			case `"department"`:
				i, ok = 0, plainStringValue(&m, &r.Department)
			case `"key"`:
				i, ok = 1, base64Value(&m, &r.Key)
			case `"sealed_key"`:
				i, ok = 2, base64Value(&m, &r.SealedKey)
			}
			if !ok || seen[i] {
				return false
			}
			seen[i] = true
		}
	}
	return true
}
