package configs

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/node/keyfile"
)

// Bounds enforced by Validate.
const (
	maxDepartmentLen  = 64
	maxPeersLimit     = 10_000
	maxMempoolTxs     = 10_000_000
	minMempoolBytes   = 1 << 20
	maxMempoolBytes   = 16 << 30
	minStorageCacheMB = 8
	maxStorageCacheMB = 1 << 20
	minMemTableMB     = 1
	maxMemTableMB     = 1024
	minMemoryLimitMB  = 64
	maxMemoryLimitMB  = 1 << 24
	// lowMemoryLimitMB: the Go heap of a node at full load holds 30–65 MiB
	// live (mean ~46: Pebble batches, gossip message bytes, the mempool's
	// decoded transactions, WAL buffers); a limit close to that makes the
	// collector run almost continuously.
	lowMemoryLimitMB = 80
	// minBlockCacheMB: below this much cache beside two memtables (the one
	// being written and the one being flushed or kept for reuse), the hot
	// state blocks do not stay cached.
	minBlockCacheMB = 4
)

// Validate checks every field and returns every problem found (File is
// "node.toml"; Load and Check use the real path). It does not touch the
// files the config names: that is Check's job.
func (c Config) Validate() Problems {
	col := &collector{file: ConfigFileName}
	c.validate(col)
	return col.out
}

func (c Config) validate(col *collector) {
	c.Node.validate(col)
	c.P2P.validate(col)
	c.API.validate(col)
	c.Mempool.validate(col)
	c.Storage.validate(col)
	c.Runtime.validate(col)
	if c.Ledger.PseudonymKeyFile == "" {
		col.errorf("ledger.pseudonym_key_file", "is empty; the ledger needs the network's pseudonym key (default %q)", DefaultPseudonymKeyFile)
	}
	c.Log.validate(col)
	if c.Metrics.Enabled && !c.API.Enabled {
		col.warnf("metrics.enabled", "metrics are served on the API listener, which is disabled (api.enabled = false); no metrics will be served")
	}
}

func (n NodeConfig) validate(col *collector) {
	if n.Department == "" {
		col.errorf("node.department", "is empty; set it to this node's department id as written in genesis, e.g. \"tax\"")
	} else if err := chain.ValidateName(n.Department, maxDepartmentLen); err != nil {
		col.errorf("node.department", "%q is not a valid department id: %v", n.Department, err)
	}
	for _, f := range []struct{ field, value string }{
		{"node.key_file", n.KeyFile}, {"node.genesis_file", n.GenesisFile}, {"node.data_dir", n.DataDir},
	} {
		if f.value == "" {
			col.errorf(f.field, "is empty")
		}
	}
}

func (p P2PConfig) validate(col *collector) {
	psk := p.PSKFile != ""
	if len(p.Listen) == 0 {
		col.warnf("p2p.listen", "is empty: this node will not accept connections and can only dial out")
	}
	for i, s := range p.Listen {
		field := fmt.Sprintf("p2p.listen[%d]", i)
		a, ok := parseAddr(col, field, s)
		if !ok {
			continue
		}
		if hasProtocol(a, ma.P_P2P) {
			col.errorf(field, "%q: listen addresses must not contain /p2p/<peer id>", s)
		}
		checkTransport(col, field, s, a, listenAddr, psk)
	}
	for i, s := range p.Announce {
		field := fmt.Sprintf("p2p.announce[%d]", i)
		a, ok := parseAddr(col, field, s)
		if !ok {
			continue
		}
		if isUnspecified(a) {
			col.errorf(field, "%q: an announced address must be one peers can dial, not 0.0.0.0 or ::", s)
		}
		checkTransport(col, field, s, a, dialAddr, psk)
	}
	seenBoot := make(map[string]int)
	for i, s := range p.Bootstrap {
		field := fmt.Sprintf("p2p.bootstrap[%d]", i)
		a, ok := parseAddr(col, field, s)
		if !ok {
			continue
		}
		info, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			col.errorf(field, "%q must end in /p2p/<peer id>: %v", s, err)
			continue
		}
		if _, err := keyfile.PublicKeyFromPeerID(info.ID); err != nil {
			col.errorf(field, "%q: peer id %s is not an ed25519 key, so it cannot be a department node", s, info.ID)
		}
		if len(info.Addrs) == 0 {
			col.errorf(field, "%q has a peer id but no address to dial", s)
			continue
		}
		if isUnspecified(info.Addrs[0]) {
			col.errorf(field, "%q: 0.0.0.0 or :: cannot be dialled; use the peer's real address", s)
		}
		checkTransport(col, field, s, info.Addrs[0], dialAddr, psk)
		if j, dup := seenBoot[s]; dup {
			col.warnf(field, "%q is listed twice (also p2p.bootstrap[%d])", s, j)
		}
		seenBoot[s] = i
	}
	seenObs := make(map[peer.ID]int)
	for i, s := range p.Observers {
		field := fmt.Sprintf("p2p.observers[%d]", i)
		id, err := peer.Decode(s)
		if err != nil {
			col.errorf(field, "%q is not a peer id: %v", s, err)
			continue
		}
		if _, err := keyfile.PublicKeyFromPeerID(id); err != nil {
			col.errorf(field, "%q is not an ed25519 peer id (zwnode nodes use ed25519 keys)", s)
			continue
		}
		if j, dup := seenObs[id]; dup {
			col.warnf(field, "%q is listed twice (also p2p.observers[%d])", s, j)
		}
		seenObs[id] = i
	}
	if p.MaxPeers < 1 || p.MaxPeers > maxPeersLimit {
		col.errorf("p2p.max_peers", "%d is outside [1, %d]", p.MaxPeers, maxPeersLimit)
	}
}

// parseAddr parses a multiaddr, reporting failure on field.
func parseAddr(col *collector, field, s string) (ma.Multiaddr, bool) {
	if strings.TrimSpace(s) == "" {
		col.errorf(field, "is empty")
		return nil, false
	}
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("failed to parse multiaddr %q: ", s))
		col.errorf(field, "%q is not a multiaddr: %s", s, msg)
		return nil, false
	}
	return a, true
}

// addrKind says where an address is used: listen addresses must name a
// local IP; dialled ones may use DNS.
type addrKind int

const (
	listenAddr addrKind = iota
	dialAddr
)

// checkTransport requires exactly the shapes zwnode runs — IP-or-DNS then
// /tcp/PORT, or IP-or-DNS then /udp/PORT/quic-v1 — and refuses QUIC when a
// PSK is set: libp2p's QUIC transport does not support private networks and
// the address would be silently dropped.
func checkTransport(col *collector, field, s string, a ma.Multiaddr, kind addrKind, psk bool) {
	var codes []int
	for _, p := range a.Protocols() {
		if p.Code != ma.P_P2P {
			codes = append(codes, p.Code)
		}
	}
	if len(codes) == 0 {
		col.errorf(field, "%q has no address", s)
		return
	}
	switch codes[0] {
	case ma.P_IP4, ma.P_IP6:
	case ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		if kind == listenAddr {
			col.errorf(field, "%q: listen on an IP address (/ip4 or /ip6), not a DNS name", s)
			return
		}
	default:
		col.errorf(field, "%q must start with /ip4, /ip6, /dns, /dns4 or /dns6", s)
		return
	}
	rest := codes[1:]
	switch {
	case len(rest) == 1 && rest[0] == ma.P_TCP:
	case len(rest) == 2 && rest[0] == ma.P_UDP && rest[1] == ma.P_QUIC_V1:
		if psk {
			col.errorf(field, "%q is a QUIC address, but PSK networks are TCP only (p2p.psk_file is set); remove it or use /tcp/PORT", s)
		}
	default:
		col.errorf(field, "%q: zwnode speaks TCP (.../tcp/PORT) and QUIC (.../udp/PORT/quic-v1) only", s)
	}
}

func hasProtocol(a ma.Multiaddr, code int) bool {
	_, err := a.ValueForProtocol(code)
	return err == nil
}

func isUnspecified(a ma.Multiaddr) bool {
	for _, code := range []int{ma.P_IP4, ma.P_IP6} {
		if v, err := a.ValueForProtocol(code); err == nil {
			if ip := net.ParseIP(v); ip != nil && ip.IsUnspecified() {
				return true
			}
		}
	}
	return false
}

func (a APIConfig) validate(col *collector) {
	if !a.Enabled {
		return
	}
	host, port, err := net.SplitHostPort(a.Listen)
	if err != nil {
		col.errorf("api.listen", "%q is not host:port: %v", a.Listen, err)
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil {
		col.errorf("api.listen", "%q: port %q is not a number in [0, 65535]", a.Listen, port)
	} else if n == 0 {
		col.warnf("api.listen", "%q: port 0 picks a random port at every start", a.Listen)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		col.errorf("api.listen", "%q: %q is not a host name or IP address", a.Listen, host)
	}
}

func (m MempoolConfig) validate(col *collector) {
	if m.MaxTxs < 1 || m.MaxTxs > maxMempoolTxs {
		col.errorf("mempool.max_txs", "%d is outside [1, %d]", m.MaxTxs, maxMempoolTxs)
	}
	if m.MaxBytes < minMempoolBytes || m.MaxBytes > maxMempoolBytes {
		col.errorf("mempool.max_bytes", "%d is outside [%d, %d] bytes", m.MaxBytes, int64(minMempoolBytes), int64(maxMempoolBytes))
	}
}

func (s StorageConfig) validate(col *collector) {
	cacheOK := s.CacheMB >= minStorageCacheMB && s.CacheMB <= maxStorageCacheMB
	if !cacheOK {
		col.errorf("storage.cache_mb", "%d is outside [%d, %d] MiB", s.CacheMB, minStorageCacheMB, maxStorageCacheMB)
	}
	if s.MemTableMB < minMemTableMB || s.MemTableMB > maxMemTableMB {
		col.errorf("storage.memtable_mb", "%d is outside [%d, %d] MiB", s.MemTableMB, minMemTableMB, maxMemTableMB)
		return
	}
	if !cacheOK {
		return
	}
	if s.CacheMB < 2*s.MemTableMB {
		col.errorf("storage.cache_mb", "%d MiB is less than two memtables (2 × storage.memtable_mb = %d MiB): Pebble reserves the memtables inside the cache, so nothing would be cached", s.CacheMB, 2*s.MemTableMB)
	} else if s.CacheMB-2*s.MemTableMB < minBlockCacheMB {
		col.warnf("storage.cache_mb", "%d MiB leaves less than %d MiB for blocks beside two memtables (2 × %d MiB), which Pebble reserves inside the cache", s.CacheMB, minBlockCacheMB, s.MemTableMB)
	}
}

func (r RuntimeConfig) validate(col *collector) {
	switch {
	case r.MemoryLimitMB == 0:
	case r.MemoryLimitMB < minMemoryLimitMB || r.MemoryLimitMB > maxMemoryLimitMB:
		col.errorf("runtime.memory_limit_mb", "%d is outside [%d, %d] MiB (0 = no limit)", r.MemoryLimitMB, minMemoryLimitMB, maxMemoryLimitMB)
	case r.MemoryLimitMB < lowMemoryLimitMB:
		col.warnf("runtime.memory_limit_mb", "%d MiB is below what a node holds live at full load (~%d MiB with headroom); the collector will run almost continuously and throughput will drop", r.MemoryLimitMB, lowMemoryLimitMB)
	}
}

func (l LogConfig) validate(col *collector) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		col.errorf("log.level", "%q is not one of debug, info, warn, error", l.Level)
	}
	switch l.Format {
	case "text", "json":
	default:
		col.errorf("log.format", "%q is not one of text, json", l.Format)
	}
}
