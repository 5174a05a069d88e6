package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/node/keyfile"
)

// testHome builds a complete home directory for department dept whose node
// key is the example key "<keyLabel>", with the example four-department
// genesis (whose authority keys are exampleKey("<dept>/authority")).
type testHome struct {
	dir string
	cfg Config
	key *keyfile.Key
}

func newTestHome(t *testing.T, dept, keyLabel string) *testHome {
	t.Helper()
	h := &testHome{dir: t.TempDir(), cfg: Default()}
	h.cfg.Node.Department = dept
	k, err := keyfile.FromChain(exampleKey(keyLabel))
	if err != nil {
		t.Fatal(err)
	}
	h.key = k
	rc := h.cfg.Resolve(h.dir)
	if err := keyfile.Save(rc.Node.KeyFile, k); err != nil {
		t.Fatal(err)
	}
	if err := keyfile.SaveSecret(rc.Ledger.PseudonymKeyFile, keyfile.Secret{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	gdata, err := exampleGenesisDoc(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rc.Node.GenesisFile, gdata, 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *testHome) writeConfig(t *testing.T) {
	t.Helper()
	os.Remove(Path(h.dir))
	if err := Write(Path(h.dir), h.cfg); err != nil {
		t.Fatal(err)
	}
}

func (h *testHome) path(rel string) string { return filepath.Join(h.dir, rel) }

func peerIDOf(t *testing.T, label string) string {
	t.Helper()
	id, err := keyfile.PeerIDFromPublicKey(exampleKey(label).Public())
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func TestCheckCleanHome(t *testing.T) {
	h := newTestHome(t, "tax", "tax/authority")
	h.cfg.P2P.Bootstrap = []string{
		"/ip4/10.0.0.2/tcp/7400/p2p/" + peerIDOf(t, "market/authority"),
		"/dns4/hrss.example/tcp/7400/p2p/" + peerIDOf(t, "hrss/authority"),
	}
	h.writeConfig(t)
	if ps := Check(h.dir); len(ps) != 0 {
		t.Fatalf("clean home has problems:\n%v", ps)
	}
}

// checkCase expects a problem on field, in file, whose text contains want.
type checkCase struct {
	name  string
	setup func(t *testing.T, h *testHome)
	file  string // relative to home
	field string
	sev   Severity
	want  string
}

func TestCheckReportsProblems(t *testing.T) {
	cfgFile := filepath.Join(ConfigDir, ConfigFileName)
	cases := []checkCase{
		{"unknown key", func(t *testing.T, h *testHome) {
			h.writeConfig(t)
			appendFile(t, Path(h.dir), "\n[p2p2]\nlisten = []\n")
		}, cfgFile, "p2p2", SeverityError, "unknown key"},
		{"bad multiaddr", func(t *testing.T, h *testHome) {
			h.cfg.P2P.Listen = []string{"/ip4/0.0.0.0/tcp/7400", "/ip4/1.2.3.4/tcp/x"}
			h.writeConfig(t)
		}, cfgFile, "p2p.listen[1]", SeverityError, `"/ip4/1.2.3.4/tcp/x" is not a multiaddr`},
		{"missing key file", func(t *testing.T, h *testHome) {
			h.writeConfig(t)
			mustRemove(t, h.path("config/node_key"))
		}, cfgFile, "node.key_file", SeverityError, "config/node_key does not exist; create a key with `zwnode init`"},
		{"open key file", func(t *testing.T, h *testHome) {
			h.writeConfig(t)
			if err := os.Chmod(h.path("config/node_key"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, cfgFile, "node.key_file", SeverityError, "chmod 600"},
		{"department differs from genesis", func(t *testing.T, h *testHome) {
			h.cfg.Node.Department = "market"
			h.writeConfig(t)
		}, cfgFile, "node.department", SeverityError, `"market" does not match genesis: this node's key ` + peerIDOf(t, "tax/authority") + ` is the authority of department "tax"`},
		{"key differs from genesis", func(t *testing.T, h *testHome) {
			h.writeConfig(t)
			mustRemove(t, h.path("config/node_key"))
			k, _ := keyfile.FromChain(exampleKey("someone else"))
			if err := keyfile.Save(h.path("config/node_key"), k); err != nil {
				t.Fatal(err)
			}
		}, cfgFile, "node.key_file", SeverityError, `genesis names department "tax"'s authority key ` + peerIDOf(t, "tax/authority")},
		{"observer", func(t *testing.T, h *testHome) {
			h.cfg.Node.Department = "audit"
			h.writeConfig(t)
			mustRemove(t, h.path("config/node_key"))
			k, _ := keyfile.FromChain(exampleKey("audit"))
			if err := keyfile.Save(h.path("config/node_key"), k); err != nil {
				t.Fatal(err)
			}
		}, cfgFile, "node.key_file", SeverityWarning, "node key " + peerIDOf(t, "audit") + " is not an authority in genesis; it will run as an observer"},
		{"missing genesis", func(t *testing.T, h *testHome) {
			h.writeConfig(t)
			mustRemove(t, h.path("config/genesis.json"))
		}, cfgFile, "node.genesis_file", SeverityError, "genesis.json does not exist"},
		{"invalid genesis", func(t *testing.T, h *testHome) {
			h.writeConfig(t)
			g := exampleGenesisDoc(t)
			g.Authorities[1].Department = "tax"
			writeGenesisUnchecked(t, h.path("config/genesis.json"), g)
		}, "config/genesis.json", "", SeverityError, "department listed twice"},
		{"missing pseudonym key", func(t *testing.T, h *testHome) {
			h.writeConfig(t)
			mustRemove(t, h.path("config/pseudonym.key"))
		}, cfgFile, "ledger.pseudonym_key_file", SeverityError, "pseudonym.key does not exist"},
		{"missing psk", func(t *testing.T, h *testHome) {
			h.cfg.P2P.PSKFile = "config/swarm.key"
			h.cfg.P2P.Listen = []string{"/ip4/0.0.0.0/tcp/7400"}
			h.writeConfig(t)
		}, cfgFile, "p2p.psk_file", SeverityError, "swarm.key does not exist"},
		{"stranger bootstrap", func(t *testing.T, h *testHome) {
			h.cfg.P2P.Bootstrap = []string{"/ip4/10.0.0.9/tcp/7400/p2p/" + peerIDOf(t, "stranger")}
			h.writeConfig(t)
		}, cfgFile, "p2p.bootstrap[0]", SeverityWarning, "neither a genesis authority nor in p2p.observers"},
		{"self bootstrap", func(t *testing.T, h *testHome) {
			h.cfg.P2P.Bootstrap = []string{"/ip4/10.0.0.1/tcp/7400/p2p/" + peerIDOf(t, "tax/authority")}
			h.writeConfig(t)
		}, cfgFile, "p2p.bootstrap[0]", SeverityWarning, "is this node itself"},
		{"missing config", func(t *testing.T, h *testHome) {}, cfgFile, "", SeverityError, "does not exist; create it with `zwnode init`"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newTestHome(t, "tax", "tax/authority")
			c.setup(t, h)
			ps := Check(h.dir)
			var found *Problem
			for i := range ps {
				if ps[i].Field == c.field && strings.Contains(ps[i].Message, c.want) {
					found = &ps[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s problem on %q containing %q; got:\n%v", c.sev, c.field, c.want, ps)
			}
			if found.Severity != c.sev {
				t.Fatalf("severity %s, want %s: %v", found.Severity, c.sev, found)
			}
			wantFile := filepath.Join(h.dir, c.file)
			if found.File != wantFile || !strings.HasPrefix(found.Error(), wantFile) {
				t.Fatalf("problem %q is not located in %s", found.Error(), wantFile)
			}
			if c.field != "" && !strings.Contains(found.Error(), ": "+c.field+": ") {
				t.Fatalf("problem %q does not name field %s", found.Error(), c.field)
			}
			if c.sev == SeverityError && !ps.HasErrors() {
				t.Fatal("HasErrors false")
			}
			if c.sev == SeverityWarning && ps.HasErrors() {
				t.Fatalf("unexpected errors besides the warning:\n%v", ps.Errors())
			}
		})
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func writeGenesisUnchecked(t *testing.T, path string, g *chain.Genesis) {
	t.Helper()
	if g.GenesisTime.IsZero() {
		g.GenesisTime = time.Unix(0, 0)
	}
	data, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
