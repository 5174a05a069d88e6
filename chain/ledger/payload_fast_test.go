package ledger

import (
	"encoding/json"
	mrand "math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestRecordPutDecodeFastMatchesDecodeStrict: whenever decodeFast takes a
// payload, decodeStrict accepts it and decodes the same RecordPut; the
// generator also makes payloads it must leave to decodeStrict.
func TestRecordPutDecodeFastMatchesDecodeStrict(t *testing.T) {
	g := jsonGen{mrand.New(mrand.NewPCG(21, 22))}
	keys := []string{`"schema"`, `"subject"`, `"fields"`, `"envelope"`, `"Schema"`, `"sch\u0065ma"`, `"other"`}
	values := map[string][]string{
		`"schema"`:  {`"tax.clearance"`, `"济南"`, `"a\"b"`, `"<x>"`, `null`, `1`, "\"\xff\""},
		`"subject"`: {`"e:91330100799655058B"`, `""`, `"\u0041"`, `null`, `[]`},
		`"fields"`:  {`{"status":"clear"}`, `{}`, `{"a":{"b":[1,2]}}`, `null`, `"x"`, `[1]`, `{"a":1,"a":2}`},
	}
	fast, fellBack := 0, 0
	for i := 0; i < 5000; i++ {
		var parts []string
		for n := g.r.IntN(5); n > 0; n-- {
			k := keys[g.r.IntN(3)]
			if g.r.IntN(8) == 0 {
				k = keys[g.r.IntN(len(keys))]
			}
			v := g.value(1)
			if vs := values[k]; vs != nil && g.r.IntN(5) != 0 {
				v = vs[g.r.IntN(len(vs))]
			}
			parts = append(parts, g.ws()+k+g.ws()+":"+g.ws()+v+g.ws())
		}
		data := g.ws() + "{" + strings.Join(parts, ",") + "}" + g.ws()
		switch g.r.IntN(10) {
		case 0:
			data = g.mutate(data)
		case 1:
			data += []string{"x", "{}", " 1", "\n"}[g.r.IntN(4)]
		}
		var f, s RecordPut
		if !f.decodeFast([]byte(data)) {
			fellBack++
			continue
		}
		fast++
		if err := decodeStrict([]byte(data), &s); err != nil {
			t.Fatalf("payload %q: decodeFast took it, decodeStrict refuses: %v", data, err)
		}
		if !reflect.DeepEqual(f, s) {
			t.Fatalf("payload %q: decodeFast %+v, decodeStrict %+v", data, f, s)
		}
	}
	if fast < 1000 || fellBack < 1000 {
		t.Fatalf("%d fast, %d fell back: the generator misses a path", fast, fellBack)
	}
	// The form clients send takes the fast path.
	var p RecordPut
	b, _ := json.Marshal(RecordPut{Schema: "tax.clearance", Subject: "e:91330100799655058B", Fields: json.RawMessage(`{"status":"clear"}`)})
	if !p.decodeFast(b) || p.Schema != "tax.clearance" || string(p.Fields) != `{"status":"clear"}` {
		t.Fatalf("client payload %s: fast path not taken (%+v)", b, p)
	}
}

func FuzzRecordPutDecodeFast(f *testing.F) {
	f.Add([]byte(`{"schema":"tax.clearance","subject":"e:91330100799655058B","fields":{"status":"clear"}}`))
	f.Add([]byte(` {"fields":{},"schema":"x"} `))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast, strict RecordPut
		if !fast.decodeFast(data) {
			return
		}
		if err := decodeStrict(data, &strict); err != nil || !reflect.DeepEqual(fast, strict) {
			t.Fatalf("payload %q: decodeFast %+v, decodeStrict %+v (%v)", data, fast, strict, err)
		}
	})
}
