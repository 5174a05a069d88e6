package ledger

import (
	"slices"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// readLog is a ScanKV over a MapKV that records every key Get reads.
type readLog struct {
	MapKV
	reads map[string]bool
}

func (r *readLog) Get(key []byte) ([]byte, bool, error) {
	r.reads[string(key)] = true
	return r.MapKV.Get(key)
}

// Every hinted key is one execution reads from state, and a record.put's
// hints name its record head whether the record is new or not; a tx of
// another chain or with a payload off the fast path hints no record head.
func TestReadHintsAreReadByExecution(t *testing.T) {
	e := newEnv(t)
	e.setup()
	sub, sub2 := alibaba, "e:"+uscc(t, "91370100MA3C8XKJ0")
	e.ok("tax/operator", TxRecordPut, put("tax.clearance", sub, `{"status":"clear"}`))

	txs := []chain.Tx{
		e.tx("tax/operator", TxRecordPut, put("tax.clearance", sub, `{"status":"arrears","arrears_fen":100}`)), // existing record
		e.tx("tax/operator", TxRecordPut, put("tax.clearance", sub2, `{"status":"clear"}`)),                    // new record
		e.tx("tax/admin", TxAccountAdd, AccountAdd{PubKey: seedKey("tax/operator2").Public(), Role: RoleOperator}),
	}
	var hints [][]string
	for i := range txs {
		var h []string
		e.l.ReadHints(&txs[i], func(k []byte) { h = append(h, string(k)) })
		hints = append(hints, h)
	}
	for i, want := range [][]string{
		{string(acctKey(txs[0].Account)), string(recordKey("tax.clearance", sub))},
		{string(acctKey(txs[1].Account)), string(recordKey("tax.clearance", sub2))},
		{string(acctKey(txs[2].Account))},
	} {
		if !slices.Equal(hints[i], want) {
			t.Errorf("tx %d: hints %q, want %q", i, hints[i], want)
		}
	}

	st := &readLog{MapKV: e.st, reads: map[string]bool{}}
	e.height++
	e.time += minuteMS
	res, err := e.l.Execute(st, e.header(), txs)
	if err != nil {
		t.Fatal(err)
	}
	e.mustOK(res)
	for i, h := range hints {
		for _, k := range h {
			if !st.reads[k] {
				t.Errorf("tx %d: hinted key %q was not read by execution", i, k)
			}
		}
	}

	other := txs[0]
	other.ChainID = "zw-other"
	n := 0
	e.l.ReadHints(&other, func([]byte) { n++ })
	if n != 0 {
		t.Errorf("tx of another chain: %d hints, want none", n)
	}
	odd := e.rawTx("tax/operator", TxRecordPut, []byte(`{"schema":"tax.clearance","subject":"e:x","fields":{"a":1},"extra":1}`))
	var got []string
	e.l.ReadHints(&odd, func(k []byte) { got = append(got, string(k)) })
	if len(got) != 1 {
		t.Errorf("payload off the fast path: hints %q, want only the account", got)
	}
}
