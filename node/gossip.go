package node

import (
	"context"
	"errors"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/node/mempool"
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

// SubmitTxs admits transactions to the mempool (checking signatures) and
// queues the accepted ones for gossip. It returns one result per input.
func (n *Node) SubmitTxs(ctx context.Context, txs []chain.Tx) []TxResult {
	out := make([]TxResult, len(txs))
	accepted := make([]chain.Tx, 0, len(txs))
	for i := range txs {
		h, err := n.mempool.Add(&txs[i])
		out[i].Hash = h
		if err != nil {
			out[i].Error = err.Error()
			out[i].Code = txErrorCode(err)
			n.metrics.txRejected.Inc()
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
