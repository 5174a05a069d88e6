package node

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

// inboundMsg is a validated consensus message from the network or the
// catch-up syncer.
type inboundMsg struct {
	from peer.ID
	msg  *chain.Message
}

type timerFired struct {
	t consensus.Timer
}

// syncBatch is a run of certified blocks fetched by the syncer, in height
// order. done receives the result of applying them.
type syncBatch struct {
	from   peer.ID
	blocks []certified
	done   chan error
}

type certified struct {
	block  *chain.Block
	commit *chain.Commit
	// basicOK: block.ValidateBasic already passed (the syncer's precheck
	// ran it on this very block), so the loop need not hash it again.
	basicOK bool
}

// loop owns the consensus engine and the committed chain state.
type loop struct {
	n   *Node
	eng *consensus.Engine
	app *app
	// signed is what is persisted of the engine's sign-state and valid
	// value; both are rewritten together when either changes.
	signed *signRecord
	timer  map[consensus.Timer]*time.Timer
}

func (n *Node) newLoop() (*loop, error) {
	a := &app{n: n, cache: make(map[chain.Hash]*execResult)}
	cs := n.chainState()
	// The signer is always passed: the engine signs only while the key is a
	// member of the set at the height it is deciding, so an observer that
	// governance later promotes starts voting without a restart.
	var signer consensus.Signer = n.opts.Key
	rec, err := n.loadSignRecord()
	if err != nil {
		return nil, err
	}
	// The set that certified the head block checks the LastCommit carried
	// by the next proposal (it differs from the current set right after a
	// governance change).
	var lastSet *chain.AuthoritySet
	if cs.height > 0 {
		if lastSet, err = n.setAt(cs.height); err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	eng, err := consensus.New(consensus.Config{
		ChainID:         n.chainID,
		Signer:          signer,
		App:             a,
		Params:          n.genesis.Params,
		Height:          cs.height + 1,
		PrevHash:        cs.hash,
		LastCommit:      cs.lastCommit,
		Authorities:     cs.sets[cs.height+1],
		NextAuthorities: cs.sets[cs.height+2],
		LastAuthorities: lastSet,
		LastSigned:      rec.sign,
		LastValid:       rec.valid,
	})
	if err != nil {
		return nil, fmt.Errorf("node: consensus engine: %w", err)
	}
	return &loop{n: n, eng: eng, app: a, signed: rec, timer: make(map[consensus.Timer]*time.Timer)}, nil
}

func (l *loop) run(ctx context.Context) error {
	defer l.stopTimers()
	l.eng.Start()
	l.n.host.SetHeight(l.n.chainState().height + 1)
	if err := l.drain(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in := <-l.n.inbound:
			if err := l.eng.Step(in.msg); err != nil {
				l.n.metrics.consensusRejected.Inc()
				l.n.log.Debug("consensus message refused", "peer", in.from.String(), "height", in.msg.Height(), "round", in.msg.Round(), "err", err)
			}
		case f := <-l.n.fired:
			delete(l.timer, f.t)
			l.timeout(f.t)
		case b := <-l.n.synced:
			err := l.applySynced(ctx, b)
			b.done <- err
			if isFatal(err) {
				return err
			}
		}
		if err := l.drain(ctx); err != nil {
			return err
		}
	}
}

// timeout hands a fired timer to the engine and, when it moved the engine
// on at the same height (a stale timer does nothing), counts it and logs
// it: a node that times out often is waiting on a slow or absent proposer,
// or on peers it cannot hear.
func (l *loop) timeout(t consensus.Timer) {
	before := l.eng.Status()
	l.eng.Timeout(t)
	after := l.eng.Status()
	if t.Step == consensus.StepCommit || after.Height != before.Height || (after.Round == before.Round && after.Step == before.Step) {
		return
	}
	l.n.metrics.timeouts.WithLabelValues(t.Step.String()).Inc()
	l.n.log.Info("consensus timeout", "height", t.Height, "round", t.Round, "step", t.Step.String(),
		"proposer", before.Proposer.Department, "now_round", after.Round, "now_step", after.Step.String())
}

// drain executes the engine's outputs until it has none, in the order
// the safety argument needs: sign-state is durable before any message that
// depends on it leaves the process.
func (l *loop) drain(ctx context.Context) error {
	for l.eng.HasReady() {
		rd := l.eng.Ready()
		// The decisions are committed after the messages are sent (a
		// commit takes a while at full load, and peers may be waiting
		// for our precommit), unless a valid value of a later height came
		// with them: its block is stored at the height after the head
		// (saveSignRecord), so the head must get there first.
		head, _ := l.n.store.Head()
		commitFirst := rd.Valid != nil && rd.Valid.Height > head+1
		if commitFirst {
			if err := l.commitDecisions(ctx, rd.Decisions); err != nil {
				return err
			}
		}
		if rd.SignState != nil || rd.Valid != nil {
			next := *l.signed
			if rd.SignState != nil {
				next.sign = rd.SignState
			}
			if rd.Valid != nil {
				next.valid = rd.Valid
			}
			if err := l.n.saveSignRecord(&next); err != nil {
				return fatal(fmt.Errorf("node: persist sign-state: %w (halting: sending what it covers could double-sign after a crash)", err))
			}
			l.signed = &next
		}
		for _, m := range rd.Messages {
			if m.Block != nil {
				// Our proposal: keep the block to serve its txs, gossip it
				// compact (proposals.go).
				l.n.proposals.put(m.Proposal.BlockHash, m.Block)
				m = m.Compacted(l.app.txHashes(m.Proposal.BlockHash))
			}
			if err := l.n.host.PublishConsensus(ctx, m); err != nil && ctx.Err() == nil {
				l.n.log.Warn("publish consensus message", "height", m.Height(), "round", m.Round(), "err", err)
			}
		}
		for _, t := range rd.Timers {
			l.setTimer(ctx, t)
		}
		if !commitFirst {
			if err := l.commitDecisions(ctx, rd.Decisions); err != nil {
				return err
			}
		}
		for _, ev := range rd.Evidence {
			l.n.addEvidence(ev)
			if err := l.n.host.PublishEvidence(ctx, ev); err != nil && ctx.Err() == nil {
				l.n.log.Warn("publish evidence", "err", err)
			}
		}
		if rd.ProposeRequest != nil {
			b := l.app.build(rd.ProposeRequest)
			if err := l.eng.Propose(b); err != nil {
				l.n.log.Error("own proposal refused by engine", "height", b.Height(), "err", err)
			}
		}
		st := l.eng.Status()
		l.n.publishConsensusStatus(st)
		cur := l.eng.CurrentMessages()
		l.n.current.Store(&cur)
	}
	return nil
}

func (l *loop) commitDecisions(ctx context.Context, ds []consensus.Decision) error {
	for _, d := range ds {
		if err := l.commit(ctx, d.Block, d.Commit, d.Next); err != nil {
			return err
		}
	}
	return nil
}

func (l *loop) setTimer(ctx context.Context, t consensus.Timer) {
	if old, ok := l.timer[t]; ok {
		old.Stop()
	}
	fired := l.n.fired
	l.timer[t] = time.AfterFunc(time.Duration(t.DurationMS)*time.Millisecond, func() {
		select {
		case fired <- timerFired{t: t}:
		case <-ctx.Done():
		}
	})
}

func (l *loop) stopTimers() {
	for _, t := range l.timer {
		t.Stop()
	}
}

// commit makes a decided block durable and tells everyone who cares.
func (l *loop) commit(ctx context.Context, b *chain.Block, c *chain.Commit, next []chain.Authority) error {
	if h := b.Height(); h <= l.n.chainState().height {
		// Already committed through sync (the engine may report a height
		// it finishes deciding while synced blocks are applied). It must be
		// the very block we hold: anything else is a fork.
		stored, err := l.n.store.Block(ctx, h)
		if err != nil {
			return fatal(fmt.Errorf("node: read committed block %d: %w", h, err))
		}
		if stored.Hash() != b.Hash() {
			return fatal(fmt.Errorf("node: consensus decided block %s at height %d but %s is committed (halting: fork)", b.Hash().Short(), h, stored.Hash().Short()))
		}
		return nil
	}
	res, err := l.app.result(b)
	if err != nil {
		// The engine decided a block our own execution rejects: a quorum
		// certified it, so our state or code disagrees with theirs.
		return fatal(fmt.Errorf("node: execute finalized block %d: %w (halting: state would diverge)", b.Height(), err))
	}
	if err := l.n.commitBlock(ctx, b, c, res); err != nil {
		return err
	}
	l.n.proposals.prune(b.Height())
	l.app.reset()
	return nil
}
