package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/node/keyfile"
)

// recordSchemas gives each devnet department a public schema it owns and a
// valid record for it.
var recordSchemas = map[string]struct {
	schema string
	fields string
}{
	"tax":    {"tax.clearance", `{"status":"clear","period":"2026Q3","arrears_fen":0}`},
	"market": {"market.business_license", `{"name":"Jinan Spring Tech Co.","status":"active"}`},
	"hrss":   {"hrss.registration", `{"status":"registered","employees":12}`},
	"credit": {"credit.rating", `{"level":"A","score":95}`},
}

// testUSCC returns a valid unified social credit code for serial i.
func testUSCC(t *testing.T, i int) string {
	t.Helper()
	first17 := fmt.Sprintf("91370100%09d", i)
	c, err := ledger.USCCCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}

// writer signs record.put transactions for one department's admin key.
type writer struct {
	key    *chain.PrivateKey
	dept   string
	nonce  uint64
	serial int
}

func (c *cluster) writers(t *testing.T) []*writer {
	t.Helper()
	var ws []*writer
	for _, n := range c.net.Nodes {
		if _, ok := recordSchemas[n.Department]; !ok {
			continue
		}
		k, err := keyfile.Load(filepath.Join(n.Home, "config", "node_key"))
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, &writer{key: k.Chain(), dept: n.Department})
	}
	return ws
}

// next signs the writer's next record.put.
func (w *writer) next(t *testing.T, chainID string) chain.Tx {
	t.Helper()
	rs := recordSchemas[w.dept]
	w.serial++
	w.nonce++
	payload, err := json.Marshal(ledger.RecordPut{
		Schema:  rs.schema,
		Subject: "e:" + testUSCC(t, w.serial),
		Fields:  json.RawMessage(rs.fields),
	})
	if err != nil {
		t.Fatal(err)
	}
	tx := chain.Tx{ChainID: chainID, Nonce: w.nonce, Type: ledger.TxRecordPut, Payload: payload}
	tx.Sign(w.key)
	return tx
}

// submitBatch posts txs to node i and returns the hashes it accepted.
func (c *cluster) submitBatch(t *testing.T, i int, txs []chain.Tx) []chain.Hash {
	t.Helper()
	var resp struct {
		Results []struct {
			Hash  chain.Hash `json:"hash"`
			Error string     `json:"error"`
		} `json:"results"`
	}
	code, err := c.post(i, "/v1/txs/batch", "application/octet-stream", chain.EncodeTxs(txs), &resp)
	if err != nil || code != http.StatusOK {
		t.Fatalf("submit batch to node %d: HTTP %d %v", i, code, err)
	}
	var ok []chain.Hash
	for _, r := range resp.Results {
		if r.Error != "" {
			t.Fatalf("node %d refused a valid tx: %s", i, r.Error)
		}
		ok = append(ok, r.Hash)
	}
	return ok
}

type txStatus struct {
	Status string `json:"status"`
	Height uint64 `json:"height"`
	Result struct {
		Code uint32 `json:"code"`
	} `json:"result"`
}

func (c *cluster) txStatus(i int, h chain.Hash) (txStatus, error) {
	var st txStatus
	_, err := c.get(i, "/v1/txs/"+h.String(), &st)
	return st, err
}
