package node

import (
	"context"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/p2p"
)

// p2pHandler feeds validated gossip into the node. It never blocks the p2p
// layer for long: consensus messages that do not fit in the loop's queue
// are dropped and counted (the syncer's current-height fetch recovers them).
type p2pHandler struct{ n *Node }

func (h *p2pHandler) HandleTxs(from peer.ID, txs []chain.Tx) {
	for i := range txs {
		if _, err := h.n.mempool.AddVerified(&txs[i]); err != nil {
			h.n.metrics.txRejected.Inc()
		}
	}
}

func (h *p2pHandler) HandleConsensus(from peer.ID, m *chain.Message) {
	if m.Compact != nil {
		h.n.queueCompact(from, m)
		return
	}
	select {
	case h.n.inbound <- inboundMsg{from: from, msg: m}:
	default:
		h.n.metrics.consensusDropped.Inc()
	}
}

func (h *p2pHandler) HandleEvidence(from peer.ID, ev *chain.Evidence) {
	h.n.addEvidence(ev)
}

// syncSource serves this node's chain to peers catching up.
type syncSource struct{ n *Node }

func (s *syncSource) Status() p2p.SyncStatus {
	cs := s.n.chainState()
	return p2p.SyncStatus{Height: cs.height, Head: cs.hash}
}

func (s *syncSource) RawCertified(h uint64) (block, commit []byte, ok bool, err error) {
	if h == 0 || h > s.n.chainState().height {
		return nil, nil, false, nil
	}
	ctx := context.Background()
	if block, err = s.n.store.RawBlock(ctx, h); err != nil {
		return nil, nil, false, err
	}
	if commit, err = s.n.store.RawCommit(ctx, h); err != nil {
		return nil, nil, false, err
	}
	return block, commit, true, nil
}

func (s *syncSource) CurrentMessages() []*chain.Message {
	if p := s.n.current.Load(); p != nil {
		return *p
	}
	return nil
}

func peerIDFromKey(k chain.PublicKey) (peer.ID, error) {
	pub, err := crypto.UnmarshalEd25519PublicKey(k[:])
	if err != nil {
		return "", err
	}
	return peer.IDFromPublicKey(pub)
}

// PeerView is one peer as the API shows it.
type PeerView struct {
	PeerID     string   `json:"peer_id"`
	Role       string   `json:"role"`
	Department string   `json:"department,omitempty"`
	Addrs      []string `json:"addrs"`
	Connected  bool     `json:"connected"`
	Direction  string   `json:"direction,omitempty"`
	Score      float64  `json:"score"`
}

// Peers lists admitted and connected peers with their department.
func (n *Node) Peers() []PeerView {
	set := n.authorities()
	infos := n.host.Peers()
	out := make([]PeerView, 0, len(infos))
	for _, p := range infos {
		v := PeerView{PeerID: p.ID.String(), Role: p.Role.String(), Connected: p.Connected, Score: p.Score, Addrs: []string{}}
		if p.Connected {
			v.Direction = strings.ToLower(p.Direction.String())
		}
		if i, ok := set.Index(p.Key); ok {
			v.Department = set.At(i).Department
		}
		for _, a := range p.Addrs {
			v.Addrs = append(v.Addrs, a.String())
		}
		out = append(out, v)
	}
	return out
}
