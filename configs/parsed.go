package configs

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// The accessors below hand the node the typed values behind the strings in
// the file. They fail only on a config that Validate would reject.

// ListenAddrs returns p2p.listen as multiaddrs.
func (p P2PConfig) ListenAddrs() ([]ma.Multiaddr, error) {
	return parseAddrs("p2p.listen", p.Listen)
}

// AnnounceAddrs returns p2p.announce as multiaddrs.
func (p P2PConfig) AnnounceAddrs() ([]ma.Multiaddr, error) {
	return parseAddrs("p2p.announce", p.Announce)
}

func parseAddrs(field string, ss []string) ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(ss))
	for i, s := range ss {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %q: %w", field, i, s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// BootstrapPeers returns p2p.bootstrap grouped by peer: several addresses of
// one peer become one AddrInfo, in order of first appearance.
func (p P2PConfig) BootstrapPeers() ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	pos := make(map[peer.ID]int)
	for i, info := range bootstrapInfos(p.Bootstrap) {
		if info == nil {
			return nil, fmt.Errorf("p2p.bootstrap[%d]: %q is not a multiaddr ending in /p2p/<peer id>", i, p.Bootstrap[i])
		}
		if j, ok := pos[info.ID]; ok {
			out[j].Addrs = append(out[j].Addrs, info.Addrs...)
			continue
		}
		pos[info.ID] = len(out)
		out = append(out, *info)
	}
	return out, nil
}

// bootstrapInfos parses each bootstrap entry, nil where it does not parse.
func bootstrapInfos(ss []string) []*peer.AddrInfo {
	out := make([]*peer.AddrInfo, len(ss))
	for i, s := range ss {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		info, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			continue
		}
		out[i] = info
	}
	return out
}

// ObserverIDs returns p2p.observers as peer IDs.
func (p P2PConfig) ObserverIDs() ([]peer.ID, error) {
	out := make([]peer.ID, 0, len(p.Observers))
	for i, s := range p.Observers {
		id, err := peer.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("p2p.observers[%d]: %q: %w", i, s, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// SlogLevel returns log.level as a slog level (info for anything unknown,
// which Validate rejects anyway).
func (l LogConfig) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// NewLogger returns a logger writing to w in the configured level and format.
func (l LogConfig) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.SlogLevel()}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
