package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/node/mempool"
	"github.com/zwnode/zwnode/p2p"
)

const (
	gossipBatchTxs   = 2000
	gossipBatchDelay = 5 * time.Millisecond
)

// TxResult is the outcome of submitting one transaction.
type TxResult struct {
	Hash  chain.Hash `json:"hash"`
	Error string     `json:"error,omitempty"`
	Code  string     `json:"code,omitempty"`
}

// SubmitTxs admits transactions to the mempool and queues the accepted
// ones for gossip. Cheap checks run first (including the pool's Precheck,
// so a full pool refuses a batch without checking its signatures), then
// every signature in parallel, then admission without checking them
// again. It returns one result per input, in order.
func (n *Node) SubmitTxs(ctx context.Context, txs []chain.Tx) []TxResult {
	out := make([]TxResult, len(txs))
	fail := func(i int, err error) {
		out[i].Error, out[i].Code = err.Error(), txErrorCode(err)
		n.metrics.txRejected.Inc()
	}
	var idx []int
	var ptrs []*chain.Tx
	for i := range txs {
		out[i].Hash = txs[i].Hash()
		switch {
		case txs[i].ValidateBasic() != nil:
			fail(i, txs[i].ValidateBasic())
		case txs[i].ChainID != n.chainID:
			fail(i, fmt.Errorf("tx for chain %q sent to chain %q: %w", txs[i].ChainID, n.chainID, chain.ErrWrongChain))
		default:
			if err := n.mempool.Precheck(&txs[i], out[i].Hash); err != nil {
				fail(i, err)
				continue
			}
			idx = append(idx, i)
			ptrs = append(ptrs, &txs[i])
		}
	}
	accepted := make([]chain.Tx, 0, len(ptrs))
	for j, err := range verifySignatures(ptrs) {
		i := idx[j]
		if err == nil {
			_, err = n.mempool.AddSubmitted(ptrs[j], out[i].Hash)
		}
		if err != nil {
			fail(i, err)
			continue
		}
		accepted = append(accepted, txs[i])
	}
	if len(accepted) > 0 {
		select {
		case n.txOut <- accepted:
		case <-ctx.Done():
		}
	}
	return out
}

func txErrorCode(err error) string {
	switch {
	case errors.Is(err, mempool.ErrFull):
		return "mempool_full"
	case errors.Is(err, chain.ErrWrongChain):
		return "wrong_chain"
	case errors.Is(err, chain.ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, mempool.ErrNonceTooLow):
		return "nonce_too_low"
	case errors.Is(err, mempool.ErrNonceGap):
		return "nonce_too_high"
	case errors.Is(err, mempool.ErrDuplicate):
		return "duplicate"
	case errors.Is(err, chain.ErrTooLarge):
		return "too_large"
	}
	return "invalid_tx"
}

// runGossipBatcher collects accepted transactions into batches so gossip
// pays its per-message costs (signing, IDs, validation queues) once per
// batch instead of once per transaction.
func (n *Node) runGossipBatcher(ctx context.Context) error {
	var pending []chain.Tx
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if err := n.host.PublishTxs(ctx, pending); err != nil && ctx.Err() == nil {
			n.log.Warn("publish txs", "tx", len(pending), "err", err)
		}
		pending = nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case txs := <-n.txOut:
			if len(pending) == 0 {
				timer.Reset(gossipBatchDelay)
			}
			pending = append(pending, txs...)
			if len(pending) >= gossipBatchTxs {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// The gossip handler is a p2p.TxHandler: the validator skips txs this node
// already verified and hands over the hashes it computed, so gossip txs are
// neither verified nor hashed twice.
var _ p2p.TxHandler = (*p2pHandler)(nil)

// KnownTx reports whether a tx with hash h already passed a signature check
// here: it is pending, or it was verified in a block before its gossip
// arrived.
func (h *p2pHandler) KnownTx(hash chain.Hash) bool { return h.n.mempool.Known(hash) }

// HandleHashedTxs admits a validated gossip batch to the mempool.
func (h *p2pHandler) HandleHashedTxs(_ peer.ID, txs []chain.Tx, hashes []chain.Hash) {
	for i := range txs {
		if _, err := h.n.mempool.AddVerifiedHashed(&txs[i], hashes[i]); err != nil {
			h.n.metrics.txRejected.Inc()
		}
	}
}
