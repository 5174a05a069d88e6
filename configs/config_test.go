package configs

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// valid returns a config that passes Validate.
func valid() Config {
	c := Default()
	c.Node.Department = "tax"
	return c
}

// findProblem returns the problem on field, failing the test if none.
func findProblem(t *testing.T, ps Problems, field string) Problem {
	t.Helper()
	for _, p := range ps {
		if p.Field == field {
			return p
		}
	}
	t.Fatalf("no problem on %s; got:\n%v", field, ps)
	return Problem{}
}

func TestDefaultNeedsOnlyDepartment(t *testing.T) {
	ps := Default().Validate()
	if len(ps) != 1 || ps[0].Field != "node.department" || ps[0].Severity != SeverityError {
		t.Fatalf("Default().Validate() = %v, want exactly a missing department", ps)
	}
	if ps := valid().Validate(); len(ps) != 0 {
		t.Fatalf("valid config has problems: %v", ps)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := valid()
	c.Node.Department = "Tax Bureau"
	c.P2P.Listen = []string{"/ip4/0.0.0.0/tcp/7400", "/ip4/1.2.3.4/tcp/x", "/ip4/0.0.0.0/udp/7400/quic-v1", "/ip4/1.2.3.4/udp/9",
		"/ip4/1.2.3.4/tcp/1/ws", "/dns4/a.example/tcp/1", "/tcp/1", "/ip4/1.2.3.4/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"}
	c.P2P.Announce = []string{"/ip4/0.0.0.0/tcp/7400"}
	c.P2P.Bootstrap = []string{"/ip4/10.0.0.2/tcp/7400", "/dns4/market.example/tcp/7400/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"}
	c.P2P.Observers = []string{"not-a-peer"}
	c.P2P.PSKFile = "config/swarm.key"
	c.P2P.MaxPeers = 0
	c.API.Listen = "localhost"
	c.Mempool.MaxTxs = -1
	c.Mempool.MaxBytes = 10
	c.Log.Level = "verbose"
	c.Log.Format = "xml"
	c.Ledger.PseudonymKeyFile = ""
	ps := c.Validate()
	for field, want := range map[string]string{
		"node.department":           `"Tax Bureau" is not a valid department id`,
		"p2p.listen[1]":             `"/ip4/1.2.3.4/tcp/x" is not a multiaddr`,
		"p2p.listen[2]":             "PSK networks are TCP only",
		"p2p.listen[3]":             "TCP (.../tcp/PORT) and QUIC",
		"p2p.listen[4]":             "TCP (.../tcp/PORT) and QUIC",
		"p2p.listen[5]":             "not a DNS name",
		"p2p.listen[6]":             "must start with /ip4",
		"p2p.listen[7]":             "must not contain /p2p/",
		"p2p.announce[0]":           "not 0.0.0.0",
		"p2p.bootstrap[0]":          "must end in /p2p/<peer id>",
		"p2p.observers[0]":          "is not a peer id",
		"p2p.max_peers":             "outside [1, 10000]",
		"api.listen":                "is not host:port",
		"mempool.max_txs":           "outside",
		"mempool.max_bytes":         "outside",
		"log.level":                 "verbose",
		"log.format":                "xml",
		"ledger.pseudonym_key_file": "is empty",
	} {
		p := findProblem(t, ps, field)
		if !strings.Contains(p.Message, want) || p.Severity != SeverityError {
			t.Errorf("%s: %v, want an error containing %q", field, p, want)
		}
		if !strings.HasPrefix(p.Error(), "node.toml: "+field+": ") {
			t.Errorf("%s: %q does not start with file and field", field, p.Error())
		}
	}
	// The valid entries produce nothing.
	for _, p := range ps {
		if p.Field == "p2p.listen[0]" || p.Field == "p2p.bootstrap[1]" {
			t.Errorf("valid entry reported: %v", p)
		}
	}
	if !errors.Is(ps, ErrInvalid) || ps.Err() == nil {
		t.Fatal("problems with errors do not match ErrInvalid")
	}
}

func TestValidateWarnings(t *testing.T) {
	c := valid()
	c.P2P.Listen = nil
	c.API.Enabled = false
	ps := c.Validate()
	if ps.HasErrors() {
		t.Fatalf("only warnings expected: %v", ps)
	}
	findProblem(t, ps, "p2p.listen")
	findProblem(t, ps, "metrics.enabled")
	if ps.Err() != nil || errors.Is(ps, ErrInvalid) {
		t.Fatal("warnings alone count as invalid")
	}
}

func TestParseUnknownKeysWithLines(t *testing.T) {
	doc := `[node]
department = "tax"
departmnt = "market"

[p2p]
listen = [
  "/ip4/0.0.0.0/tcp/7400",
  "/ip4/1.2.3.4/tcp/x",
]
bootstap = []

[apii]
listen = "127.0.0.1:1"
`
	_, ps := Parse([]byte(doc), "home/config/node.toml")
	want := []struct {
		line  int
		field string
		msg   string
	}{
		{3, "node.departmnt", "unknown key"},
		{8, "p2p.listen[1]", "is not a multiaddr"},
		{10, "p2p.bootstap", "unknown key"},
		{12, "apii", "unknown key"},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), ps)
	}
	for i, w := range want {
		p := ps[i]
		if p.Line != w.line || p.Field != w.field || !strings.Contains(p.Message, w.msg) || p.File != "home/config/node.toml" {
			t.Errorf("problem %d = %q, want line %d field %s containing %q", i, p.Error(), w.line, w.field, w.msg)
		}
	}
	if got := ps[1].Error(); !strings.HasPrefix(got, `home/config/node.toml:8: p2p.listen[1]: "/ip4/1.2.3.4/tcp/x" is not a multiaddr: `) {
		t.Errorf("message format: %q", got)
	}
}

func TestParseSyntaxErrorStops(t *testing.T) {
	_, ps := Parse([]byte("[node\ndepartment = \"tax\"\nfoo = 1\n"), "node.toml")
	if len(ps) != 1 || ps[0].Line != 1 || ps[0].Severity != SeverityError {
		t.Fatalf("got %v, want one error on line 1", ps)
	}
}

func TestParseReportsEveryTypeError(t *testing.T) {
	doc := `p2p = 5
[node]
department = 5
key_file = true
[api]
listen = 1.5
enabled = "yes"
[mempool]
max_txs = "many"
oops = 1
[log]
level = "loud"
`
	_, ps := Parse([]byte(doc), "node.toml")
	want := []struct {
		line  int
		field string
		msg   string
	}{
		{1, "p2p", "found a TOML integer, want a [table]"},
		{3, "node.department", "found a TOML integer, want a string"},
		{4, "node.key_file", "found a TOML boolean, want a string"},
		{6, "api.listen", "found a TOML float, want a string"},
		{7, "api.enabled", "found a TOML string, want a boolean"},
		{9, "mempool.max_txs", "found a TOML string, want an integer"},
		{10, "mempool.oops", "unknown key"},
		{12, "log.level", `"loud" is not one of`},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), ps)
	}
	for i, w := range want {
		p := ps[i]
		if p.Line != w.line || p.Field != w.field || !strings.Contains(p.Message, w.msg) {
			t.Errorf("problem %d = %q, want line %d field %s containing %q", i, p.Error(), w.line, w.field, w.msg)
		}
	}
	// The mistyped department is not reported a second time as empty.
	for _, p := range ps[1:] {
		if p.Field == "node.department" && p.Line != 3 {
			t.Errorf("mistyped field reported twice: %v", p)
		}
	}
}

func TestParseKeepsDefaultsAndReplacesLists(t *testing.T) {
	cfg, ps := Parse([]byte("[node]\ndepartment = \"hrss\"\n[p2p]\nlisten = [\"/ip4/127.0.0.1/tcp/9000\"]\n"), "node.toml")
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	want := Default()
	want.Node.Department = "hrss"
	want.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/9000"}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "absent.toml"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "zwnode init") {
		t.Fatalf("missing file: %v", err)
	}
	path := filepath.Join(dir, "node.toml")
	bad := valid()
	bad.Log.Level = "loud"
	if err := Write(path, bad); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].File != path || ps[0].Field != "log.level" || ps[0].Line == 0 {
		t.Fatalf("Load error = %#v", err)
	}
}

func TestWriteRoundTripAndNoOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "node.toml")
	c := valid()
	c.P2P.Bootstrap = []string{"/ip4/10.0.0.2/tcp/7400/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"}
	c.P2P.Observers = []string{"12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"}
	c.P2P.PSKFile = "/etc/zwnode/swarm.key"
	c.P2P.Listen = []string{"/ip4/0.0.0.0/tcp/7400"}
	c.Node.DataDir = `d:\data "quoted" 数据`
	c.Log.Format = "json"
	if err := Write(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
	}
	if err := Write(path, Default()); !errors.Is(err, ErrExists) {
		t.Fatalf("overwrite: %v", err)
	}
	if again, _ := Load(path); !reflect.DeepEqual(again, c) {
		t.Fatal("refused Write changed the file")
	}
}

func TestResolve(t *testing.T) {
	c := valid()
	c.P2P.PSKFile = "config/swarm.key"
	c.Node.DataDir = "/var/lib/zwnode"
	r := c.Resolve("/home/op/zw")
	if r.Node.KeyFile != "/home/op/zw/config/node_key" || r.Node.GenesisFile != "/home/op/zw/config/genesis.json" ||
		r.Node.DataDir != "/var/lib/zwnode" || r.P2P.PSKFile != "/home/op/zw/config/swarm.key" ||
		r.Ledger.PseudonymKeyFile != "/home/op/zw/config/pseudonym.key" {
		t.Fatalf("resolved: %+v", r)
	}
	if c.Node.KeyFile != DefaultKeyFile {
		t.Fatal("Resolve modified its receiver")
	}
	r.P2P.Listen[0] = "changed"
	if c.P2P.Listen[0] == "changed" {
		t.Fatal("Resolve result aliases the original's lists")
	}
}

func TestParsedAccessors(t *testing.T) {
	c := valid()
	id := "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
	c.P2P.Bootstrap = []string{"/ip4/10.0.0.2/tcp/7400/p2p/" + id, "/ip4/10.0.0.2/udp/7400/quic-v1/p2p/" + id}
	c.P2P.Observers = []string{id}
	peers, err := c.P2P.BootstrapPeers()
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || len(peers[0].Addrs) != 2 || peers[0].ID.String() != id {
		t.Fatalf("bootstrap peers = %v, want one peer with two addresses", peers)
	}
	obs, err := c.P2P.ObserverIDs()
	if err != nil || len(obs) != 1 || obs[0].String() != id {
		t.Fatalf("observers = %v %v", obs, err)
	}
	addrs, err := c.P2P.ListenAddrs()
	if err != nil || len(addrs) != 2 || addrs[1].String() != "/ip4/0.0.0.0/udp/7400/quic-v1" {
		t.Fatalf("listen = %v %v", addrs, err)
	}
	c.P2P.Bootstrap = []string{"/ip4/10.0.0.2/tcp/7400"}
	if _, err := c.P2P.BootstrapPeers(); err == nil || !strings.Contains(err.Error(), "p2p.bootstrap[0]") {
		t.Fatalf("bad bootstrap: %v", err)
	}
}

func TestValidateMemorySettings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		set      func(*Config)
		field    string
		severity Severity
		want     string
	}{
		{"cache too small", func(c *Config) { c.Storage.CacheMB = 4 }, "storage.cache_mb", SeverityError, "outside [8, 1048576] MiB"},
		{"memtable zero", func(c *Config) { c.Storage.MemTableMB = 0 }, "storage.memtable_mb", SeverityError, "outside [1, 1024] MiB"},
		{"memtable too large", func(c *Config) { c.Storage.MemTableMB = 2048 }, "storage.memtable_mb", SeverityError, "outside"},
		{"cache below two memtables", func(c *Config) { c.Storage.CacheMB, c.Storage.MemTableMB = 24, 16 }, "storage.cache_mb", SeverityError, "less than two memtables"},
		{"cache little beside two memtables", func(c *Config) { c.Storage.CacheMB, c.Storage.MemTableMB = 35, 16 }, "storage.cache_mb", SeverityWarning, "less than 4 MiB for blocks"},
		{"negative limit", func(c *Config) { c.Runtime.MemoryLimitMB = -1 }, "runtime.memory_limit_mb", SeverityError, "0 = no limit"},
		{"limit too small", func(c *Config) { c.Runtime.MemoryLimitMB = 32 }, "runtime.memory_limit_mb", SeverityError, "outside [64,"},
		{"low limit", func(c *Config) { c.Runtime.MemoryLimitMB = 72 }, "runtime.memory_limit_mb", SeverityWarning, "collector will run almost continuously"},
	} {
		c := valid()
		tc.set(&c)
		ps := c.Validate()
		p := findProblem(t, ps, tc.field)
		if p.Severity != tc.severity || !strings.Contains(p.Message, tc.want) {
			t.Errorf("%s: %v, want severity %v containing %q", tc.name, p, tc.severity, tc.want)
		}
		if len(ps) != 1 {
			t.Errorf("%s: %d problems, want only %s: %v", tc.name, len(ps), tc.field, ps)
		}
	}
	c := valid()
	c.Storage.CacheMB, c.Storage.MemTableMB, c.Runtime.MemoryLimitMB = 48, 16, 256
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("valid memory settings reported: %v", ps)
	}
}

func TestParseMemorySettings(t *testing.T) {
	src := "[node]\ndepartment = \"tax\"\n[storage]\ncache_mb = 32\nmemtable_mb = 8\n[runtime]\nmemory_limit_mb = 160\n[runtime2]\n"
	_, err := Parse([]byte(src), "node.toml")
	if err == nil || !strings.Contains(err.Error(), "runtime2") {
		t.Fatalf("unknown section accepted: %v", err)
	}
	c, err := Parse([]byte(strings.TrimSuffix(src, "[runtime2]\n")), "node.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.CacheMB != 32 || c.Storage.MemTableMB != 8 || c.Runtime.MemoryLimitMB != 160 {
		t.Fatalf("parsed %+v %+v", c.Storage, c.Runtime)
	}
	if d := Default(); d.Storage.CacheMB != DefaultStorageCacheMB || d.Storage.MemTableMB != DefaultMemTableMB || d.Runtime.MemoryLimitMB != DefaultMemoryLimitMB {
		t.Fatalf("defaults %+v %+v", d.Storage, d.Runtime)
	}
}
