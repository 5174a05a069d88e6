package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// randomBlocks builds a seeded sequence of blocks mixing valid and invalid
// transactions of every type from every role. The env only signs; the
// blocks are executed by the caller.
func randomBlocks(t testing.TB, seed uint64, nBlocks, perBlock int) (*env, [][]chain.Tx, []int64) {
	e := newEnv(t)
	e.setup()
	r := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	roles := []string{"admin", "operator", "auditor"}
	subjects := []string{alibaba, "e:9144030071526726XG", person(1), person(2), person(3)}
	schemas := []string{"tax.clearance", "hrss.registration", "market.name_check", "tax.filing", "hrss.contribution", "tax.nothing"}
	var blocks [][]chain.Tx
	var times []int64
	var apps []string
	var props []string
	now := e.time
	for b := 0; b < nBlocks; b++ {
		var txs []chain.Tx
		for i := 0; i < perBlock; i++ {
			dept := testDepts[r.IntN(len(testDepts))]
			who := dept + "/" + roles[r.IntN(3)]
			subj := subjects[r.IntN(len(subjects))]
			schema := schemas[r.IntN(len(schemas))]
			var typ string
			var p any
			if r.IntN(2) == 0 {
				subj = subjects[r.IntN(2)] // enterprises mostly: records and applications concern them
			}
			switch r.IntN(12) {
			case 0:
				typ, p = TxRecordPut, put(schema, subj, fmt.Sprintf(`{"status":"%s"}`, []string{"clear", "registered", "approved", "arrears"}[r.IntN(4)]))
			case 1:
				recips := []string{dept}
				if r.IntN(2) == 0 {
					recips = append(recips, testDepts[r.IntN(4)])
				}
				sort.Strings(recips)
				recips = dedup(recips)
				typ, p = TxRecordPut, RecordPut{Schema: schema, Subject: subj, Envelope: sealFor(schema, subj, fmt.Sprint(r.Int()), recips...)}
			case 2:
				typ, p = TxGrant, GrantTx{Schema: schema, Department: testDepts[r.IntN(4)]}
			case 3:
				typ, p = TxRevoke, RevokeTx{Schema: schema, Department: testDepts[r.IntN(4)]}
			case 4:
				typ, p = TxAccessLog, AccessLog{Subject: subj, Schema: schema, Version: uint64(1 + r.IntN(3)), Purpose: "random"}
			case 5:
				s := submit(subj, "", fmt.Sprint(r.Int()))
				if r.IntN(3) == 0 {
					s = submit("", "name", "c")
				}
				typ, p = TxApplicationSubmit, s
			case 6:
				id := "0123456789abcdef0123456789abcdef"
				if len(apps) > 0 {
					id = apps[r.IntN(len(apps))]
				}
				typ, p = TxApplicationAttest, ApplicationAttest{Application: id, Check: []string{"tax.no_arrears", "market.name", "hrss.registration"}[r.IntN(3)], Pass: r.IntN(2) == 0, Reason: "r"}
			case 7:
				typ, p = TxSIContribution, contrib(subj, fmt.Sprintf("2026%02d", 1+r.IntN(12)), insuranceTypes[r.IntN(5)], r.Int64N(100000), r.Int64N(50000), []string{SIPaid, SIArrears}[r.IntN(2)])
			case 8:
				typ, p = TxCreditEvent, creditEv(subj, []string{"tax", "market", "commendation", "bogus"}[r.IntN(4)], r.IntN(2) == 0, 1+r.IntN(5))
			case 9:
				typ, p = TxGovPropose, GovPropose{Action: []string{GovAdd, GovRemove}[r.IntN(2)], Department: []string{"police", "credit", "hrss"}[r.IntN(3)], PubKey: seedKey(fmt.Sprint("n", r.IntN(3))).Public()}
			case 10:
				id := "0123456789abcdef0123456789abcdef"
				if len(props) > 0 {
					id = props[r.IntN(len(props))]
				}
				typ, p = TxGovVote, GovVote{Proposal: id, Yes: r.IntN(4) != 0}
			case 11:
				typ, p = TxAccountAdd, AccountAdd{PubKey: seedKey(fmt.Sprint("acct", r.IntN(20))).Public(), Role: RoleOperator}
			}
			if r.IntN(5) != 0 { // mostly the account that may do it
				who = rightAccount(typ, schema, p)
			}
			tx := e.tx(who, typ, p)
			switch typ {
			case TxApplicationSubmit:
				apps = append(apps, ApplicationID(tx.Hash()))
			case TxGovPropose:
				props = append(props, ApplicationID(tx.Hash()))
			}
			txs = append(txs, tx)
		}
		now += r.Int64N(3 * hourMS)
		blocks = append(blocks, txs)
		times = append(times, now+1)
	}
	return e, blocks, times
}

// rightAccount names an account that is authorized for the tx.
func rightAccount(typ, schema string, p any) string {
	owner := schema
	for i := range schema {
		if schema[i] == '.' {
			owner = schema[:i]
			break
		}
	}
	switch typ {
	case TxRecordPut:
		return owner + "/operator"
	case TxGrant, TxRevoke:
		return owner + "/admin"
	case TxSIContribution:
		return "hrss/operator"
	case TxApplicationAttest:
		c := p.(ApplicationAttest).Check
		return rightAccount(TxRecordPut, c, nil)
	case TxGovPropose, TxGovVote, TxAccountAdd:
		return []string{"tax", "market", "hrss", "credit"}[len(schema)%4] + "/admin"
	default:
		return "market/operator"
	}
}

func dedup(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// replay executes blocks on a fresh genesis state with a fresh Ledger.
func replay(t testing.TB, blocks [][]chain.Tx, times []int64, startHeight uint64, pre MapKV) (MapKV, []*Result) {
	l, err := New(testGenesis(t))
	if err != nil {
		t.Fatal(err)
	}
	st := MapKV{}
	for k, v := range pre {
		st[k] = v
	}
	var results []*Result
	for i, txs := range blocks {
		h := &chain.Header{ChainID: testChain, Height: startHeight + uint64(i) + 1, Time: times[i]}
		res, err := l.Execute(st, h, txs)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		st.Apply(res.Writes)
		results = append(results, res)
	}
	return st, results
}

func TestDeterministicReplay(t *testing.T) {
	okTypes := map[string]bool{}
	for seed := uint64(1); seed <= 8; seed++ {
		e, blocks, times := randomBlocks(t, seed, 25, 12)
		a, ra := replay(t, blocks, times, e.height, e.st)
		b, rb := replay(t, blocks, times, e.height, e.st)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: final states differ", seed)
		}
		ok, failed := 0, 0
		for i := range ra {
			ja, _ := json.Marshal(ra[i])
			jb, _ := json.Marshal(rb[i])
			if !bytes.Equal(ja, jb) {
				t.Fatalf("seed %d block %d: results differ", seed, i)
			}
			for j, w := range ra[i].Writes {
				if j > 0 && bytes.Compare(ra[i].Writes[j-1].Key, w.Key) >= 0 {
					t.Fatalf("writes not sorted and unique at %d", j)
				}
			}
			for j, r := range ra[i].TxResults {
				if r.Code == CodeOK {
					okTypes[blocks[i][j].Type] = true
					ok++
				} else {
					failed++
				}
				if r.Code == CodeInternal {
					t.Fatalf("seed %d: internal error: %s", seed, r.Message)
				}
			}
		}
		if ok == 0 || failed == 0 {
			t.Fatalf("seed %d: %d ok, %d failed: the generator does not exercise both paths", seed, ok, failed)
		}
		checkInvariants(t, e.l, a)
	}
	for _, typ := range TxTypes() {
		if !okTypes[typ] && typ != TxAccountRemove && typ != TxDeptSetKey && typ != TxSchemaRegister {
			t.Errorf("no successful %s in any seed: the generator misses it", typ)
		}
	}
}

// checkInvariants verifies cross-key consistency of a state.
func checkInvariants(t *testing.T, l *Ledger, st MapKV) {
	t.Helper()
	// Every record head matches its last stored version and the count.
	_ = st.Scan([]byte(pfxRecord), func(k, v []byte) bool {
		var h RecordHead
		if err := decodeHead(v, &h); err != nil {
			t.Fatal(err)
		}
		subject, schema, _ := strings.Cut(string(k[len(pfxRecord):]), "/")
		hist, err := l.RecordHistory(st, schema, subject)
		if err != nil || uint64(len(hist)) != h.Version {
			t.Fatalf("record %s: head version %d, history %d (%v)", k, h.Version, len(hist), err)
		}
		latest, err := l.Record(st, schema, subject)
		if err != nil || !reflect.DeepEqual(hist[len(hist)-1], *latest) || latest.Schema != schema || latest.Subject != subject {
			t.Fatalf("record %s: latest %+v, history ends with %+v (%v)", k, latest, hist[len(hist)-1], err)
		}
		// The query by subject finds it, with the same latest version.
		bySubject, err := l.RecordsBySubject(st, subject)
		found := false
		for _, v := range bySubject {
			found = found || (v.Schema == schema && reflect.DeepEqual(v, *latest))
		}
		if err != nil || !found {
			t.Fatalf("record %s: RecordsBySubject(%s) = %+v (%v), without its latest version", k, subject, bySubject, err)
		}
		return true
	})
	// Every credit score equals clamp(base + Σ deltas); blacklist agrees.
	_ = st.Scan([]byte(pfxCreditScore), func(k, v []byte) bool {
		var s CreditScore
		_ = json.Unmarshal(v, &s)
		view, err := l.Credit(st, s.Subject)
		if err != nil {
			t.Fatal(err)
		}
		sum := l.app.Credit.Base
		for _, ev := range view.History {
			sum += ev.Delta
		}
		_, listed := st[pfxBlacklist+s.Subject]
		if sum != s.Raw || len(view.History) != s.Events || listed != (s.Score < l.app.Credit.BlacklistBelow) {
			t.Fatalf("credit %s: raw %d vs Σ %d, listed %v score %d", s.Subject, s.Raw, sum, listed, s.Score)
		}
		return true
	})
	// Every SI account's totals equal the sum of its bookings.
	_ = st.Scan([]byte(pfxSIAccount), func(k, v []byte) bool {
		var a SIAccount
		_ = json.Unmarshal(v, &a)
		cs, _ := l.SIContributions(st, a.Subject)
		tot := map[string]SITotals{}
		for _, c := range cs {
			x := tot[c.Insurance]
			x.UnitFen += c.UnitFen
			x.PersonalFen += c.PersonalFen
			x.Months++
			tot[c.Insurance] = x
		}
		if !reflect.DeepEqual(tot, a.Totals) {
			t.Fatalf("si %s: totals %v vs bookings %v", a.Subject, a.Totals, tot)
		}
		return true
	})
	// A pending-queue entry exists exactly for pending checks of open applications.
	_ = st.Scan([]byte(pfxApp), func(k, v []byte) bool {
		var app Application
		_ = json.Unmarshal(v, &app)
		for _, c := range app.Checks {
			_, queued := st[pfxIxPending+c.Department+"/"+app.ID+"/"+c.ID]
			if queued != (c.Status == CheckPending) {
				t.Fatalf("app %s check %s status %s queued %v", app.ID, c.ID, c.Status, queued)
			}
			if c.Status == CheckPending && (app.Status == AppApproved || app.Status == AppRejected) {
				t.Fatalf("app %s decided with a pending check", app.ID)
			}
		}
		return true
	})
}

// TestExecuteNeverPanicsOnRandomPayloads feeds every tx type random bytes
// and mutated valid payloads; each tx must be included with a failure code
// or succeed, and nothing may panic.
func TestExecuteNeverPanicsOnRandomPayloads(t *testing.T) {
	e := newEnv(t)
	e.setup()
	r := mrand.New(mrand.NewPCG(42, 7))
	valid := map[string][]byte{}
	for typ, p := range map[string]any{
		TxRecordPut: put("tax.clearance", alibaba, `{"status":"clear"}`), TxSIContribution: contrib(person(1), "202601", "pension", 1, 1, SIPaid),
		TxApplicationSubmit: submit(alibaba, "", "c"), TxCreditEvent: creditEv(alibaba, "tax", false, 2),
		TxGovPropose: GovPropose{Action: GovAdd, Department: "x", PubKey: seedKey("x").Public()}, TxAccessLog: AccessLog{Subject: alibaba, Schema: "tax.clearance", Version: 1, Purpose: "p"},
	} {
		valid[typ], _ = json.Marshal(p)
	}
	types := append(TxTypes(), "bogus", "")
	for round := 0; round < 300; round++ {
		typ := types[r.IntN(len(types))]
		var payload []byte
		if v, ok := valid[typ]; ok && r.IntN(2) == 0 {
			payload = append([]byte(nil), v...)
			for n := r.IntN(4); n >= 0; n-- {
				payload[r.IntN(len(payload))] = byte(r.IntN(256))
			}
		} else {
			payload = make([]byte, r.IntN(200))
			for i := range payload {
				payload[i] = byte(r.IntN(256))
			}
			if r.IntN(3) == 0 {
				payload = []byte(`{"schema":{},"subject":[1],"fields":null,"envelope":{"alg":7},"pub_key":"???","version":-1,"severity":1e400}`)
			}
		}
		who := testDepts[r.IntN(4)] + "/" + []string{"admin", "operator", "auditor"}[r.IntN(3)]
		tx := e.rawTx(who, typ, payload)
		_ = e.l.CheckTx(e.st, &tx)
		res := e.block(tx)
		if res.TxResults[0].Code == CodeInternal {
			t.Fatalf("internal error on %s %q: %s", typ, payload, res.TxResults[0].Message)
		}
	}
}

// FuzzExecute runs random payloads through Execute; `go test` runs the seeds,
// `go test -fuzz FuzzExecute` explores.
func FuzzExecute(f *testing.F) {
	for _, typ := range TxTypes() {
		f.Add(typ, []byte(`{}`))
	}
	f.Add(TxRecordPut, []byte(`{"schema":"tax.clearance","subject":"e:91330100799655058B","fields":{"status":"clear"}}`))
	f.Add(TxRecordPut, []byte(`{"schema":"tax.filing","subject":"e:91330100799655058B","envelope":{"alg":"x","recipients":[{}]}}`))
	f.Fuzz(func(t *testing.T, typ string, payload []byte) {
		e := newEnv(t)
		tx := e.rawTx("tax/admin", typ, payload)
		_ = e.l.CheckTx(e.st, &tx)
		res, err := e.l.Execute(e.st, &chain.Header{ChainID: testChain, Height: 1, Time: e.time}, []chain.Tx{tx})
		if err != nil {
			t.Fatalf("valid nonce and account but block error: %v", err)
		}
		if res.TxResults[0].Code == CodeInternal {
			t.Fatalf("internal: %s", res.TxResults[0].Message)
		}
	})
}

func TestExecuteRequiresScanKVAndHeader(t *testing.T) {
	e := newEnv(t)
	if _, err := e.l.Execute(onlyKV{e.st}, &chain.Header{ChainID: testChain, Height: 1, Time: 1}, nil); !isErr(err, ErrNoScan) {
		t.Fatalf("plain KV: %v", err)
	}
	if _, err := e.l.Execute(e.st, &chain.Header{ChainID: testChain, Height: 1}, nil); !isErr(err, ErrInvalid) {
		t.Fatalf("zero time: %v", err)
	}
	res, err := e.l.Execute(e.st, &chain.Header{ChainID: testChain, Height: 1, Time: 1}, nil)
	if err != nil || len(res.Writes) != 0 {
		t.Fatalf("empty block: %+v %v", res, err)
	}
}

type onlyKV struct{ m MapKV }

func (o onlyKV) Get(k []byte) ([]byte, bool, error) { return o.m.Get(k) }

// TestBlockCacheChangesNothing executes the random blocks with and without
// the block overlay's decoded-value cache: writes, results, events and
// alerts must be identical.
func TestBlockCacheChangesNothing(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		e, blocks, times := randomBlocks(t, seed, 25, 12)
		// The generator rarely changes a key, a schema or an account
		// mid-block; this block does all three between txs that read them.
		subj := "e:91330100799655058B"
		rotated := encKey(fmt.Sprint("tax rotated ", seed)).PublicKey().Bytes()
		extra := seedKey("tax/extra").Public()
		blocks = append(blocks, []chain.Tx{
			e.tx("tax/admin", TxSchemaRegister, SchemaRegister{Name: "tax.extra", Confidential: true}),
			e.tx("tax/operator", TxRecordPut, RecordPut{Schema: "tax.extra", Subject: subj, Envelope: sealFor("tax.extra", subj, "a", "tax")}),
			e.tx("tax/admin", TxDeptSetKey, DeptSetKey{EncKey: rotated}),
			e.tx("tax/operator", TxRecordPut, RecordPut{Schema: "tax.extra", Subject: subj, Envelope: sealFor("tax.extra", subj, "b", "tax")}),
			e.tx("tax/admin", TxAccountAdd, AccountAdd{PubKey: extra, Role: RoleOperator}),
			e.tx("tax/extra", TxRecordPut, put("tax.clearance", subj, `{"status":"clear"}`)),
			e.tx("tax/admin", TxAccountRemove, AccountRemove{PubKey: extra}),
			e.tx("tax/extra", TxRecordPut, put("tax.clearance", subj, `{"status":"clear"}`)),
		})
		times = append(times, times[len(times)-1]+minuteMS)
		cached, plain := MapKV{}, MapKV{}
		for k, v := range e.st {
			cached[k], plain[k] = v, v
		}
		for i, txs := range blocks {
			h := &chain.Header{ChainID: testChain, Height: e.height + uint64(i) + 1, Time: times[i]}
			a, errA := e.l.execute(cached, h, txs, chain.TxHashes(txs), true)
			b, errB := e.l.execute(plain, h, txs, nil, false)
			if (errA == nil) != (errB == nil) {
				t.Fatalf("seed %d block %d: errors %v vs %v", seed, i, errA, errB)
			}
			if errA != nil {
				continue
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("seed %d block %d: results differ with the cache", seed, i)
			}
			cached.Apply(a.Writes)
			plain.Apply(b.Writes)
		}
	}
}
