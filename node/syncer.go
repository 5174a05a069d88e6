package node

import (
	"context"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/p2p"
)

const (
	syncBatchBlocks = 256
	syncPoll        = 500 * time.Millisecond
	peerCallTimeout = 5 * time.Second
)

// runSyncer keeps the node caught up. When a peer is ahead it fetches
// certified blocks in batches and hands them to the consensus loop. When
// the node is level with its peers but its height has not moved for a
// while, it fetches the current height's proposal and votes, so liveness
// never depends on every gossip message arriving.
func (n *Node) runSyncer(ctx context.Context) error {
	lastHeight, lastMove := n.chainState().height, time.Now()
	stall := time.Duration(n.genesis.Params.TimeoutProposeMS+n.genesis.Params.TimeoutPrevoteMS+n.genesis.Params.TimeoutPrecommitMS) * time.Millisecond
	for {
		best, bestPeer := n.bestPeer(ctx)
		cs := n.chainState()
		if best > cs.height {
			n.setSyncing(true, best)
			if err := n.syncFrom(ctx, bestPeer, cs.height+1, min(best, cs.height+syncBatchBlocks)); err != nil {
				if isFatal(err) {
					return err
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				n.log.Warn("sync from peer failed", "peer", bestPeer.String(), "height", cs.height+1, "err", err)
			} else {
				continue
			}
		} else {
			n.setSyncing(false, best)
		}
		if h := n.chainState().height; h != lastHeight {
			lastHeight, lastMove = h, time.Now()
		} else if time.Since(lastMove) > stall {
			n.fetchCurrent(ctx)
			lastMove = time.Now()
		}
		if err := sleepCtx(ctx, syncPoll); err != nil {
			return err
		}
	}
}

// bestPeer asks every connected peer for its status and returns the
// highest height and who has it.
func (n *Node) bestPeer(ctx context.Context) (uint64, peer.ID) {
	var best uint64
	var who peer.ID
	for _, p := range n.host.Peers() {
		if !p.Connected {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, peerCallTimeout)
		st, err := n.host.FetchStatus(cctx, p.ID)
		cancel()
		if err != nil {
			continue
		}
		if st.Height > best {
			best, who = st.Height, p.ID
		}
	}
	return best, who
}

// syncFrom fetches [from, to] from p and waits for the loop to apply it.
func (n *Node) syncFrom(ctx context.Context, p peer.ID, from, to uint64) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	blocks, err := n.host.FetchBlocks(cctx, p, from, to, n.precheckCertified)
	if err != nil {
		return err
	}
	if len(blocks) == 0 {
		return errors.New("peer returned no blocks")
	}
	batch := syncBatch{from: p, blocks: make([]certified, len(blocks)), done: make(chan error, 1)}
	for i, cb := range blocks {
		batch.blocks[i] = certified{block: cb.Block, commit: cb.Commit}
	}
	select {
	case n.synced <- batch:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-batch.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// precheckCertified is the p2p layer's early check of a fetched block: the
// certificate must verify against the authority set for its height when
// that set is already known (the next two heights). The consensus loop
// repeats the full check, against the exact set, when it applies the block.
func (n *Node) precheckCertified(cb p2p.CertifiedBlock) error {
	if cb.Block == nil || cb.Commit == nil {
		return errors.New("block without certificate")
	}
	if err := cb.Block.ValidateBasic(); err != nil {
		return err
	}
	cs := n.chainState()
	set, ok := cs.sets[cb.Block.Height()]
	if !ok {
		return cb.Commit.ValidateBasic()
	}
	return cb.Commit.Verify(n.chainID, set, cb.Block.Height(), cb.Block.Hash())
}

// fetchCurrent pulls the current height's proposal and votes from peers.
func (n *Node) fetchCurrent(ctx context.Context) {
	height := n.chainState().height + 1
	for _, p := range n.host.Peers() {
		if !p.Connected {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, peerCallTimeout)
		msgs, err := n.host.FetchCurrent(cctx, p.ID)
		cancel()
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if m.Height() != height || m.ValidateBasic() != nil || m.VerifySignature(n.chainID) != nil {
				continue
			}
			select {
			case n.inbound <- inboundMsg{from: p.ID, msg: m}:
			case <-ctx.Done():
				return
			}
		}
	}
}
