package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/node/keyfile"
)

func TestKeysNewAndConvert(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.key")
	out := mustRun(t, "keys", "new", path)
	k, err := keyfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode(t, path) != 0o600 || !strings.Contains(out, k.PeerID().String()) || !strings.Contains(out, k.PublicKey().String()) {
		t.Fatalf("keys new: mode %04o, output:\n%s", mode(t, path), out)
	}
	before, _ := os.ReadFile(path)
	if _, err := runZwnode(t, "keys", "new", path); err == nil {
		t.Fatal("keys new overwrote a key")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("refused keys new changed the file")
	}
	for _, in := range []string{k.PeerID().String(), k.PublicKey().String()} {
		conv := mustRun(t, "keys", "convert", in)
		if !strings.Contains(conv, "peer id      "+k.PeerID().String()) || !strings.Contains(conv, "public key   "+k.PublicKey().String()) {
			t.Fatalf("convert %s:\n%s", in, conv)
		}
	}
	if _, err := runZwnode(t, "keys", "convert", "nonsense"); err == nil {
		t.Fatal("convert accepted nonsense")
	}
}

func TestKeysNewPSK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "swarm.key")
	mustRun(t, "keys", "new-psk", path)
	if psk, err := keyfile.LoadPSK(path); err != nil || len(psk) != 32 {
		t.Fatalf("psk: %v", err)
	}
	if _, err := runZwnode(t, "keys", "new-psk", path); err == nil {
		t.Fatal("new-psk overwrote a PSK")
	}
}

func TestKeysShowWithoutConfigAndGenesisRole(t *testing.T) {
	home := t.TempDir()
	k, err := keyfile.Generate(filepath.Join(home, "config", "node_key"))
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "keys", "show", "--home", home)
	if !strings.Contains(out, k.PeerID().String()) || strings.Contains(out, "department") {
		t.Fatalf("keys show without config:\n%s", out)
	}
	mustRun(t, "genesis", "new", "--chain-id", "c-1", "--authority", "tax="+k.PeerID().String(),
		"-o", filepath.Join(home, "config", "genesis.json"))
	out = mustRun(t, "keys", "show", "--home", home)
	if !strings.Contains(out, `authority #0 of 1 (department "tax") on chain c-1`) {
		t.Fatalf("keys show with genesis:\n%s", out)
	}
}
