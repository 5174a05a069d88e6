package chain

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// genesisJSON returns the fixture genesis as a generic JSON object, so tests
// can break one field at a time and re-marshal.
func genesisJSON(t *testing.T) map[string]any {
	t.Helper()
	data, err := testGenesis().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func authorityAt(m map[string]any, i int) map[string]any {
	return m["authorities"].([]any)[i].(map[string]any)
}

func TestParseGenesisRoundTrip(t *testing.T) {
	g := testGenesis()
	data, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseGenesis(append(append([]byte(nil), data...), " \n\t"...))
	if err != nil {
		t.Fatalf("ParseGenesis of Marshal output with trailing whitespace: %v", err)
	}
	if got.Hash() != g.Hash() {
		t.Errorf("hash changed across Marshal/ParseGenesis")
	}
	if got.AuthoritySet().Hash() != g.AuthoritySet().Hash() {
		t.Errorf("authority set changed across Marshal/ParseGenesis")
	}

	// Formatting does not matter: compact JSON, reindented app state and a
	// non-UTC time zone for the same instant hash the same.
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	g2, err := ParseGenesis(compact.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	g2.AppState = []byte("{\n  \"schemas\" : [ \"licence\" ]\n}")
	g2.GenesisTime = g.GenesisTime.In(time.FixedZone("CST", 8*3600))
	if g2.Hash() != g.Hash() {
		t.Errorf("hash depends on formatting or time zone")
	}

	// But every value does matter.
	for name, mutate := range map[string]func(*Genesis){
		"chain id":  func(g *Genesis) { g.ChainID = "jinan-2" },
		"time":      func(g *Genesis) { g.GenesisTime = g.GenesisTime.Add(time.Millisecond) },
		"params":    func(g *Genesis) { g.Params.TimeoutCommitMS++ },
		"app state": func(g *Genesis) { g.AppState = []byte(`{"schemas":[]}`) },
		"authority name": func(g *Genesis) {
			g.Authorities = append([]Authority(nil), g.Authorities...)
			g.Authorities[0].Name = "renamed"
		},
		"account role": func(g *Genesis) {
			g.Accounts = append([]GenesisAccount(nil), g.Accounts...)
			g.Accounts[1].Role = "auditor"
		},
	} {
		m := testGenesis()
		mutate(m)
		if m.Hash() == g.Hash() {
			t.Errorf("changing the %s does not change the genesis hash", name)
		}
	}
}

func TestParseGenesisErrors(t *testing.T) {
	valid, err := testGenesis().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	table := []struct {
		name   string
		mutate func(m map[string]any)
		raw    string // used instead of the marshalled map when set
		want   []string
	}{
		{"unknown field", func(m map[string]any) { m["chain_name"] = "x" }, "", []string{"unknown field", "chain_name"}},
		{"unknown authority field", func(m map[string]any) { authorityAt(m, 1)["weight"] = 3 }, "", []string{"unknown field", "weight"}},
		{"bad chain id", func(m map[string]any) { m["chain_id"] = "Jinan City" }, "", []string{"chain id", "Jinan City"}},
		{"empty chain id", func(m map[string]any) { m["chain_id"] = "" }, "", []string{"chain id", "empty"}},
		{"bad pub key base64", func(m map[string]any) { authorityAt(m, 2)["pub_key"] = "not*base64" }, "",
			[]string{"authorities[2]", `"hrss"`, "pub_key", "not*base64"}},
		{"short pub key", func(m map[string]any) { authorityAt(m, 1)["pub_key"] = "AAAA" }, "",
			[]string{"authorities[1]", `"market"`, "pub_key", "32 bytes"}},
		{"bad account pub key", func(m map[string]any) {
			m["accounts"].([]any)[1].(map[string]any)["pub_key"] = "xyz"
		}, "", []string{"accounts[1]", `"market"`, "pub_key"}},
		{"missing pub key", func(m map[string]any) { delete(authorityAt(m, 3), "pub_key") }, "", []string{`"credit"`, "missing public key"}},
		{"duplicate authority department", func(m map[string]any) { authorityAt(m, 3)["department"] = "tax" }, "", []string{`"tax"`, "department listed twice"}},
		{"duplicate authority key", func(m map[string]any) { authorityAt(m, 3)["pub_key"] = authorityAt(m, 0)["pub_key"] }, "", []string{`"credit"`, "public key listed twice"}},
		{"no authorities", func(m map[string]any) { m["authorities"] = []any{} }, "", []string{"authority set", "empty"}},
		{"missing genesis time", func(m map[string]any) { delete(m, "genesis_time") }, "", []string{"genesis_time"}},
		{"bad params", func(m map[string]any) { m["params"].(map[string]any)["max_block_txs"] = 0 }, "", []string{"params.max_block_txs", "outside"}},
		{"bad timeout", func(m map[string]any) { m["params"].(map[string]any)["timeout_propose_ms"] = 0 }, "", []string{"params.timeout_propose_ms"}},
		{"max tx bytes too large", func(m map[string]any) { m["params"].(map[string]any)["max_tx_bytes"] = MaxTxEncodedLen + 1 }, "", []string{"params.max_tx_bytes"}},
		{"account without role", func(m map[string]any) { delete(m["accounts"].([]any)[0].(map[string]any), "role") }, "", []string{"accounts[0]", "role"}},
		{"duplicate account key", func(m map[string]any) {
			accs := m["accounts"].([]any)
			accs[1].(map[string]any)["pub_key"] = accs[0].(map[string]any)["pub_key"]
		}, "", []string{"accounts[1]", "listed twice"}},
		{"wrong type", func(m map[string]any) { m["authorities"] = "tax" }, "", []string{"authorities"}},
		{"trailing data", nil, string(valid) + `{"x":1}`, []string{"trailing data"}},
		{"trailing brace", nil, string(valid) + "}", []string{"trailing data"}},
		{"trailing bracket", nil, string(valid) + " ]\n", []string{"trailing data"}},
		{"not JSON", nil, "chain_id = 1", []string{"not valid JSON"}},
		{"empty", nil, "", []string{"not valid JSON"}},
	}
	for _, tc := range table {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			if tc.mutate != nil {
				m := genesisJSON(t)
				tc.mutate(m)
				var err error
				if data, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			g, err := ParseGenesis(data)
			if err == nil {
				t.Fatalf("accepted")
			}
			if g != nil {
				t.Errorf("returned a genesis with the error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestGenesisValidateAppState covers a genesis built in code (not parsed),
// whose app_state Hash must be able to re-marshal.
func TestGenesisValidateAppState(t *testing.T) {
	g := testGenesis()
	g.AppState = []byte(`{"schemas":`)
	if err := g.Validate(); err == nil || !strings.Contains(err.Error(), "app_state") {
		t.Fatalf("invalid app_state: got %v, want an error naming app_state", err)
	}
	g.AppState = nil
	if err := g.Validate(); err != nil {
		t.Fatalf("genesis without app_state rejected: %v", err)
	}
	_ = g.Hash()
}

func TestLoadGenesis(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "genesis.json")
	data, _ := testGenesis().Marshal()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := LoadGenesis(path)
	if err != nil || g.Hash() != testGenesis().Hash() {
		t.Fatalf("LoadGenesis: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"chain_id":"X"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadGenesis(bad); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("error %v does not name the file", err)
	}
	if _, err := LoadGenesis(filepath.Join(dir, "missing.json")); err == nil {
		t.Errorf("missing file accepted")
	}
}
