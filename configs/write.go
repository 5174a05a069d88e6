package configs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrExists means Write would overwrite an existing file.
var ErrExists = errors.New("configs: file already exists")

// Write writes c as annotated TOML (see Marshal) to path with mode 0644. It
// refuses to overwrite an existing file: an operator's edits are never lost.
func Write(path string, c Config) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("configs: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: %w; refusing to overwrite it", path, ErrExists)
		}
		return fmt.Errorf("configs: %w", err)
	}
	_, werr := f.Write(Marshal(c))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("configs: write %s: %w", path, werr)
	}
	return nil
}

// Marshal renders c as TOML with a comment explaining every field. The
// output decodes back to c (Parse), and configs/node.example.toml is
// Marshal of the example config, checked by a test.
func Marshal(c Config) []byte {
	var w tomlWriter
	w.comment(`zwnode node configuration.

Relative paths are resolved against the home directory (--home), so this file
works wherever the node is started from. Unknown keys are errors. Check this
file, and the key, genesis and secret files it names, with:

    zwnode config check --home <home>`)

	w.section("node", "Which department this node serves and where its files are.")
	w.str("department", c.Node.Department, `Department id exactly as written in genesis ("tax", "market", "hrss", ...).`)
	w.str("key_file", c.Node.KeyFile, `ed25519 node key: both the consensus signing key and the libp2p identity,
so the peer ID names the department. Mode 0600. Created by `+"`zwnode init`"+`.
Default "`+DefaultKeyFile+`".`)
	w.str("genesis_file", c.Node.GenesisFile, `The network's genesis document: byte-for-byte the same file on every node.
Default "`+DefaultGenesisFile+`".`)
	w.str("data_dir", c.Node.DataDir, `Database directory (Pebble). Default "`+DefaultDataDir+`".`)

	w.section("p2p", "libp2p networking: listeners, admission and discovery.")
	w.list("listen", c.P2P.Listen, `Multiaddrs to listen on: TCP (/ip4/A/tcp/P) and QUIC (/ip4/A/udp/P/quic-v1).
Default ["/ip4/0.0.0.0/tcp/7400", "/ip4/0.0.0.0/udp/7400/quic-v1"].`)
	w.list("announce", c.P2P.Announce, `Addresses to advertise instead of the listen addresses, when peers must
dial a public or NAT address, e.g. ["/ip4/10.20.0.5/tcp/7400"].
Default [] (advertise the listen addresses).`)
	w.list("bootstrap", c.P2P.Bootstrap, `Peers to dial at start and to keep reconnecting to, each ending in
/p2p/<peer id>; /dns4 and /dns6 names are allowed. Usually the other
departments' nodes, e.g.
  "/ip4/10.20.0.6/tcp/7400/p2p/12D3KooW...",
  "/dns4/node.market.example.gov.cn/tcp/7400/p2p/12D3KooW...".
Their operators print these with `+"`zwnode init` or `zwnode keys show`"+`.
Default [].`)
	w.list("observers", c.P2P.Observers, `Peer IDs of non-authority nodes (an audit office, a read replica) that
this node admits besides the genesis authorities. Everyone else is refused.
Default [].`)
	w.str("psk_file", c.P2P.PSKFile, `Optional libp2p private-network key (/key/swarm/psk/1.0.0/ format),
shared by all nodes, which closes the network to anyone without it. PSK
networks are TCP only: remove QUIC addresses when this is set. Revoking one
department means rotating the key for everyone. Default "" (no PSK).`)
	w.boolean("mdns", c.P2P.MDNS, `Discover peers on the local network with mDNS (local clusters, test LANs).
Default false.`)
	w.boolean("dht", c.P2P.DHT, `Run a private kad-DHT so a department that knows only one or two peers finds
the rest. Default true.`)
	w.integer("max_peers", int64(c.P2P.MaxPeers), `Connection limit; authority peers are protected and always kept. Default 64.`)

	w.section("api", "HTTP API for department applications, operators and auditors.")
	w.boolean("enabled", c.API.Enabled, "Default true.")
	w.str("listen", c.API.Listen, `host:port. Default "`+DefaultAPIListen+`" (this machine only); expose it
deliberately and behind a firewall.`)
	w.boolean("pprof", c.API.Pprof, `Serve Go's profiler at /debug/pprof/ (CPU and allocation profiles for
performance work). Default false.`)

	w.section("mempool", "Pending transactions waiting for a block.")
	w.integer("max_txs", int64(c.Mempool.MaxTxs), `Most transactions held. Once the pool holds three quarters of this (or of
max_bytes), clients' submissions get "mempool_full" (HTTP 503) and back
off; the last quarter is kept for transactions gossiped by peers, so every
node holds the transactions a proposal names. The pool is the node's
backlog, and every pending transaction costs about 1 KiB of memory
(decoded, indexed, and in gossip queues). Four blocks of the default
max_block_txs (5,000) keep proposers busy while bounding that backlog to
a few seconds of work. Default `+strconv.Itoa(DefaultMempoolMaxTxs)+`.`)
	w.integer("max_bytes", c.Mempool.MaxBytes, "Most bytes of encoded transactions held. Default 33554432 (32 MiB).")

	w.section("storage", `Memory of the database (Pebble). The cache is C memory: it is outside the Go
heap and outside runtime.memory_limit_mb, and under sustained load it fills
up, so count it in full when budgeting the node's memory.`)
	w.integer("cache_mb", int64(c.Storage.CacheMB), `Pebble block cache in MiB, memtables included: Pebble reserves its
memtables (the one being written, one being flushed or kept for reuse,
sometimes a third) inside it, and blocks get the rest. At least 2 ×
memtable_mb; a warning below 2 × memtable_mb + 4. Under sustained load the
blocks fill what the memtables leave, so Pebble's C memory comes to about
cache_mb: budget cache_mb, not the memtables, when sizing a node. Default `+strconv.Itoa(DefaultStorageCacheMB)+`.`)
	w.integer("memtable_mb", int64(c.Storage.MemTableMB), `One Pebble memtable in MiB, in [1, 1024]. Pebble commits a write batch of
half a memtable or more as a flushable batch of its own, which forces a
flush: blocks and catch-up runs are written in batches of several MB, and
with 8 MiB memtables a catch-up ran at less than half the speed it has
with 12. Larger memtables also mean fewer, larger flushes. Default `+strconv.Itoa(DefaultMemTableMB)+`.`)

	w.section("runtime", "Go runtime tuning.")
	w.integer("memory_limit_mb", int64(c.Runtime.MemoryLimitMB), `Soft limit in MiB on the memory the Go runtime manages (heap, stacks; not
the Pebble cache), applied with debug.SetMemoryLimit: as the heap nears it
the collector runs more often instead of letting the heap grow to twice the
live data. A node at full load holds 30-65 MiB live (mean ~46), so limits
below ~80 cost throughput (more CPU in GC); at moderate load the heap stays
well below such a limit and it costs nothing. RSS stays below about this
limit + storage.cache_mb + ~30 MiB of program text. Measured over ten
minutes at full load on 2 cores (4 nodes): 80 with cache_mb = 28 and
memtable_mb = 8 peaked at 137-143 MB (8,255-8,814 tx/s); 88 with 52 / 12,
the earlier defaults, before the node trimmed malloc's arenas, at 165-173
MB (8,764 tx/s; see docs/BENCHMARK.md, "Memory" and the sixteenth round).
While it applies blocks fetched from peers (catching up), a node lets the
heap go 16 MiB above this limit: the blocks of one sync response are held
until they are durable. Raise it on machines with memory to spare; 0 = no limit (the
GOMEMLIMIT environment variable, if set, applies). Default `+strconv.Itoa(DefaultMemoryLimitMB)+`.`)

	w.section("ledger", "Inputs to the shared ledger that are local files.")
	w.str("pseudonym_key_file", c.Ledger.PseudonymKeyFile, `Network secret (64 hex digits, mode 0600) that turns resident ID numbers into
keyed pseudonyms, so no ID number reaches the chain in clear. Every department
must hold the SAME secret: copy it from the first department over a secure
channel. Default "`+DefaultPseudonymKeyFile+`".`)

	w.section("log", "Logging to standard error.")
	w.str("level", c.Log.Level, `debug, info, warn or error. Default "info".`)
	w.str("format", c.Log.Format, `text or json. Default "text".`)

	w.section("metrics", "Prometheus metrics.")
	w.boolean("enabled", c.Metrics.Enabled, "Serve /metrics on the API listener. Default true.")
	return []byte(w.b.String())
}

type tomlWriter struct{ b strings.Builder }

func (w *tomlWriter) comment(text string) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			w.b.WriteString("#\n")
			continue
		}
		w.b.WriteString("# " + line + "\n")
	}
}

func (w *tomlWriter) section(name, doc string) {
	w.b.WriteString("\n")
	w.comment(doc)
	w.b.WriteString("[" + name + "]\n")
}

func (w *tomlWriter) field(key, value, doc string) {
	w.b.WriteString("\n")
	w.comment(doc)
	w.b.WriteString(key + " = " + value + "\n")
}

func (w *tomlWriter) str(key, v, doc string) { w.field(key, quote(v), doc) }

func (w *tomlWriter) boolean(key string, v bool, doc string) {
	w.field(key, strconv.FormatBool(v), doc)
}

func (w *tomlWriter) integer(key string, v int64, doc string) {
	w.field(key, strconv.FormatInt(v, 10), doc)
}

func (w *tomlWriter) list(key string, vs []string, doc string) {
	switch len(vs) {
	case 0:
		w.field(key, "[]", doc)
	case 1:
		w.field(key, "["+quote(vs[0])+"]", doc)
	default:
		var b strings.Builder
		b.WriteString("[\n")
		for _, v := range vs {
			b.WriteString("  " + quote(v) + ",\n")
		}
		b.WriteString("]")
		w.field(key, b.String(), doc)
	}
}

// quote writes a TOML basic string. Go's strconv.Quote is not used because
// its \x escapes are not TOML.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError, r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
