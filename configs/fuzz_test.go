package configs

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, that every problem is
// located in the file, and that a config without errors re-validates clean
// after a Marshal/Parse round trip.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(exampleTOML)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example))
	f.Add("[p2p]\nlisten = [\"/ip4/1.2.3.4/tcp/x\"]\nfoo = 1\n")
	f.Add("[node]\ndepartment = \"tax\"\n[p2p]\nbootstrap = [\"/dns4/a/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA\"]\n")
	f.Add("[p2p\n")
	f.Add("a.b.c = 1\n[[node]]\n")
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, ps := Parse([]byte(doc), "node.toml")
		for _, p := range ps {
			if p.File != "node.toml" || p.Message == "" {
				t.Fatalf("unlocated problem %#v", p)
			}
		}
		if ps.HasErrors() {
			return
		}
		again, ps2 := Parse(Marshal(cfg), "node.toml")
		if ps2.HasErrors() {
			t.Fatalf("valid config fails after round trip:\n%v\ninput:\n%s", ps2, doc)
		}
		if strings.Join(again.P2P.Listen, ",") != strings.Join(cfg.P2P.Listen, ",") || again.Node != cfg.Node {
			t.Fatalf("round trip changed the config")
		}
	})
}
