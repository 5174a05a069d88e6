package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
)

const testChainID = "zw-node-test"

func testKey(t *testing.T, label string) (*chain.PrivateKey, crypto.PrivKey) {
	t.Helper()
	seed := chain.HashBytes([]byte("node-test/" + label))
	k := chain.PrivateKeyFromSeed(seed[:])
	lk, err := crypto.UnmarshalEd25519PrivateKey(k.Ed25519())
	if err != nil {
		t.Fatal(err)
	}
	return k, lk
}

// testGenesis is a one-authority chain: tax's node key is also its admin.
func testGenesis(t *testing.T, chainID string, key *chain.PrivateKey) *chain.Genesis {
	t.Helper()
	p := chain.DefaultParams()
	p.TimeoutCommitMS = 10
	g := &chain.Genesis{
		ChainID:     chainID,
		GenesisTime: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Authorities: []chain.Authority{{Department: "tax", Name: "Tax Bureau", PubKey: key.Public()}},
		Accounts:    []chain.GenesisAccount{{Department: "tax", Role: "admin", PubKey: key.Public()}},
		Params:      p,
		AppState:    oneAuthorityAppState(t),
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g
}

// oneAuthorityAppState is the example app state with the three other
// example departments taking part without consensus nodes.
func oneAuthorityAppState(t *testing.T) json.RawMessage {
	as := ledger.ExampleAppState()
	for _, d := range []string{"market", "hrss", "credit"} {
		as.Departments = append(as.Departments, ledger.DepartmentSpec{ID: d, Name: d})
	}
	return mustJSON(t, as)
}

// running is a node started by a test, on real Pebble and a real libp2p
// host on loopback.
type running struct {
	n      *Node
	cancel context.CancelFunc
	done   chan error
	url    string
}

func startNode(t *testing.T, g *chain.Genesis, dir string, key *chain.PrivateKey, lk crypto.PrivKey) *running {
	t.Helper()
	n, err := New(Options{
		Genesis:      g,
		Key:          key,
		P2PKey:       lk,
		DataDir:      dir,
		Listen:       []string{"/ip4/127.0.0.1/tcp/0"},
		APIListen:    "127.0.0.1:0",
		PseudonymKey: bytes.Repeat([]byte{7}, 32),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{n: n, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- n.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	waitUntil(t, "api up", func() bool { r.url = n.APIURL(); return r.url != "" })
	return r
}

func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run returned %v on shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("node did not stop within 20s")
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func recordTx(t *testing.T, chainID string, key *chain.PrivateKey, nonce uint64, serial int) chain.Tx {
	t.Helper()
	first17 := fmt.Sprintf("91370100%09d", serial)
	c, err := ledger.USCCCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(ledger.RecordPut{Schema: "tax.clearance", Subject: "e:" + first17 + string(c), Fields: json.RawMessage(`{"status":"clear"}`)})
	tx := chain.Tx{ChainID: chainID, Nonce: nonce, Type: ledger.TxRecordPut, Payload: payload}
	tx.Sign(key)
	return tx
}

func post(t *testing.T, url, contentType string, body []byte) (int, APIError, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e APIError
	var m map[string]any
	_ = json.Unmarshal(data, &e)
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, e, m
}

func getTxStatus(t *testing.T, url string, h chain.Hash) TxStatus {
	t.Helper()
	resp, err := http.Get(url + "/v1/txs/" + h.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st TxStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSingleNodeFinalizesTxAndRefusesBadInput(t *testing.T) {
	key, lk := testKey(t, "tax")
	g := testGenesis(t, testChainID, key)
	r := startNode(t, g, t.TempDir(), key, lk)

	tx := recordTx(t, testChainID, key, 1, 1)
	body, _ := json.Marshal(tx)
	if code, e, _ := post(t, r.url+"/v1/txs", "application/json", body); code != http.StatusAccepted {
		t.Fatalf("submit: HTTP %d %+v", code, e)
	}
	h := tx.Hash()
	waitUntil(t, "tx finalized", func() bool { return getTxStatus(t, r.url, h).Status == "finalized" })
	st := getTxStatus(t, r.url, h)
	if code := st.Result.(map[string]any)["code"]; code != float64(0) {
		t.Fatalf("finalized tx result code %v, want 0", code)
	}
	// The block holds the tx and its certificate verifies.
	blk, err := r.n.store.Block(context.Background(), st.Height)
	if err != nil || len(blk.Txs) == 0 || blk.Txs[st.Index].Hash() != h {
		t.Fatalf("block %d does not hold the tx at index %d: %v", st.Height, st.Index, err)
	}
	c, err := r.n.store.Commit(context.Background(), st.Height)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(testChainID, g.AuthoritySet(), st.Height, blk.Hash()); err != nil {
		t.Fatalf("stored certificate: %v", err)
	}
	// The API serves the block whole, or without its txs on ?txs=false.
	blockURL := fmt.Sprintf("%s/v1/blocks/%d", r.url, st.Height)
	var full, bare BlockResponse
	getJSON(t, blockURL, &full)
	getJSON(t, blockURL+"?txs=false", &bare)
	if full.Hash != blk.Hash() || full.TxCount != len(blk.Txs) || len(full.Block.Txs) != len(blk.Txs) || full.Block.Txs[st.Index].Hash() != h {
		t.Fatalf("GET block: hash %s, tx_count %d, %d txs; want %s and %d", full.Hash.Short(), full.TxCount, len(full.Block.Txs), blk.Hash().Short(), len(blk.Txs))
	}
	if bare.Hash != blk.Hash() || bare.TxCount != len(blk.Txs) || len(bare.Block.Txs) != 0 || bare.Block.Header.Hash() != blk.Hash() || bare.Commit.BlockHash != blk.Hash() {
		t.Fatalf("GET block ?txs=false: hash %s, tx_count %d, %d txs", bare.Hash.Short(), bare.TxCount, len(bare.Block.Txs))
	}
	if resp, err := http.Get(blockURL + "?txs=no"); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("GET block ?txs=no: %v %v, want HTTP 400", resp, err)
	} else {
		resp.Body.Close()
	}

	wrongChain := recordTx(t, "other-chain", key, 2, 2)
	badSig := recordTx(t, testChainID, key, 2, 3)
	badSig.Signature[0] ^= 1
	replay := tx
	// The key's next nonce is 2; the mempool holds 256 nonces per account.
	farAhead := recordTx(t, testChainID, key, 2+256, 4)
	cases := []struct {
		name, contentType string
		body              []byte
		status            int
		code              string
	}{
		{"garbage json", "application/json", []byte(`{"chain_id":`), 400, "malformed_tx"},
		{"unknown field", "application/json", []byte(`{"chain_idx":"a"}`), 400, "malformed_tx"},
		{"garbage binary", "application/octet-stream", []byte{1, 2, 3}, 400, "malformed_tx"},
		{"wrong chain", "application/json", mustJSON(t, wrongChain), 400, "wrong_chain"},
		{"bad signature", "application/json", mustJSON(t, badSig), 400, "bad_signature"},
		{"replayed nonce", "application/json", mustJSON(t, replay), 400, "nonce_too_low"},
		{"nonce beyond the window", "application/json", mustJSON(t, farAhead), 400, "nonce_too_high"},
		{"oversized", "application/json", bytes.Repeat([]byte("x"), maxTxBody+1), 413, "too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := r.n.mempool.Size()
			code, e, _ := post(t, r.url+"/v1/txs", tc.contentType, tc.body)
			if code != tc.status || e.Code != tc.code || e.Message == "" {
				t.Fatalf("HTTP %d %+v, want %d %s with a message", code, e, tc.status, tc.code)
			}
			if after, _ := r.n.mempool.Size(); after != before {
				t.Fatalf("mempool grew from %d to %d on a refused tx", before, after)
			}
		})
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRestartResumesHeadAndRefusesOtherGenesis(t *testing.T) {
	key, lk := testKey(t, "tax")
	g := testGenesis(t, testChainID, key)
	dir := t.TempDir()
	r := startNode(t, g, dir, key, lk)
	waitUntil(t, "height 3", func() bool { return r.n.chainState().height >= 3 })
	r.stop(t)
	head := r.n.chainState()

	r2 := startNode(t, g, dir, key, lk)
	if got := r2.n.chainState(); got.height < head.height || got.hash != head.hash && got.height == head.height {
		t.Fatalf("restart at height %d (%s), stopped at %d (%s)", got.height, got.hash.Short(), head.height, head.hash.Short())
	}
	b, err := r2.n.store.Block(context.Background(), head.height)
	if err != nil || b.Hash() != head.hash {
		t.Fatalf("block %d after restart: %v", head.height, err)
	}
	waitUntil(t, "progress after restart", func() bool { return r2.n.chainState().height >= head.height+2 })
	if rec, err := r2.n.loadSignRecord(); err != nil || rec.sign == nil || rec.sign.Height < head.height {
		t.Fatalf("sign-state after signing %d heights: %+v, %v", head.height, rec, err)
	} else if rec.valid != nil && rec.valid.Height < rec.sign.Height {
		t.Fatalf("stored sign record keeps the valid value of height %d at height %d", rec.valid.Height, rec.sign.Height)
	}
	r2.stop(t)

	other := testGenesis(t, "zw-other-chain", key)
	_, err = New(Options{Genesis: other, Key: key, P2PKey: lk, DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "genesis") {
		t.Fatalf("opening a store of another chain: %v, want a genesis mismatch error", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("unexpected cancel")
	}
}
