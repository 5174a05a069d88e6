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
	sealed, err := json.Marshal(sealFor("tax.secret", "e:91330100799655058B", "body", "hrss", "tax"))
	if err != nil {
		t.Fatal(err)
	}
	envelopes := []string{string(sealed), string(sealed), `{}`, `null`, `{"alg":"x","recipients":[]}`, `{"alg":"x","nonce":""}`,
		`{"Alg":"x"}`, `{"alg":"x","alg":"y"}`, `{"alg":"\u0078"}`, `{"nonce":"QUJD"}`, `{"nonce":"QUJ"}`, `{"nonce":"QU\nJD"}`, `{"nonce":null}`,
		`{"recipients":[{"department":"tax","key":"AAAA"},{}]}`, `{"recipients":[{"department":"tax","department":"x"}]}`,
		`{"recipients":[null]}`, `{"recipients":[{"Key":"AAAA"}]}`, `{"recipients":{}}`, `{"ciphertext":"AAAA","extra":1}`}
	for i := 0; i < 6; i++ { // the sealed envelope with one byte changed
		envelopes = append(envelopes, g.mutate(string(sealed)))
	}
	for i := 0; i < 20; i++ {
		envelopes = append(envelopes, string(sealed))
	}
	values := map[string][]string{
		`"envelope"`: envelopes,
		`"schema"`:   {`"tax.clearance"`, `"济南"`, `"a\"b"`, `"<x>"`, `null`, `1`, "\"\xff\""},
		`"subject"`:  {`"e:91330100799655058B"`, `""`, `"\u0041"`, `null`, `[]`},
		`"fields"`:   {`{"status":"clear"}`, `{}`, `{"a":{"b":[1,2]}}`, `null`, `"x"`, `[1]`, `{"a":1,"a":2}`},
	}
	fast, fastEnv, fellBack := 0, 0, 0
	for i := 0; i < 5000; i++ {
		var parts []string
		for n := g.r.IntN(5); n > 0; n-- {
			k := keys[g.r.IntN(4)]
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
		if f.Envelope != nil && len(f.Envelope.Recipients) > 1 {
			fastEnv++
		}
		if err := decodeStrict([]byte(data), &s); err != nil {
			t.Fatalf("payload %q: decodeFast took it, decodeStrict refuses: %v", data, err)
		}
		if !reflect.DeepEqual(f, s) {
			t.Fatalf("payload %q: decodeFast %+v, decodeStrict %+v", data, f, s)
		}
	}
	if fast < 1000 || fellBack < 1000 || fastEnv < 50 {
		t.Fatalf("%d fast (%d with sealed envelopes), %d fell back: the generator misses a path", fast, fastEnv, fellBack)
	}
	// The forms clients send take the fast path.
	for _, rp := range []RecordPut{
		{Schema: "tax.clearance", Subject: "e:91330100799655058B", Fields: json.RawMessage(`{"status":"clear"}`)},
		{Schema: "tax.secret", Subject: "e:91330100799655058B", Envelope: sealFor("tax.secret", "e:91330100799655058B", "body", "hrss", "tax")},
	} {
		var p RecordPut
		b, _ := json.Marshal(rp)
		if !p.decodeFast(b) {
			t.Fatalf("client payload %s: fast path not taken", b)
		}
		if !reflect.DeepEqual(p, rp) {
			t.Fatalf("client payload %s: decoded %+v, want %+v", b, p, rp)
		}
	}
}

func FuzzRecordPutDecodeFast(f *testing.F) {
	f.Add([]byte(`{"schema":"tax.clearance","subject":"e:91330100799655058B","fields":{"status":"clear"}}`))
	f.Add([]byte(` {"fields":{},"schema":"x"} `))
	sealed, _ := json.Marshal(RecordPut{Schema: "tax.secret", Subject: "e:91330100799655058B", Envelope: sealFor("tax.secret", "e:91330100799655058B", "body", "tax")})
	f.Add(sealed)
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
