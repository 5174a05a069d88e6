package node

import (
	"context"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/p2p"
)

const (
	// syncAhead is how many fetched batches may wait for the consensus
	// loop while the syncer fetches the next: fetching overlaps execution.
	// A batch is one sync response (at most about 8 MiB).
	syncAhead       = 1
	syncFirstBlocks = 2
	// syncBatchBlocks caps one request below the response's 8 MiB, so
	// the batches held while fetching ahead stay small.
	syncBatchBlocks = 8
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
			start := time.Now()
			txs, err := n.syncFrom(ctx, bestPeer, cs.height+1, best)
			if h := n.chainState().height; h > cs.height {
				d := time.Since(start)
				n.log.Info("synced blocks", "height", h, "peer", bestPeer.String(), "blocks", h-cs.height, "txs", txs,
					"seconds", d.Seconds(), "tx_per_s", float64(txs)/d.Seconds())
			}
			if err != nil {
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

// syncFrom fetches [from, to] from p one response at a time and hands each
// batch to the loop as it arrives, fetching the next while the loop applies
// it. It returns after the loop has applied (or refused) every batch sent,
// with the first error, and the number of transactions in the batches it
// sent.
func (n *Node) syncFrom(ctx context.Context, p peer.ID, from, to uint64) (txs int, err error) {
	var inflight []chan error
	defer func() {
		// Batches after a refused one fail quickly in the loop (they do
		// not follow its head); wait so the next call starts clean.
		for _, done := range inflight {
			select {
			case <-done:
			case <-ctx.Done():
				return
			}
		}
	}()
	next := from
	var fetchErr error
	for next <= to || len(inflight) > 0 {
		if next <= to && len(inflight) <= syncAhead {
			last := min(to, next+syncBatchBlocks-1)
			if next == from {
				// A small first batch: the loop starts executing while the
				// rest is fetched.
				last = min(to, from+syncFirstBlocks-1)
			}
			done, got, ntx, err := n.fetchBatch(ctx, p, next, last)
			if done != nil {
				inflight = append(inflight, done)
				next += got
				txs += ntx
			}
			if err != nil {
				fetchErr, to = err, next-1 // wait for what was sent, then report
			}
			continue
		}
		select {
		case err := <-inflight[0]:
			inflight = inflight[1:]
			if err != nil {
				return txs, err
			}
		case <-ctx.Done():
			return txs, ctx.Err()
		}
	}
	return txs, fetchErr
}

// fetchBatch fetches one response of blocks from..to from p and sends it to
// the loop; it returns the channel that will carry the loop's result and
// how many blocks and transactions it sent (nil if it sent none), and the
// fetch error, if any: the blocks verified before a peer failed are still
// sent.
func (n *Node) fetchBatch(ctx context.Context, p peer.ID, from, to uint64) (chan error, uint64, int, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	blocks, err := n.host.FetchBlocksOnce(cctx, p, from, to, n.precheckCertified)
	if len(blocks) == 0 {
		if err == nil {
			err = errors.New("peer returned no blocks")
		}
		return nil, 0, 0, err
	}
	// A verified prefix is applied even if the peer failed after it.
	batch := syncBatch{from: p, blocks: make([]certified, len(blocks)), done: make(chan error, 1)}
	txs := 0
	for i, cb := range blocks {
		// precheckCertified ran ValidateBasic on each block returned.
		batch.blocks[i] = certified{block: cb.Block, commit: cb.Commit, basicOK: true}
		txs += len(cb.Block.Txs)
	}
	select {
	case n.synced <- batch:
	case <-ctx.Done():
		return nil, 0, 0, ctx.Err()
	}
	return batch.done, uint64(len(blocks)), txs, err
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
