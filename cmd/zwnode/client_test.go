package main

import (
	"bytes"
	"crypto/ecdh"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
	"github.com/zwnode/zwnode/node"
	"github.com/zwnode/zwnode/node/keyfile"
)

const fakeChainID = "zw-fake"

// fakeAPI is a node API stand-in that checks what the client sends as a
// node would (chain id, nonce, signatures, signed requests) and records it.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	dept      string // department of every account
	nextNonce uint64
	txs       []chain.Tx
	polls     map[chain.Hash]int
	result    uint32         // ledger code of finalized txs
	submitErr *node.APIError // when set, POST /v1/txs answers 400 with it
	schemas   map[string]ledger.Schema
	recips    []sharing.RecipientKey
	envelope  *sharing.Envelope // served by GET /v1/records for confidential reads
	pseudoKey []byte
	takeNonce int      // answer this many submissions "duplicate", as if another run took the nonce
	drop      bool     // accept submissions, then forget them (a dropped tx)
	finalOnly bool     // serve confidential reads only once the access.log was reported finalized
	requests  []string // method and request URI of every request
	bodies    []string // bodies of every POST
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{t: t, dept: "tax", nextNonce: 7, polls: map[chain.Hash]int{}, pseudoKey: []byte("fake pseudonym key 0123456789abc"),
		schemas: map[string]ledger.Schema{}}
	for _, s := range ledger.ExampleAppState().Schemas {
		f.schemas[s.Name] = s
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		writeFake(w, 200, node.Status{ChainID: fakeChainID})
	})
	mux.HandleFunc("GET /v1/accounts/{key}", f.account)
	mux.HandleFunc("POST /v1/txs", f.submit)
	mux.HandleFunc("GET /v1/txs/{hash}", f.txStatus)
	mux.HandleFunc("GET /v1/schemas/{name}", func(w http.ResponseWriter, r *http.Request) {
		s, ok := f.schemas[r.PathValue("name")]
		if !ok {
			writeFake(w, 404, node.APIError{Code: "not_found", Message: "no schema " + r.PathValue("name")})
			return
		}
		writeFake(w, 200, s)
	})
	mux.HandleFunc("GET /v1/schemas/{name}/recipients", func(w http.ResponseWriter, r *http.Request) { writeFake(w, 200, f.recips) })
	mux.HandleFunc("POST /v1/pseudonym", f.pseudonym)
	mux.HandleFunc("GET /v1/subjects/{subject}/records", func(w http.ResponseWriter, r *http.Request) {
		writeFake(w, 200, []ledger.RecordVersion{{Schema: "tax.filing", Subject: r.PathValue("subject"), Version: 1}})
	})
	mux.HandleFunc("GET /v1/records/{schema}/{subject}", f.record)
	mux.HandleFunc("GET /v1/blocks/{height}", func(w http.ResponseWriter, r *http.Request) {
		writeFake(w, 200, map[string]any{"hash": "00", "tx_count": 1, "txs_param": r.URL.Query().Get("txs")})
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func writeFake(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// verifyAuth checks a signed request exactly as node.authenticate does.
func (f *fakeAPI) verifyAuth(r *http.Request) (chain.PublicKey, bool) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rest, ok := strings.CutPrefix(r.Header.Get("Authorization"), "ZW ")
	parts := strings.Split(rest, ":")
	if !ok || len(parts) != 3 {
		return chain.PublicKey{}, false
	}
	pk, err1 := chain.ParsePublicKey(parts[0])
	ms, err2 := strconv.ParseInt(parts[1], 10, 64)
	var sig chain.Signature
	err3 := sig.UnmarshalText([]byte(parts[2]))
	if err1 != nil || err2 != nil || err3 != nil {
		return chain.PublicKey{}, false
	}
	return pk, pk.Verify(node.AuthSignBytes(fakeChainID, r.Method, r.URL.RequestURI(), ms, body), sig)
}

func (f *fakeAPI) account(w http.ResponseWriter, r *http.Request) {
	pk, err := chain.ParsePublicKey(r.PathValue("key"))
	if err != nil {
		writeFake(w, 400, node.APIError{Code: "bad_key", Message: err.Error(), Field: "key"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	writeFake(w, 200, node.AccountView{Account: &ledger.Account{PubKey: pk, Department: f.dept, Role: ledger.RoleAdmin, Active: true}, NextNonce: f.nextNonce})
}

func (f *fakeAPI) submit(w http.ResponseWriter, r *http.Request) {
	var tx chain.Tx
	if err := json.NewDecoder(r.Body).Decode(&tx); err != nil {
		writeFake(w, 400, node.APIError{Code: "malformed_tx", Message: err.Error()})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, string(tx.Payload))
	switch {
	case f.submitErr != nil:
		writeFake(w, 400, f.submitErr)
	case tx.ChainID != fakeChainID:
		writeFake(w, 400, node.APIError{Code: "wrong_chain", Message: "chain " + tx.ChainID})
	case tx.VerifySignature() != nil:
		writeFake(w, 400, node.APIError{Code: "bad_signature", Message: "signature does not verify", Field: "signature"})
	case tx.Nonce != f.nextNonce:
		writeFake(w, 400, node.APIError{Code: "invalid_tx", Message: "wrong nonce " + strconv.FormatUint(tx.Nonce, 10), Field: "nonce"})
	case f.takeNonce > 0:
		f.takeNonce--
		f.nextNonce++
		writeFake(w, 400, node.APIError{Code: "duplicate", Message: "nonce already pending"})
	case f.drop:
		writeFake(w, 202, map[string]any{"hash": tx.Hash(), "status": "pending"})
	default:
		f.nextNonce++
		f.txs = append(f.txs, tx)
		writeFake(w, 202, map[string]any{"hash": tx.Hash(), "status": "pending"})
	}
}

// txStatus answers pending on the first poll of a hash, then finalized.
func (f *fakeAPI) txStatus(w http.ResponseWriter, r *http.Request) {
	h, err := chain.ParseHash(r.PathValue("hash"))
	if err != nil {
		writeFake(w, 400, node.APIError{Code: "bad_hash", Message: err.Error()})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, tx := range f.txs {
		if tx.Hash() != h {
			continue
		}
		f.polls[h]++
		if f.polls[h] == 1 {
			writeFake(w, 200, node.TxStatus{Hash: h, Status: "pending"})
			return
		}
		writeFake(w, 200, node.TxStatus{Hash: h, Status: "finalized", Height: uint64(10 + i),
			Result: ledger.TxResult{Code: f.result, Message: ledger.CodeName(f.result)}})
		return
	}
	writeFake(w, 404, node.TxStatus{Hash: h, Status: "unknown"})
}

func (f *fakeAPI) pseudonym(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.verifyAuth(r); !ok {
		writeFake(w, 401, node.APIError{Code: "unauthorized", Message: "bad signature"})
		return
	}
	var req struct {
		ResidentID string `json:"resident_id"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	f.bodies = append(f.bodies, req.ResidentID)
	f.mu.Unlock()
	s, err := ledger.Pseudonym(f.pseudoKey, req.ResidentID)
	if err != nil {
		writeFake(w, 400, node.APIError{Code: "invalid_resident_id", Message: err.Error(), Field: "resident_id"})
		return
	}
	writeFake(w, 200, map[string]string{"subject": s})
}

// record serves the envelope of a confidential read only to a signed
// request naming this account's access.log for it.
func (f *fakeAPI) record(w http.ResponseWriter, r *http.Request) {
	pk, ok := f.verifyAuth(r)
	if !ok {
		writeFake(w, 401, node.APIError{Code: "unauthorized", Message: "sign the request"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h, err := chain.ParseHash(r.URL.Query().Get("access_tx"))
	logged := false
	for _, tx := range f.txs {
		logged = logged || (err == nil && tx.Hash() == h && tx.Type == ledger.TxAccessLog && tx.Account == pk)
	}
	if !logged {
		writeFake(w, 403, node.APIError{Code: "forbidden", Message: "no access.log"})
		return
	}
	// Like the node: a pending log gets 409, a log that failed 403.
	if f.finalOnly && f.polls[h] < 2 {
		writeFake(w, 409, node.APIError{Code: "access_log_pending", Message: "access.log not finalized"})
		return
	}
	if f.result != ledger.CodeOK {
		writeFake(w, 403, node.APIError{Code: "forbidden", Message: "access.log failed"})
		return
	}
	v := ledger.RecordVersion{Schema: r.PathValue("schema"), Subject: r.PathValue("subject"), Version: 1, Department: "tax", Envelope: f.envelope}
	writeFake(w, 200, node.RecordResponse{Latest: &v, History: []ledger.RecordVersion{v}})
}

// keyFile writes a deterministic account key file and returns its path.
func keyFile(t *testing.T, label string) (string, *keyfile.Key) {
	t.Helper()
	k := fixedKey(t, label)
	p := filepath.Join(t.TempDir(), label+".key")
	if err := keyfile.Save(p, k); err != nil {
		t.Fatal(err)
	}
	return p, k
}

// encKeyFile writes a deterministic X25519 key file.
func encKeyFile(t *testing.T, label string) (string, *ecdh.PrivateKey) {
	t.Helper()
	var s keyfile.Secret
	h := chain.HashBytes([]byte("enc key: " + label))
	copy(s[:], h[:])
	p := filepath.Join(t.TempDir(), label+"-enc.key")
	if err := keyfile.SaveSecret(p, s); err != nil {
		t.Fatal(err)
	}
	k, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		t.Fatal(err)
	}
	return p, k
}

func (f *fakeAPI) sent() []chain.Tx {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chain.Tx(nil), f.txs...)
}
