package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node/keyfile"
)

// checkHome initialises a home for dept and gives it a genesis in which its
// key is the authority of genesisDept (or not an authority at all if
// genesisDept is empty).
func checkHome(t *testing.T, dept, genesisDept string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), dept)
	mustRun(t, "init", "--home", home, "--department", dept)
	k, err := keyfile.Load(filepath.Join(home, "config", "node_key"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"genesis", "new", "--chain-id", "c-1",
		"--authority", "zz-other=" + fixedKey(t, "other authority").PeerID().String(),
		"-o", filepath.Join(home, "config", "genesis.json")}
	if genesisDept != "" {
		args = append(args, "--authority", genesisDept+"="+k.PeerID().String())
	}
	mustRun(t, args...)
	return home
}

func editConfig(t *testing.T, home, old, new string) {
	t.Helper()
	path := configs.Path(home)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("config lacks %q", old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConfigCheckClean(t *testing.T) {
	home := checkHome(t, "tax", "tax")
	out, err := runZwnode(t, "config", "check", "--home", home)
	if err != nil {
		t.Fatalf("clean home fails check: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("output: %s", out)
	}
}

func TestConfigCheckReportsProblems(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, home string)
		// want is a line of output, with the home directory written HOME
		// and the line number LINE: the line of config text lineOf.
		want   string
		lineOf string
	}{
		{"unknown key", func(t *testing.T, home string) {
			editConfig(t, home, "mdns = false", "mdns = false\nmdsn = true")
		}, "error: HOME/config/node.toml:LINE: p2p.mdsn: unknown key", "mdsn = true"},
		{"bad multiaddr", func(t *testing.T, home string) {
			editConfig(t, home, `  "/ip4/0.0.0.0/udp/7400/quic-v1",`, `  "/ip4/0.0.0.0/udp/x/quic-v1",`)
		}, `error: HOME/config/node.toml:LINE: p2p.listen[1]: "/ip4/0.0.0.0/udp/x/quic-v1" is not a multiaddr`, `  "/ip4/0.0.0.0/udp/x/quic-v1",`},
		{"missing key file", func(t *testing.T, home string) {
			if err := os.Remove(filepath.Join(home, "config", "node_key")); err != nil {
				t.Fatal(err)
			}
		}, "error: HOME/config/node.toml:LINE: node.key_file: HOME/config/node_key does not exist", "key_file = "},
		{"genesis mismatch", func(t *testing.T, home string) {
			editConfig(t, home, `department = "tax"`, `department = "market"`)
		}, `error: HOME/config/node.toml:LINE: node.department: "market" does not match genesis: this node's key`, `department = "market"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := checkHome(t, "tax", "tax")
			c.setup(t, home)
			out, err := runZwnode(t, "config", "check", "--home", home)
			if err == nil || !strings.Contains(err.Error(), "error(s)") {
				t.Fatalf("check passed or gave no summary: %v\n%s", err, out)
			}
			want := strings.ReplaceAll(c.want, "HOME", home)
			want = strings.Replace(want, "LINE", strconv.Itoa(lineOf(t, configs.Path(home), c.lineOf)), 1)
			if !strings.Contains(out, want) {
				t.Fatalf("output lacks %q:\n%s", want, out)
			}
		})
	}
}

func TestConfigCheckObserverIsWarningOnly(t *testing.T) {
	home := checkHome(t, "audit", "")
	out, err := runZwnode(t, "config", "check", "--home", home)
	if err != nil {
		t.Fatalf("observer home fails: %v\n%s", err, out)
	}
	if !strings.Contains(out, "is not an authority in genesis; it will run as an observer") || !strings.Contains(out, "ok: ") {
		t.Fatalf("output:\n%s", out)
	}
}

// lineOf returns the 1-based line of the line in path that starts with prefix.
func lineOf(t *testing.T, path, prefix string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, prefix) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line starting with %q", path, prefix)
	return 0
}
