package e2e

import (
	"bytes"
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
	"github.com/zwnode/zwnode/node"
	"github.com/zwnode/zwnode/node/keyfile"
)

// ledgerRun is the state one TestLedgerEndToEnd run builds up.
type ledgerRun struct {
	c        *cluster
	dir      string // client-side files: enc keys, forms, plaintexts
	uscc     string
	subject  string // e:<uscc>
	rid      string // a resident ID number, canonical spelling
	personal string // its pseudonym, p:…
}

// TestLedgerEndToEnd drives the data-sharing ledger on a 4-node devnet of
// real processes through the zwnode client commands and the HTTP API:
// an enterprise application approved by automatic checks plus one manual
// attestation, a confidential record readable only by the granted
// department with the read on chain, a credit event moving a level, and a
// resident ID number that never reaches any node's disk.
func TestLedgerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	c := newCluster(t, 4)
	c.startAll()
	c.waitHeight(2, 30*time.Second, all(4)...)
	r := &ledgerRun{c: c, dir: t.TempDir(), uscc: testUSCC(t, 4242), rid: residentIDWithX(t)}
	r.subject = "e:" + r.uscc

	// Independent set-up, one goroutine per department: records the
	// automatic checks read, and each department's X25519 key.
	c.inParallel(map[string][][]string{
		"tax": {
			{"tx", "record", "put", "--schema", "tax.clearance", "--uscc", r.uscc, "--field", "status=clear", "--field", "arrears_fen=0"},
			{"tx", "dept", "gen-enc-key", "--out", r.encKey("tax")},
		},
		"hrss": {
			{"tx", "record", "put", "--schema", "hrss.registration", "--uscc", r.uscc, "--field", "status=registered", "--field", "employees=12"},
			{"tx", "dept", "gen-enc-key", "--out", r.encKey("hrss")},
		},
		"market": {{"tx", "dept", "gen-enc-key", "--out", r.encKey("market")}},
	})

	t.Run("accounts and schemas", r.accountsAndSchemas)
	t.Run("concurrent clients share a key", r.concurrentClients)
	t.Run("application", r.application)
	t.Run("confidential", r.confidential)
	t.Run("credit", r.credit)
	t.Run("governance", r.governance)
	t.Run("resident id stays off disk", r.residentPrivacy)
}

func (r *ledgerRun) encKey(dept string) string { return filepath.Join(r.dir, dept+"-enc.key") }

func (r *ledgerRun) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// accountsAndSchemas: tax's admin registers a schema and adds an operator
// account, which writes a record until the admin removes it.
func (r *ledgerRun) accountsAndSchemas(t *testing.T) {
	c := r.c
	clerk := filepath.Join(r.dir, "clerk.key")
	if res := c.run("keys", "new", clerk); res.err != nil {
		t.Fatalf("keys new: %v %s", res.err, res.stderr)
	}
	k, err := keyfile.Load(clerk)
	if err != nil {
		t.Fatal(err)
	}
	c.tx("tax", "schema", "register", "--name", "tax.invoice", "--title", "发票 invoice",
		"--field", "number:string:required", "--field", "amount_fen:int")
	c.tx("tax", "account", "add", "--role", "operator", "--pub-key", k.PeerID().String(), "--name", "service hall clerk")
	put := []string{"tx", "record", "put", "--schema", "tax.invoice", "--uscc", r.uscc, "--field", "number=INV-0001", "--field", "amount_fen=125000", "--wait"}
	if res := c.cliAs(clerk, "tax", put...); res.err != nil {
		t.Fatalf("operator record put: %v %s", res.err, res.stderr)
	}
	var rec node.RecordResponse
	c.waitFor("the invoice on every node", 20*time.Second, func() bool {
		for i := range c.net.Nodes {
			if code, err := c.get(i, "/v1/records/tax.invoice/"+r.subject, &rec); err != nil || code != http.StatusOK {
				return false
			}
		}
		return true
	})
	if rec.Latest.Writer != k.PublicKey() || string(rec.Latest.Fields) != `{"amount_fen":125000,"number":"INV-0001"}` {
		t.Errorf("invoice record: writer %s fields %s", rec.Latest.Writer.Short(), rec.Latest.Fields)
	}
	// The schema's records by block time: the invoice, then nothing after it.
	var listed []ledger.RecordVersion
	if code, err := c.get(1, "/v1/schemas/tax.invoice/records", &listed); err != nil || code != http.StatusOK || len(listed) != 1 || listed[0].TxHash != rec.Latest.TxHash || listed[0].Subject != r.subject {
		t.Errorf("tax.invoice records: HTTP %d %v %+v, want the invoice", code, err, listed)
	}
	later := fmt.Sprintf("/v1/schemas/tax.invoice/records?from=%d", rec.Latest.Time+1)
	if code, err := c.get(1, later, &listed); err != nil || code != http.StatusOK || len(listed) != 0 {
		t.Errorf("tax.invoice records after the invoice: HTTP %d %v %+v, want none", code, err, listed)
	}
	if code, err := c.get(1, "/v1/schemas/tax.invoice/records?from=yesterday", nil); err != nil || code != http.StatusBadRequest {
		t.Errorf("records with from=yesterday: HTTP %d %v, want 400", code, err)
	}
	if out := c.mustCLI("market", "query", "published", "tax.invoice", "--to", "2999-01-01T00:00:00+08:00"); !strings.Contains(out, "INV-0001") {
		t.Errorf("query published tax.invoice: %s, want the invoice", out)
	}
	// The operator may not register schemas (admin only): the node refuses
	// the tx at submission and nothing changes.
	res := c.cliAs(clerk, "tax", "tx", "schema", "register", "--name", "tax.receipt", "--field", "n:string", "--wait")
	if res.err == nil || !strings.Contains(res.stderr, "unauthorized") {
		t.Errorf("operator schema register: %v %s; want unauthorized", res.err, res.stderr)
	}
	if code, err := c.get(c.node("tax"), "/v1/schemas/tax.receipt", nil); err != nil || code != http.StatusNotFound {
		t.Errorf("schema tax.receipt after a refused register: HTTP %d %v, want 404", code, err)
	}
	c.tx("tax", "account", "remove", "--pub-key", k.PublicKey().String())
	if res := c.cliAs(clerk, "tax", put...); res.err == nil || !strings.Contains(res.stderr, "removed") {
		t.Errorf("a removed account could still write: %v %s", res.err, res.stderr)
	}
}

// concurrentClients: several client runs with one key at once each get a
// nonce of their own (a run whose nonce was taken retries with a new one).
func (r *ledgerRun) concurrentClients(t *testing.T) {
	c := r.c
	const runs = 4
	results := make(chan cliResult, runs)
	for i := 0; i < runs; i++ {
		uscc := testUSCC(t, 5000+i)
		go func() {
			results <- c.cli("tax", "tx", "record", "put", "--schema", "tax.clearance", "--uscc", uscc,
				"--field", "status=clear", "--wait", "--json")
		}()
	}
	hashes := map[string]bool{}
	for i := 0; i < runs; i++ {
		res := <-results
		var o txOut
		if res.err != nil || json.Unmarshal([]byte(res.stdout), &o) != nil || o.Code != 0 {
			t.Errorf("concurrent put: %v %s %s", res.err, res.stdout, res.stderr)
			continue
		}
		hashes[o.Hash] = true
	}
	if len(hashes) != runs {
		t.Errorf("%d distinct finalized txs, want %d", len(hashes), runs)
	}
	c.catchUp()
}

// application: enterprise.establishment with tax and hrss records present
// (decided automatically) and market's name check attested by hand.
func (r *ledgerRun) application(t *testing.T) {
	c := r.c
	form := r.file(t, "form.txt", "企业设立登记申请书 / Jinan Spring Tech Co.")
	// The service hall (tax's node here) submits; the applicant's ID is
	// given in lower case, which must name the same person.
	sub := c.tx("tax", "app", "submit", "--type", "enterprise.establishment", "--uscc", r.uscc,
		"--applicant-id", strings.ToLower(r.rid), "--form-file", form, "--access-code", "JN-7Q4K-2M9X")
	if len(sub.ApplicationID) != 32 || sub.AccessCode != "JN-7Q4K-2M9X" {
		t.Fatalf("submit reported %+v", sub)
	}
	var app ledger.Application
	c.mustJSON(t, 0, "/v1/applications/"+sub.ApplicationID+"?code=JN-7Q4K-2M9X", &app)
	if app.Status != ledger.AppVerifying {
		t.Fatalf("before attestation: status %s, want %s; checks %+v", app.Status, ledger.AppVerifying, app.Checks)
	}
	want := map[string]string{"tax.no_arrears": ledger.CheckPassed, "hrss.registration": ledger.CheckPassed, "market.name": ledger.CheckPending}
	for _, ck := range app.Checks {
		if ck.Status != want[ck.ID] {
			t.Errorf("check %s is %s, want %s", ck.ID, ck.Status, want[ck.ID])
		}
	}
	r.personal = app.Applicant
	if err := ledger.ValidateSubject(r.personal); err != nil || !strings.HasPrefix(r.personal, "p:") {
		t.Fatalf("applicant %q is not a person pseudonym: %v", r.personal, err)
	}

	c.tx("market", "app", "attest", "--id", sub.ApplicationID, "--check", "market.name", "--pass")

	for i := range c.net.Nodes {
		c.waitFor("application approved on node "+c.net.Nodes[i].Department, 20*time.Second, func() bool {
			var a ledger.Application
			code, err := c.get(i, "/v1/applications/"+sub.ApplicationID+"?code=JN-7Q4K-2M9X", &a)
			return err == nil && code == http.StatusOK && a.Status == ledger.AppApproved
		})
		var e node.APIError
		code, err := c.getErr(i, "/v1/applications/"+sub.ApplicationID+"?code=JN-7Q4K-2M9Y", &e)
		if err != nil || code != http.StatusForbidden || e.Code != "access_denied" {
			t.Errorf("node %d: wrong access code answered HTTP %d %+v %v, want 403 access_denied", i, code, e, err)
		}
	}
	// The CLI shows the same to the applicant, and the decision counts in
	// the statistics.
	out := c.mustCLI("credit", "query", "app", sub.ApplicationID, "--code", "JN-7Q4K-2M9X")
	if !strings.Contains(out, "status       approved") {
		t.Errorf("query app printed:\n%s", out)
	}
	var stats ledger.AppStats
	if err := json.Unmarshal([]byte(c.mustCLI("credit", "query", "app-stats")), &stats); err != nil {
		t.Fatal(err)
	}
	if len(stats.ByType) != 1 || stats.ByType[0].Key != "enterprise.establishment" || stats.ByType[0].Count != 1 {
		t.Errorf("app-stats by type: %+v", stats.ByType)
	}
}

// confidential: tax.filing sealed to tax and the granted market; market
// reads it with an access.log visible from every node; hrss cannot.
func (r *ledgerRun) confidential(t *testing.T) {
	c := r.c
	c.tx("tax", "grant", "--schema", "tax.filing", "--department", "market")
	plaintext := `{"period":"2026Q3","revenue_fen":981234500,"tax_due_fen":12345600}`
	put := c.tx("tax", "record", "put", "--schema", "tax.filing", "--uscc", r.uscc, "--data-file", r.file(t, "filing.json", plaintext))
	if put.Subject != r.subject {
		t.Fatalf("record put subject %q, want %q", put.Subject, r.subject)
	}

	got := c.mustCLI("market", "query", "record", "--schema", "tax.filing", "--uscc", r.uscc,
		"--enc-key", r.encKey("market"), "--purpose", "business licence review", "--wait")
	if got != plaintext {
		t.Fatalf("market decrypted %q, want %q", got, plaintext)
	}
	for i := range c.net.Nodes {
		c.waitFor("market's read in the access history on node "+c.net.Nodes[i].Department, 20*time.Second, func() bool {
			var entries []ledger.AccessEntry
			if code, err := c.get(i, "/v1/subjects/"+r.subject+"/access", &entries); err != nil || code != http.StatusOK {
				return false
			}
			for _, e := range entries {
				if e.Reader == "market" && e.Schema == "tax.filing" && e.Version == 1 && e.Confidential && e.Purpose == "business licence review" {
					return true
				}
			}
			return false
		})
	}

	// hrss holds no grant: the node will not hand it the envelope, and its
	// access.log is refused on chain (code 3, unauthorized).
	res := c.cli("hrss", "query", "record", "--schema", "tax.filing", "--uscc", r.uscc, "--enc-key", r.encKey("hrss"), "--purpose", "curiosity")
	if res.err == nil || !strings.Contains(res.stderr, "forbidden") || !strings.Contains(res.stderr, "code 3") || res.stdout != "" {
		t.Errorf("hrss read without a grant: err %v, stdout %q, stderr %q; want forbidden, its access.log failed with code 3, and no output", res.err, res.stdout, res.stderr)
	}
	res = c.cli("hrss", "query", "record", "--schema", "tax.filing", "--uscc", r.uscc, "--enc-key", r.encKey("hrss"), "--purpose", "curiosity", "--wait")
	if res.err == nil || !strings.Contains(res.stderr, "code 3") {
		t.Errorf("hrss access.log: err %v, stderr %q; want it finalized with code 3", res.err, res.stderr)
	}
	// Listing the confidential schema's records takes the owner's signed
	// request: anyone else reads one record at a time, logged.
	if code, err := c.get(c.node("market"), "/v1/schemas/tax.filing/records", nil); err != nil || code != http.StatusUnauthorized {
		t.Errorf("unsigned listing of tax.filing: HTTP %d %v, want 401", code, err)
	}
	if code := r.getAs(t, "market", "/v1/schemas/tax.filing/records", nil); code != http.StatusForbidden {
		t.Errorf("market's signed listing of tax.filing: HTTP %d, want 403 (it holds a grant, but reads record by record)", code)
	}
	var listed []ledger.RecordVersion
	if code := r.getAs(t, "tax", "/v1/schemas/tax.filing/records", &listed); code != http.StatusOK || len(listed) != 1 || listed[0].Envelope == nil || listed[0].Subject != r.subject {
		t.Errorf("owner's listing of tax.filing: HTTP %d %+v, want the filing with its envelope", code, listed)
	}
	// Even holding the ciphertext (fetched here as the owner), hrss's key
	// opens nothing, while market's does.
	env := r.envelopeAsOwner(t)
	aad := sharing.RecordAAD("tax.filing", r.subject)
	if _, err := sharing.Open(env, "hrss", loadEnc(t, r.encKey("hrss")), aad); !errors.Is(err, sharing.ErrNotRecipient) {
		t.Errorf("hrss opened the envelope: err %v, want ErrNotRecipient", err)
	}
	if pt, err := sharing.Open(env, "market", loadEnc(t, r.encKey("market")), aad); err != nil || string(pt) != plaintext {
		t.Errorf("market could not open the envelope: %q %v", pt, err)
	}
}

// envelopeAsOwner fetches the tax.filing envelope with a request signed by
// tax's admin key, as `zwnode query record` does for the owner.
func (r *ledgerRun) envelopeAsOwner(t *testing.T) *sharing.Envelope {
	t.Helper()
	var rec node.RecordResponse
	if code := r.getAs(t, "tax", "/v1/records/tax.filing/"+r.subject, &rec); code != http.StatusOK || rec.Latest == nil || rec.Latest.Envelope == nil {
		t.Fatalf("owner read: HTTP %d %+v", code, rec)
	}
	return rec.Latest.Envelope
}

// getAs GETs path from dept's node with a request signed by dept's admin
// key and decodes a 200 response into v; it returns the status.
func (r *ledgerRun) getAs(t *testing.T, dept, path string, v any) int {
	t.Helper()
	k, err := keyfile.Load(r.c.accountKey(dept))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, r.c.net.Nodes[r.c.node(dept)].APIURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", node.AuthHeader(r.c.net.ChainID, k.Chain(), http.MethodGet, path, nil, time.Now()))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// credit: a negative tax event of severity 3 moves the subject down by the
// genesis rules, on every node.
func (r *ledgerRun) credit(t *testing.T) {
	c := r.c
	var before ledger.CreditView
	c.mustJSON(t, c.node("hrss"), "/v1/credit/"+r.subject, &before)
	rules := ledger.ExampleAppState().Credit
	delta, err := rules.Delta("tax", false, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantScore, wantLevel := rules.Score(before.Raw + delta)
	if wantLevel == before.Level {
		t.Fatalf("test setup: the event would not change level %s (score %d → %d)", before.Level, before.Score, wantScore)
	}
	c.tx("credit", "credit", "event", "--uscc", r.uscc, "--category", "tax", "--negative", "--severity", "3",
		"--evidence-file", r.file(t, "notice.txt", "税务行政处罚决定书 2026-118"), "--note", "late filing")
	for i := range c.net.Nodes {
		c.waitFor("credit level change on node "+c.net.Nodes[i].Department, 20*time.Second, func() bool {
			var v ledger.CreditView
			code, err := c.get(i, "/v1/credit/"+r.subject, &v)
			return err == nil && code == http.StatusOK && len(v.History) == 1
		})
		var after ledger.CreditView
		c.mustJSON(t, i, "/v1/credit/"+r.subject, &after)
		if after.Score != wantScore || after.Level != wantLevel || after.History[0].Department != "credit" {
			t.Errorf("node %d: after the event score %d level %s (event by %s), want %d %s (before: %d %s)",
				i, after.Score, after.Level, after.History[0].Department, wantScore, wantLevel, before.Score, before.Level)
		}
	}
}

// governance: a proposal to remove credit from the authority set is
// rejected once two of four vote no, and the set stays as it was.
func (r *ledgerRun) governance(t *testing.T) {
	c := r.c
	prop := c.mustCLI("tax", "tx", "gov", "propose", "--action", "remove", "--department", "credit", "--wait", "--json")
	c.catchUp()
	var o struct {
		ProposalID string `json:"proposal_id"`
	}
	if err := json.Unmarshal([]byte(prop), &o); err != nil || len(o.ProposalID) != 32 {
		t.Fatalf("propose printed %s (%v)", prop, err)
	}
	c.tx("market", "gov", "vote", "--proposal", o.ProposalID, "--no")
	c.tx("hrss", "gov", "vote", "--proposal", o.ProposalID, "--no")
	var p ledger.Proposal
	if err := json.Unmarshal([]byte(c.mustCLI("credit", "query", "proposals", o.ProposalID)), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != ledger.ProposalRejected || len(p.Votes) != 3 {
		t.Errorf("proposal %s: status %s with %d votes, want rejected with 3", o.ProposalID, p.Status, len(p.Votes))
	}
	// A third vote on a decided proposal is refused (code 8).
	if res := c.cli("credit", "tx", "gov", "vote", "--proposal", o.ProposalID, "--yes", "--wait"); res.err == nil || !strings.Contains(res.stderr, "code 8") {
		t.Errorf("vote on a decided proposal: %v %s; want code 8", res.err, res.stderr)
	}
	var st struct {
		Authorities []struct {
			Department string `json:"department"`
		} `json:"authorities"`
	}
	c.mustJSON(t, 0, "/v1/status", &st)
	if len(st.Authorities) != 4 {
		t.Errorf("authority set changed: %+v", st.Authorities)
	}
}

// residentPrivacy books a contribution for the applicant by resident ID,
// stops every node and checks that no file of any node home holds the ID
// number in any spelling, while the pseudonym is found in every node's data.
func (r *ledgerRun) residentPrivacy(t *testing.T) {
	c := r.c
	if r.personal == "" {
		t.Skip("the application step did not record the applicant's pseudonym")
	}
	si := c.tx("hrss", "si", "contribute", "--resident-id", r.rid, "--employer-uscc", r.uscc, "--period", "202609",
		"--insurance", "pension", "--base-fen", "800000", "--unit-fen", "128000", "--personal-fen", "64000", "--status", "paid")
	if si.Subject != r.personal {
		t.Fatalf("si contribution booked for %s, but the same person applied as %s", si.Subject, r.personal)
	}
	out := c.mustCLI("tax", "query", "si", "--resident-id", r.rid)
	var view node.SIResponse
	if err := json.Unmarshal([]byte(out), &view); err != nil || view.Account == nil || view.Account.Months != 1 || view.Account.Subject != r.personal {
		t.Fatalf("query si: %v %s", err, out)
	}
	// Every node, asked directly, derives the same pseudonym: the key is
	// the network's, and each node has now seen the number once.
	for i, n := range c.net.Nodes {
		if got := r.pseudonymFrom(t, i, n.Department); got != r.personal {
			t.Errorf("node %s: POST /v1/pseudonym gave %s, want %s", n.Department, got, r.personal)
		}
	}
	// Every node must hold the last block before it is stopped.
	c.waitHeight(si.Height, 20*time.Second, all(4)...)
	for i := range c.net.Nodes {
		c.stop(i)
	}
	idPatterns := spellings(r.rid)
	pseudonym := [][]byte{[]byte(strings.TrimPrefix(r.personal, "p:"))}
	for _, n := range c.net.Nodes {
		if hits := filesContaining(t, n.Home, idPatterns); len(hits) > 0 {
			t.Errorf("%s: the resident ID number is stored in %v", n.Department, hits)
		}
		if hits := filesContaining(t, filepath.Join(n.Home, "data"), pseudonym); len(hits) == 0 {
			t.Errorf("%s: the pseudonym %s is in no file under data/: the search would not find the ID either", n.Department, r.personal)
		}
	}
}

// pseudonymFrom asks node i for the ID number's pseudonym, signed by the
// node's department admin account.
func (r *ledgerRun) pseudonymFrom(t *testing.T, i int, dept string) string {
	t.Helper()
	k, err := keyfile.Load(r.c.accountKey(dept))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"resident_id":"` + r.rid + `"}`)
	req, err := http.NewRequest(http.MethodPost, r.c.net.Nodes[i].APIURL+"/v1/pseudonym", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", node.AuthHeader(r.c.net.ChainID, k.Chain(), http.MethodPost, "/v1/pseudonym", body, time.Now()))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Subject string `json:"subject"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("node %d pseudonym: HTTP %d %v", i, resp.StatusCode, err)
	}
	return out.Subject
}

func loadEnc(t *testing.T, path string) *ecdh.PrivateKey {
	t.Helper()
	s, err := keyfile.LoadSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mustJSON fetches path from node i and requires HTTP 200.
func (c *cluster) mustJSON(t *testing.T, i int, path string, v any) {
	t.Helper()
	code, err := c.get(i, path, v)
	if err != nil || code != http.StatusOK {
		t.Fatalf("node %d GET %s: HTTP %d %v", i, path, code, err)
	}
}

// getErr fetches path and decodes the body whatever the status.
func (c *cluster) getErr(i int, path string, v any) (int, error) {
	resp, err := client.Get(c.net.Nodes[i].APIURL + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}
