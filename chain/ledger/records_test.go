package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
)

var alibaba = "e:91330100799655058B"

func put(schema, subject, fields string) RecordPut {
	return RecordPut{Schema: schema, Subject: subject, Fields: json.RawMessage(fields)}
}

// sealFor builds an envelope for the departments with their test keys.
func sealFor(schema, subject, plaintext string, depts ...string) *sharing.Envelope {
	var rs []sharing.RecipientKey
	for _, d := range depts {
		rs = append(rs, sharing.RecipientKey{Department: d, Key: encKey(d).PublicKey().Bytes()})
	}
	env, err := sharing.Seal(detRand(uint64(len(plaintext))), []byte(plaintext), sharing.RecordAAD(schema, subject), rs)
	if err != nil {
		panic(err)
	}
	return env
}

func TestRecordPutPublicAndHistory(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.ok("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"arrears","arrears_fen":1250}`))
	h1 := e.height
	e.ok("tax/admin", TxRecordPut, put("tax.clearance", alibaba, `{"status":"clear", "arrears_fen":0}`))
	v, err := e.l.Record(e.st, "tax.clearance", alibaba)
	if err != nil || v.Version != 2 || string(v.Fields) != `{"arrears_fen":0,"status":"clear"}` || v.Department != "tax" {
		t.Fatalf("latest = %+v, %v", v, err)
	}
	hist, _ := e.l.RecordHistory(e.st, "tax.clearance", alibaba)
	if len(hist) != 2 || hist[0].Height != h1 || hist[0].Writer != seedKey("tax/operator").Public() || hist[1].Writer != seedKey("tax/admin").Public() || hist[0].TxHash.IsZero() {
		t.Fatalf("history = %+v", hist)
	}
	bySubj, _ := e.l.RecordsBySubject(e.st, alibaba)
	if len(bySubj) != 1 || bySubj[0].Version != 2 {
		t.Fatalf("by subject = %+v", bySubj)
	}
	all, _ := e.l.RecordsBySchema(e.st, "tax.clearance", 0, 0, 0)
	if len(all) != 2 {
		t.Fatalf("by schema = %d", len(all))
	}
	first, _ := e.l.RecordsBySchema(e.st, "tax.clearance", 0, hist[1].Time, 0)
	if len(first) != 1 || first[0].Version != 1 {
		t.Fatalf("by schema before v2 = %+v", first)
	}
	// Another schema for the subject joins it, in schema order; another
	// subject's record does not.
	other := "e:" + uscc(t, "91370100MA3C4B2T0")
	e.ok("tax/operator", TxRecordPut, put("tax.clearance", other, `{"status":"clear","arrears_fen":0}`))
	e.ok("hrss/operator", TxRecordPut, put("hrss.registration", alibaba, `{"status":"registered"}`))
	bySubj, err = e.l.RecordsBySubject(e.st, alibaba)
	if err != nil || len(bySubj) != 2 || bySubj[0].Schema != "hrss.registration" || bySubj[1].Schema != "tax.clearance" || bySubj[1].Version != 2 || bySubj[0].Subject != alibaba || bySubj[1].Subject != alibaba {
		t.Fatalf("by subject with two schemas = %+v, %v", bySubj, err)
	}
}

// A record's latest version lives in its head; each record.put moves the
// one it supersedes, unchanged, to its version key. A new record is one
// key.
func TestLatestVersionLivesInTheHead(t *testing.T) {
	e := newEnv(t)
	e.setup()
	const schema = "tax.clearance"
	versionKeys := func() []string {
		var ks []string
		for k := range e.st {
			if strings.HasPrefix(k, pfxRecVersion+schema+"/"+alibaba+"/") {
				ks = append(ks, k)
			}
		}
		slices.Sort(ks)
		return ks
	}
	e.ok("tax/operator", TxRecordPut, put(schema, alibaba, `{"status":"clear","arrears_fen":1}`))
	if ks := versionKeys(); len(ks) != 0 {
		t.Fatalf("a new record wrote version keys %q", ks)
	}
	head := e.st[string(recordKey(schema, alibaba))]
	e.ok("tax/operator", TxRecordPut, put(schema, alibaba, `{"status":"clear","arrears_fen":2}`))
	var h1 RecordHead
	if err := decodeHead(head, &h1); err != nil {
		t.Fatal(err)
	}
	if got := e.st[string(recVersionKey(schema, alibaba, 1))]; string(got) != string(h1.Latest) {
		t.Fatalf("version 1 moved from the head as %x, want %x", got, h1.Latest)
	}
	e.ok("tax/operator", TxRecordPut, put(schema, alibaba, `{"status":"clear","arrears_fen":3}`))
	if ks := versionKeys(); !slices.Equal(ks, []string{string(recVersionKey(schema, alibaba, 1)), string(recVersionKey(schema, alibaba, 2))}) {
		t.Fatalf("version keys after three puts: %q", ks)
	}
	for ver := uint64(0); ver <= 4; ver++ {
		v, ok, err := getVersion(e.st, schema, alibaba, ver)
		want := ver >= 1 && ver <= 3
		if err != nil || ok != want {
			t.Fatalf("getVersion(%d) = ok %v, %v; want ok %v", ver, ok, err, want)
		}
		if ok && (v.Version != ver || string(v.Fields) != fmt.Sprintf(`{"arrears_fen":%d,"status":"clear"}`, ver)) {
			t.Fatalf("getVersion(%d) = %+v", ver, v)
		}
	}
	hist, err := e.l.RecordHistory(e.st, schema, alibaba)
	if err != nil || len(hist) != 3 || hist[0].Version != 1 || hist[1].Version != 2 || hist[2].Version != 3 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	// A superseded version missing from the store is corrupt state, not
	// "no such version"; the latest is still served from the head.
	delete(e.st, string(recVersionKey(schema, alibaba, 1)))
	if _, err := e.l.RecordHistory(e.st, schema, alibaba); !errors.Is(err, ErrState) {
		t.Fatalf("history with version 1 missing: %v, want ErrState", err)
	}
	if _, _, err := getVersion(e.st, schema, alibaba, 1); !errors.Is(err, ErrState) {
		t.Fatalf("getVersion(1) with it missing: %v, want ErrState", err)
	}
	if v, err := e.l.Record(e.st, schema, alibaba); err != nil || v.Version != 3 {
		t.Fatalf("latest with version 1 missing = %+v, %v", v, err)
	}
}

func TestRecordPutRefusals(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.fails("tax/operator", TxRecordPut, put("hrss.registration", alibaba, `{"status":"registered"}`),
		CodeUnauthorized, "(tax/operator) may not write schema hrss.registration owned by hrss")
	e.fails("hrss/auditor", TxRecordPut, put("hrss.registration", alibaba, `{"status":"registered"}`),
		CodeUnauthorized, "(hrss/auditor) may not send record.put")
	e.fails("tax/operator", TxRecordPut, put("tax.nothing", alibaba, `{}`), CodeNotFound, "unknown schema tax.nothing")
	e.fails("tax/operator", TxRecordPut, put("tax.clearance", "e:91330100799655058A", `{"status":"clear"}`), CodeInvalid, "check character")
	e.fails("tax/operator", TxRecordPut, put("tax.clearance", "p:110105194912310021", `{"status":"clear"}`), CodeInvalid, "never an ID number")
	e.fails("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"clear","colour":"red"}`), CodeInvalid, "no field \"colour\"")
	e.fails("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"arrears_fen":5}`), CodeInvalid, "required field status")
	e.fails("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"clear","arrears_fen":1.5}`), CodeInvalid, "integer fen")
	e.fails("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":7}`), CodeInvalid, "want a string")
	e.fails("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `[1]`), CodeBadPayload, "JSON object")
	e.fails("tax/operator", TxRecordPut, RecordPut{Schema: "tax.clearance", Subject: alibaba}, CodeBadPayload, "exactly one")
	env := sealFor("tax.clearance", alibaba, "x", "tax")
	e.fails("tax/operator", TxRecordPut, RecordPut{Schema: "tax.clearance", Subject: alibaba, Envelope: env}, CodeInvalid, "is public")
	e.fails("tax/operator", TxRecordPut, put("tax.filing", alibaba, `{}`), CodeInvalid, "is confidential")
}

func TestSchemaRegister(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.ok("tax/admin", TxSchemaRegister, SchemaRegister{Name: "tax.invoice", Fields: []Field{{Name: "number", Type: FieldString, Required: true}}})
	if s, err := e.l.Schema(e.st, "tax.invoice"); err != nil || s.Owner != "tax" {
		t.Fatalf("schema = %+v, %v", s, err)
	}
	e.fails("tax/admin", TxSchemaRegister, SchemaRegister{Name: "tax.invoice"}, CodeExists, "")
	e.fails("tax/admin", TxSchemaRegister, SchemaRegister{Name: "hrss.invoice"}, CodeUnauthorized, "owned by hrss")
	e.fails("tax/operator", TxSchemaRegister, SchemaRegister{Name: "tax.other"}, CodeUnauthorized, "may not send schema.register")
	e.fails("tax/admin", TxSchemaRegister, SchemaRegister{Name: "tax.secret", Confidential: true, Fields: []Field{{Name: "a", Type: FieldInt}}}, CodeInvalid, "declare no fields")
	e.fails("tax/admin", TxSchemaRegister, SchemaRegister{Name: "tax.bad", Fields: []Field{{Name: "a", Type: "float"}}}, CodeInvalid, "float")
	e.fails("tax/admin", TxSchemaRegister, SchemaRegister{Name: "Tax.Upper"}, CodeInvalid, "lowercase")
}

func TestConfidentialRecordsGrantsAndRevocation(t *testing.T) {
	e := newEnv(t)
	e.setup()
	const schema = "tax.filing"
	// Before any grant the envelope must cover exactly the owner.
	e.fails("tax/operator", TxRecordPut, RecordPut{Schema: schema, Subject: alibaba, Envelope: sealFor(schema, alibaba, "a", "market", "tax")},
		CodeEnvelope, "sealed key for market, which holds no grant")
	e.fails("tax/operator", TxRecordPut, RecordPut{Schema: schema, Subject: alibaba, Envelope: sealFor(schema, alibaba, "a", "market")},
		CodeEnvelope, "no sealed key for the owner tax")
	e.ok("tax/operator", TxRecordPut, RecordPut{Schema: schema, Subject: alibaba, Envelope: sealFor(schema, alibaba, `{"v":1}`, "tax")})

	// Grants: only the owner's admin; grantee must have a key.
	e.fails("market/admin", TxGrant, GrantTx{Schema: schema, Department: "market"}, CodeUnauthorized, "(market/admin) may not grant on schema tax.filing owned by tax")
	e.fails("tax/operator", TxGrant, GrantTx{Schema: schema, Department: "market"}, CodeUnauthorized, "may not send grant")
	e.fails("tax/admin", TxGrant, GrantTx{Schema: schema, Department: "tax"}, CodeInvalid, "owners need no grant")
	e.fails("tax/admin", TxGrant, GrantTx{Schema: schema, Department: "police"}, CodeNotFound, "police")
	e.fails("tax/admin", TxGrant, GrantTx{Schema: "tax.nothing", Department: "market"}, CodeNotFound, "unknown schema")
	e.ok("tax/admin", TxGrant, GrantTx{Schema: schema, Department: "market"})
	e.fails("tax/admin", TxGrant, GrantTx{Schema: schema, Department: "market"}, CodeExists, "already holds")

	// Now the envelope must include market too.
	e.fails("tax/operator", TxRecordPut, RecordPut{Schema: schema, Subject: alibaba, Envelope: sealFor(schema, alibaba, "b", "tax")},
		CodeEnvelope, "no sealed key for current grantee market")
	env2 := sealFor(schema, alibaba, `{"v":2}`, "market", "tax")
	e.ok("tax/operator", TxRecordPut, RecordPut{Schema: schema, Subject: alibaba, Envelope: env2})

	// The grantee decrypts what is on chain; a non-grantee cannot.
	v, _ := e.l.Record(e.st, schema, alibaba)
	if v.Version != 2 || len(v.Readers) != 2 {
		t.Fatalf("record = %+v", v)
	}
	pt, err := sharing.Open(v.Envelope, "market", encKey("market"), sharing.RecordAAD(schema, alibaba))
	if err != nil || string(pt) != `{"v":2}` {
		t.Fatalf("grantee open = %q, %v", pt, err)
	}
	if _, err := sharing.Open(v.Envelope, "hrss", encKey("hrss"), sharing.RecordAAD(schema, alibaba)); !isErr(err, sharing.ErrNotRecipient) {
		t.Fatalf("non-grantee open: %v", err)
	}

	// Access log: market may log reading v2, not v1 (not a reader then).
	e.ok("market/operator", TxAccessLog, AccessLog{Subject: alibaba, Schema: schema, Version: 2, Purpose: "licence renewal review"})
	e.fails("market/operator", TxAccessLog, AccessLog{Subject: alibaba, Schema: schema, Version: 1, Purpose: "x"}, CodeUnauthorized, "no sealed key for version 1")
	e.fails("hrss/operator", TxAccessLog, AccessLog{Subject: alibaba, Schema: schema, Version: 2, Purpose: "x"}, CodeUnauthorized, "department hrss holds no sealed key")
	e.fails("market/operator", TxAccessLog, AccessLog{Subject: alibaba, Schema: schema, Version: 9, Purpose: "x"}, CodeNotFound, "version 9")
	e.fails("market/operator", TxAccessLog, AccessLog{Subject: alibaba, Schema: schema, Version: 2}, CodeInvalid, "purpose")
	e.fails("market/auditor", TxAccessLog, AccessLog{Subject: alibaba, Schema: schema, Version: 2, Purpose: "x"}, CodeUnauthorized, "auditor")

	// Revocation: later records must not be sealed to market.
	e.fails("market/admin", TxRevoke, RevokeTx{Schema: schema, Department: "market"}, CodeUnauthorized, "owned by tax")
	e.ok("tax/admin", TxRevoke, RevokeTx{Schema: schema, Department: "market"})
	e.fails("tax/admin", TxRevoke, RevokeTx{Schema: schema, Department: "market"}, CodeNotFound, "active grant")
	e.fails("tax/operator", TxRecordPut, RecordPut{Schema: schema, Subject: alibaba, Envelope: sealFor(schema, alibaba, "c", "market", "tax")},
		CodeEnvelope, "sealed key for market, which holds no grant")
	e.ok("tax/operator", TxRecordPut, RecordPut{Schema: schema, Subject: alibaba, Envelope: sealFor(schema, alibaba, `{"v":3}`, "tax")})
	v3, _ := e.l.Record(e.st, schema, alibaba)
	if _, err := sharing.Open(v3.Envelope, "market", encKey("market"), sharing.RecordAAD(schema, alibaba)); !isErr(err, sharing.ErrNotRecipient) {
		t.Fatalf("revoked grantee opened a later record: %v", err)
	}
	e.fails("market/operator", TxAccessLog, AccessLog{Subject: alibaba, Schema: schema, Version: 3, Purpose: "x"}, CodeUnauthorized, "no sealed key")

	grants, _ := e.l.Grants(e.st, schema)
	if len(grants) != 1 || grants[0].Active || grants[0].RevokedHeight == 0 {
		t.Fatalf("grants = %+v", grants)
	}
	// Key rotation: an envelope to the old key is refused.
	e.ok("tax/admin", TxDeptSetKey, DeptSetKey{EncKey: encKey("tax2").PublicKey().Bytes()})
	e.fails("tax/operator", TxRecordPut, RecordPut{Schema: schema, Subject: alibaba, Envelope: sealFor(schema, alibaba, "d", "tax")},
		CodeEnvelope, "not its current key")

	// Audit queries.
	bySubj, _ := e.l.AccessBySubject(e.st, alibaba, 0)
	if len(bySubj) != 1 || bySubj[0].Reader != "market" || bySubj[0].Purpose != "licence renewal review" || !bySubj[0].Confidential {
		t.Fatalf("access by subject = %+v", bySubj)
	}
	byDept, _ := e.l.AccessByDepartment(e.st, "market", 0)
	if len(byDept) != 1 || byDept[0].Version != 2 {
		t.Fatalf("access by dept = %+v", byDept)
	}
	if none, _ := e.l.AccessByDepartment(e.st, "hrss", 0); len(none) != 0 {
		t.Fatalf("hrss access = %+v", none)
	}
}

func TestGrantNeedsKey(t *testing.T) {
	e := newEnv(t)
	e.ok("tax/admin", TxDeptSetKey, DeptSetKey{EncKey: encKey("tax").PublicKey().Bytes()})
	e.fails("tax/admin", TxGrant, GrantTx{Schema: "tax.filing", Department: "market"}, CodeInvalid, "no encryption key")
}

func TestRecipientsMatchWhatTheLedgerRequires(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.ok("tax/admin", TxGrant, GrantTx{Schema: "tax.filing", Department: "credit"})
	rs, err := e.l.Recipients(e.st, "tax.filing")
	if err != nil || len(rs) != 2 || rs[0].Department != "credit" || rs[1].Department != "tax" {
		t.Fatalf("recipients = %+v, %v", rs, err)
	}
	env, err := sharing.Seal(detRand(5), []byte("secret"), sharing.RecordAAD("tax.filing", alibaba), rs)
	if err != nil {
		t.Fatal(err)
	}
	e.ok("tax/operator", TxRecordPut, RecordPut{Schema: "tax.filing", Subject: alibaba, Envelope: env})
}

func TestFieldErrorsAreDeterministic(t *testing.T) {
	s := &ExampleAppState().Schemas[0]
	for i := 0; i < 50; i++ {
		_, err := checkFields(s, json.RawMessage(`{"zz":1,"aa":2,"mm":3,"status":"x","name":"n"}`))
		if err == nil || !containsStr(err.Error(), `no field "aa"`) {
			t.Fatalf("error = %v, want the first bad field by name", err)
		}
	}
}

func TestGrantOnPublicSchemaRefused(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.fails("tax/admin", TxGrant, GrantTx{Schema: "tax.clearance", Department: "market"}, CodeInvalid, "is public")
}

// ExecuteHashed takes the caller's tx hashes: a record carries the hash it
// was given, and a hash list of the wrong length is refused.
func TestExecuteHashed(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tx := e.tx("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"clear"}`))
	h := &chain.Header{ChainID: testChain, Height: e.height + 1, Time: e.time + minuteMS}
	if _, err := e.l.ExecuteHashed(e.st, h, []chain.Tx{tx}, []chain.Hash{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no hash for one tx: %v, want ErrInvalid", err)
	}
	given := chain.HashBytes([]byte("the caller's hash"))
	res, err := e.l.ExecuteHashed(e.st, h, []chain.Tx{tx}, []chain.Hash{given})
	if err != nil || res.TxResults[0].Code != CodeOK {
		t.Fatalf("execute: %v %+v", err, res)
	}
	st := MapKV{}
	for k, v := range e.st {
		st[k] = v
	}
	st.Apply(res.Writes)
	v, err := e.l.Record(st, "tax.clearance", alibaba)
	if err != nil || v.TxHash != given {
		t.Fatalf("record %+v, %v: want tx hash %s", v, err, given.Short())
	}
	// Without hashes the ledger computes them.
	res, err = e.l.Execute(e.st, h, []chain.Tx{tx})
	if err != nil {
		t.Fatal(err)
	}
	e.st.Apply(res.Writes)
	if v, err := e.l.Record(e.st, "tax.clearance", alibaba); err != nil || v.TxHash != tx.Hash() {
		t.Fatalf("record %+v, %v: want tx hash %s", v, err, tx.Hash().Short())
	}
}

// TestRecordsBySchemaIndex: the by-time index has one key per schema and
// block, lists the block's versions in transaction order (a refused
// record.put is not listed), and answers time ranges and limits that end
// inside a block.
func TestRecordsBySchemaIndex(t *testing.T) {
	e := newEnv(t)
	e.setup()
	other := "e:" + uscc(t, "91370100MA3C4B2T0")
	res := e.block(
		e.tx("tax/operator", TxRecordPut, put("tax.clearance", other, `{"status":"clear"}`)),
		e.tx("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"arrears"}`)),
		e.tx("tax/operator", TxRecordPut, put("hrss.registration", alibaba, `{"status":"registered"}`)), // not tax's schema
		e.tx("hrss/operator", TxRecordPut, put("hrss.registration", alibaba, `{"status":"registered"}`)),
		e.tx("tax/admin", TxRecordPut, put("tax.clearance", other, `{"status":"arrears"}`)),
	)
	if res.TxResults[2].Code != CodeUnauthorized {
		t.Fatalf("tx 2: code %d, want unauthorized", res.TxResults[2].Code)
	}
	t1 := e.time
	e.ok("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"clear"}`))
	t2 := e.time

	type ref struct {
		subject string
		version uint64
	}
	got := func(schema string, from, to int64, limit int) []ref {
		t.Helper()
		vs, err := e.l.RecordsBySchema(e.st, schema, from, to, limit)
		if err != nil {
			t.Fatalf("RecordsBySchema(%s, %d, %d, %d): %v", schema, from, to, limit, err)
		}
		var out []ref
		for _, v := range vs {
			if v.Schema != schema || v.Fields == nil {
				t.Fatalf("version %+v: want a full version of %s", v, schema)
			}
			out = append(out, ref{v.Subject, v.Version})
		}
		return out
	}
	want := []ref{{other, 1}, {alibaba, 1}, {other, 2}, {alibaba, 2}}
	if g := got("tax.clearance", 0, 0, 0); !slices.Equal(g, want) {
		t.Fatalf("tax.clearance by time = %v, want %v", g, want)
	}
	if g := got("tax.clearance", 0, 0, 2); !slices.Equal(g, want[:2]) {
		t.Fatalf("limit 2 = %v, want %v", g, want[:2])
	}
	if g := got("tax.clearance", t1, t2, 0); !slices.Equal(g, want[:3]) {
		t.Fatalf("[t1, t2) = %v, want %v", g, want[:3])
	}
	if g := got("tax.clearance", t2, 0, 0); !slices.Equal(g, want[3:]) {
		t.Fatalf("[t2, ∞) = %v, want %v", g, want[3:])
	}
	if g := got("hrss.registration", 0, 0, 0); !slices.Equal(g, []ref{{alibaba, 1}}) {
		t.Fatalf("hrss.registration = %v", g)
	}
	var keys []string
	if err := e.st.Scan([]byte(pfxIxTime), func(k, _ []byte) bool { keys = append(keys, string(k)); return true }); err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{timeIndexKey("hrss.registration", t1, e.height-1), timeIndexKey("tax.clearance", t1, e.height-1), timeIndexKey("tax.clearance", t2, e.height)}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("index keys %q, want %q", keys, wantKeys)
	}

	// A corrupt index value is reported as corrupt state, not skipped.
	e.st[wantKeys[2]] = append(slices.Clone(e.st[wantKeys[2]]), 0)
	if _, err := e.l.RecordsBySchema(e.st, "tax.clearance", 0, 0, 0); !errors.Is(err, ErrState) {
		t.Fatalf("corrupt index: err %v, want ErrState", err)
	}
}
