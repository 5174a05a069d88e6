package ledger

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
)

// Test accounts are named "<dept>/<role>" with keys from a fixed seed pool.
var testDepts = []string{"tax", "market", "hrss", "credit"}

const testChain = "zw-test"

func seedKey(name string) *chain.PrivateKey {
	s := sha256.Sum256([]byte("zwnode ledger test key " + name))
	return chain.PrivateKeyFromSeed(s[:])
}

func testGenesis(t testing.TB) *chain.Genesis {
	t.Helper()
	g := &chain.Genesis{ChainID: testChain, GenesisTime: time.UnixMilli(1_700_000_000_000).UTC(), Params: chain.DefaultParams(),
		AppState: ExampleGenesisAppState()}
	for _, d := range testDepts {
		g.Authorities = append(g.Authorities, chain.Authority{Department: d, Name: d + " bureau", PubKey: seedKey(d + "/node").Public()})
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Department: d, Role: "admin", PubKey: seedKey(d + "/admin").Public()})
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g
}

// env is a ledger over a map state that executes blocks and tracks nonces.
type env struct {
	t      testing.TB
	l      *Ledger
	st     MapKV
	height uint64
	time   int64
	nonces map[chain.PublicKey]uint64
}

func newEnv(t testing.TB) *env {
	t.Helper()
	l, err := New(testGenesis(t))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := l.GenesisWrites()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, l: l, st: MapKV{}, time: 1_700_000_000_000, nonces: map[chain.PublicKey]uint64{}}
	e.st.Apply(ws)
	return e
}

// setup adds an operator and an auditor to every department (tax/operator,
// tax/auditor, …) and sets every department's encryption key.
func (e *env) setup() {
	e.t.Helper()
	var txs []chain.Tx
	for _, d := range testDepts {
		txs = append(txs,
			e.tx(d+"/admin", TxAccountAdd, AccountAdd{PubKey: seedKey(d + "/operator").Public(), Role: RoleOperator}),
			e.tx(d+"/admin", TxAccountAdd, AccountAdd{PubKey: seedKey(d + "/auditor").Public(), Role: RoleAuditor}),
			e.tx(d+"/admin", TxDeptSetKey, DeptSetKey{EncKey: encKey(d).PublicKey().Bytes()}),
		)
	}
	e.mustOK(e.block(txs...))
}

// tx builds and signs a tx from the named account with its next nonce.
func (e *env) tx(who, typ string, p any) chain.Tx {
	e.t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.rawTx(who, typ, b)
}

func (e *env) rawTx(who, typ string, payload []byte) chain.Tx {
	key := seedKey(who)
	e.nonces[key.Public()]++
	tx := chain.Tx{ChainID: testChain, Nonce: e.nonces[key.Public()], Type: typ, Payload: payload}
	tx.Sign(key)
	return tx
}

// block executes txs at the next height, one minute later, and commits.
func (e *env) block(txs ...chain.Tx) *Result {
	e.t.Helper()
	return e.blockAt(e.time+minuteMS, txs...)
}

func (e *env) blockAt(t int64, txs ...chain.Tx) *Result {
	e.t.Helper()
	e.height++
	e.time = t
	res, err := e.l.Execute(e.st, e.header(), txs)
	if err != nil {
		e.t.Fatalf("execute block %d: %v", e.height, err)
	}
	e.st.Apply(res.Writes)
	return res
}

func (e *env) header() *chain.Header {
	return &chain.Header{ChainID: testChain, Height: e.height, Time: e.time}
}

// one executes a single tx and returns its result.
func (e *env) one(who, typ string, p any) TxResult {
	e.t.Helper()
	return e.block(e.tx(who, typ, p)).TxResults[0]
}

func (e *env) mustOK(res *Result) {
	e.t.Helper()
	for i, r := range res.TxResults {
		if r.Code != CodeOK {
			e.t.Fatalf("tx %d failed: code %d: %s", i, r.Code, r.Message)
		}
	}
}

func (e *env) ok(who, typ string, p any) {
	e.t.Helper()
	if r := e.one(who, typ, p); r.Code != CodeOK {
		e.t.Fatalf("%s by %s: code %d: %s", typ, who, r.Code, r.Message)
	}
}

// fails asserts the tx is included with the given code and message part,
// and that it changed nothing but the sender's nonce.
func (e *env) fails(who, typ string, p any, code uint32, msgPart string) TxResult {
	e.t.Helper()
	tx := e.tx(who, typ, p)
	e.height++
	e.time += minuteMS
	res, err := e.l.Execute(e.st, e.header(), []chain.Tx{tx})
	if err != nil {
		e.t.Fatalf("%s by %s: block error %v", typ, who, err)
	}
	r := res.TxResults[0]
	if r.Code != code || !containsStr(r.Message, msgPart) {
		e.t.Fatalf("%s by %s: got code %d %q, want code %d containing %q", typ, who, r.Code, r.Message, code, msgPart)
	}
	if len(res.Writes) != 1 || string(res.Writes[0].Key) != string(acctKey(tx.Account)) {
		e.t.Fatalf("%s by %s failed but wrote %d keys (want only the nonce)", typ, who, len(res.Writes))
	}
	e.st.Apply(res.Writes)
	return r
}

func containsStr(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// uscc builds a valid code from a 17-character stem.
func uscc(t testing.TB, stem string) string {
	c, err := USCCCheckChar(stem)
	if err != nil {
		t.Fatal(err)
	}
	return stem + string(c)
}

func person(n int) string {
	s, err := Pseudonym([]byte("test pseudonym key 0123456789"), residentID(n))
	if err != nil {
		panic(err)
	}
	return s
}

// residentID returns a valid resident ID (Jinan region 370102) for n.
func residentID(n int) string {
	stem := fmt.Sprintf("370102198%01d0101%03d", n%10, n%1000)
	c, _ := ResidentIDCheckChar(stem)
	return stem + string(c)
}

func isErr(err, target error) bool { return errors.Is(err, target) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
