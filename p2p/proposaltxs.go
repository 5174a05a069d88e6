package p2p

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"

	"github.com/zwnode/zwnode/chain"
)

// Proposals are gossiped compact (chain.CompactBlock: transactions named by
// hash); a node that lacks some of a proposal's transactions asks a peer
// that has the whole block for them with a proposal-txs request on the
// sync protocol:
//
//	request:  uint8(reqProposalTxs) ‖ block hash ‖ uint32(n) ‖ n × uint32(index)
//	response: OK frame, then one frame: the transactions in request order
//	          (chain.EncodeTxs), or an error frame if the block is unknown.

// proposalTxs serves a proposal-txs request from the ProposalTxSource.
func (s *syncServer) proposalTxs(w msgio.WriteCloser, d *chain.Decoder) error {
	var block chain.Hash
	d.Raw(block[:])
	n := d.Count(chain.MaxBlockTxs, 4)
	idx := make([]uint32, n)
	for i := range idx {
		idx[i] = d.Uint32()
	}
	if err := d.Finish(); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no transactions asked for")
	}
	src, ok := s.n.src.(ProposalTxSource)
	if !ok {
		return fmt.Errorf("proposal transactions are not served here")
	}
	txs, ok := src.ProposalTxs(block, idx)
	if !ok {
		return fmt.Errorf("no proposed block %s", block.Short())
	}
	if err := writeOK(w); err != nil {
		return err
	}
	return w.WriteMsg(chain.EncodeTxs(txs))
}

// FetchProposalTxs asks p for the transactions at idx of the proposed
// block with hash block; want[i] is the hash (chain.Tx.Hash) of the one at
// idx[i], as the compact block names it. It returns them in that order.
// Signatures are not checked here (the block's validation checks those of
// transactions this node has not verified); everything else is: a peer
// that sends other transactions than asked for, a wrong count, an
// undecodable list or a transaction for another chain is penalised and
// disconnected, and the call fails with ErrVerify. A peer that does not
// know the block answers with an error (ErrSync, no penalty).
func (n *Host) FetchProposalTxs(ctx context.Context, p peer.ID, block chain.Hash, idx []uint32, want []chain.Hash) ([]chain.Tx, error) {
	if len(idx) == 0 || len(idx) != len(want) || len(idx) > chain.MaxBlockTxs {
		return nil, fmt.Errorf("%w: %d indexes for %d hashes", ErrSync, len(idx), len(want))
	}
	e := chain.NewEncoder(1 + chain.HashSize + 4 + 4*len(idx))
	e.Uint8(reqProposalTxs)
	e.Raw(block[:])
	e.Uint32(uint32(len(idx)))
	for _, i := range idx {
		e.Uint32(i)
	}
	var out []chain.Tx
	err := n.requestChecked(ctx, p, e.Bytes(), func(f []byte) error {
		if out != nil {
			return fmt.Errorf("%w: %s sent more than one transaction list", ErrVerify, p)
		}
		txs, err := chain.DecodeTxs(f, len(idx))
		if err == nil && len(txs) != len(idx) {
			err = fmt.Errorf("%d transactions for %d asked", len(txs), len(idx))
		}
		if err == nil {
			err = n.checkProposalTxs(txs, want)
		}
		if err != nil {
			return fmt.Errorf("%w: proposal transactions of %s from %s: %w", ErrVerify, block.Short(), p, err)
		}
		out = txs
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("%w: empty proposal-txs response from %s", ErrSync, p)
	}
	return out, nil
}

// checkProposalTxs checks fetched transactions against the hashes asked
// for, computing each hash on its canonical encoding.
func (n *Host) checkProposalTxs(txs []chain.Tx, want []chain.Hash) error {
	got := chain.TxHashes(txs)
	for i := range txs {
		if got[i] != want[i] {
			return fmt.Errorf("tx %d is %s, asked for %s", i, got[i].Short(), want[i].Short())
		}
		if err := n.checkTx(&txs[i]); err != nil {
			return fmt.Errorf("tx %d: %w", i, err)
		}
	}
	return nil
}
