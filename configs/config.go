// Package configs is zwnode's typed node configuration: the TOML file at
// <home>/config/node.toml, its documented defaults, validation that reports
// every problem at once with file, line and field, an annotated writer, and
// the operator's pre-flight check (Check) that also looks at the key,
// genesis and secret files the config points to.
//
// A home directory looks like this (every path can be changed in node.toml;
// relative paths are resolved against the home directory):
//
//	<home>/config/node.toml       this file
//	<home>/config/node_key        ed25519 node key = consensus key = libp2p identity (0600)
//	<home>/config/genesis.json    the network's genesis, the same file on every node
//	<home>/config/pseudonym.key   network secret for resident-ID pseudonyms (0600)
//	<home>/data/                  the Pebble database
//
// The directory also holds two examples, both checked by tests:
// node.example.toml (Marshal of the defaults for the tax department, with a
// comment on every field) and genesis.example.json, a four-department Jinan
// network (tax, market, hrss, credit) with chain.DefaultParams and an empty
// app_state. Its keys are derived from the public seeds
// SHA-256("zwnode example key: <dept>/authority") and ".../admin": anyone can
// recompute them, so they are for documentation and tests only.
package configs

import (
	"path/filepath"
)

// Conventional locations inside a home directory.
const (
	ConfigDir      = "config"
	ConfigFileName = "node.toml"
)

// Config is a node's configuration. Zero values are not defaults: start from
// Default(), which Load does before decoding the file.
type Config struct {
	Node    NodeConfig    `toml:"node"`
	P2P     P2PConfig     `toml:"p2p"`
	API     APIConfig     `toml:"api"`
	Mempool MempoolConfig `toml:"mempool"`
	Storage StorageConfig `toml:"storage"`
	Runtime RuntimeConfig `toml:"runtime"`
	Ledger  LedgerConfig  `toml:"ledger"`
	Log     LogConfig     `toml:"log"`
	Metrics MetricsConfig `toml:"metrics"`
}

// NodeConfig names the department this node serves and where its files live.
type NodeConfig struct {
	// Department is the department id as written in genesis ("tax").
	Department string `toml:"department"`
	// KeyFile holds the ed25519 node key (see package node/keyfile).
	KeyFile string `toml:"key_file"`
	// GenesisFile is the network's genesis document.
	GenesisFile string `toml:"genesis_file"`
	// DataDir holds the database.
	DataDir string `toml:"data_dir"`
}

// P2PConfig configures the libp2p host, admission and discovery.
type P2PConfig struct {
	// Listen are multiaddrs to listen on (TCP and/or QUIC).
	Listen []string `toml:"listen"`
	// Announce, if set, replaces the addresses advertised to peers (for NAT
	// or when listening on 0.0.0.0).
	Announce []string `toml:"announce"`
	// Bootstrap are peers to dial at start and to keep reconnecting to; each
	// multiaddr ends in /p2p/<peer id>.
	Bootstrap []string `toml:"bootstrap"`
	// Observers are peer IDs of non-authority nodes (audit office, read
	// replicas) that the connection gater admits besides the authorities.
	Observers []string `toml:"observers"`
	// PSKFile, if set, is a libp2p private-network key; the network is then
	// closed to anyone without it. PSK networks are TCP only.
	PSKFile string `toml:"psk_file"`
	// MDNS enables local-network discovery (local clusters and test LANs).
	MDNS bool `toml:"mdns"`
	// DHT enables a private kad-DHT so departments that know only one or two
	// peers find the rest.
	DHT bool `toml:"dht"`
	// MaxPeers bounds connections; authorities are always kept.
	MaxPeers int `toml:"max_peers"`
}

// APIConfig configures the HTTP API (and /metrics).
type APIConfig struct {
	Enabled bool   `toml:"enabled"`
	Listen  string `toml:"listen"`
	// Pprof serves Go's profiler at /debug/pprof/ on the API listener.
	Pprof bool `toml:"pprof"`
}

// MempoolConfig bounds pending transactions.
type MempoolConfig struct {
	MaxTxs   int   `toml:"max_txs"`
	MaxBytes int64 `toml:"max_bytes"`
}

// StorageConfig sizes the database's memory. Pebble's cache is C memory,
// outside the Go heap and outside runtime.memory_limit_mb, and it fills up
// under sustained load, so it counts in full towards the node's RSS.
type StorageConfig struct {
	// CacheMB is Pebble's block cache in MiB, memtables included (Pebble
	// reserves up to three memtables inside it).
	CacheMB int `toml:"cache_mb"`
	// MemTableMB is one Pebble memtable in MiB. Larger memtables mean fewer,
	// larger flushes and less compaction CPU per write.
	MemTableMB int `toml:"memtable_mb"`
}

// RuntimeConfig tunes the Go runtime.
type RuntimeConfig struct {
	// MemoryLimitMB is a soft limit on the memory the Go runtime manages
	// (heap, stacks, GC metadata; not Pebble's cache), applied with
	// debug.SetMemoryLimit: as the heap nears it the collector runs more
	// often instead of letting the heap double (GOGC=100). 0 leaves the
	// runtime's default, or the GOMEMLIMIT environment variable, in force;
	// a non-zero value overrides GOMEMLIMIT. While the node applies blocks
	// fetched from peers, the limit is 16 MiB higher (node/syncrun.go).
	MemoryLimitMB int `toml:"memory_limit_mb"`
}

// LedgerConfig configures the ledger's node-local inputs.
type LedgerConfig struct {
	// PseudonymKeyFile holds the network secret, shared by all departments,
	// that turns resident ID numbers into keyed pseudonyms.
	PseudonymKeyFile string `toml:"pseudonym_key_file"`
}

// LogConfig configures logging.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `toml:"level"`
	// Format is text or json.
	Format string `toml:"format"`
}

// MetricsConfig configures Prometheus metrics, served at /metrics on the API
// listener.
type MetricsConfig struct {
	Enabled bool `toml:"enabled"`
}

// Defaults, named so the annotated file and the docs can cite them.
const (
	DefaultKeyFile          = "config/node_key"
	DefaultGenesisFile      = "config/genesis.json"
	DefaultDataDir          = "data"
	DefaultPseudonymKeyFile = "config/pseudonym.key"
	DefaultAPIListen        = "127.0.0.1:7480"
	DefaultMaxPeers         = 64
	DefaultMempoolMaxTxs    = 20_000
	DefaultMempoolMaxBytes  = 32 << 20
	DefaultStorageCacheMB   = 28
	DefaultMemTableMB       = 12
	DefaultMemoryLimitMB    = 80
	DefaultP2PPort          = 7400
)

// DefaultListen are the default p2p listen addresses: TCP and QUIC on port
// 7400 on every interface.
func DefaultListen() []string {
	return []string{"/ip4/0.0.0.0/tcp/7400", "/ip4/0.0.0.0/udp/7400/quic-v1"}
}

// Default returns the documented defaults. Department is empty: every node
// must name its own.
func Default() Config {
	return Config{
		Node: NodeConfig{
			KeyFile:     DefaultKeyFile,
			GenesisFile: DefaultGenesisFile,
			DataDir:     DefaultDataDir,
		},
		P2P: P2PConfig{
			Listen:    DefaultListen(),
			Announce:  []string{},
			Bootstrap: []string{},
			Observers: []string{},
			MDNS:      false,
			DHT:       true,
			MaxPeers:  DefaultMaxPeers,
		},
		API:     APIConfig{Enabled: true, Listen: DefaultAPIListen},
		Mempool: MempoolConfig{MaxTxs: DefaultMempoolMaxTxs, MaxBytes: DefaultMempoolMaxBytes},
		Storage: StorageConfig{CacheMB: DefaultStorageCacheMB, MemTableMB: DefaultMemTableMB},
		Runtime: RuntimeConfig{MemoryLimitMB: DefaultMemoryLimitMB},
		Ledger:  LedgerConfig{PseudonymKeyFile: DefaultPseudonymKeyFile},
		Log:     LogConfig{Level: "info", Format: "text"},
		Metrics: MetricsConfig{Enabled: true},
	}
}

// Path returns the config file's path in a home directory.
func Path(home string) string {
	return filepath.Join(home, ConfigDir, ConfigFileName)
}

// Resolve returns a copy with every relative file path made relative to
// home, so the node can be started from any working directory.
func (c Config) Resolve(home string) Config {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(home, p)
	}
	out := c.clone()
	out.Node.KeyFile = abs(c.Node.KeyFile)
	out.Node.GenesisFile = abs(c.Node.GenesisFile)
	out.Node.DataDir = abs(c.Node.DataDir)
	out.P2P.PSKFile = abs(c.P2P.PSKFile)
	out.Ledger.PseudonymKeyFile = abs(c.Ledger.PseudonymKeyFile)
	return out
}

// clone copies the slices so a resolved or modified copy never aliases the
// original.
func (c Config) clone() Config {
	cp := func(s []string) []string {
		if s == nil {
			return nil
		}
		return append([]string{}, s...)
	}
	c.P2P.Listen = cp(c.P2P.Listen)
	c.P2P.Announce = cp(c.P2P.Announce)
	c.P2P.Bootstrap = cp(c.P2P.Bootstrap)
	c.P2P.Observers = cp(c.P2P.Observers)
	return c
}
