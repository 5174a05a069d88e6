package p2p

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

// maxFutureHeights is how far ahead of our height a consensus message may
// be and still be relayed; further ahead, sync is the way to catch up.
const maxFutureHeights = 16

// Batch verification costs less per signature the larger the batch (about
// 20 µs at 64, 15 at 256, 14 at 1,024 on the reference machine), and four
// nodes share two cores, so splitting a batch over goroutines only lowers
// latency and costs throughput. Batches are split only into chunks of at
// least minVerifyChunk, and only from minParallelTxs up.
const (
	minVerifyChunk = 256
	minParallelTxs = 2 * minVerifyChunk
)

// Validators return Reject (the forwarder is penalised) for anything a
// correct peer would never relay: bad encodings, sizes, chain ids,
// signatures, non-members. They return Ignore (no penalty) for messages that
// are merely stale. Each decodes once and hands the result to readLoop via
// ValidatorData. Our own publications were checked in Publish*.

func (g *gossip) validateTxs(_ context.Context, _ peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if msg.ReceivedFrom == g.n.h.ID() {
		return pubsub.ValidationAccept
	}
	if len(msg.Data) > g.n.cfg.MaxTxBatchBytes {
		return g.reject(kindTxs, msg, "too large")
	}
	txs, err := chain.DecodeTxs(msg.Data, maxTxsPerBatch)
	if err != nil || len(txs) == 0 {
		return g.reject(kindTxs, msg, "undecodable")
	}
	for i := range txs {
		if err := g.n.checkTx(&txs[i]); err != nil {
			return g.reject(kindTxs, msg, "invalid tx")
		}
	}
	batch := &txBatch{txs: txs, hashes: txHashes(msg.Data, txs)}
	// A tx this node already verified (same hash, so the same signed bytes)
	// is not verified again: it was committed before its gossip arrived, or
	// it reached us by another path.
	known, _ := g.n.handler.(TxHandler)
	todo := make([]*chain.Tx, 0, len(txs))
	for i := range txs {
		if known == nil || !known.KnownTx(batch.hashes[i]) {
			todo = append(todo, &txs[i])
		}
	}
	if err := g.verifyTxs(todo); err != nil {
		return g.reject(kindTxs, msg, "bad signature")
	}
	msg.ValidatorData = batch
	return pubsub.ValidationAccept
}

// txBatch is a validated tx message: the txs and their hashes.
type txBatch struct {
	txs    []chain.Tx
	hashes []chain.Hash
}

// txHashes returns each tx's Hash, computed on the slice of data that
// encodes it rather than by encoding it again. data must be the encoding
// DecodeTxs accepted for txs: a uint32 count, then the txs back to back.
// The encoding is canonical, so each tx's slice is its canonical encoding;
// should the lengths ever not add up, the hashes are computed the slow way.
func txHashes(data []byte, txs []chain.Tx) []chain.Hash {
	hashes := make([]chain.Hash, len(txs))
	const countLen = 4
	total := countLen
	for i := range txs {
		total += txs[i].EncodedLen()
	}
	if total != len(data) {
		for i := range txs {
			hashes[i] = txs[i].Hash()
		}
		return hashes
	}
	off := countLen
	for i := range txs {
		n := txs[i].EncodedLen()
		hashes[i] = chain.HashBytes(data[off : off+n])
		off += n
	}
	return hashes
}

func (g *gossip) validateConsensus(_ context.Context, _ peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if msg.ReceivedFrom == g.n.h.ID() {
		return pubsub.ValidationAccept
	}
	if len(msg.Data) > g.n.cfg.MaxConsensusBytes {
		return g.reject(kindConsensus, msg, "too large")
	}
	cm, err := chain.DecodeMessage(msg.Data)
	if err != nil {
		return g.reject(kindConsensus, msg, "undecodable")
	}
	if err := cm.ValidateBasic(); err != nil {
		return g.reject(kindConsensus, msg, err.Error())
	}
	// Stale heights are ignored before the signature check: not the
	// sender's fault, and cheaper.
	if cur := g.n.height.Load(); cur > 0 {
		if h := cm.Height(); h+1 < cur || h > cur+maxFutureHeights {
			return pubsub.ValidationIgnore
		}
	}
	// The signer must be a current authority and the signature good;
	// gossip messages carry no author of their own (gossipSignaturePolicy).
	if err := g.n.checkConsensusSigned(cm); err != nil {
		return g.reject(kindConsensus, msg, err.Error())
	}
	msg.ValidatorData = cm
	return pubsub.ValidationAccept
}

func (g *gossip) validateEvidence(_ context.Context, _ peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if msg.ReceivedFrom == g.n.h.ID() {
		return pubsub.ValidationAccept
	}
	if len(msg.Data) > maxEvidenceBytes {
		return g.reject(kindEvidence, msg, "too large")
	}
	ev, err := chain.DecodeEvidence(msg.Data)
	if err != nil {
		return g.reject(kindEvidence, msg, "undecodable")
	}
	if err := checkEvidence(g.n.cfg.ChainID, ev); err != nil {
		return g.reject(kindEvidence, msg, "invalid")
	}
	msg.ValidatorData = ev
	return pubsub.ValidationAccept
}

func (g *gossip) reject(kind int, msg *pubsub.Message, why string) pubsub.ValidationResult {
	g.n.log.Debug("gossip message rejected", "topic", kindNames[kind], "peer", msg.ReceivedFrom, "reason", why)
	return pubsub.ValidationReject
}

// checkEvidence runs the checks that need no authority set: shape and both
// signatures. Whether the offender was an authority at that height is for
// the node to decide.
func checkEvidence(chainID string, ev *chain.Evidence) error {
	if err := ev.ValidateBasic(); err != nil {
		return err
	}
	return ev.VerifySignatures(chainID)
}

// verifyTxs checks every signature of a batch. Batches of at least
// minParallelTxs are split into chunks verified in parallel; extra
// goroutines run only when a slot is free, so total verification work stays
// bounded by GOMAXPROCS plus the validator goroutines pubsub already runs.
// The first failure stops the rest.
func (g *gossip) verifyTxs(txs []*chain.Tx) error {
	if len(txs) < minParallelTxs {
		return verifyRange(txs, nil)
	}
	chunks := min(cap(g.verifySlots)+1, len(txs)/minVerifyChunk)
	size := (len(txs) + chunks - 1) / chunks
	var (
		failed atomic.Bool
		wg     sync.WaitGroup
		errs   = make([]error, chunks)
	)
	for c := 1; c < chunks; c++ {
		part := txs[min(c*size, len(txs)):min((c+1)*size, len(txs))]
		select {
		case g.verifySlots <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-g.verifySlots }()
				errs[c] = verifyRange(part, &failed)
			}()
		default:
			errs[c] = verifyRange(part, &failed)
		}
	}
	errs[0] = verifyRange(txs[:min(size, len(txs))], &failed)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// verifyRange checks a range of signatures as one batch; failed lets
// parallel ranges stop early. It only needs to know whether the range is
// good (one bad signature refuses the message), so a bad range costs one
// batch check, not a check of each signature to name the bad one.
func verifyRange(txs []*chain.Tx, failed *atomic.Bool) error {
	if failed != nil && failed.Load() {
		return nil
	}
	if chain.TxSignaturesValid(txs) {
		return nil
	}
	if failed != nil {
		failed.Store(true)
	}
	return fmt.Errorf("%w: in a batch of %d transactions", chain.ErrBadSignature, len(txs))
}
