package p2p

import (
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/zwnode/zwnode/chain"
)

// Role says why a peer is admitted.
type Role uint8

// Roles.
const (
	RoleNone Role = iota
	RoleAuthority
	RoleObserver
)

func (r Role) String() string {
	switch r {
	case RoleAuthority:
		return "authority"
	case RoleObserver:
		return "observer"
	}
	return "none"
}

// members is an immutable snapshot of who is admitted. It is swapped
// atomically so the gater and validators (hot paths) never take a lock.
type members struct {
	authorities map[peer.ID]chain.PublicKey
	keys        map[chain.PublicKey]peer.ID
	observers   map[peer.ID]bool
}

func (m *members) role(p peer.ID) Role {
	if _, ok := m.authorities[p]; ok {
		return RoleAuthority
	}
	if m.observers[p] {
		return RoleObserver
	}
	return RoleNone
}

// newMembers builds a snapshot; keys that are not valid ed25519 points are
// skipped and returned so the caller can log them.
func newMembers(keys []chain.PublicKey, observers []peer.ID) (*members, []chain.PublicKey) {
	m := &members{
		authorities: make(map[peer.ID]chain.PublicKey, len(keys)),
		keys:        make(map[chain.PublicKey]peer.ID, len(keys)),
		observers:   make(map[peer.ID]bool, len(observers)),
	}
	var bad []chain.PublicKey
	for _, k := range keys {
		id, err := PeerIDFromPublicKey(k)
		if err != nil {
			bad = append(bad, k)
			continue
		}
		m.authorities[id] = k
		m.keys[k] = id
	}
	for _, o := range observers {
		if _, isAuth := m.authorities[o]; !isAuth {
			m.observers[o] = true
		}
	}
	return m, bad
}

// admission holds the current membership and implements
// connmgr.ConnectionGater with it.
type admission struct {
	self    peer.ID
	current atomic.Pointer[members]
	refused atomic.Uint64
}

func (a *admission) load() *members { return a.current.Load() }

func (a *admission) allowed(p peer.ID) bool {
	if p == a.self {
		return false
	}
	if a.load().role(p) != RoleNone {
		return true
	}
	a.refused.Add(1)
	return false
}

// InterceptPeerDial refuses to dial peers that are not admitted.
func (a *admission) InterceptPeerDial(p peer.ID) bool { return a.allowed(p) }

// InterceptAddrDial refuses to dial addresses of peers that are not admitted.
func (a *admission) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return a.allowed(p) }

// InterceptAccept lets the handshake start: the remote peer is not known yet.
func (a *admission) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured is the first hook that knows the authenticated remote
// peer; unknown peers are refused here on both sides.
func (a *admission) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return a.allowed(p)
}

// InterceptUpgraded accepts: admission was decided at InterceptSecured.
func (a *admission) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}
