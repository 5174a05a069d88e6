package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// A batch answer's back-pressure refusals (mempool_full, nonce_too_high)
// come back for a retry in their order; a tx refused for good is counted
// and forgotten, an accepted one acknowledged.
func TestSubmitterRetriesBackPressure(t *testing.T) {
	codes := []string{"", "nonce_too_high", "bad_signature", "mempool_full"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		txs, err := chain.DecodeTxs(body, 100)
		if err != nil || len(txs) != len(codes) {
			http.Error(w, "bad batch", http.StatusBadRequest)
			return
		}
		var res batchResult
		res.Results = make([]struct {
			Hash  chain.Hash `json:"hash"`
			Error string     `json:"error"`
			Code  string     `json:"code"`
		}, len(txs))
		for i := range txs {
			res.Results[i].Hash, res.Results[i].Code = txs[i].Hash(), codes[i]
			if codes[i] != "" {
				res.Results[i].Error = "refused: " + codes[i]
			}
		}
		_ = json.NewEncoder(w).Encode(res)
	}))
	defer srv.Close()

	acct := &benchAccount{key: chain.PrivateKeyFromSeed(make([]byte, 32))}
	txs := make([]chain.Tx, len(codes))
	for i := range txs {
		txs[i] = chain.Tx{ChainID: "zw-test", Account: acct.key.Public(), Nonce: uint64(i + 1), Type: "record.put", Payload: []byte(`{}`)}
		txs[i].Sign(acct.key)
	}
	load := newBenchLoad(txs)
	todo := load.txs
	st := &submitStats{}
	s := &submitter{url: srv.URL, load: load, tr: newTracker(1), st: st, accounts: map[chain.PublicKey]*benchAccount{acct.key.Public(): acct}}
	retry := s.post(context.Background(), todo)
	if len(retry) != 2 || retry[0].hash != todo[1].hash || retry[1].hash != todo[3].hash {
		t.Fatalf("retry %d txs, want nonces 2 and 4 in order", len(retry))
	}
	if st.accepted.Load() != 1 || st.fullRetry.Load() != 2 || st.rejected.Load() != 1 {
		t.Fatalf("accepted %d, retried %d, rejected %d; want 1, 2, 1", st.accepted.Load(), st.fullRetry.Load(), st.rejected.Load())
	}
	if got := acct.acked.Load(); got != 1 {
		t.Fatalf("acked nonce %d, want 1", got)
	}
}
