package configs

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
)

var update = flag.Bool("update", false, "rewrite configs/node.example.toml and configs/genesis.example.json")

const (
	exampleTOML    = "node.example.toml"
	exampleGenesis = "genesis.example.json"
)

// exampleConfig is what node.example.toml holds: the defaults for the tax
// department.
func exampleConfig() Config {
	c := Default()
	c.Node.Department = "tax"
	return c
}

// exampleKey derives the fixed, publicly known example keys. They are for
// documentation and tests only: anyone can recompute them.
func exampleKey(label string) *chain.PrivateKey {
	seed := sha256.Sum256([]byte("zwnode example key: " + label))
	return chain.PrivateKeyFromSeed(seed[:])
}

func exampleGenesisDoc(t *testing.T) *chain.Genesis {
	t.Helper()
	depts := []struct{ id, name string }{
		{"tax", "济南市税务局 Jinan Municipal Tax Bureau"},
		{"market", "济南市市场监督管理局 Jinan Municipal Market Regulation Administration"},
		{"hrss", "济南市人力资源和社会保障局 Jinan Municipal Human Resources and Social Security Bureau"},
		{"credit", "济南市信用办 Jinan City Credit Office"},
	}
	spec := GenesisSpec{
		ChainID:     "jinan-gov-example-1",
		GenesisTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, d := range depts {
		spec.Authorities = append(spec.Authorities, chain.Authority{
			Department: d.id, Name: d.name, PubKey: exampleKey(d.id + "/authority").Public(),
		})
		spec.Admins = append(spec.Admins, chain.GenesisAccount{
			Department: d.id, Role: RoleAdmin, Name: d.id + " admin", PubKey: exampleKey(d.id + "/admin").Public(),
		})
	}
	g, err := NewGenesis(spec)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestExampleTOML(t *testing.T) {
	want := Marshal(exampleConfig())
	if *update {
		if err := os.WriteFile(exampleTOML, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(exampleTOML)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("%s is out of date with Marshal; run `go test ./configs -run Example -update`", exampleTOML)
	}
	cfg, probs := Parse(data, exampleTOML)
	if len(probs) != 0 {
		t.Fatalf("example has problems:\n%v", probs)
	}
	if !reflect.DeepEqual(cfg, exampleConfig()) {
		t.Fatalf("example parses to\n%+v\nwant\n%+v", cfg, exampleConfig())
	}
	loaded, err := Load(exampleTOML)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, exampleConfig()) {
		t.Fatal("Load and Parse disagree")
	}
}

func TestExampleGenesis(t *testing.T) {
	g := exampleGenesisDoc(t)
	want, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(exampleGenesis, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(exampleGenesis)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("%s is out of date; run `go test ./configs -run Example -update`", exampleGenesis)
	}
	loaded, err := chain.LoadGenesis(exampleGenesis)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Hash() != g.Hash() {
		t.Fatal("loaded example genesis hashes differently from the one built")
	}
	set := loaded.AuthoritySet()
	if set.Size() != 4 || set.Quorum() != 3 || set.MaxFaulty() != 1 {
		t.Fatalf("n=%d q=%d f=%d, want 4/3/1", set.Size(), set.Quorum(), set.MaxFaulty())
	}
	for i, d := range []string{"tax", "market", "hrss", "credit"} {
		a := set.At(i)
		if a.Department != d || a.PubKey != exampleKey(d+"/authority").Public() {
			t.Fatalf("authority %d = %s, want %s with its example key", i, a.Department, d)
		}
		acc := loaded.Accounts[i]
		if acc.Department != d || acc.Role != RoleAdmin || acc.PubKey != exampleKey(d+"/admin").Public() {
			t.Fatalf("account %d = %+v, want %s admin", i, acc, d)
		}
	}
	if len(loaded.Accounts) != 4 {
		t.Fatalf("%d accounts, want 4", len(loaded.Accounts))
	}
	if loaded.Params != chain.DefaultParams() {
		t.Fatalf("params = %+v, want defaults", loaded.Params)
	}
	var app map[string]any
	if err := json.Unmarshal(loaded.AppState, &app); err != nil || len(app) != 0 {
		t.Fatalf("app_state = %s, want {}", loaded.AppState)
	}
}
