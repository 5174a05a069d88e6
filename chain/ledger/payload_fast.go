package ledger

// decodeFast fills p from data when data is a record.put payload in the
// plain form clients send: one object with the keys "schema", "subject"
// and "fields" spelled exactly so, each at most once, plain string values
// (no escapes) and an object for fields. It returns false for anything
// else (envelopes, escapes, other spellings, unknown keys, bad syntax),
// and the caller decodes with decodeStrict, which then accepts or refuses
// it with the same result and message as always. When it returns true, p
// holds exactly what decodeStrict would have decoded (payload_fast_test.go
// checks this on seeded random payloads). json.Decoder was the largest
// part of admitting a record.put.
func (p *RecordPut) decodeFast(data []byte) bool {
	ps := jsonParser{b: data}
	ps.ws()
	if ps.i >= len(data) || data[ps.i] != '{' {
		return false
	}
	var ms [4]jsonMember
	n := 0
	if ps.nest() != nil {
		return false
	}
	ps.i++
	ps.ws()
	if ps.i < len(data) && data[ps.i] == '}' {
		ps.i++
	} else {
		for {
			ps.ws()
			if ps.i >= len(data) || data[ps.i] != '"' || n == len(ms) {
				return false
			}
			ks := ps.i
			if ps.str() != nil {
				return false
			}
			lit := data[ks:ps.i]
			ps.ws()
			if ps.i >= len(data) || data[ps.i] != ':' {
				return false
			}
			ps.i++
			k, v, err := ps.value()
			if err != nil {
				return false
			}
			ms[n] = jsonMember{lit: lit, val: v, kind: k}
			n++
			ps.ws()
			if ps.i >= len(data) {
				return false
			}
			if data[ps.i] == '}' {
				ps.i++
				break
			}
			if data[ps.i] != ',' {
				return false
			}
			ps.i++
		}
	}
	ps.ws()
	if ps.i != len(data) {
		return false
	}
	var seen [3]bool
	var out RecordPut
	for _, m := range ms[:n] {
		switch string(m.lit) {
		case `"schema"`, `"subject"`:
			if m.kind != kindString || !plainString(m.val) {
				return false
			}
			s := string(m.val[1 : len(m.val)-1])
			if m.lit[3] == 'h' {
				if seen[0] {
					return false
				}
				seen[0], out.Schema = true, s
			} else {
				if seen[1] {
					return false
				}
				seen[1], out.Subject = true, s
			}
		case `"fields"`:
			if m.kind != kindObject || seen[2] {
				return false
			}
			seen[2], out.Fields = true, m.val
		default:
			return false
		}
	}
	*p = out
	return true
}
