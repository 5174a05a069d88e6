package ledger

import (
	"errors"
	mrand "math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
)

func randString(r *mrand.Rand, max int) string {
	const alphabet = "abc-_.XYZ0129/\x00\xff济"
	var b strings.Builder
	for n := r.IntN(max + 1); n > 0; n-- {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randAccount(r *mrand.Rand) Account {
	var a Account
	for i := range a.PubKey {
		a.PubKey[i] = byte(r.Uint32())
	}
	a.Department = randString(r, 12)
	a.Role = Role(randString(r, 8))
	a.Name = randString(r, 40)
	a.Nonce = r.Uint64() >> r.IntN(64)
	a.Active = r.IntN(2) == 0
	a.AddedHeight = r.Uint64() >> r.IntN(64)
	a.RemovedHeight = r.Uint64() >> r.IntN(64)
	return a
}

func TestAccountCodecRoundTrip(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		a := randAccount(r)
		b := encodeAccount(&a)
		var got Account
		if err := decodeAccount(b, &got); err != nil {
			t.Fatalf("decode %+v: %v", a, err)
		}
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("round trip: got %+v, want %+v", got, a)
		}
		if string(encodeAccount(&got)) != string(b) {
			t.Fatalf("re-encoding differs")
		}
	}
}

// checkRejectsGarbage feeds decode every truncation of a valid encoding,
// the encoding with trailing bytes and with another format byte, and
// random bytes; each must be ErrState (random bytes may rarely be valid,
// but must never panic).
func checkRejectsGarbage(t *testing.T, valid []byte, decode func([]byte) error) {
	t.Helper()
	for n := 0; n < len(valid); n++ {
		if err := decode(valid[:n]); !errors.Is(err, ErrState) {
			t.Fatalf("truncated to %d of %d bytes: %v, want ErrState", n, len(valid), err)
		}
	}
	if err := decode(append(append([]byte(nil), valid...), 0)); !errors.Is(err, ErrState) {
		t.Fatalf("trailing byte: %v, want ErrState", err)
	}
	other := append([]byte(nil), valid...)
	other[0] = 99
	if err := decode(other); !errors.Is(err, ErrState) {
		t.Fatalf("unknown format byte: %v, want ErrState", err)
	}
	if err := decode([]byte(`{"pub_key":"AAAA","nonce":1}`)); !errors.Is(err, ErrState) {
		t.Fatalf("old JSON value: %v, want ErrState", err)
	}
	r := mrand.New(mrand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		b := make([]byte, r.IntN(2*len(valid)))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if r.IntN(2) == 0 && len(b) > 0 {
			b[0] = valid[0]
		}
		if err := decode(b); err != nil && !errors.Is(err, ErrState) {
			t.Fatalf("random bytes: %v, want nil or ErrState", err)
		}
	}
}

func TestAccountCodecRejectsGarbage(t *testing.T) {
	a := Account{PubKey: chain.PublicKey{1, 2, 3}, Department: "tax", Role: RoleOperator, Name: "n", Nonce: 300, Active: true, AddedHeight: 7}
	valid := encodeAccount(&a)
	checkRejectsGarbage(t, valid, func(b []byte) error { var x Account; return decodeAccount(b, &x) })

	// A bool other than 0/1 and a non-minimal varint are not what
	// encodeAccount writes.
	i := 1 + 32 + 1 + len(a.Department) + 1 + len(a.Role) + 1 + len(a.Name)
	if valid[i] != 0xac || valid[i+1] != 0x02 || valid[i+2] != 1 {
		t.Fatalf("layout changed: % x", valid)
	}
	nonMinimal := append(append(append([]byte(nil), valid[:i]...), 0xac, 0x82, 0x00), valid[i+2:]...)
	if err := decodeAccount(nonMinimal, &Account{}); !errors.Is(err, ErrState) {
		t.Fatalf("non-minimal varint: %v", err)
	}
	badBool := append([]byte(nil), valid...)
	badBool[i+2] = 2
	if err := decodeAccount(badBool, &Account{}); !errors.Is(err, ErrState) {
		t.Fatalf("bool 2: %v", err)
	}
}

// A corrupt account value makes the block invalid (ErrState), not a
// failed tx.
func TestCorruptAccountIsFatal(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tx := e.tx("tax/operator", TxAccessLog, AccessLog{})
	e.st[string(acctKey(tx.Account))] = []byte{fmtAccount, 1, 2}
	if _, err := e.l.Execute(e.st, e.header(), []chain.Tx{tx}); !errors.Is(err, ErrState) {
		t.Fatalf("Execute with corrupt account: %v, want ErrState", err)
	}
	if err := e.l.CheckTx(e.st, &tx); !errors.Is(err, ErrState) {
		t.Fatalf("CheckTx with corrupt account: %v, want ErrState", err)
	}
}

// The block overlay caches decoded accounts; a tx that changes another
// account must be seen by that account's later txs in the same block, and
// the nonces bumped in between must survive.
func TestBlockAccountCacheSeesEarlierTxs(t *testing.T) {
	e := newEnv(t)
	e.setup()
	op := seedKey("tax/operator").Public()
	rec := RecordPut{Schema: "tax.clearance", Subject: "e:91330100799655058B", Fields: []byte(`{"status":"clear"}`)}
	res := e.block(
		e.tx("tax/operator", TxRecordPut, rec),
		e.tx("tax/admin", TxAccountRemove, AccountRemove{PubKey: op}),
		e.tx("tax/operator", TxRecordPut, rec),
		e.tx("tax/operator", TxRecordPut, rec),
	)
	codes := []uint32{res.TxResults[0].Code, res.TxResults[1].Code, res.TxResults[2].Code, res.TxResults[3].Code}
	if !reflect.DeepEqual(codes, []uint32{CodeOK, CodeOK, CodeUnauthorized, CodeUnauthorized}) {
		t.Fatalf("codes %v (%+v)", codes, res.TxResults)
	}
	a, err := e.l.Account(e.st, op)
	if err != nil {
		t.Fatal(err)
	}
	if a.Active || a.RemovedHeight != e.height || a.Nonce != 3 {
		t.Fatalf("operator after the block: %+v, want inactive, removed at %d, nonce 3", a, e.height)
	}
	admin, err := e.l.Account(e.st, seedKey("tax/admin").Public())
	if err != nil || !admin.Active || admin.Nonce != e.nonces[seedKey("tax/admin").Public()] {
		t.Fatalf("admin after the block: %+v, %v", admin, err)
	}
}

func randVersion(r *mrand.Rand) RecordVersion {
	v := RecordVersion{Schema: randString(r, 20), Subject: randString(r, 30), Version: r.Uint64() >> r.IntN(64),
		Department: randString(r, 10), Time: r.Int64() - r.Int64(), Height: r.Uint64() >> r.IntN(64)}
	for i := range v.Writer {
		v.Writer[i], v.TxHash[i] = byte(r.Uint32()), byte(r.Uint32())
	}
	switch r.IntN(3) {
	case 0:
		v.Fields = []byte(`{"a":"` + randString(r, 50) + `"}`)
	case 1:
		v.Envelope = sealFor("tax.secret", "e:91330100799655058B", randString(r, 30), "tax")
		for n := r.IntN(4); n > 0; n-- {
			v.Readers = append(v.Readers, randString(r, 8))
		}
	}
	return v
}

func TestVersionAndHeadCodecRoundTrip(t *testing.T) {
	r := mrand.New(mrand.NewPCG(5, 6))
	for i := 0; i < 1000; i++ {
		v := randVersion(r)
		b, err := encodeVersion(&v)
		if err != nil {
			t.Fatal(err)
		}
		var got RecordVersion
		if err := decodeVersion(b, v.Schema, v.Subject, &got); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("version round trip:\n got %+v\nwant %+v", got, v)
		}

		h := RecordHead{Version: max(1, r.Uint64()>>r.IntN(64)), AlertedUntil: r.Int64() >> r.IntN(63), Latest: b}
		for n := r.IntN(5); n > 0; n-- {
			h.Recent = append(h.Recent, r.Int64()>>r.IntN(63))
		}
		var gh RecordHead
		if err := decodeHead(encodeHead(&h), &gh); err != nil || !reflect.DeepEqual(gh, h) {
			t.Fatalf("head round trip: got %+v (%v), want %+v", gh, err, h)
		}
	}
}

func TestVersionAndHeadCodecRejectGarbage(t *testing.T) {
	r := mrand.New(mrand.NewPCG(7, 8))
	v := randVersion(r)
	v.Envelope = sealFor("tax.secret", "e:91330100799655058B", "body", "tax")
	v.Readers = []string{"tax"}
	b, err := encodeVersion(&v)
	if err != nil {
		t.Fatal(err)
	}
	checkRejectsGarbage(t, b, func(b []byte) error { var x RecordVersion; return decodeVersion(b, "s", "e", &x) })
	h := RecordHead{Version: 3, Recent: []int64{1_700_000_000_000, 1_700_000_060_000}, AlertedUntil: 5, Latest: b}
	checkRejectsGarbage(t, encodeHead(&h), func(b []byte) error { var x RecordHead; return decodeHead(b, &x) })
}

// A corrupt record head makes the block invalid and the record query
// fail with ErrState.
func TestCorruptRecordHeadIsFatal(t *testing.T) {
	e := newEnv(t)
	e.setup()
	rec := RecordPut{Schema: "tax.clearance", Subject: "e:91330100799655058B", Fields: []byte(`{"status":"clear"}`)}
	e.ok("tax/operator", TxRecordPut, rec)
	e.st[string(recordKey(rec.Schema, rec.Subject))] = []byte{fmtHead, 1, 5}
	if _, err := e.l.Record(e.st, rec.Schema, rec.Subject); !errors.Is(err, ErrState) {
		t.Fatalf("Record with corrupt head: %v, want ErrState", err)
	}
	tx := e.tx("tax/operator", TxRecordPut, rec)
	if _, err := e.l.Execute(e.st, e.header(), []chain.Tx{tx}); !errors.Is(err, ErrState) {
		t.Fatalf("Execute with corrupt head: %v, want ErrState", err)
	}
}

// The block cache also holds departments and schemas: a key set or a
// schema registered earlier in the block must be what later txs see.
func TestBlockCacheSeesDepartmentAndSchemaChanges(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.ok("tax/admin", TxSchemaRegister, SchemaRegister{Name: "tax.secret", Confidential: true})
	subj := "e:91330100799655058B"
	oldEnv := sealFor("tax.secret", subj, "old key", "tax")
	newKey := encKey("tax-rotated")
	newEnv, err := sharing.Seal(detRand(7), []byte("new key"), sharing.RecordAAD("tax.secret", subj),
		[]sharing.RecipientKey{{Department: "tax", Key: newKey.PublicKey().Bytes()}})
	if err != nil {
		t.Fatal(err)
	}
	res := e.block(
		e.tx("tax/operator", TxRecordPut, RecordPut{Schema: "tax.secret", Subject: subj, Envelope: oldEnv}),
		e.tx("tax/admin", TxDeptSetKey, DeptSetKey{EncKey: newKey.PublicKey().Bytes()}),
		e.tx("tax/operator", TxRecordPut, RecordPut{Schema: "tax.secret", Subject: subj, Envelope: oldEnv}),
		e.tx("tax/operator", TxRecordPut, RecordPut{Schema: "tax.secret", Subject: subj, Envelope: newEnv}),
		e.tx("tax/operator", TxRecordPut, put("tax.later", subj, `{"n":1}`)),
		e.tx("tax/admin", TxSchemaRegister, SchemaRegister{Name: "tax.later", Fields: []Field{{Name: "n", Type: FieldInt}}}),
		e.tx("tax/operator", TxRecordPut, put("tax.later", subj, `{"n":2}`)),
	)
	var codes []uint32
	for _, r := range res.TxResults {
		codes = append(codes, r.Code)
	}
	want := []uint32{CodeOK, CodeOK, codeOf(ErrEnvelope), CodeOK, codeOf(ErrNotFound), CodeOK, CodeOK}
	if !reflect.DeepEqual(codes, want) {
		t.Fatalf("codes %v, want %v (%+v)", codes, want, res.TxResults)
	}
	if v, err := e.l.Record(e.st, "tax.secret", subj); err != nil || v.Version != 2 {
		t.Fatalf("tax.secret record: %+v, %v", v, err)
	}
}
