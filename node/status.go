package node

import (
	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

// Status is a snapshot of the node for the API and the CLI.
type Status struct {
	ChainID     string          `json:"chain_id"`
	GenesisHash chain.Hash      `json:"genesis_hash"`
	Department  string          `json:"department"`
	PeerID      string          `json:"peer_id"`
	Height      uint64          `json:"height"`
	HeadHash    chain.Hash      `json:"head_hash"`
	HeadTime    int64           `json:"head_time"`
	Round       uint32          `json:"round"`
	Step        string          `json:"step"`
	Authorities []AuthorityInfo `json:"authorities"`
	Quorum      int             `json:"quorum"`
	Peers       int             `json:"peers"`
	Syncing     bool            `json:"syncing"`
	BestPeer    uint64          `json:"best_peer_height"`
	MempoolTxs  int             `json:"mempool_txs"`
}

// AuthorityInfo describes one member of the authority set.
type AuthorityInfo struct {
	Department string          `json:"department"`
	Name       string          `json:"name"`
	PubKey     chain.PublicKey `json:"pub_key"`
	PeerID     string          `json:"peer_id,omitempty"`
}

// publishHead refreshes the status after the head moved.
func (n *Node) publishHead(cs *chainState) {
	st := n.snapshotStatus()
	st.Height = cs.height
	st.HeadHash = cs.hash
	st.HeadTime = cs.time
	set := cs.sets[cs.height+1]
	st.Authorities = st.Authorities[:0:0]
	for i := 0; i < set.Size(); i++ {
		a := set.At(i)
		info := AuthorityInfo{Department: a.Department, Name: a.Name, PubKey: a.PubKey}
		if id, err := peerIDFromKey(a.PubKey); err == nil {
			info.PeerID = id.String()
		}
		st.Authorities = append(st.Authorities, info)
	}
	st.Quorum = set.Quorum()
	n.status.Store(st)
	n.metrics.height.Set(float64(cs.height))
}

// publishConsensusStatus records the engine's round and step.
func (n *Node) publishConsensusStatus(s consensus.Status) {
	st := n.snapshotStatus()
	st.Round = s.Round
	st.Step = s.Step.String()
	n.status.Store(st)
	n.metrics.round.Set(float64(s.Round))
}

// syncInfo is the syncer's view, kept apart from the loop's status so the
// two writers never overwrite each other's fields.
type syncInfo struct {
	syncing bool
	best    uint64
}

func (n *Node) setSyncing(syncing bool, best uint64) {
	n.syncState.Store(&syncInfo{syncing: syncing, best: best})
	if !syncing {
		n.readyOnce.Do(func() { close(n.ready) })
	}
}

// snapshotStatus returns a copy of the current status to modify.
func (n *Node) snapshotStatus() *Status {
	if p := n.status.Load(); p != nil {
		cp := *p
		return &cp
	}
	return &Status{ChainID: n.chainID, GenesisHash: n.genHash, Department: n.department()}
}

// Status returns the node's current status.
func (n *Node) Status() Status {
	st := *n.snapshotStatus()
	st.Syncing = true // until the syncer has asked the peers
	if si := n.syncState.Load(); si != nil {
		st.Syncing, st.BestPeer = si.syncing, si.best
	}
	if n.host != nil {
		st.PeerID = n.host.ID().String()
		for _, p := range n.host.Peers() {
			if p.Connected {
				st.Peers++
			}
		}
	}
	count, _ := n.mempool.Size()
	st.MempoolTxs = count
	return st
}
