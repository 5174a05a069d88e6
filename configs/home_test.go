package configs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zwnode/zwnode/node/keyfile"
)

func TestInitHomeThenCheckIsClean(t *testing.T) {
	home := filepath.Join(t.TempDir(), "market")
	k, err := keyfile.FromChain(exampleKey("market/authority"))
	if err != nil {
		t.Fatal(err)
	}
	shared := keyfile.Secret{9, 9, 9}
	cfg := Default()
	cfg.Node.Department = "market"
	res, err := InitHome(home, cfg, InitOptions{Key: k, PseudonymKey: &shared, Genesis: exampleGenesisDoc(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Key.PeerID() != k.PeerID() || res.Pseudonym != PseudonymCopied || res.Config.Node.KeyFile != filepath.Join(home, DefaultKeyFile) {
		t.Fatalf("result = %+v", res)
	}
	if ps := Check(home); len(ps) != 0 {
		t.Fatalf("fresh home has problems:\n%v", ps)
	}
	if got, err := keyfile.LoadSecret(res.Config.Ledger.PseudonymKeyFile); err != nil || got != shared {
		t.Fatalf("pseudonym key = %x, %v", got, err)
	}
	// A second init is refused and changes nothing.
	before, _ := os.ReadFile(Path(home))
	if _, err := InitHome(home, cfg, InitOptions{}); !errors.Is(err, ErrInitialised) {
		t.Fatalf("second init: %v", err)
	}
	if after, _ := os.ReadFile(Path(home)); string(after) != string(before) {
		t.Fatal("refused init changed the config")
	}
}

func TestInitHomeRefusesAndCreatesNothing(t *testing.T) {
	bad := Default() // no department
	good := Default()
	good.Node.Department = "tax"
	otherSecret := keyfile.Secret{1}
	cases := []struct {
		name    string
		prepare func(t *testing.T, home string)
		cfg     Config
		opts    InitOptions
	}{
		{"invalid config", func(*testing.T, string) {}, bad, InitOptions{}},
		{"genesis exists", func(t *testing.T, home string) {
			writeFile(t, filepath.Join(home, DefaultGenesisFile), "{}")
		}, good, InitOptions{Genesis: exampleGenesisDoc(t)}},
		{"different pseudonym key", func(t *testing.T, home string) {
			if err := keyfile.SaveSecret(filepath.Join(home, DefaultPseudonymKeyFile), keyfile.Secret{2}); err != nil {
				t.Fatal(err)
			}
		}, good, InitOptions{PseudonymKey: &otherSecret}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			c.prepare(t, home)
			if _, err := InitHome(home, c.cfg, c.opts); err == nil {
				t.Fatal("InitHome succeeded")
			}
			for _, p := range []string{DefaultKeyFile, filepath.Join(ConfigDir, ConfigFileName), DefaultDataDir} {
				if _, err := os.Stat(filepath.Join(home, p)); !os.IsNotExist(err) {
					t.Fatalf("refused InitHome created %s", p)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadNode(t *testing.T) {
	home := t.TempDir()
	k, err := keyfile.FromChain(exampleKey("hrss/authority"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Node.Department = "hrss"
	cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.P2P.PSKFile = "config/swarm.key"
	cfg.P2P.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1/p2p/" + peerIDOf(t, "stranger")}
	secret := keyfile.Secret{4, 2}
	if _, err := InitHome(home, cfg, InitOptions{Key: k, PseudonymKey: &secret, Genesis: exampleGenesisDoc(t)}); err != nil {
		t.Fatal(err)
	}
	// The PSK is still missing: LoadNode refuses with the located problem.
	_, err = LoadNode(home)
	var ps Problems
	if !errors.As(err, &ps) || !errors.Is(err, ErrInvalid) || ps.Errors()[0].Field != "p2p.psk_file" {
		t.Fatalf("missing psk: err = %v", err)
	}
	psk, err := keyfile.GeneratePSK(filepath.Join(home, "config", "swarm.key"))
	if err != nil {
		t.Fatal(err)
	}
	nf, err := LoadNode(home)
	if err != nil {
		t.Fatal(err)
	}
	if nf.Key.PeerID() != k.PeerID() || nf.Pseudonym != secret || string(nf.PSK) != string(psk) ||
		nf.Genesis.ChainID != "jinan-gov-example-1" || nf.Config.Node.DataDir != filepath.Join(home, "data") {
		t.Fatalf("loaded %+v", nf)
	}
	if len(nf.Warnings) != 1 || nf.Warnings[0].Field != "p2p.bootstrap[0]" {
		t.Fatalf("warnings = %v, want the stranger bootstrap peer", nf.Warnings)
	}
}
