package p2p

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	dutil "github.com/libp2p/go-libp2p/p2p/discovery/util"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	peerstorePermanent = peerstore.PermanentAddrTTL
	// discoveredAddrTTL keeps addresses learnt from the DHT or mDNS long
	// enough for the reconnect loop to use them.
	discoveredAddrTTL = time.Hour

	reconnectTick   = 500 * time.Millisecond
	backoffBase     = 500 * time.Millisecond
	backoffCap      = 30 * time.Second
	dialTimeout     = 10 * time.Second
	findFast        = 2 * time.Second
	findSlow        = 30 * time.Second
	advertiseEvery  = 5 * time.Minute
	advertiseRetry  = time.Second
	findPeerTimeout = 10 * time.Second
)

// parseBootstrap turns /…/p2p/<id> strings into address infos, merging
// several addresses of one peer.
func parseBootstrap(list []string) ([]peer.AddrInfo, error) {
	addrs := make([]ma.Multiaddr, 0, len(list))
	for _, s := range list {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: bootstrap address %q: %w", ErrConfig, s, err)
		}
		addrs = append(addrs, a)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap addresses must end in /p2p/<peer id>: %w", ErrConfig, err)
	}
	return infos, nil
}

// dialResult reports one reconnect attempt back to the loop that owns the
// backoff state.
type dialResult struct {
	id  peer.ID
	err error
}

// backoff is one peer's redial state.
type backoff struct {
	next  time.Time
	delay time.Duration
}

// reconnectLoop keeps bootstrap peers and every admitted peer with a known
// address connected, redialling with capped exponential backoff. Only this
// goroutine touches the backoff map.
func (n *Host) reconnectLoop(ctx context.Context) {
	state := make(map[peer.ID]*backoff)
	inflight := make(map[peer.ID]bool)
	results := make(chan dialResult)
	ticker := time.NewTicker(reconnectTick)
	defer ticker.Stop()
	for {
		now := time.Now()
		for _, id := range n.dialTargets() {
			b := state[id]
			if b == nil {
				b = &backoff{delay: backoffBase}
				state[id] = b
			}
			if inflight[id] || now.Before(b.next) || n.h.Network().Connectedness(id) == network.Connected {
				continue
			}
			inflight[id] = true
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				dctx, cancel := context.WithTimeout(ctx, dialTimeout)
				defer cancel()
				err := n.h.Connect(dctx, peer.AddrInfo{ID: id})
				select {
				case results <- dialResult{id, err}:
				case <-ctx.Done():
				}
			}()
		}
		select {
		case <-ctx.Done():
			return
		case r := <-results:
			delete(inflight, r.id)
			b := state[r.id]
			if r.err == nil {
				b.delay, b.next = backoffBase, time.Time{}
				continue
			}
			// Jitter spreads redials of many nodes restarted together.
			b.next = time.Now().Add(b.delay + rand.N(b.delay/4+1))
			n.log.Debug("redial failed", "peer", r.id, "retry_in", b.delay, "err", r.err)
			b.delay = min(2*b.delay, backoffCap)
		case <-ticker.C:
		}
	}
}

// dialTargets lists bootstrap peers and admitted peers whose addresses we
// know (from config, the DHT, mDNS or an earlier connection).
func (n *Host) dialTargets() []peer.ID {
	m := n.adm.load()
	seen := make(map[peer.ID]bool)
	var out []peer.ID
	for _, ai := range n.bootstrap {
		if m.role(ai.ID) != RoleNone && !seen[ai.ID] {
			seen[ai.ID] = true
			out = append(out, ai.ID)
		}
	}
	consider := func(id peer.ID) {
		if id != n.h.ID() && !seen[id] && len(n.h.Peerstore().Addrs(id)) > 0 {
			seen[id] = true
			out = append(out, id)
		}
	}
	for id := range m.authorities {
		consider(id)
	}
	for id := range m.observers {
		consider(id)
	}
	return out
}

// learn records addresses of an admitted peer found by discovery; the
// reconnect loop then dials it.
func (n *Host) learn(ai peer.AddrInfo) {
	if ai.ID == n.h.ID() || len(ai.Addrs) == 0 || n.adm.load().role(ai.ID) == RoleNone {
		return
	}
	n.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, discoveredAddrTTL)
}

// startDHT runs a private kad-DHT in server mode under /zw/<chain-id>, so it
// never joins the public IPFS DHT.
func (n *Host) startDHT() error {
	d, err := dht.New(n.h,
		dht.Mode(dht.ModeServer),
		dht.ProtocolPrefix(protocol.ID("/zw/"+n.cfg.ChainID)),
		dht.BootstrapPeers(n.bootstrap...),
	)
	if err != nil {
		return fmt.Errorf("p2p: start dht: %w", err)
	}
	n.dht = d
	return nil
}

// discoveryNamespace is what every node of the chain advertises.
func (n *Host) discoveryNamespace() string { return "/zw/" + n.cfg.ChainID + "/nodes" }

// advertiseLoop advertises this node in the DHT once the routing table has
// a peer, retrying quickly on failure (the stock helper waits two minutes).
func (n *Host) advertiseLoop(ctx context.Context) {
	disc := drouting.NewRoutingDiscovery(n.dht)
	wait := advertiseRetry
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if n.dht.RoutingTable().Size() == 0 {
			wait = advertiseRetry
			continue
		}
		if _, err := disc.Advertise(ctx, n.discoveryNamespace()); err != nil {
			n.log.Debug("dht advertise failed", "err", err)
			wait = min(2*wait, backoffCap)
			continue
		}
		wait = advertiseEvery
	}
}

// findLoop looks up the namespace's providers and, for authorities still
// unreachable, their addresses; it polls fast while any authority is
// missing and slowly once all are connected.
func (n *Host) findLoop(ctx context.Context) {
	disc := drouting.NewRoutingDiscovery(n.dht)
	wait := advertiseRetry
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if n.dht.RoutingTable().Size() == 0 {
			wait = advertiseRetry
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, findPeerTimeout)
		found, err := dutil.FindPeers(fctx, disc, n.discoveryNamespace())
		if err != nil {
			n.log.Debug("dht find peers failed", "err", err)
		}
		for _, ai := range found {
			n.learn(ai)
		}
		missing := n.missingAuthorities()
		for _, id := range missing {
			if len(n.h.Peerstore().Addrs(id)) > 0 {
				continue
			}
			if ai, err := n.dht.FindPeer(fctx, id); err == nil {
				n.learn(ai)
			}
		}
		cancel()
		wait = findSlow
		if len(missing) > 0 {
			wait = findFast
		}
	}
}

func (n *Host) missingAuthorities() []peer.ID {
	var out []peer.ID
	for id := range n.adm.load().authorities {
		if id != n.h.ID() && n.h.Network().Connectedness(id) != network.Connected {
			out = append(out, id)
		}
	}
	return out
}

// mdnsService is the DNS-SD service name; peers of other chains answer too
// but admission refuses them.
const mdnsService = "_zwnode._udp"

// mdnsNotifee hands mDNS results to learn.
type mdnsNotifee struct{ n *Host }

// HandlePeerFound records an admitted peer seen on the local network.
func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) { m.n.learn(ai) }

func (n *Host) startMDNS() error {
	svc := mdns.NewMdnsService(n.h, mdnsService, mdnsNotifee{n})
	if err := svc.Start(); err != nil {
		return fmt.Errorf("p2p: start mdns: %w", err)
	}
	n.closers = append(n.closers, svc.Close)
	return nil
}
