package node

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/p2p"
)

// Proposals travel compact: the proposer gossips its block with the
// transactions named by hash (chain.CompactBlock), because every authority
// already received nearly all of them as gossiped transactions. A receiver
// rebuilds the block from its mempool, asks the proposer (then the peer it
// got the proposal from) for the ones it lacks, and hands the whole block
// to consensus. Each node keeps the whole blocks of the current height's
// proposals, its own and rebuilt ones, to answer such requests.

const (
	// maxCachedProposals bounds the proposal cache: one block per round
	// the current height has run, in practice one or two.
	maxCachedProposals = 8
	// assembleQueue bounds compact proposals waiting to be rebuilt; a
	// height has one proposal per round, so a full queue means a flood.
	assembleQueue = 16
	// minFetchTimeout is the least time one fetch of missing transactions
	// gets (otherwise timeout_propose: a block that arrives later than that
	// has failed its round).
	minFetchTimeout = time.Second
)

// proposalCache holds whole proposed blocks of the current height by hash.
// The consensus loop adds its own proposals and prunes on commit, the
// assembler adds rebuilt ones, sync stream handlers read.
type proposalCache struct {
	mu      sync.Mutex
	entries []cachedProposal // oldest first
}

type cachedProposal struct {
	hash  chain.Hash
	block *chain.Block
}

func (c *proposalCache) put(hash chain.Hash, b *chain.Block) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.hash == hash {
			return
		}
	}
	if len(c.entries) >= maxCachedProposals {
		c.entries = append(c.entries[:0], c.entries[1:]...)
	}
	c.entries = append(c.entries, cachedProposal{hash: hash, block: b})
}

func (c *proposalCache) get(hash chain.Hash) *chain.Block {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.hash == hash {
			return e.block
		}
	}
	return nil
}

// prune drops blocks at or below the committed height: nobody fetches a
// decided block's transactions (a node that missed it syncs the block).
func (c *proposalCache) prune(committed uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.entries[:0]
	for _, e := range c.entries {
		if e.block.Height() > committed {
			kept = append(kept, e)
		}
	}
	clear(c.entries[len(kept):])
	c.entries = kept
}

// assembleJob is a validated compact proposal and the peer that sent it.
type assembleJob struct {
	from peer.ID
	msg  *chain.Message
}

// queueCompact hands a compact proposal to the assembler without blocking
// the gossip layer.
func (n *Node) queueCompact(from peer.ID, m *chain.Message) {
	select {
	case n.assemble <- assembleJob{from: from, msg: m}:
	default:
		n.metrics.compactProposals.WithLabelValues("dropped").Inc()
	}
}

// runAssembler rebuilds compact proposals one at a time and passes the
// whole blocks to the consensus loop.
func (n *Node) runAssembler(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case j := <-n.assemble:
			n.assembleProposal(ctx, j)
		}
	}
}

// assembleProposal rebuilds one compact proposal: from the cache if this
// node already holds the block, else from the mempool plus what it fetches.
func (n *Node) assembleProposal(ctx context.Context, j assembleJob) {
	p, c := j.msg.Proposal, j.msg.Compact
	if c.Header.Height <= n.chainState().height {
		n.metrics.compactProposals.WithLabelValues("stale").Inc()
		return
	}
	b := n.proposals.get(p.BlockHash)
	if b == nil {
		var err error
		if b, err = n.rebuild(ctx, j.from, p, c); err != nil {
			n.metrics.compactProposals.WithLabelValues("failed").Inc()
			n.log.Debug("compact proposal not rebuilt", "height", p.Height, "round", p.Round, "proposer", p.Proposer.Short(), "err", err)
			return
		}
		n.proposals.put(p.BlockHash, b)
	}
	select {
	case n.inbound <- inboundMsg{from: j.from, msg: &chain.Message{Proposal: p, Block: b}}:
	case <-ctx.Done():
	}
}

// rebuild looks the transactions up in the mempool and fetches the rest.
func (n *Node) rebuild(ctx context.Context, from peer.ID, p *chain.Proposal, c *chain.CompactBlock) (*chain.Block, error) {
	txs := make([]chain.Tx, len(c.TxHashes))
	missing := n.mempool.Lookup(c.TxHashes, txs)
	found := len(txs) - len(missing)
	outcome := "mempool"
	if len(missing) > 0 {
		fetched, err := n.fetchProposalTxs(ctx, from, p, c, missing)
		if err != nil {
			return nil, err
		}
		for k, i := range missing {
			txs[i] = fetched[k]
		}
		outcome = "fetched"
	}
	b, err := c.Rebuild(txs)
	if err != nil {
		return nil, err
	}
	n.metrics.compactTxs.WithLabelValues("mempool").Add(float64(found))
	n.metrics.compactTxs.WithLabelValues("fetched").Add(float64(len(missing)))
	n.metrics.compactProposals.WithLabelValues(outcome).Inc()
	return b, nil
}

// fetchProposalTxs asks the proposer, then the peer that relayed the
// proposal, for the transactions at missing.
func (n *Node) fetchProposalTxs(ctx context.Context, from peer.ID, p *chain.Proposal, c *chain.CompactBlock, missing []uint32) ([]chain.Tx, error) {
	want := make([]chain.Hash, len(missing))
	for k, i := range missing {
		want[k] = c.TxHashes[i]
	}
	peers := []peer.ID{from}
	if id, err := peerIDFromKey(p.Proposer); err == nil && id != from && id != n.host.ID() {
		peers = []peer.ID{id, from}
	}
	timeout := max(minFetchTimeout, time.Duration(n.genesis.Params.TimeoutProposeMS)*time.Millisecond)
	var errs []error
	for _, id := range peers {
		fctx, cancel := context.WithTimeout(ctx, timeout)
		txs, err := n.host.FetchProposalTxs(fctx, id, p.BlockHash, missing, want)
		cancel()
		if err == nil {
			return txs, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// ProposalTxs serves the transactions of a cached proposal (p2p.ProposalTxSource).
func (s *syncSource) ProposalTxs(hash chain.Hash, idx []uint32) ([]chain.Tx, bool) {
	b := s.n.proposals.get(hash)
	if b == nil {
		return nil, false
	}
	return b.TxsAt(idx)
}

var _ p2p.ProposalTxSource = (*syncSource)(nil)
