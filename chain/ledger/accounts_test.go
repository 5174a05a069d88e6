package ledger

import (
	"testing"

	"github.com/zwnode/zwnode/chain"
)

func TestGenesisState(t *testing.T) {
	e := newEnv(t)
	depts, err := e.l.Departments(e.st)
	if err != nil || len(depts) != 4 {
		t.Fatalf("departments = %v, %v", depts, err)
	}
	auths, err := e.l.Authorities(e.st)
	if err != nil || len(auths) != 4 || auths[0].Department != "tax" {
		t.Fatalf("authorities = %v, %v", auths, err)
	}
	schemas, _ := e.l.Schemas(e.st)
	if len(schemas) != len(ExampleAppState().Schemas) {
		t.Fatalf("%d schemas", len(schemas))
	}
	if n, _ := e.l.NextNonce(e.st, seedKey("tax/admin").Public()); n != 1 {
		t.Fatalf("next nonce of genesis admin = %d", n)
	}
	if n, _ := e.l.NextNonce(e.st, seedKey("nobody").Public()); n != 1 {
		t.Fatalf("next nonce of unknown account = %d", n)
	}
}

func TestNewRejectsBadAppState(t *testing.T) {
	cases := map[string]func(a *AppState){
		"schema owner unknown":     func(a *AppState) { a.Schemas[0].Owner = "police" },
		"schema name prefix":       func(a *AppState) { a.Schemas[0].Name = "tax.business_license" },
		"duplicate schema":         func(a *AppState) { a.Schemas = append(a.Schemas, a.Schemas[0]) },
		"auto schema other dept":   func(a *AppState) { a.AppTypes[0].Checks[0].Department = "tax" },
		"auto schema confidential": func(a *AppState) { a.AppTypes[0].Checks[1].Auto.Schema = "tax.filing" },
		"auto field unknown":       func(a *AppState) { a.AppTypes[0].Checks[1].Auto.Field = "colour" },
		"levels order":             func(a *AppState) { a.Credit.Levels[0].MinScore = 10 },
		"reporter unknown":         func(a *AppState) { a.Credit.Reporters = []string{"police"} },
		"si dept unknown":          func(a *AppState) { a.SocialInsurance.Department = "police" },
		"base above max":           func(a *AppState) { a.Credit.Base = 1000 },
		"field type":               func(a *AppState) { a.Schemas[0].Fields[0].Type = "float" },
	}
	for name, mut := range cases {
		a := ExampleAppState()
		mut(&a)
		g := testGenesis(t)
		raw, _ := jsonMarshal(a)
		g.AppState = raw
		if _, err := New(g); !isErr(err, ErrGenesis) {
			t.Errorf("%s: New = %v, want ErrGenesis", name, err)
		}
	}
	g := testGenesis(t)
	g.AppState = []byte(`{"schemas":[],"surprise":1}`)
	if _, err := New(g); !isErr(err, ErrGenesis) {
		t.Errorf("unknown app_state field accepted: %v", err)
	}
	g = testGenesis(t)
	g.Accounts[0].Role = "root"
	if _, err := New(g); !isErr(err, ErrGenesis) {
		t.Errorf("bad genesis role accepted: %v", err)
	}
}

func TestAccountAddRemove(t *testing.T) {
	e := newEnv(t)
	e.setup()
	op := seedKey("tax/operator").Public()
	a, err := e.l.Account(e.st, op)
	if err != nil || a.Role != RoleOperator || a.Department != "tax" || !a.Active {
		t.Fatalf("operator account = %+v, %v", a, err)
	}
	// Refusals.
	e.fails("tax/operator", TxAccountAdd, AccountAdd{PubKey: seedKey("x").Public(), Role: RoleOperator}, CodeUnauthorized, "(tax/operator) may not send account.add")
	e.fails("tax/auditor", TxAccountAdd, AccountAdd{PubKey: seedKey("x").Public(), Role: RoleOperator}, CodeUnauthorized, "tax/auditor")
	e.fails("tax/admin", TxAccountAdd, AccountAdd{PubKey: op, Role: RoleOperator}, CodeExists, "exists")
	e.fails("tax/admin", TxAccountAdd, AccountAdd{PubKey: seedKey("x").Public(), Role: "root"}, CodeInvalid, "role")
	e.fails("tax/admin", TxAccountRemove, AccountRemove{PubKey: seedKey("hrss/operator").Public()}, CodeUnauthorized, "of department hrss")
	e.fails("tax/admin", TxAccountRemove, AccountRemove{PubKey: seedKey("tax/admin").Public()}, CodeInvalid, "last active admin")
	e.fails("tax/admin", TxAccountRemove, AccountRemove{PubKey: seedKey("nobody").Public()}, CodeNotFound, "")

	e.ok("tax/admin", TxAccountRemove, AccountRemove{PubKey: op})
	// A removed account's tx is still included (its nonce is known) but fails.
	e.fails("tax/operator", TxRecordPut, RecordPut{Schema: "tax.clearance", Subject: "e:91330100799655058B", Fields: []byte(`{"status":"clear"}`)}, CodeUnauthorized, "removed")
	e.fails("tax/admin", TxAccountAdd, AccountAdd{PubKey: op, Role: RoleOperator}, CodeExists, "never reused")
	if err := e.l.CheckTx(e.st, ptr(e.tx("tax/operator", TxAccessLog, AccessLog{}))); !isErr(err, ErrUnauthorized) {
		t.Fatalf("CheckTx of removed account: %v", err)
	}
}

func TestDeptSetKey(t *testing.T) {
	e := newEnv(t)
	e.fails("tax/admin", TxDeptSetKey, DeptSetKey{EncKey: make([]byte, 31)}, CodeInvalid, "32 bytes")
	e.fails("tax/admin", TxDeptSetKey, DeptSetKey{EncKey: make([]byte, 32)}, CodeInvalid, "zeros")
	e.ok("tax/admin", TxDeptSetKey, DeptSetKey{EncKey: encKey("tax").PublicKey().Bytes()})
	d, _ := e.l.Department(e.st, "tax")
	if string(d.EncKey) != string(encKey("tax").PublicKey().Bytes()) || d.EncKeyHeight != e.height {
		t.Fatalf("department after set_key: %+v", d)
	}
}

func TestBlockInvalidOnNonceOrUnknownAccount(t *testing.T) {
	e := newEnv(t)
	good := e.tx("tax/admin", TxDeptSetKey, DeptSetKey{EncKey: encKey("tax").PublicKey().Bytes()})
	replay := good
	hdr := &chain.Header{ChainID: testChain, Height: 1, Time: e.time + 1}
	if _, err := e.l.Execute(e.st, hdr, []chain.Tx{good, replay}); !isErr(err, ErrBadNonce) {
		t.Fatalf("replayed nonce: %v, want ErrBadNonce", err)
	}
	skip := good
	skip.Nonce = 5
	if _, err := e.l.Execute(e.st, hdr, []chain.Tx{skip}); !isErr(err, ErrBadNonce) {
		t.Fatalf("nonce gap: %v", err)
	}
	stranger := chain.Tx{ChainID: testChain, Nonce: 1, Type: TxDeptSetKey, Payload: []byte(`{}`)}
	stranger.Sign(seedKey("stranger"))
	if _, err := e.l.Execute(e.st, hdr, []chain.Tx{stranger}); !isErr(err, ErrUnknownAccount) {
		t.Fatalf("unknown account: %v", err)
	}
	if err := e.l.CheckTx(e.st, &stranger); !isErr(err, ErrUnknownAccount) {
		t.Fatalf("CheckTx unknown account: %v", err)
	}
	other := good
	other.ChainID = "other"
	if _, err := e.l.Execute(e.st, hdr, []chain.Tx{other}); !isErr(err, chain.ErrWrongChain) {
		t.Fatalf("wrong chain: %v", err)
	}
	if _, err := e.l.Execute(e.st, hdr, []chain.Tx{good}); err != nil {
		t.Fatalf("good tx: %v", err)
	}
}

func TestUnknownTypeAndBadPayload(t *testing.T) {
	e := newEnv(t)
	e.fails("tax/admin", "record.delete", struct{}{}, CodeUnknownType, "record.delete")
	r := e.block(e.rawTx("tax/admin", TxAccountAdd, []byte(`{"pub_key":"AAAA","role":"operator","extra":1}`))).TxResults[0]
	if r.Code != CodeBadPayload {
		t.Fatalf("unknown field: %+v", r)
	}
	r = e.block(e.rawTx("tax/admin", TxAccountAdd, []byte(`{"role":"operator"} {}`))).TxResults[0]
	if r.Code != CodeBadPayload {
		t.Fatalf("trailing data: %+v", r)
	}
	tx := e.rawTx("tax/admin", TxGrant, []byte(`not json`))
	if err := e.l.CheckTx(e.st, &tx); !isErr(err, ErrBadPayload) {
		t.Fatalf("CheckTx bad json: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
