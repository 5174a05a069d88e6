package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node/keyfile"
)

// runZwnode runs the CLI in-process and returns its standard output.
func runZwnode(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runZwnode(t, args...)
	if err != nil {
		t.Fatalf("zwnode %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fixedKey is a deterministic key for tests that need one outside a home.
func fixedKey(t *testing.T, label string) *keyfile.Key {
	t.Helper()
	seed := sha256.Sum256([]byte("cli test: " + label))
	k, err := keyfile.FromChain(chain.PrivateKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestInitCreatesHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "tax")
	out := mustRun(t, "init", "--home", home, "--department", "tax",
		"--listen", "/ip4/0.0.0.0/tcp/7401", "--listen", "/ip4/0.0.0.0/udp/7401/quic-v1")

	key, err := keyfile.Load(filepath.Join(home, "config", "node_key"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		"config/node_key":      0o600,
		"config/pseudonym.key": 0o600,
		"config/node.toml":     0o644,
		"config":               0o700,
		"data":                 0o700,
	} {
		if got := mode(t, filepath.Join(home, path)); got != want {
			t.Errorf("%s: mode %04o, want %04o", path, got, want)
		}
	}
	if _, err := keyfile.LoadSecret(filepath.Join(home, "config", "pseudonym.key")); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(configs.Path(home))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Node.Department != "tax" || len(cfg.P2P.Listen) != 2 || cfg.P2P.Listen[0] != "/ip4/0.0.0.0/tcp/7401" {
		t.Fatalf("config: %+v", cfg)
	}
	for _, want := range []string{
		"peer id      " + key.PeerID().String(),
		"public key   " + key.PublicKey().String(),
		"/ip4/0.0.0.0/tcp/7401/p2p/" + key.PeerID().String(),
		"/ip4/0.0.0.0/udp/7401/quic-v1/p2p/" + key.PeerID().String(),
		"replace 0.0.0.0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}

	// keys show reports the same identity.
	show := mustRun(t, "keys", "show", "--home", home, "--json")
	var id identityJSON
	if err := json.Unmarshal([]byte(show), &id); err != nil {
		t.Fatal(err)
	}
	if id.PeerID != key.PeerID().String() || id.PublicKey != key.PublicKey().String() || id.Department != "tax" {
		t.Fatalf("keys show = %+v", id)
	}
}

func TestInitRefusesSecondInit(t *testing.T) {
	home := t.TempDir()
	mustRun(t, "init", "--home", home, "--department", "tax")
	keyPath := filepath.Join(home, "config", "node_key")
	before, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	cfgBefore, err := os.ReadFile(configs.Path(home))
	if err != nil {
		t.Fatal(err)
	}
	_, err = runZwnode(t, "init", "--home", home, "--department", "market")
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second init: err = %v", err)
	}
	after, _ := os.ReadFile(keyPath)
	cfgAfter, _ := os.ReadFile(configs.Path(home))
	if !bytes.Equal(before, after) || !bytes.Equal(cfgBefore, cfgAfter) {
		t.Fatal("refused init changed the key or the config")
	}
}

func TestInitRejectsBadInputAndCreatesNothing(t *testing.T) {
	for name, args := range map[string][]string{
		"bad department": {"--department", "Tax Bureau"},
		"bad listen":     {"--department", "tax", "--listen", "/ip4/1.2.3.4/tcp/x"},
		"bad genesis":    {"--department", "tax", "--genesis", "/nonexistent/genesis.json"},
		"no department":  {},
	} {
		t.Run(name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			_, err := runZwnode(t, append([]string{"init", "--home", home}, args...)...)
			if err == nil {
				t.Fatal("init succeeded")
			}
			if _, statErr := os.Stat(home); !os.IsNotExist(statErr) {
				t.Fatalf("failed init created %s", home)
			}
		})
	}
}

func TestInitCopiesSharedFiles(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "tax")
	mustRun(t, "init", "--home", first, "--department", "tax")
	firstKey, err := keyfile.Load(filepath.Join(first, "config", "node_key"))
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(dir, "genesis.json")
	mustRun(t, "genesis", "new", "--chain-id", "c-1", "--authority", "tax="+firstKey.PeerID().String(), "-o", gen)

	second := filepath.Join(dir, "market")
	mustRun(t, "init", "--home", second, "--department", "market",
		"--pseudonym-key", filepath.Join(first, "config", "pseudonym.key"), "--genesis", gen)
	a, err := keyfile.LoadSecret(filepath.Join(first, "config", "pseudonym.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := keyfile.LoadSecret(filepath.Join(second, "config", "pseudonym.key"))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("pseudonym key not copied")
	}
	g1, _ := chain.LoadGenesis(gen)
	g2, err := chain.LoadGenesis(filepath.Join(second, "config", "genesis.json"))
	if err != nil || g1.Hash() != g2.Hash() {
		t.Fatalf("genesis not copied: %v", err)
	}
}
