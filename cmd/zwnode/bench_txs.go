package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/node/keyfile"
)

// benchSchemas gives each example-genesis department a public schema it
// owns and a record template. The %s is filled to bring the transaction
// near benchTxTarget bytes, like a real record with a free-text field.
var benchSchemas = map[string]struct {
	schema string
	fields string
}{
	"tax":    {"tax.clearance", `{"status":"clear","period":"2026Q3 %s","arrears_fen":0}`},
	"market": {"market.business_license", `{"name":"Jinan Spring Tech Co. %s","legal_representative":"Zhang Wei","status":"active"}`},
	"hrss":   {"hrss.registration", `{"status":"registered","employees":12,"registered":"2026-01-05 %s"}`},
	"credit": {"credit.rating", `{"level":"A","score":95}`},
}

// benchTxTarget is the encoded size the generated record.put aims at.
const benchTxTarget = 300

// benchAccount is an operator account that sends the load.
type benchAccount struct {
	key   *chain.PrivateKey
	dept  string
	nonce uint64        // last nonce signed into a stream
	acked atomic.Uint64 // highest nonce a node accepted
}

// benchTx is one pre-signed transaction: its hash, account and nonce,
// and where its encoding lies in its load's arenas. It holds no pointers,
// so a stream of millions costs the garbage collector nothing to scan. As
// chain.Tx values, 5,000,000 of them (a 10-minute window) made each of the
// bench's collections mark 2-3 GB and take 2-6 CPU seconds, every minute
// or so, from the nodes it measures.
type benchTx struct {
	hash    chain.Hash
	account chain.PublicKey
	nonce   uint64
	off     int64 // of its encoding in arenas[arena]
	size    uint32
	arena   int32
}

// benchLoad is pre-signed transactions in stream order and the arenas
// holding their encodings.
type benchLoad struct {
	arenas [][]byte
	txs    []benchTx
}

// appendTx appends signed tx's encoding to arena number a and returns the
// arena and tx's entry, hashing the appended encoding (a tx's hash is
// SHA-256 of its canonical encoding) instead of encoding it again.
func appendTx(arena []byte, a int, tx *chain.Tx) ([]byte, benchTx) {
	off := len(arena)
	arena = append(arena, tx.Encode()...)
	return arena, benchTx{hash: chain.HashBytes(arena[off:]), account: tx.Account, nonce: tx.Nonce, off: int64(off), size: uint32(len(arena) - off), arena: int32(a)}
}

// newBenchLoad holds signed txs in one arena.
func newBenchLoad(txs []chain.Tx) *benchLoad {
	l := &benchLoad{arenas: make([][]byte, 1), txs: make([]benchTx, len(txs))}
	for i := range txs {
		l.arenas[0], l.txs[i] = appendTx(l.arenas[0], 0, &txs[i])
	}
	return l
}

// encoding is bt's encoding (read only).
func (l *benchLoad) encoding(bt *benchTx) []byte {
	end := bt.off + int64(bt.size)
	return l.arenas[bt.arena][bt.off:end:end]
}

// batchBody is the POST /v1/txs/batch body carrying txs, in the format of
// chain.EncodeTxs: the count, then each encoding.
func (l *benchLoad) batchBody(txs []benchTx) []byte {
	n := 4
	for i := range txs {
		n += int(txs[i].size)
	}
	e := chain.NewEncoder(n)
	e.Uint32(uint32(len(txs)))
	for i := range txs {
		e.Raw(l.encoding(&txs[i]))
	}
	return e.Bytes()
}

// benchUSCC returns a valid unified social credit code for serial i.
func benchUSCC(i int) (string, error) {
	first17 := fmt.Sprintf("91370100%09d", i%1_000_000_000)
	c, err := ledger.USCCCheckChar(first17)
	if err != nil {
		return "", err
	}
	return first17 + string(c), nil
}

// loadAdmins reads the node key of every department that owns a bench
// schema: in a devnet the node key is that department's admin account.
func loadAdmins(net *Devnet) (map[string]*chain.PrivateKey, []string, error) {
	admins := make(map[string]*chain.PrivateKey)
	var depts []string
	for _, n := range net.Nodes {
		if _, ok := benchSchemas[n.Department]; !ok {
			continue
		}
		k, err := keyfile.Load(filepath.Join(n.Home, "config", "node_key"))
		if err != nil {
			return nil, nil, fmt.Errorf("admin key of %s: %w", n.Department, err)
		}
		admins[n.Department] = k.Chain()
		depts = append(depts, n.Department)
	}
	if len(depts) == 0 {
		return nil, nil, fmt.Errorf("devnet has none of the departments %v that own public schemas", keys(benchSchemas))
	}
	return admins, depts, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// newOperators derives count operator keys from runID, spread round-robin
// over the departments. A fresh runID per bench run keeps keys unused
// (the ledger never reuses a key).
func newOperators(runID string, count int, depts []string) []*benchAccount {
	ops := make([]*benchAccount, count)
	for i := range ops {
		seed := sha256.Sum256([]byte(fmt.Sprintf("zwnode-bench/%s/%d", runID, i)))
		ops[i] = &benchAccount{key: chain.PrivateKeyFromSeed(seed[:]), dept: depts[i%len(depts)]}
	}
	return ops
}

// accountAddTxs builds the admins' account.add transactions for ops,
// starting at each admin's next nonce.
func accountAddTxs(chainID string, admins map[string]*chain.PrivateKey, next map[string]uint64, ops []*benchAccount) (*benchLoad, error) {
	out := make([]chain.Tx, 0, len(ops))
	for i, op := range ops {
		payload, err := json.Marshal(ledger.AccountAdd{PubKey: op.key.Public(), Role: ledger.RoleOperator, Name: fmt.Sprintf("bench operator %d", i)})
		if err != nil {
			return nil, err
		}
		tx := chain.Tx{ChainID: chainID, Nonce: next[op.dept], Type: ledger.TxAccountAdd, Payload: payload}
		next[op.dept]++
		tx.Sign(admins[op.dept])
		out = append(out, tx)
	}
	return newBenchLoad(out), nil
}

// adminNonces asks a node for each admin's next nonce.
func adminNonces(ctx context.Context, apiURL string, admins map[string]*chain.PrivateKey) (map[string]uint64, error) {
	next := make(map[string]uint64)
	for dept, k := range admins {
		pub := k.Public()
		var v struct {
			NextNonce uint64 `json:"next_nonce"`
		}
		if err := benchGetJSON(ctx, apiURL+"/v1/accounts/"+hex.EncodeToString(pub[:]), &v); err != nil {
			return nil, fmt.Errorf("admin account of %s: %w", dept, err)
		}
		next[dept] = v.NextNonce
	}
	return next, nil
}

// recordPayload is a record.put payload for dept near benchTxTarget bytes
// once signed and encoded.
func recordPayload(dept string, serial int, overhead int) ([]byte, error) {
	s := benchSchemas[dept]
	uscc, err := benchUSCC(serial)
	if err != nil {
		return nil, err
	}
	fields := s.fields
	if strings.Contains(fields, "%s") {
		base := len(fields) - 2 + len(s.schema) + len(uscc) + 40 // JSON framing of RecordPut
		pad := max(0, benchTxTarget-overhead-base)
		fields = fmt.Sprintf(fields, strings.Repeat("x", pad))
	}
	return json.Marshal(ledger.RecordPut{Schema: s.schema, Subject: "e:" + uscc, Fields: json.RawMessage(fields)})
}

// signLoad pre-signs total record.put transactions, interleaved over the
// accounts (tx i is from account i mod len(ops)), so any prefix of the
// stream keeps every account's nonces contiguous. Signing runs on all
// cores before the measurement starts, each core into an arena of its own.
func signLoad(chainID string, ops []*benchAccount, total int, serialBase int) (*benchLoad, error) {
	out := make([]benchTx, total)
	start := make([]uint64, len(ops))
	for i, op := range ops {
		start[i] = op.nonce
	}
	overhead := (&chain.Tx{ChainID: chainID, Type: ledger.TxRecordPut}).EncodedLen()
	workers := runtime.GOMAXPROCS(0)
	arenas := make([][]byte, workers)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			arenas[w] = make([]byte, 0, (total/workers+1)*(benchTxTarget+benchTxTarget/4))
			for i := w; i < total; i += workers {
				a := i % len(ops)
				op := ops[a]
				payload, err := recordPayload(op.dept, serialBase+i, overhead)
				if err != nil {
					errs[w] = err
					return
				}
				tx := chain.Tx{ChainID: chainID, Nonce: start[a] + uint64(i/len(ops)) + 1, Type: ledger.TxRecordPut, Payload: payload}
				tx.Sign(op.key)
				arenas[w], out[i] = appendTx(arenas[w], w, &tx)
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for a, op := range ops {
		op.nonce = start[a] + uint64((total-a+len(ops)-1)/len(ops))
	}
	return &benchLoad{arenas: arenas, txs: out}, nil
}

// splitByNode deals the stream out to n submitters: account a always goes
// to node a mod n, so each node sees each of its accounts' nonces in order.
func splitByNode(stream []benchTx, accounts, n int) [][]benchTx {
	out := make([][]benchTx, n)
	for i := range stream {
		node := (i % accounts) % n
		out[node] = append(out[node], stream[i])
	}
	return out
}

// runSeed is a per-run random-looking id from the clock, enough to keep
// operator keys fresh across runs on one devnet.
func runSeed() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(time.Now().UnixNano()))
	return hex.EncodeToString(b[:])
}
