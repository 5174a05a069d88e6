package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

func TestCompactLogLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`time=2026-11-24T12:04:27.123Z level=INFO msg="node started" department=tax height=0`, `12:04:27 INFO node started department=tax height=0`},
		{`time=2026-11-24T12:04:27.123Z level=WARN msg=listening addr=/ip4/127.0.0.1/tcp/1`, `12:04:27 WARN listening addr=/ip4/127.0.0.1/tcp/1`},
		{`zwnode: node.toml:3: p2p.listen: bad`, `zwnode: node.toml:3: p2p.listen: bad`},
		{`time=broken`, `time=broken`},
	} {
		if got := compactLogLine(tc.in); got != tc.want {
			t.Errorf("compactLogLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A devnet directory that is moved keeps working: devnet.json names homes
// relative to itself, and reading it resolves them against its new place,
// not the directory it was generated in.
func TestDevnetHomesFollowTheDirectory(t *testing.T) {
	base := t.TempDir()
	orig := filepath.Join(base, "orig")
	if _, err := createDevnet(orig, 2, "zw-test", chain.DefaultParams(), false); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(orig, "devnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file Devnet
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	for _, n := range file.Nodes {
		if n.Home != n.Department {
			t.Errorf("devnet.json home of %s = %q, want %q (relative to the file)", n.Department, n.Home, n.Department)
		}
	}
	moved := filepath.Join(base, "moved")
	if err := os.Rename(orig, moved); err != nil {
		t.Fatal(err)
	}
	net, err := loadOrCreateDevnet(moved, 2, "zw-test", chain.DefaultParams(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range net.Nodes {
		if want := filepath.Join(moved, n.Department); n.Home != want {
			t.Errorf("home of %s = %q, want %q", n.Department, n.Home, want)
		}
		if _, err := os.Stat(filepath.Join(n.Home, "config", "node.toml")); err != nil {
			t.Errorf("home of %s: %v", n.Department, err)
		}
	}

	// An older file's absolute homes are kept as they are.
	file.Nodes[0].Home = filepath.Join(base, "elsewhere")
	data, _ := json.Marshal(&file)
	path := filepath.Join(moved, "devnet.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readDevnet(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Nodes[0].Home != file.Nodes[0].Home {
		t.Errorf("absolute home read as %q, want %q", got.Nodes[0].Home, file.Nodes[0].Home)
	}

	// A node without a home is an error, not the file's directory.
	file.Nodes[1].Home = ""
	data, _ = json.Marshal(&file)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readDevnet(path); err == nil || !strings.Contains(err.Error(), "no home") {
		t.Errorf("readDevnet without a home: %v, want a 'no home' error", err)
	}
}
