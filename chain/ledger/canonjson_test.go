package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// stdCanonical is the reference: what the ledger did before canonjson.go
// (decode into any with json.Number, marshal again). Inputs that are not
// exactly one JSON value are errors, as a json.RawMessage never is one.
func stdCanonical(raw []byte) ([]byte, error) {
	if !json.Valid(raw) {
		return nil, errNotJSON
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// Pieces of string literals that json.Marshal treats specially: escapes,
// surrogates (paired and lone), invalid UTF-8, HTML characters, U+2028,
// DEL, multi-byte text.
var trickyStrings = []string{
	`a`, `Z9`, ``, `\"`, `\\`, `\/`, `\b\f\n\r\t`, `\u0000`, `\u001f`, `\u00e9`, `\u00E9`,
	`\ud83d\ude00`, `\ud800`, `\udc00x`, `\ud800\u0041`, "é", "济南", "\xff", "\xc3", "\xe2\x80",
	`<`, `>`, `&`, "\xe2\x80\xa8", "\xe2\x80\xa9", `\u2028`, "\x7f", `\u0061`, "😀", `'`, ` `,
}

// Keys from a small pool, so objects get duplicates, also ones spelled
// differently ("a" and "\u0061").
var trickyKeys = []string{`a`, `b`, `\u0061`, `A`, `é`, `\u00e9`, ``, `<k>`, `a\u0000`, "\xff", `\ufffd`, `zz`}

var trickyNumbers = []string{`0`, `-0`, `1`, `-12`, `1.5`, `1e10`, `1E+2`, `-0.0e-0`, `123456789012345678901234567890`, `9223372036854775807`, `-9223372036854775808`, `2.50`}

type jsonGen struct{ r *mrand.Rand }

func (g jsonGen) ws() string {
	return []string{"", "", "", " ", "\n\t ", "\r"}[g.r.IntN(6)]
}

func (g jsonGen) str(pool []string) string {
	var b strings.Builder
	b.WriteByte('"')
	for n := g.r.IntN(4); n > 0; n-- {
		b.WriteString(pool[g.r.IntN(len(pool))])
	}
	b.WriteByte('"')
	return b.String()
}

func (g jsonGen) value(depth int) string {
	n := 6
	if depth < 4 {
		n = 8
	}
	switch g.r.IntN(n) {
	case 0, 1:
		return g.str(trickyStrings)
	case 2, 3:
		return trickyNumbers[g.r.IntN(len(trickyNumbers))]
	case 4:
		return []string{"true", "false"}[g.r.IntN(2)]
	case 5:
		return "null"
	case 6:
		return g.object(depth + 1)
	default:
		var parts []string
		for m := g.r.IntN(4); m > 0; m-- {
			parts = append(parts, g.ws()+g.value(depth+1)+g.ws())
		}
		return "[" + strings.Join(parts, ",") + g.ws() + "]"
	}
}

func (g jsonGen) object(depth int) string {
	var parts []string
	for m := g.r.IntN(6); m > 0; m-- {
		k := `"` + trickyKeys[g.r.IntN(len(trickyKeys))] + `"`
		if g.r.IntN(4) == 0 {
			k = g.str(trickyKeys)
		}
		parts = append(parts, g.ws()+k+g.ws()+":"+g.ws()+g.value(depth)+g.ws())
	}
	return "{" + strings.Join(parts, ",") + g.ws() + "}"
}

// mutate breaks or bends valid text: truncation, a dropped, doubled or
// inserted byte.
func (g jsonGen) mutate(s string) string {
	if s == "" {
		return s
	}
	i := g.r.IntN(len(s))
	switch g.r.IntN(4) {
	case 0:
		return s[:i]
	case 1:
		return s[:i] + s[i+1:]
	case 2:
		return s[:i] + s[i:i+1] + s[i:]
	default:
		const bytes = `{}[]",:\ u0e1-`
		return s[:i] + string(bytes[g.r.IntN(len(bytes))]) + s[i:]
	}
}

func compareCanonical(t *testing.T, in string) {
	t.Helper()
	want, werr := stdCanonical([]byte(in))
	got, gerr := canonicalJSON([]byte(in))
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("input %q: encoding/json error %v, canonicalJSON error %v", in, werr, gerr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("input %q:\n got %q\nwant %q", in, got, want)
	}
}

func TestCanonicalJSONMatchesEncodingJSON(t *testing.T) {
	g := jsonGen{mrand.New(mrand.NewPCG(11, 12))}
	valid := 0
	for i := 0; i < 6000; i++ {
		in := g.ws() + g.value(0) + g.ws()
		if i%3 == 0 {
			in = g.object(0)
		}
		if i%4 == 1 {
			in = g.mutate(in)
		}
		if json.Valid([]byte(in)) {
			valid++
		}
		compareCanonical(t, in)
	}
	if valid < 4000 {
		t.Fatalf("only %d of 6000 inputs were valid JSON: the generator tests too little", valid)
	}
	for _, in := range []string{
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"b":{"y":1,"x":[3,{"d":0,"c":1}]},"a":null}`,
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth),
		strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
		`{"a":1}x`, `{"a":1} {}`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `"\x"`, `"\u12"`, "\"a\tb\"", `{"a" 1}`, `{,}`, `[1,]`, `{"a":1,}`,
		`tru`, `nul`, `{"a":tru}`, "", " ", `"\ud800\udc00"`,
	} {
		compareCanonical(t, in)
	}
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":"x"}`, `[1,{"z":true}]`, `"\u00e9<"`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		compareCanonical(t, string(in))
	})
}

// stdCheckFields is checkFields as it was before canonjson.go.
func stdCheckFields(s *Schema, raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: fields must be a JSON object", ErrBadPayload)
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := s.field(name)
		if f == nil {
			return nil, invalid("schema %s has no field %q", s.Name, name)
		}
		if err := stdCheckFieldValue(f, m[name]); err != nil {
			return nil, invalid("schema %s field %s: %v", s.Name, name, err)
		}
	}
	for _, f := range s.Fields {
		if _, ok := m[f.Name]; f.Required && !ok {
			return nil, invalid("schema %s: required field %s is missing", s.Name, f.Name)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, invalid("fields: %v", err)
	}
	return out, nil
}

func stdCheckFieldValue(f *Field, val any) error {
	switch f.Type {
	case FieldString:
		s, ok := val.(string)
		if !ok {
			return fmt.Errorf("want a string")
		}
		if len(s) > 4096 {
			return fmt.Errorf("string longer than 4096 bytes")
		}
	case FieldInt:
		n, ok := val.(json.Number)
		if !ok {
			return fmt.Errorf("want an integer")
		}
		i, err := n.Int64()
		if err != nil || i == math.MinInt64 {
			return fmt.Errorf("%s is not a 64-bit integer (amounts are integer fen)", n)
		}
	case FieldBool:
		if _, ok := val.(bool); !ok {
			return fmt.Errorf("want true or false")
		}
	}
	return nil
}

// TestCheckFieldsMatchesEncodingJSON runs records of mostly right, often
// wrong shape through checkFields and its encoding/json predecessor: the
// canonical bytes, the error class and the message must agree.
func TestCheckFieldsMatchesEncodingJSON(t *testing.T) {
	s := &Schema{Name: "tax.x", Owner: "tax", Fields: []Field{
		{Name: "a", Type: FieldString, Required: true},
		{Name: "b", Type: FieldInt},
		{Name: "A", Type: FieldBool, Required: true},
		{Name: "é", Type: FieldString},
		{Name: "zz", Type: FieldInt, Required: true},
	}}
	g := jsonGen{mrand.New(mrand.NewPCG(13, 14))}
	long := `"` + strings.Repeat("x", 4096) + `"`
	longer := `"` + strings.Repeat("x", 4095) + `\u00e9"`
	good := map[string][]string{
		"a":  {`"v"`, `"济南<&>"`, `"\u00e9\n"`, long, `""`, `"\ud800"`},
		"b":  {`1`, `-9223372036854775807`, `-0`, `9223372036854775807`},
		"A":  {`true`, `false`},
		"é":  {`"x"`, `""`, "\"\u2028\xff\""},
		"zz": {`42`, `0`},
	}
	bad := map[string][]string{
		"a":  {longer, `1`, `null`, `["x"]`},
		"b":  {`-9223372036854775808`, `9223372036854775808`, `1.0`, `1e3`, `"1"`, `true`},
		"A":  {`"true"`, `0`, `null`},
		"é":  {`{}`},
		"zz": {`4.2`, `[]`},
	}
	ok := 0
	for i := 0; i < 6000; i++ {
		var parts []string
		for _, name := range []string{"a", "b", "A", "é", "zz", "\\u00e9", "\\u0061", "c"} {
			if g.r.IntN(8) == 0 || (name == "c" && g.r.IntN(10) != 0) {
				continue
			}
			decoded := name
			switch name {
			case "\\u00e9":
				decoded = "é"
			case "\\u0061":
				decoded = "a"
			}
			var v string
			switch n := g.r.IntN(20); {
			case n == 0 || good[decoded] == nil:
				v = g.value(2)
			case n == 1:
				v = bad[decoded][g.r.IntN(len(bad[decoded]))]
			default:
				v = good[decoded][g.r.IntN(len(good[decoded]))]
			}
			parts = append(parts, g.ws()+`"`+name+`"`+g.ws()+":"+g.ws()+v)
		}
		g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		raw := "{" + strings.Join(parts, ",") + "}"
		if g.r.IntN(20) == 0 {
			raw = g.value(0)
		}
		if !json.Valid([]byte(raw)) {
			continue // a json.RawMessage is always valid
		}
		want, werr := stdCheckFields(s, json.RawMessage(raw))
		got, gerr := checkFields(s, json.RawMessage(raw))
		if fmt.Sprint(werr) != fmt.Sprint(gerr) || codeOf(werr) != codeOf(gerr) || !bytes.Equal(got, want) {
			t.Fatalf("fields %q:\n got %q, %v\nwant %q, %v", raw, got, gerr, want, werr)
		}
		if werr == nil {
			ok++
		}
	}
	if ok < 1000 {
		t.Fatalf("only %d accepted records: the generator tests too little", ok)
	}
}

func TestCheckFieldsRejectsNonObjects(t *testing.T) {
	s := &Schema{Name: "tax.x", Owner: "tax"}
	for _, raw := range []string{`null`, `[]`, `"x"`, `1`, `true`} {
		if _, err := checkFields(s, json.RawMessage(raw)); !errors.Is(err, ErrBadPayload) {
			t.Errorf("%s: %v, want ErrBadPayload", raw, err)
		}
	}
}
