package main

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
	"github.com/zwnode/zwnode/node"
)

const testUSCC = "91370100000000001W"

// testResidentID is valid (GB 11643-1999) with check character X.
const testResidentID = "37010219900101108X"

func TestTxRecordPutSignsWithNextNonceAndTypesFields(t *testing.T) {
	f := newFakeAPI(t)
	keyPath, key := keyFile(t, "tax admin")
	out := mustRun(t, "tx", "record", "put", "--api", f.srv.URL, "--key", keyPath, "--schema", "tax.clearance",
		"--uscc", testUSCC, "--field", "status=clear", "--field", "arrears_fen=0", "--wait", "--json")
	var o txOutcome
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	txs := f.sent()
	if len(txs) != 1 {
		t.Fatalf("fake received %d txs, want 1", len(txs))
	}
	tx := txs[0]
	if tx.Account != key.PublicKey() || tx.Nonce != 7 || tx.Type != ledger.TxRecordPut || tx.ChainID != fakeChainID {
		t.Errorf("tx account %s nonce %d type %s chain %s", tx.Account.Short(), tx.Nonce, tx.Type, tx.ChainID)
	}
	want := `{"schema":"tax.clearance","subject":"e:` + testUSCC + `","fields":{"arrears_fen":0,"status":"clear"}}`
	if string(tx.Payload) != want {
		t.Errorf("payload %s\nwant    %s", tx.Payload, want)
	}
	if o.Hash != tx.Hash() || o.Status != "finalized" || o.Code != 0 || o.Height != 10 || o.Subject != "e:"+testUSCC {
		t.Errorf("outcome %+v", o)
	}
}

func TestTxFailedResultCodeIsAnError(t *testing.T) {
	f := newFakeAPI(t)
	f.result = ledger.CodeUnauthorized
	keyPath, _ := keyFile(t, "tax admin")
	out, err := runZwnode(t, "tx", "grant", "--api", f.srv.URL, "--key", keyPath, "--schema", "tax.filing", "--department", "market", "--wait")
	if !errors.Is(err, errTxFailed) || !strings.Contains(err.Error(), "code 3") {
		t.Fatalf("err %v, want errTxFailed with code 3", err)
	}
	if !strings.Contains(out, "code 3") {
		t.Errorf("output does not show the code:\n%s", out)
	}
}

func TestTxWithoutWaitOnlySubmits(t *testing.T) {
	f := newFakeAPI(t)
	keyPath, _ := keyFile(t, "tax admin")
	out := mustRun(t, "tx", "grant", "--api", f.srv.URL, "--key", keyPath, "--schema", "tax.filing", "--department", "market")
	if !strings.Contains(out, "submitted") || len(f.sent()) != 1 {
		t.Fatalf("output %q, %d txs", out, len(f.sent()))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, req := range f.requests {
		if strings.HasPrefix(req, "GET /v1/txs/") {
			t.Errorf("polled %s without --wait", req)
		}
	}
}

// query block asks for the block without its transactions only with
// --no-txs.
func TestQueryBlockNoTxs(t *testing.T) {
	f := newFakeAPI(t)
	mustRun(t, "query", "block", "42", "--api", f.srv.URL)
	mustRun(t, "query", "block", "42", "--no-txs", "--api", f.srv.URL)
	f.mu.Lock()
	defer f.mu.Unlock()
	var got []string
	for _, req := range f.requests {
		if strings.HasPrefix(req, "GET /v1/blocks/") {
			got = append(got, req)
		}
	}
	if want := []string{"GET /v1/blocks/42", "GET /v1/blocks/42?txs=false"}; !slices.Equal(got, want) {
		t.Fatalf("requests %q, want %q", got, want)
	}
}

func TestAPIErrorShowsCodeMessageField(t *testing.T) {
	f := newFakeAPI(t)
	f.submitErr = &node.APIError{Code: "nonce_too_low", Message: "nonce 7 already used", Field: "nonce"}
	keyPath, _ := keyFile(t, "tax admin")
	_, err := runZwnode(t, "tx", "grant", "--api", f.srv.URL, "--key", keyPath, "--schema", "tax.filing", "--department", "market")
	var ae *apiError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "nonce_too_low: nonce 7 already used (nonce)") {
		t.Fatalf("err %v, want an apiError shown as code: message (field)", err)
	}
}

func TestResidentIDIsPseudonymisedAndNeverInATx(t *testing.T) {
	f := newFakeAPI(t)
	f.dept = "hrss"
	keyPath, _ := keyFile(t, "hrss admin")
	out := mustRun(t, "tx", "si", "contribute", "--api", f.srv.URL, "--key", keyPath, "--resident-id", strings.ToLower(testResidentID),
		"--employer-uscc", testUSCC, "--period", "202609", "--insurance", "pension", "--base-fen", "800000",
		"--unit-fen", "128000", "--personal-fen", "64000", "--wait", "--json")
	want, err := ledger.Pseudonym(f.pseudoKey, testResidentID)
	if err != nil {
		t.Fatal(err)
	}
	var o txOutcome
	if err := json.Unmarshal([]byte(out), &o); err != nil || o.Subject != want {
		t.Fatalf("subject %q (%v), want %s", o.Subject, err, want)
	}
	txs := f.sent()
	if len(txs) != 1 {
		t.Fatalf("%d txs", len(txs))
	}
	var p ledger.SIContribution
	if err := json.Unmarshal(txs[0].Payload, &p); err != nil || p.Subject != want || p.Employer != "e:"+testUSCC {
		t.Errorf("payload %s (%v)", txs[0].Payload, err)
	}
	if strings.Contains(strings.ToUpper(string(txs[0].Payload)), testResidentID) {
		t.Errorf("the resident ID number is in the tx payload: %s", txs[0].Payload)
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	f := newFakeAPI(t)
	keyPath, _ := keyFile(t, "tax admin")
	data := filepath.Join(t.TempDir(), "data.json")
	if err := os.WriteFile(data, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--api", f.srv.URL, "--key", keyPath}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"invalid resident id", []string{"tx", "si", "contribute", "--resident-id", "370102199001011234", "--period", "202609", "--insurance", "pension"}, "resident id"},
		{"invalid uscc", []string{"tx", "record", "put", "--schema", "tax.clearance", "--uscc", "91370100000000001X", "--field", "status=clear"}, "check character"},
		{"field and data file", []string{"tx", "record", "put", "--schema", "tax.clearance", "--uscc", testUSCC, "--field", "status=clear", "--data-file", data}, "either --field"},
		{"data file for a public schema", []string{"tx", "record", "put", "--schema", "tax.clearance", "--uscc", testUSCC, "--data-file", data}, "is public"},
		{"fields for a confidential schema", []string{"tx", "record", "put", "--schema", "tax.filing", "--uscc", testUSCC, "--field", "a=b"}, "is confidential"},
		{"unknown field", []string{"tx", "record", "put", "--schema", "tax.clearance", "--uscc", testUSCC, "--field", "colour=red"}, "no such field"},
		{"int field", []string{"tx", "record", "put", "--schema", "tax.clearance", "--uscc", testUSCC, "--field", "arrears_fen=12.5"}, "says int"},
		{"two subjects", []string{"tx", "record", "put", "--schema", "tax.clearance", "--uscc", testUSCC, "--subject", "e:" + testUSCC, "--field", "status=clear"}, "exactly one"},
		{"attest neither pass nor fail", []string{"tx", "app", "attest", "--id", "00", "--check", "market.name"}, "--pass and --fail"},
		{"fail without reason", []string{"tx", "app", "attest", "--id", "00", "--check", "market.name", "--fail"}, "--reason"},
		{"credit sign", []string{"tx", "credit", "event", "--uscc", testUSCC, "--category", "tax", "--evidence-file", data}, "--positive and --negative"},
		{"bad role", []string{"tx", "account", "add", "--role", "boss", "--pub-key", fixedKey(t, "x").PeerID().String()}, "--role"},
		{"bad field spec", []string{"tx", "schema", "register", "--name", "tax.x", "--field", "a:float"}, "not string, int or bool"},
		{"no key", []string{"tx", "grant", "--schema", "tax.filing", "--department", "market"}, "--key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.args...), base...)
			if tc.name == "no key" {
				args = append(append([]string{}, tc.args...), "--api", f.srv.URL)
			}
			_, err := runZwnode(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.want)
			}
			if n := len(f.sent()); n != 0 {
				t.Fatalf("%d txs were submitted", n)
			}
		})
	}
	for _, b := range f.bodies {
		if strings.Contains(b, "370102199001011234") {
			t.Errorf("an invalid resident ID was sent to the node: %s", b)
		}
	}
}

// TestConfidentialPutAndRead seals a record to the schema's recipients and
// reads it back as a granted department through access.log.
func TestConfidentialPutAndRead(t *testing.T) {
	f := newFakeAPI(t)
	_, taxEnc := encKeyFile(t, "tax")
	marketEncPath, marketEnc := encKeyFile(t, "market")
	_, hrssEnc := encKeyFile(t, "hrss")
	f.recips = []sharing.RecipientKey{{Department: "market", Key: marketEnc.PublicKey().Bytes()}, {Department: "tax", Key: taxEnc.PublicKey().Bytes()}}
	taxKey, _ := keyFile(t, "tax admin")
	plaintext := `{"revenue_fen":123456789}`
	data := filepath.Join(t.TempDir(), "filing.json")
	if err := os.WriteFile(data, []byte(plaintext), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "tx", "record", "put", "--api", f.srv.URL, "--key", taxKey, "--schema", "tax.filing", "--uscc", testUSCC, "--data-file", data)
	txs := f.sent()
	var put ledger.RecordPut
	if len(txs) != 1 || json.Unmarshal(txs[0].Payload, &put) != nil || put.Envelope == nil || put.Fields != nil {
		t.Fatalf("record.put payload: %d txs %s", len(txs), txs[0].Payload)
	}
	if strings.Contains(string(txs[0].Payload), "123456789") {
		t.Fatal("plaintext in the tx")
	}
	aad := sharing.RecordAAD("tax.filing", "e:"+testUSCC)
	if _, err := sharing.Open(put.Envelope, "hrss", hrssEnc, aad); !errors.Is(err, sharing.ErrNotRecipient) {
		t.Errorf("hrss (not a recipient) opened the envelope: %v", err)
	}

	f.envelope = put.Envelope
	f.dept = "market"
	marketKey, marketAcct := keyFile(t, "market admin")
	out, err := runZwnode(t, "query", "record", "--api", f.srv.URL, "--key", marketKey, "--schema", "tax.filing", "--uscc", testUSCC)
	if !errors.Is(err, errUsage) {
		t.Fatalf("read without --enc-key: %v %q", err, out)
	}
	out, err = runZwnode(t, "query", "record", "--api", f.srv.URL, "--key", marketKey, "--schema", "tax.filing", "--uscc", testUSCC, "--enc-key", marketEncPath)
	if !errors.Is(err, errNoPurpose) {
		t.Fatalf("read without --purpose: %v %q", err, out)
	}
	out = mustRun(t, "query", "record", "--api", f.srv.URL, "--key", marketKey, "--schema", "tax.filing", "--uscc", testUSCC,
		"--enc-key", marketEncPath, "--purpose", "licence review", "--wait")
	if out != plaintext {
		t.Fatalf("decrypted %q, want %q", out, plaintext)
	}
	// A node that serves only finalized access.logs: without --wait the
	// client retries after the log is finalized.
	f.finalOnly = true
	out = mustRun(t, "query", "record", "--api", f.srv.URL, "--key", marketKey, "--schema", "tax.filing", "--uscc", testUSCC,
		"--enc-key", marketEncPath, "--purpose", "licence review")
	if out != plaintext {
		t.Fatalf("decrypted %q after waiting for the log, want %q", out, plaintext)
	}
	// A log finalized with a failure code is reported with the refusal.
	f.result = ledger.CodeUnauthorized
	_, err = runZwnode(t, "query", "record", "--api", f.srv.URL, "--key", marketKey, "--schema", "tax.filing", "--uscc", testUSCC,
		"--enc-key", marketEncPath, "--purpose", "licence review")
	if err == nil || !strings.Contains(err.Error(), "forbidden") || !strings.Contains(err.Error(), "code 3") {
		t.Fatalf("err %v, want the refusal and the access.log's code 3", err)
	}
	f.result, f.finalOnly = ledger.CodeOK, false
	txs = f.sent()
	var logged ledger.AccessLog
	if len(txs) != 4 || txs[1].Account != marketAcct.PublicKey() || txs[1].Type != ledger.TxAccessLog ||
		json.Unmarshal(txs[1].Payload, &logged) != nil || logged != (ledger.AccessLog{Subject: "e:" + testUSCC, Schema: "tax.filing", Version: 1, Purpose: "licence review"}) {
		t.Fatalf("access.log not sent as expected: %+v", txs[len(txs)-1])
	}
}

func TestGenEncKeyWritesPrivateKeyAndSendsPublicHalf(t *testing.T) {
	f := newFakeAPI(t)
	keyPath, _ := keyFile(t, "tax admin")
	encPath := filepath.Join(t.TempDir(), "tax-enc.key")
	mustRun(t, "tx", "dept", "gen-enc-key", "--api", f.srv.URL, "--key", keyPath, "--out", encPath)
	if m := mode(t, encPath); m != 0o600 {
		t.Errorf("key file mode %o", m)
	}
	priv, err := loadEncKey(encPath)
	if err != nil {
		t.Fatal(err)
	}
	var p ledger.DeptSetKey
	txs := f.sent()
	if len(txs) != 1 || json.Unmarshal(txs[0].Payload, &p) != nil || string(p.EncKey) != string(priv.PublicKey().Bytes()) {
		t.Fatalf("dept.set_key does not carry the file's public key")
	}
	// The file is never overwritten: a second run fails before sending.
	if _, err := runZwnode(t, "tx", "dept", "gen-enc-key", "--api", f.srv.URL, "--key", keyPath, "--out", encPath); err == nil {
		t.Fatal("overwrote an existing key file")
	}
	if len(f.sent()) != 1 {
		t.Fatal("a second dept.set_key was sent")
	}
	// set-key republishes the same public key from the file.
	mustRun(t, "tx", "dept", "set-key", "--api", f.srv.URL, "--key", keyPath, "--enc-key-file", encPath)
	var q ledger.DeptSetKey
	if txs := f.sent(); len(txs) != 2 || json.Unmarshal(txs[1].Payload, &q) != nil || string(q.EncKey) != string(p.EncKey) {
		t.Fatal("set-key sent another key")
	}
}

func TestAccessCodeIsRandomAndOnlyItsHashIsSent(t *testing.T) {
	f := newFakeAPI(t)
	keyPath, _ := keyFile(t, "tax admin")
	form := filepath.Join(t.TempDir(), "form.txt")
	if err := os.WriteFile(form, []byte("form"), 0o600); err != nil {
		t.Fatal(err)
	}
	pseudo, err := ledger.Pseudonym(f.pseudoKey, testResidentID)
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "tx", "app", "submit", "--api", f.srv.URL, "--key", keyPath, "--type", "enterprise.establishment",
		"--uscc", testUSCC, "--applicant", pseudo, "--form-file", form, "--json")
	var o txOutcome
	if err := json.Unmarshal([]byte(out), &o); err != nil || len(o.AccessCode) != 10 {
		t.Fatalf("%v: %s", err, out)
	}
	txs := f.sent()
	var p ledger.ApplicationSubmit
	if len(txs) != 1 || json.Unmarshal(txs[0].Payload, &p) != nil {
		t.Fatal("no application.submit")
	}
	if o.ApplicationID != ledger.ApplicationID(txs[0].Hash()) || p.AccessCodeHash != sha256Of(o.AccessCode) || p.FormDigest != sha256Of("form") {
		t.Errorf("id %s, payload %+v", o.ApplicationID, p)
	}
	if strings.Contains(string(txs[0].Payload), o.AccessCode) {
		t.Error("the access code itself is in the tx")
	}
	a, _ := newAccessCode()
	b, _ := newAccessCode()
	if a == b {
		t.Errorf("two access codes are equal: %s", a)
	}
}

func sha256Of(s string) chain.Hash { return sha256.Sum256([]byte(s)) }

// TestClientCommandsHaveExamples keeps --help useful: every tx and query
// command shows at least one example invocation of itself.
func TestClientCommandsHaveExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !strings.Contains(c.Example, "zwnode ") {
			t.Errorf("%q has no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newTxCmd())
	walk(newQueryCmd())
}

func TestWaitReportsADroppedTx(t *testing.T) {
	f := newFakeAPI(t)
	f.drop = true
	keyPath, _ := keyFile(t, "tax admin")
	_, err := runZwnode(t, "tx", "grant", "--api", f.srv.URL, "--key", keyPath, "--schema", "tax.filing", "--department", "market", "--wait")
	if !errors.Is(err, errTxDropped) {
		t.Fatalf("err %v, want errTxDropped", err)
	}
}

func TestTxRawSendsThePayloadAsWritten(t *testing.T) {
	f := newFakeAPI(t)
	keyPath, _ := keyFile(t, "tax admin")
	dir := t.TempDir()
	good := filepath.Join(dir, "grant.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte("{\"schema\": \"tax.filing\", \"department\": \"market\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("{\"schema\": "), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runZwnode(t, "tx", "raw", "--api", f.srv.URL, "--key", keyPath, "--type", "grant", "--payload-file", bad); !errors.Is(err, errUsage) {
		t.Fatalf("invalid JSON: err %v", err)
	}
	mustRun(t, "tx", "raw", "--api", f.srv.URL, "--key", keyPath, "--type", "grant", "--payload-file", good)
	txs := f.sent()
	if len(txs) != 1 || txs[0].Type != "grant" || string(txs[0].Payload) != `{"schema":"tax.filing","department":"market"}` {
		t.Fatalf("sent %+v", txs)
	}
}

func TestNonceTakenByAnotherRunIsRetriedWithAFreshOne(t *testing.T) {
	f := newFakeAPI(t)
	f.takeNonce = 2
	keyPath, _ := keyFile(t, "tax admin")
	mustRun(t, "tx", "grant", "--api", f.srv.URL, "--key", keyPath, "--schema", "tax.filing", "--department", "market")
	if txs := f.sent(); len(txs) != 1 || txs[0].Nonce != 9 {
		t.Fatalf("sent %d txs (nonce %v), want one with nonce 9", len(txs), txs)
	}
	f.takeNonce = nonceRetries + 1
	_, err := runZwnode(t, "tx", "grant", "--api", f.srv.URL, "--key", keyPath, "--schema", "tax.filing", "--department", "market")
	var ae *apiError
	if !errors.As(err, &ae) || ae.Code != "duplicate" {
		t.Fatalf("err %v, want the duplicate error after %d retries", err, nonceRetries)
	}
}
