package p2p

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/zwnode/zwnode/chain"
)

// protectTag marks authority connections that the connection manager must
// never trim.
const protectTag = "zw-authority"

// Connection manager watermarks: a city network has a handful of
// departments and observers, so these are far above normal use.
const (
	connLow   = 128
	connHigh  = 256
	connGrace = time.Minute
)

// Handler receives messages that passed validation: decoded once, basic
// checks, chain id, signature and membership. It is called from p2p
// goroutines, one per topic, and must not block long.
type Handler interface {
	// HandleTxs receives a batch whose signatures are already verified.
	HandleTxs(from peer.ID, txs []chain.Tx)
	// HandleConsensus receives a proposal or vote with a verified signature
	// by a current authority, authored on the gossip layer by an authority.
	HandleConsensus(from peer.ID, m *chain.Message)
	// HandleEvidence receives evidence whose two signatures verify.
	HandleEvidence(from peer.ID, ev *chain.Evidence)
}

// Host is a running zwnode network endpoint.
type Host struct {
	cfg     Config
	log     *slog.Logger
	h       host.Host
	adm     *admission
	cm      *connmgr.BasicConnMgr
	gossip  *gossip
	dht     *dht.IpfsDHT
	handler Handler
	src     SyncSource
	syncSrv *syncServer
	ctrs    *counters

	bootstrap []peer.AddrInfo
	height    atomic.Uint64
	scores    atomic.Pointer[map[peer.ID]float64]
	penalties penalties

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  atomic.Bool
	closers []func() error
}

// New starts a host: listeners, admission, discovery, gossip and the sync
// server. ctx bounds start-up only (a cancelled ctx makes New fail); Close
// stops the host.
func New(ctx context.Context, cfg Config, handler Handler, src SyncSource) (*Host, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if handler == nil || src == nil {
		return nil, fmt.Errorf("%w: handler and sync source are required", ErrConfig)
	}
	self, err := peer.IDFromPrivateKey(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: key: %w", ErrConfig, err)
	}
	bootstrap, err := parseBootstrap(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	ctrs := &counters{}
	if ctrs.prom, err = newPromMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	n := &Host{cfg: cfg, log: cfg.Logger, handler: handler, src: src, ctrs: ctrs, bootstrap: bootstrap}
	n.adm = &admission{self: self}
	m, bad := newMembers(cfg.Authorities, cfg.Observers)
	for _, k := range bad {
		n.log.Warn("authority key is not a valid ed25519 key", "department", k.Short())
	}
	n.adm.current.Store(m)

	if err := n.startHost(m, bootstrap); err != nil {
		return nil, err
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for id := range m.authorities {
		n.cm.Protect(id, protectTag)
	}
	for _, ai := range bootstrap {
		n.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstorePermanent)
		if m.role(ai.ID) == RoleNone {
			n.log.Warn("bootstrap peer is neither authority nor observer; admission will refuse it", "peer", ai.ID)
		}
	}
	if err := n.start(m); err != nil {
		_ = n.Close()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		_ = n.Close()
		return nil, fmt.Errorf("p2p: start: %w", err)
	}
	n.log.Info("p2p host started", "peer", self, "addrs", n.Addrs(), "private_network", len(cfg.PSK) > 0)
	return n, nil
}

// startHost builds the libp2p host with explicit resource limits, the
// connection manager and the gater.
func (n *Host) startHost(m *members, bootstrap []peer.AddrInfo) error {
	cfg := n.cfg
	rm, err := newResourceManager(m, bootstrap, cfg.Registerer != nil)
	if err != nil {
		return err
	}
	n.cm, err = connmgr.NewConnManager(connLow, connHigh, connmgr.WithGracePeriod(connGrace))
	if err != nil {
		_ = rm.Close()
		return fmt.Errorf("p2p: connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(cfg.Key),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(n.cm),
		libp2p.ConnectionGater(n.adm),
		libp2p.DisableRelay(),
		libp2p.UserAgent("zwnode"),
	}
	if len(cfg.PSK) > 0 {
		opts = append(opts, libp2p.PrivateNetwork(pnet.PSK(cfg.PSK)))
		n.log.Info("private network enabled: pre-shared key set, tcp only, quic disabled")
	} else {
		opts = append(opts, libp2p.Transport(quic.NewTransport))
	}
	if cfg.Registerer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Registerer))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	if len(cfg.AnnounceAddrs) > 0 {
		announce := make([]ma.Multiaddr, 0, len(cfg.AnnounceAddrs))
		for _, s := range cfg.AnnounceAddrs {
			announce = append(announce, ma.StringCast(s)) // validated in withDefaults
		}
		opts = append(opts, libp2p.AddrsFactory(func([]ma.Multiaddr) []ma.Multiaddr { return announce }))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		_ = n.cm.Close()
		_ = rm.Close()
		return fmt.Errorf("p2p: start libp2p host: %w", err)
	}
	n.h = h
	return nil
}

// newResourceManager sets fixed limits (never autoscaled to the machine),
// ample per-peer limits for authorities, and allowlists the authorities'
// bootstrap addresses so system-wide limits never lock them out. Its metrics
// go to the registerer libp2p is given.
func newResourceManager(m *members, bootstrap []peer.AddrInfo, metrics bool) (network.ResourceManager, error) {
	limits := rcmgr.DefaultLimits
	authority := rcmgr.BaseLimit{
		Streams: 4096, StreamsInbound: 2048, StreamsOutbound: 2048,
		Conns: 16, ConnsInbound: 8, ConnsOutbound: 8,
		FD: 16, Memory: 512 << 20,
	}
	for id := range m.authorities {
		limits.AddPeerLimit(id, authority, rcmgr.BaseLimitIncrease{})
	}
	concrete := limits.Scale(2<<30, 4096)
	var allow []ma.Multiaddr
	for _, ai := range bootstrap {
		if m.role(ai.ID) != RoleAuthority {
			continue
		}
		for _, a := range ai.Addrs {
			if _, err := a.ValueForProtocol(ma.P_IP4); err == nil {
				allow = append(allow, a)
			} else if _, err := a.ValueForProtocol(ma.P_IP6); err == nil {
				allow = append(allow, a)
			}
		}
	}
	opts := []rcmgr.Option{rcmgr.WithAllowlistedMultiaddrs(allow)}
	if !metrics {
		opts = append(opts, rcmgr.WithMetricsDisabled())
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(concrete), opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	return rm, nil
}

// start brings up the DHT, gossip, the sync server and the background loops.
func (n *Host) start(m *members) error {
	if n.cfg.EnableDHT {
		if err := n.startDHT(); err != nil {
			return err
		}
	}
	g, err := newGossip(n, m)
	if err != nil {
		return err
	}
	n.gossip = g
	n.syncSrv = newSyncServer(n)
	n.h.SetStreamHandler(n.syncProtocol(), n.syncSrv.handle)
	if n.cfg.EnableMDNS {
		if err := n.startMDNS(); err != nil {
			return err
		}
	}
	n.h.Network().Notify(&network.NotifyBundle{
		ConnectedF:    func(_ network.Network, c network.Conn) { n.logConn("peer connected", c) },
		DisconnectedF: func(_ network.Network, c network.Conn) { n.logConn("peer disconnected", c) },
	})
	n.goLoop(n.reconnectLoop)
	if n.dht != nil {
		n.goLoop(n.advertiseLoop)
		n.goLoop(n.findLoop)
	}
	for k := range numKinds {
		n.goLoop(func(ctx context.Context) { g.readLoop(ctx, k) })
	}
	return nil
}

func (n *Host) logConn(msg string, c network.Conn) {
	p := c.RemotePeer()
	n.log.Debug(msg, "peer", p, "role", n.adm.load().role(p).String(), "direction", c.Stat().Direction.String(), "addr", c.RemoteMultiaddr())
}

func (n *Host) goLoop(f func(ctx context.Context)) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f(n.ctx)
	}()
}

func (n *Host) syncProtocol() protocol.ID {
	return protocol.ID("/zw/" + n.cfg.ChainID + "/sync/1")
}

// ID returns the host's peer ID, which names its department.
func (n *Host) ID() peer.ID { return n.h.ID() }

// Addrs returns the host's addresses with the /p2p/<id> suffix, ready to
// hand to another node as a bootstrap address.
func (n *Host) Addrs() []ma.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()})
	if err != nil {
		return nil
	}
	return addrs
}

// SetHeight records the current consensus height; consensus messages below
// height-1 or above height+maxFutureHeights are ignored.
func (n *Host) SetHeight(height uint64) { n.height.Store(height) }

// SetAuthorities applies a governance change: new authorities are admitted
// and protected, removed ones lose admission and their connections are
// closed (unless they remain observers).
func (n *Host) SetAuthorities(keys []chain.PublicKey) {
	old := n.adm.load()
	obs := make([]peer.ID, 0, len(old.observers))
	for id := range old.observers {
		obs = append(obs, id)
	}
	n.setMembers(keys, obs)
}

// SetObservers replaces the set of admitted read-only peers.
func (n *Host) SetObservers(observers []peer.ID) {
	old := n.adm.load()
	keys := make([]chain.PublicKey, 0, len(old.keys))
	for k := range old.keys {
		keys = append(keys, k)
	}
	n.setMembers(keys, observers)
}

func (n *Host) setMembers(keys []chain.PublicKey, observers []peer.ID) {
	old := n.adm.load()
	m, bad := newMembers(keys, observers)
	for _, k := range bad {
		n.log.Warn("authority key is not a valid ed25519 key", "department", k.Short())
	}
	n.adm.current.Store(m)
	for id := range m.authorities {
		if _, was := old.authorities[id]; !was {
			n.cm.Protect(id, protectTag)
			n.log.Info("authority admitted", "peer", id)
		}
	}
	for id := range old.authorities {
		if _, still := m.authorities[id]; !still {
			n.cm.Unprotect(id, protectTag)
			n.log.Info("authority removed", "peer", id)
		}
	}
	for _, p := range n.h.Network().Peers() {
		if m.role(p) == RoleNone {
			n.log.Info("closing connections of peer no longer admitted", "peer", p)
			_ = n.h.Network().ClosePeer(p)
		}
	}
}

// PeerInfo describes an admitted or connected peer.
type PeerInfo struct {
	ID peer.ID
	// Role is authority or observer (none only while a just-removed peer's
	// connection is being closed).
	Role Role
	// Key is the department key for authorities.
	Key       chain.PublicKey
	Addrs     []ma.Multiaddr
	Connected bool
	// Direction of the first open connection (unknown when not connected).
	Direction network.Direction
	// Score is the GossipSub peer score (negative after invalid messages or
	// failed sync verification), refreshed about once a second.
	Score float64
}

// Peers lists every admitted peer and every connected one.
func (n *Host) Peers() []PeerInfo {
	m := n.adm.load()
	seen := make(map[peer.ID]bool)
	var ids []peer.ID
	add := func(id peer.ID) {
		if id != n.h.ID() && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for id := range m.authorities {
		add(id)
	}
	for id := range m.observers {
		add(id)
	}
	for _, id := range n.h.Network().Peers() {
		add(id)
	}
	var scores map[peer.ID]float64
	if s := n.scores.Load(); s != nil {
		scores = *s
	}
	out := make([]PeerInfo, 0, len(ids))
	for _, id := range ids {
		pi := PeerInfo{ID: id, Role: m.role(id), Key: m.authorities[id], Addrs: n.h.Peerstore().Addrs(id), Score: scores[id]}
		if conns := n.h.Network().ConnsToPeer(id); len(conns) > 0 {
			pi.Connected = true
			pi.Direction = conns[0].Stat().Direction
		}
		out = append(out, pi)
	}
	return out
}

// PeerScore returns a peer's latest GossipSub score.
func (n *Host) PeerScore(p peer.ID) (float64, bool) {
	s := n.scores.Load()
	if s == nil {
		return 0, false
	}
	v, ok := (*s)[p]
	return v, ok
}

// Stats returns a snapshot of the counters.
func (n *Host) Stats() Stats {
	s := n.ctrs.snapshot()
	s.GaterRefused = n.adm.refused.Load()
	return s
}

// Close stops every loop and the libp2p host. It is safe to call twice.
func (n *Host) Close() error {
	if !n.closed.CompareAndSwap(false, true) {
		return nil
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	var first error
	for i := len(n.closers) - 1; i >= 0; i-- {
		if err := n.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	if n.dht != nil {
		if err := n.dht.Close(); err != nil && first == nil {
			first = err
		}
	}
	if err := n.h.Close(); err != nil && first == nil {
		first = err
	}
	return first
}
