package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/node/mempool"
)

// Node-level benchmarks of the block path: what one node spends on a
// block of record.put transactions as proposer (build), as validator
// (ValidateBlock) and when it commits, on real Pebble. The per-package
// benchmarks (chain, chain/ledger, chain/store, node/mempool, p2p) time
// the pieces; these time them as the node strings them together.

const benchChain = "zw-nodebench"

var benchDepts = []string{"tax", "market", "hrss", "credit"}

var benchRecords = map[string]struct{ schema, fields string }{
	"tax":    {"tax.clearance", `{"status":"clear","period":"2026Q3 %s","arrears_fen":0}`},
	"market": {"market.business_license", `{"name":"Jinan Spring Tech Co. %s","legal_representative":"Zhang Wei","registered_capital_fen":100000000,"status":"active","issued":"2026-03-14"}`},
	"hrss":   {"hrss.registration", `{"status":"registered","employees":12,"registered":"2026-01-05 %s"}`},
	"credit": {"credit.rating", `{"level":"A","score":95}`},
}

// benchFixture is a genesis with four authorities and operators enough to
// fill a 10,000-tx block within the mempool's per-account nonce window.
type benchFixture struct {
	genesis   *chain.Genesis
	authKeys  []*chain.PrivateKey
	operators []*chain.PrivateKey
	opDept    []string
}

func newBenchFixture(operators int) *benchFixture {
	f := &benchFixture{genesis: &chain.Genesis{
		ChainID: benchChain, GenesisTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Params: chain.DefaultParams(), AppState: ledger.ExampleGenesisAppState(),
	}}
	for _, d := range benchDepts {
		k := chain.PrivateKeyFromSeed(seed32("auth-" + d))
		f.authKeys = append(f.authKeys, k)
		f.genesis.Authorities = append(f.genesis.Authorities, chain.Authority{Department: d, Name: d, PubKey: k.Public()})
		f.genesis.Accounts = append(f.genesis.Accounts, chain.GenesisAccount{Department: d, Role: "admin", PubKey: k.Public()})
	}
	for i := 0; i < operators; i++ {
		d := benchDepts[i%len(benchDepts)]
		k := chain.PrivateKeyFromSeed(seed32(fmt.Sprintf("op-%d", i)))
		f.operators = append(f.operators, k)
		f.opDept = append(f.opDept, d)
		f.genesis.Accounts = append(f.genesis.Accounts, chain.GenesisAccount{Department: d, Role: "operator", PubKey: k.Public()})
	}
	return f
}

func seed32(s string) []byte {
	h := chain.HashBytes([]byte(s))
	return h[:]
}

// txs signs n record.put transactions of about 300 bytes, interleaved over
// the operators with nonces from 1.
func (f *benchFixture) txs(tb testing.TB, n int) []chain.Tx {
	tb.Helper()
	out := make([]chain.Tx, n)
	for i := range out {
		op := i % len(f.operators)
		r := benchRecords[f.opDept[op]]
		first17 := fmt.Sprintf("91370100%09d", i)
		c, err := ledger.USCCCheckChar(first17)
		if err != nil {
			tb.Fatal(err)
		}
		fields := r.fields
		if strings.Contains(fields, "%s") {
			fields = fmt.Sprintf(fields, strings.Repeat("x", 60))
		}
		payload, err := json.Marshal(ledger.RecordPut{Schema: r.schema, Subject: "e:" + first17 + string(c), Fields: json.RawMessage(fields)})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = chain.Tx{ChainID: benchChain, Nonce: uint64(i/len(f.operators) + 1), Type: ledger.TxRecordPut, Payload: payload}
		out[i].Sign(f.operators[op])
	}
	return out
}

// node opens a node (not started: no p2p, no API) on Pebble in a temp dir.
func (f *benchFixture) node(tb testing.TB, key int) *Node {
	tb.Helper()
	n, err := New(Options{
		Genesis: f.genesis, Key: f.authKeys[key], DataDir: tb.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = n.closeStore() })
	return n
}

// proposal builds the node's next block from txs the way the consensus
// loop does (mempool reap, execution, state root).
func (f *benchFixture) proposal(tb testing.TB, n *Node, txs []chain.Tx) (*chain.Block, *app) {
	tb.Helper()
	for i := range txs {
		if _, err := n.mempool.AddVerified(&txs[i]); err != nil {
			tb.Fatalf("mempool refused tx %d: %v", i, err)
		}
	}
	a := &app{n: n, cache: make(map[chain.Hash]*execResult)}
	b := a.build(f.proposeRequest(n))
	if len(b.Txs) != len(txs) {
		tb.Fatalf("proposal holds %d txs, want %d", len(b.Txs), len(txs))
	}
	return b, a
}

func (f *benchFixture) proposeRequest(n *Node) *consensus.ProposeRequest {
	cs := n.chainState()
	return &consensus.ProposeRequest{Height: cs.height + 1, PrevHash: cs.hash, LastCommit: cs.lastCommit, Authorities: cs.sets[cs.height+1]}
}

// certify signs a quorum certificate for b with the first three authorities.
func (f *benchFixture) certify(tb testing.TB, b *chain.Block) *chain.Commit {
	tb.Helper()
	return f.certifyRound(tb, b, 0)
}

// certifyRound is certify with the precommits of round.
func (f *benchFixture) certifyRound(tb testing.TB, b *chain.Block, round uint32) *chain.Commit {
	tb.Helper()
	var votes []*chain.Vote
	for _, k := range f.authKeys[:3] {
		v := &chain.Vote{Type: chain.Precommit, Height: b.Height(), Round: round, BlockHash: b.Hash()}
		v.Sign(benchChain, k)
		votes = append(votes, v)
	}
	c, err := chain.NewCommit(votes)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

var benchBlockSizes = []int{2000, 10_000}

// BenchmarkNodeAdmitTxs is API/gossip admission into a node's mempool:
// signature check, the ledger's stateful CheckTx on Pebble, and admission.
func BenchmarkNodeAdmitTxs(b *testing.B) {
	const n = 2000
	f := newBenchFixture(80)
	nd := f.node(b, 0)
	txs := f.txs(b, n)
	for b.Loop() {
		b.StopTimer()
		nd.mempool = mempool.New(mempool.Config{ChainID: benchChain, MaxTxBytes: f.genesis.Params.MaxTxBytes}, &mempoolState{n: nd})
		batch := make([]chain.Tx, n)
		copy(batch, txs)
		b.StartTimer()
		for i := range batch {
			if _, err := nd.mempool.Add(&batch[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tx")
}

// BenchmarkNodeBuildBlock is the proposer's work before it can publish:
// reap the mempool, execute every tx, compute the state and tx roots.
func BenchmarkNodeBuildBlock(b *testing.B) {
	for _, size := range benchBlockSizes {
		b.Run(fmt.Sprintf("txs=%d", size), func(b *testing.B) {
			f := newBenchFixture(80)
			nd := f.node(b, 0)
			_, a := f.proposal(b, nd, f.txs(b, size))
			req := f.proposeRequest(nd)
			for b.Loop() {
				a.reset()
				if blk := a.build(req); len(blk.Txs) != size {
					b.Fatalf("built %d txs", len(blk.Txs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/tx")
		})
	}
}

// BenchmarkNodeValidateBlock is a validator's work before it can prevote:
// app.ValidateBlock = limits, signatures of txs not already in its mempool,
// execution and state root. "cold" has an empty mempool (every signature
// checked, as when the proposal outruns tx gossip); "warm" holds every tx.
func BenchmarkNodeValidateBlock(b *testing.B) {
	for _, size := range benchBlockSizes {
		for _, warm := range []bool{false, true} {
			name := fmt.Sprintf("txs=%d/cold", size)
			if warm {
				name = fmt.Sprintf("txs=%d/warm", size)
			}
			b.Run(name, func(b *testing.B) {
				f := newBenchFixture(80)
				txs := f.txs(b, size)
				blk, _ := f.proposal(b, f.node(b, 0), txs)
				v := f.node(b, 1)
				if warm {
					for i := range txs {
						if _, err := v.mempool.AddVerified(&txs[i]); err != nil {
							b.Fatal(err)
						}
					}
				}
				a := &app{n: v, cache: make(map[chain.Hash]*execResult)}
				for b.Loop() {
					a.reset()
					if !warm {
						// Validation remembers the txs it verified; a cold
						// run must not profit from the previous one.
						b.StopTimer()
						v.mempool = mempool.New(mempool.Config{ChainID: benchChain}, nil)
						b.StartTimer()
					}
					if _, err := a.ValidateBlock(blk); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/tx")
			})
		}
	}
}

// BenchmarkNodeCommitBlock is commitBlock of an executed, certified block:
// the synced Pebble batch, mempool update, status and event publication.
// Building and executing each block is not timed.
func BenchmarkNodeCommitBlock(b *testing.B) {
	const size = 2000
	f := newBenchFixture(80)
	nd := f.node(b, 0)
	// One subscriber, as with the bench or an explorer attached.
	_, cancel := nd.events.subscribe()
	defer cancel()
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		txs := f.txs(b, size)
		for j := range txs {
			txs[j].Nonce += uint64(i * size / len(f.operators))
			txs[j].Sign(f.operators[j%len(f.operators)])
		}
		blk, a := f.proposal(b, nd, txs)
		res, err := a.result(blk)
		if err != nil {
			b.Fatal(err)
		}
		c := f.certify(b, blk)
		b.StartTimer()
		if err := nd.commitBlock(ctx, blk, c, res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/tx")
}

// BenchmarkNodeEventEncode is the SSE encoding of one 10,000-tx block event,
// paid per subscriber.
func BenchmarkNodeEventEncode(b *testing.B) {
	hashes := make([]chain.Hash, 10_000)
	for i := range hashes {
		hashes[i] = chain.HashBytes(fmt.Appendf(nil, "%d", i))
	}
	h := hashes[0]
	ev := Event{Kind: "block", Height: 1, Time: 1, Hash: &h, TxCount: len(hashes), TxHashes: hashes}
	for b.Loop() {
		if _, err := json.Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNodeSaveSignRecord is persisting a sign-state that carries a
// valid block of 2,000 record.put txs (synced on Pebble), as a validator
// does two or three times per height before it votes. The block is stored
// by the first save only (store.WriteSignState), so this is the record
// and its fsync.
func BenchmarkNodeSaveSignRecord(b *testing.B) {
	f := newBenchFixture(80)
	nd := f.node(b, 0)
	blk, _ := f.proposal(b, nd, f.txs(b, 2000))
	rec := &signRecord{
		sign:  &consensus.SignState{Height: blk.Height(), Step: consensus.StepPrecommit, BlockHash: blk.Hash()},
		valid: &consensus.ValidState{Height: blk.Height(), Block: blk},
	}
	for b.Loop() {
		if err := nd.saveSignRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rec.encodedLen()), "B/record")
}
