package e2e

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/node"
	"github.com/zwnode/zwnode/node/keyfile"
)

// TestLedgerReadNeedsAnAccessLogThatWillBeFinalized checks that a granted
// department cannot read a confidential record on the strength of an
// access.log that can never be finalized: one parked in the mempool behind
// a nonce gap. The node serves reads for pending access.log transactions,
// so such a read would leave no entry on chain.
func TestLedgerReadNeedsAnAccessLogThatWillBeFinalized(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	c := newCluster(t, 4)
	c.startAll()
	c.waitHeight(2, 30*time.Second, all(4)...)
	dir := t.TempDir()
	uscc := testUSCC(t, 99)
	c.inParallel(map[string][][]string{
		"tax":    {{"tx", "dept", "gen-enc-key", "--out", filepath.Join(dir, "tax.key")}},
		"market": {{"tx", "dept", "gen-enc-key", "--out", filepath.Join(dir, "market.key")}},
	})
	c.tx("tax", "grant", "--schema", "tax.filing", "--department", "market")
	data := filepath.Join(dir, "filing.json")
	if err := os.WriteFile(data, []byte(`{"secret":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c.tx("tax", "record", "put", "--schema", "tax.filing", "--uscc", uscc, "--data-file", data)

	m := c.node("market")
	k, err := keyfile.Load(c.accountKey("market"))
	if err != nil {
		t.Fatal(err)
	}
	pk := k.PublicKey()
	var acct node.AccountView
	c.mustJSON(t, m, "/v1/accounts/"+hex.EncodeToString(pk[:]), &acct)
	payload, _ := json.Marshal(ledger.AccessLog{Subject: "e:" + uscc, Schema: "tax.filing", Version: 1, Purpose: "gap"})
	tx := chain.Tx{ChainID: c.net.ChainID, Nonce: acct.NextNonce + 2, Type: ledger.TxAccessLog, Payload: payload}
	tx.Sign(k.Chain())
	body, _ := json.Marshal(tx)
	if code, err := c.post(m, "/v1/txs", "application/json", body, nil); err != nil || code != http.StatusAccepted {
		t.Skipf("node refused the gapped access.log at submission (HTTP %d %v): the bypass is closed there", code, err)
	}
	path := "/v1/records/tax.filing/e:" + uscc + "?access_tx=" + tx.Hash().String()
	req, _ := http.NewRequest(http.MethodGet, c.net.Nodes[m].APIURL+path, nil)
	req.Header.Set("Authorization", node.AuthHeader(c.net.ChainID, k.Chain(), http.MethodGet, path, nil, time.Now()))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("the node served the record for an access.log parked behind a nonce gap (it will never be finalized, so the read is not on chain)")
	}
}
