package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node/keyfile"
)

func TestGenesisNewVerifyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	homes := map[string]string{}
	keys := map[string]*keyfile.Key{}
	var args []string
	for i, d := range []string{"tax", "market", "hrss", "credit"} {
		home := filepath.Join(dir, d)
		mustRun(t, "init", "--home", home, "--department", d)
		k, err := keyfile.Load(filepath.Join(home, "config", "node_key"))
		if err != nil {
			t.Fatal(err)
		}
		homes[d], keys[d] = home, k
		// Mix the key forms an operator may paste: peer ID, base64, hex.
		keyText := k.PeerID().String()
		if i == 1 {
			keyText = k.PublicKey().String()
		} else if i == 2 {
			pk := k.PublicKey()
			keyText = hex.EncodeToString(pk[:])
		}
		args = append(args, "--authority", d+"="+keyText+":"+d+" 局")
	}
	admin := fixedKey(t, "tax admin")
	gen := filepath.Join(dir, "genesis.json")
	out := mustRun(t, append([]string{"genesis", "new", "--chain-id", "jinan-test-1",
		"--genesis-time", "2026-03-01T08:00:00+08:00",
		"--admin", "tax=" + admin.PeerID().String() + ":税务局管理员", "-o", gen}, args...)...)

	g, err := chain.LoadGenesis(gen)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "genesis hash  "+g.Hash().String()) {
		t.Fatalf("new does not print the hash %s:\n%s", g.Hash(), out)
	}
	if g.ChainID != "jinan-test-1" || !g.GenesisTime.Equal(mustTime(t, "2026-03-01T00:00:00Z")) {
		t.Fatalf("chain id %q time %v", g.ChainID, g.GenesisTime)
	}
	set := g.AuthoritySet()
	for i, d := range []string{"tax", "market", "hrss", "credit"} {
		a := set.At(i)
		if a.Department != d || a.PubKey != keys[d].PublicKey() || a.Name != d+" 局" {
			t.Fatalf("authority %d = %+v", i, a)
		}
	}
	// tax has the separate admin; the others use their node key.
	if len(g.Accounts) != 4 || g.Accounts[0].PubKey != admin.PublicKey() || g.Accounts[0].Name != "税务局管理员" ||
		g.Accounts[1].PubKey != keys["market"].PublicKey() || g.Accounts[1].Role != configs.RoleAdmin {
		t.Fatalf("accounts = %+v", g.Accounts)
	}
	if g.Params != chain.DefaultParams() || string(g.AppState) != "{}" {
		t.Fatalf("params %+v app state %s", g.Params, g.AppState)
	}

	vout := mustRun(t, "genesis", "verify", gen)
	for _, want := range []string{
		"chain id      jinan-test-1",
		"genesis hash  " + g.Hash().String(),
		"authorities   4: quorum 3, tolerates 1 faulty",
		keys["credit"].PeerID().String(),
	} {
		if !strings.Contains(vout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, vout)
		}
	}
	vout = mustRun(t, "genesis", "verify", gen, "--home", homes["hrss"])
	if !strings.Contains(vout, "is authority #2, department \"hrss\"") {
		t.Fatalf("verify --home:\n%s", vout)
	}

	// A node outside the genesis is refused unless it means to observe.
	outsider := filepath.Join(dir, "audit")
	mustRun(t, "init", "--home", outsider, "--department", "audit")
	if _, err := runZwnode(t, "genesis", "verify", gen, "--home", outsider); err == nil || !strings.Contains(err.Error(), "is not an authority") {
		t.Fatalf("outsider: err = %v", err)
	}
	if out := mustRun(t, "genesis", "verify", gen, "--home", outsider, "--observer"); !strings.Contains(out, "observer") {
		t.Fatalf("--observer:\n%s", out)
	}
	// A node whose config names another department is refused.
	cfgPath := configs.Path(homes["market"])
	data, _ := os.ReadFile(cfgPath)
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(data), `department = "market"`, `department = "credit"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runZwnode(t, "genesis", "verify", gen, "--home", homes["market"]); err == nil || !strings.Contains(err.Error(), `node.toml says department "credit"`) {
		t.Fatalf("department mismatch: err = %v", err)
	}
}

func TestGenesisNewRejects(t *testing.T) {
	dir := t.TempDir()
	a, b := fixedKey(t, "a"), fixedKey(t, "b")
	existing := filepath.Join(dir, "exists.json")
	if err := os.WriteFile(existing, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	badState := filepath.Join(dir, "state.json")
	if err := os.WriteFile(badState, []byte("[1,2]"), 0o644); err != nil {
		t.Fatal(err)
	}
	badParams := filepath.Join(dir, "params.json")
	if err := os.WriteFile(badParams, []byte(`{"timeout_propose_ms": 0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	unknownParams := filepath.Join(dir, "params2.json")
	if err := os.WriteFile(unknownParams, []byte(`{"timeout_proposal_ms": 10}`), 0o644); err != nil {
		t.Fatal(err)
	}
	auth := []string{"--authority", "tax=" + a.PeerID().String(), "--authority", "market=" + b.PeerID().String()}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"bad key", []string{"--authority", "tax=notakey"}, "neither an ed25519 public key"},
		{"no equals", []string{"--authority", "tax"}, "want DEPT=PUBKEY_OR_PEERID"},
		{"bad dept", []string{"--authority", "Tax=" + a.PeerID().String()}, "department"},
		{"duplicate dept", []string{"--authority", "tax=" + a.PeerID().String(), "--authority", "tax=" + b.PeerID().String()}, "department listed twice"},
		{"duplicate key", []string{"--authority", "tax=" + a.PeerID().String(), "--authority", "market=" + a.PublicKey().String()}, "public key listed twice"},
		{"bad chain id", append([]string{"--chain-id", "Chain One"}, auth...), "chain id"},
		{"app state not object", append([]string{"--app-state", badState}, auth...), "app_state must be a JSON object"},
		{"params out of range", append([]string{"--params", badParams}, auth...), "timeout_propose_ms"},
		{"params unknown key", append([]string{"--params", unknownParams}, auth...), "timeout_proposal_ms"},
		{"bad time", append([]string{"--genesis-time", "yesterday"}, auth...), "--genesis-time"},
		{"no overwrite", append([]string{"-o", existing}, auth...), "already exists; use --force"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".json")
			args := append([]string{"genesis", "new", "--chain-id", "c-1", "-o", out}, c.args...)
			_, err := runZwnode(t, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
				t.Fatal("a rejected genesis was written")
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep" {
		t.Fatal("existing output overwritten")
	}
	mustRun(t, append([]string{"genesis", "new", "--chain-id", "c-1", "-o", existing, "--force"}, auth...)...)
	if _, err := chain.LoadGenesis(existing); err != nil {
		t.Fatalf("--force did not write a valid genesis: %v", err)
	}
}

func TestGenesisVerifyRejectsInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.json")
	if err := os.WriteFile(path, []byte(`{"chain_id":"c-1","genesis_time":"2026-01-01T00:00:00Z","authorities":[],"params":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runZwnode(t, "genesis", "verify", path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
