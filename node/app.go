package node

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/store"
)

// execResult is the outcome of executing a block on the committed state.
type execResult struct {
	root    chain.Hash
	writes  []store.Write
	results []ledger.TxResult
	alerts  []ledger.Alert
	next    []chain.Authority
	// hashes are the block's tx hashes, computed once for execution, the
	// store's indexes and the event stream.
	hashes []chain.Hash
}

// app is the consensus engine's view of the ledger. It runs on the
// consensus loop goroutine only, so its cache needs no lock.
type app struct {
	n     *Node
	cache map[chain.Hash]*execResult
	// nsPerTx is a moving average of execution cost per transaction, used
	// to keep proposals small enough to execute well within the propose
	// timeout (a proposal that arrives late fails the round for everyone).
	nsPerTx float64
}

// proposalBudget is the share of timeout_propose a proposer may spend
// executing its block; validators need about as long again, plus the
// signatures of transactions they have not seen.
const proposalBudget = 4

// maxProposalTxs bounds the next proposal by the genesis limit and by the
// execution-time budget.
func (a *app) maxProposalTxs() int {
	limit := a.n.genesis.Params.MaxBlockTxs
	if a.nsPerTx <= 0 {
		return limit
	}
	budget := float64(a.n.genesis.Params.TimeoutProposeMS) * 1e6 / proposalBudget
	return max(100, min(limit, int(budget/a.nsPerTx)))
}

// observe folds one block's execution time into the moving average.
func (a *app) observe(txs int, d time.Duration) {
	if txs < 50 {
		return
	}
	per := float64(d.Nanoseconds()) / float64(txs)
	if a.nsPerTx == 0 {
		a.nsPerTx = per
	} else {
		a.nsPerTx = 0.7*a.nsPerTx + 0.3*per
	}
}

var _ consensus.Application = (*app)(nil)

// ValidateBlock checks what the engine cannot: block time, evidence,
// transaction signatures, and that executing the transactions on the
// committed state yields the header's state root.
func (a *app) ValidateBlock(b *chain.Block) ([]chain.Authority, error) {
	if res, ok := a.cache[b.Hash()]; ok {
		return res.next, nil
	}
	cs := a.n.chainState()
	if b.Height() != cs.height+1 {
		return nil, fmt.Errorf("block %d does not follow committed head %d", b.Height(), cs.height)
	}
	if b.Header.Time <= cs.time {
		return nil, fmt.Errorf("block %d: time %d is not after the previous block's %d", b.Height(), b.Header.Time, cs.time)
	}
	if err := a.verifyLimits(b); err != nil {
		return nil, err
	}
	if err := a.n.verifyEvidence(b.Evidence); err != nil {
		return nil, fmt.Errorf("block %d: %w", b.Height(), err)
	}
	hashes := chain.TxHashes(b.Txs)
	if err := a.verifyTxSignatures(b.Txs, hashes); err != nil {
		return nil, fmt.Errorf("block %d: %w", b.Height(), err)
	}
	res, err := a.executeHashed(b, hashes)
	if err != nil {
		return nil, err
	}
	return res.next, nil
}

func (a *app) verifyLimits(b *chain.Block) error {
	p := a.n.genesis.Params
	if len(b.Txs) > p.MaxBlockTxs {
		return fmt.Errorf("block %d: %d txs, limit %d", b.Height(), len(b.Txs), p.MaxBlockTxs)
	}
	size := 0
	for i := range b.Txs {
		l := b.Txs[i].EncodedLen()
		if l > p.MaxTxBytes {
			return fmt.Errorf("block %d tx %d: %d bytes, limit %d", b.Height(), i, l, p.MaxTxBytes)
		}
		size += l
	}
	if size > p.MaxBlockBytes {
		return fmt.Errorf("block %d: %d bytes of txs, limit %d", b.Height(), size, p.MaxBlockBytes)
	}
	return nil
}

// verifyTxSignatures checks every signature this node has not already
// checked (pending in the mempool, or verified in an earlier block), and
// remembers the ones it checks, so their gossip, if it comes later, is not
// verified again. hashes[i] is txs[i].Hash().
func (a *app) verifyTxSignatures(txs []chain.Tx, hashes []chain.Hash) error {
	var todo []*chain.Tx
	var idx []int
	var checked []chain.Hash
	for i := range txs {
		if h := hashes[i]; !a.n.mempool.Known(h) {
			todo = append(todo, &txs[i])
			idx = append(idx, i)
			checked = append(checked, h)
		}
	}
	for j, err := range verifySignatures(todo) {
		if err != nil {
			return fmt.Errorf("tx %d: %w", idx[j], err)
		}
	}
	a.n.mempool.MarkVerified(checked)
	return nil
}

// minVerifyChunk is the smallest batch verifySignatures gives a goroutine:
// batches cost less per signature the larger they are (about 20 µs at 64,
// 15 at 256), and with several nodes per core parallelism buys latency,
// not throughput.
const minVerifyChunk = 256

// verifySignatures checks signatures in batches spread over the available
// cores and returns one result per transaction.
func verifySignatures(txs []*chain.Tx) []error {
	workers := min(runtime.GOMAXPROCS(0), len(txs)/minVerifyChunk)
	if workers <= 1 {
		return chain.VerifyTxSignatures(txs)
	}
	errs := make([]error, len(txs))
	chunk := (len(txs) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(txs); lo += chunk {
		hi := min(lo+chunk, len(txs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			copy(errs[lo:hi], chain.VerifyTxSignatures(txs[lo:hi]))
		}()
	}
	wg.Wait()
	return errs
}

// run executes b's transactions on the committed state (hashes as runOn).
func (a *app) run(b *chain.Block, hashes []chain.Hash) (*execResult, error) {
	return a.runOn(a.n.stateKV(), a.n.chainState().stateRoot, b, hashes)
}

// runOn executes b's transactions on state whose root is prev (sync runs
// blocks on the uncommitted writes of the blocks before them). hashes are
// b's tx hashes, computed here if nil.
func (a *app) runOn(state ledger.ScanKV, prev chain.Hash, b *chain.Block, hashes []chain.Hash) (*execResult, error) {
	start := time.Now()
	if hashes == nil {
		hashes = chain.TxHashes(b.Txs)
	}
	out, err := a.n.ledger.ExecuteHashed(state, &b.Header, b.Txs, hashes)
	if err != nil {
		return nil, fmt.Errorf("execute block %d: %w", b.Height(), err)
	}
	a.observe(len(b.Txs), time.Since(start))
	res := &execResult{results: out.TxResults, alerts: out.Alerts, next: out.NextAuthorities, hashes: hashes}
	res.writes = make([]store.Write, 0, len(out.Writes)+len(b.Txs)/8)
	for _, w := range out.Writes {
		res.writes = append(res.writes, store.Write{Key: w.Key, Value: w.Value})
	}
	// Failed transactions' result codes become state too, so every node
	// agrees on them and the API can report them after a restart. Only the
	// code is hashed: messages may contain library error text.
	failed := false
	for i, r := range out.TxResults {
		if r.Code != ledger.CodeOK && i < len(b.Txs) {
			res.writes = append(res.writes, store.Write{Key: txResultKey(hashes[i]), Value: binary.BigEndian.AppendUint32(nil, r.Code)})
			failed = true
		}
	}
	if failed {
		res.writes = store.NormalizeWrites(res.writes)
	}
	res.root = store.StateRoot(prev, res.writes)
	return res, nil
}

// execute runs b and checks the resulting state root against its header.
func (a *app) execute(b *chain.Block) (*execResult, error) { return a.executeHashed(b, nil) }

// executeHashed is execute with b's tx hashes (nil: computed).
func (a *app) executeHashed(b *chain.Block, hashes []chain.Hash) (*execResult, error) {
	res, err := a.run(b, hashes)
	if err != nil {
		return nil, err
	}
	if res.root != b.Header.StateRoot {
		return nil, fmt.Errorf("block %d: state root %s after execution, header says %s", b.Height(), res.root.Short(), b.Header.StateRoot.Short())
	}
	a.cache[b.Hash()] = res
	return res, nil
}

// result returns the cached execution of a decided block, executing it if
// this node never validated it.
func (a *app) result(b *chain.Block) (*execResult, error) {
	if res, ok := a.cache[b.Hash()]; ok {
		return res, nil
	}
	return a.execute(b)
}

func (a *app) reset() { clear(a.cache) }

// txHashes returns the tx hashes of a block this node executed (its own
// proposal, for one), nil if it has not.
func (a *app) txHashes(block chain.Hash) []chain.Hash {
	if res, ok := a.cache[block]; ok {
		return res.hashes
	}
	return nil
}

// build assembles this node's proposal: transactions from the mempool up to
// the genesis limits, pending evidence, and the state root after them.
func (a *app) build(req *consensus.ProposeRequest) *chain.Block {
	cs := a.n.chainState()
	p := a.n.genesis.Params
	now := time.Now().UnixMilli()
	if now <= cs.time {
		now = cs.time + 1
	}
	b := &chain.Block{
		Header: chain.Header{
			ChainID:          a.n.chainID,
			Height:           req.Height,
			Time:             now,
			PrevHash:         req.PrevHash,
			Proposer:         a.n.opts.Key.Public(),
			AuthoritySetHash: req.Authorities.Hash(),
		},
		Txs:        a.n.mempool.Reap(a.maxProposalTxs(), p.MaxBlockBytes),
		LastCommit: req.LastCommit,
		Evidence:   a.n.pendingEvidence(),
	}
	if err := a.fillRoot(b); err != nil {
		a.n.log.Warn("proposal transactions failed to execute; proposing an empty block", "height", req.Height, "err", err)
		b.Txs = nil
		if err := a.fillRoot(b); err != nil {
			panic(fmt.Sprintf("empty block does not execute: %v", err))
		}
	}
	return b
}

func (a *app) fillRoot(b *chain.Block) error {
	b.Fill()
	res, err := a.run(b, nil)
	if err != nil {
		return err
	}
	b.Header.StateRoot = res.root
	a.cache[b.Hash()] = res
	return nil
}

// txResultPrefix keys failed transactions' result codes in ledger state.
// It starts with a byte no ledger key uses.
const txResultPrefix = "\x00zw/txr/"

func txResultKey(h chain.Hash) []byte { return append([]byte(txResultPrefix), h[:]...) }

// txResult reports a finalized transaction's outcome: code 0 unless its
// failure code was recorded.
func (n *Node) txResult(h chain.Hash) ledger.TxResult {
	v, ok, err := n.store.State(context.Background(), txResultKey(h))
	if err != nil || !ok || len(v) != 4 {
		return ledger.TxResult{Code: ledger.CodeOK}
	}
	code := binary.BigEndian.Uint32(v)
	return ledger.TxResult{Code: code, Message: ledger.CodeName(code)}
}
