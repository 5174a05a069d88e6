package ledger

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// benchBlock builds n record.put txs of about 300 payload bytes, each for a
// different enterprise, from the market operator.
func benchBlock(b *testing.B, e *env, n int, confidential bool) []chain.Tx {
	return benchBlockFrom(b, e, n, confidential, []string{"market/operator"})
}

// addOperators adds n market operators, "market/op0" …, and returns their
// names.
func addOperators(b *testing.B, e *env, n int) []string {
	var names []string
	var txs []chain.Tx
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("market/op%d", i)
		names = append(names, name)
		txs = append(txs, e.tx("market/admin", TxAccountAdd, AccountAdd{PubKey: seedKey(name).Public(), Role: RoleOperator}))
	}
	e.mustOK(e.block(txs...))
	return names
}

// benchBlockFrom is benchBlock with the senders taking turns.
func benchBlockFrom(b *testing.B, e *env, n int, confidential bool, senders []string) []chain.Tx {
	txs := make([]chain.Tx, n)
	for i := range txs {
		subj := "e:" + uscc(b, fmt.Sprintf("91370100MA%07d", i))
		var p RecordPut
		if confidential {
			p = RecordPut{Schema: "market.secret", Subject: subj, Envelope: sealFor("market.secret", subj, strings.Repeat("x", 60), "market")}
		} else {
			p = put("market.business_license", subj, fmt.Sprintf(
				`{"name":"济南泉城第%05d号科技有限公司","legal_representative":"%s","registered_capital_fen":%d,"status":"active","issued":"2026-01-%02d"}`,
				i, strings.Repeat("p", 40), 1000000+i, 1+i%28))
		}
		txs[i] = e.tx(senders[i%len(senders)], TxRecordPut, p)
	}
	return txs
}

func benchmarkExecute(b *testing.B, confidential bool, senders int) {
	e := newEnv(b)
	e.setup()
	if confidential {
		e.ok("market/admin", TxSchemaRegister, SchemaRegister{Name: "market.secret", Confidential: true})
	}
	from := []string{"market/operator"}
	if senders > 1 {
		from = addOperators(b, e, senders)
	}
	txs := benchBlockFrom(b, e, 2000, confidential, from)
	bytesTotal := 0
	for i := range txs {
		bytesTotal += len(txs[i].Payload)
	}
	hdr := &chain.Header{ChainID: testChain, Height: e.height + 1, Time: e.time + minuteMS}
	b.ReportAllocs()
	b.ResetTimer()
	var res *Result
	for b.Loop() {
		var err error
		res, err = e.l.Execute(e.st, hdr, txs)
		if err != nil || res.TxResults[1999].Code != CodeOK {
			b.Fatalf("%v %+v", err, res.TxResults[1999])
		}
	}
	b.ReportMetric(float64(bytesTotal)/2000, "payload-bytes/tx")
	b.ReportMetric(float64(writtenBytes(res.Writes))/2000, "written-bytes/tx")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000, "ns/tx")
}

// BenchmarkExecuteBlock executes one block of 2,000 public record.put txs.
func BenchmarkExecuteBlock(b *testing.B) { benchmarkExecute(b, false, 1) }

// BenchmarkExecuteBlock256 spreads the same block over 256 operators, as
// the cluster benchmark does; every account is read and written in turn.
func BenchmarkExecuteBlock256(b *testing.B) { benchmarkExecute(b, false, 256) }

// BenchmarkExecuteBlockConfidential does the same with sealed envelopes.
func BenchmarkExecuteBlockConfidential(b *testing.B) { benchmarkExecute(b, true, 1) }

// writtenBytes is what a block commits to the store: every key and value.
// Compaction cost grows with it.
func writtenBytes(ws []Write) int {
	n := 0
	for _, w := range ws {
		n += len(w.Key) + len(w.Value)
	}
	return n
}

// BenchmarkCheckTx is mempool admission of public record.put txs (the
// mempool runs it on every tx it accepts, before the block executes it).
func BenchmarkCheckTx(b *testing.B) {
	e := newEnv(b)
	e.setup()
	txs := benchBlock(b, e, 2000, false)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if err := e.l.CheckTx(e.st, &txs[i%len(txs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
