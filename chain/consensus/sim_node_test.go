package consensus_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

// simNode is one node of the simulated cluster: an engine plus what a real
// node would have persisted (sign-state and decided chain). A crash loses
// the engine; a restart rebuilds it from the persisted part only.
type simNode struct {
	w     *simWorld
	id    int
	name  string
	key   *chain.PrivateKey
	byz   *byzantine // nil: honest
	eng   *consensus.Engine
	up    bool
	inc   int // incarnation: timers of a crashed engine are dropped
	group int // partition side

	// persisted
	signState *consensus.SignState // decoded copy of signStateBytes, for the checker
	// What the node wrote to disk, in the engine's own encodings.
	signStateBytes, validBytes []byte
	blocks                     []*chain.Block
	commits                    []*chain.Commit
	app                        *simApp // derived from blocks
}

func (nd *simNode) decided() uint64 { return uint64(len(nd.blocks)) }

func (nd *simNode) start() {
	nd.up = true
	nd.newEngine()
}

// crash stops the node. Sometimes its last decided block is lost too, as
// if the store wrote it lazily while the sign-state was synced, so that
// after the restart the sign-state is ahead of the store. (A node must
// store a decision before signing at the next height, or a height that
// only it decided could never be finished; the lag is modelled only when
// another honest node holds the block, so the engine's guards are tested
// without making liveness impossible.)
func (nd *simNode) crash() {
	nd.w.log("%s crash", nd.name)
	nd.up, nd.eng = false, nil
	nd.inc++
	if n := len(nd.blocks); n > 0 && nd.w.rng.IntN(3) == 0 && nd.w.heldByAnotherHonest(nd, uint64(n)) {
		nd.w.log("%s loses block %d", nd.name, n)
		nd.blocks, nd.commits = nd.blocks[:n-1], nd.commits[:n-1]
		nd.app.sets = nd.app.sets[:len(nd.app.sets)-1]
	}
}

func (nd *simNode) restart() {
	nd.w.log("%s restart at height %d", nd.name, nd.decided()+1)
	nd.w.restarts++
	nd.up = true
	nd.newEngine()
}

// newEngine builds an engine from the persisted state, as a real node's
// startup would.
func (nd *simNode) newEngine() {
	h := nd.decided() + 1
	cfg := consensus.Config{
		ChainID: simChainID, Signer: nd.key, App: nd.app, Params: simParams(),
		Height: h, PrevHash: simGenesisHash,
		Authorities: nd.app.setFor(h), NextAuthorities: nd.app.setFor(h + 1), LastAuthorities: nd.app.setFor(h - 1),
	}
	if h > 1 {
		cfg.PrevHash = nd.blocks[h-2].Hash()
		cfg.LastCommit = nd.commits[h-2]
	}
	var err error
	if nd.signStateBytes != nil {
		if cfg.LastSigned, err = consensus.UnmarshalSignState(nd.signStateBytes); err != nil {
			panic(err)
		}
	}
	if nd.validBytes != nil {
		if cfg.LastValid, err = consensus.UnmarshalValidState(nd.validBytes); err != nil {
			panic(err)
		}
	}
	eng, err := consensus.New(cfg)
	if err != nil {
		panic(err)
	}
	nd.inc++
	nd.eng = eng
	eng.Start()
	nd.drain()
}

func (nd *simNode) step(m *chain.Message) {
	if !nd.up {
		return
	}
	if err := nd.eng.Step(m); err != nil { // the sender's fault (Byzantine) or we are behind
		nd.w.log("%s step %s: %v", nd.name, describe(m), err)
	}
	nd.drain()
}

// drain processes Ready in the order the engine requires: persist the
// sign-state, persist decisions, then send.
func (nd *simNode) drain() {
	w := nd.w
	for nd.eng.HasReady() {
		rd := nd.eng.Ready()
		if rd.SignState != nil {
			cp := *rd.SignState
			nd.signState = &cp
			nd.signStateBytes = rd.SignState.Marshal()
		}
		if rd.Valid != nil {
			nd.validBytes = rd.Valid.Marshal()
		}
		for _, d := range rd.Decisions {
			nd.persist(d.Block, d.Commit, d.Next)
		}
		for _, ev := range rd.Evidence {
			w.check.evidence(nd, ev)
		}
		for _, m := range rd.Messages {
			if nd.byz != nil {
				nd.byzSend(m)
				continue
			}
			w.check.signed(nd, m)
			w.broadcast(nd, m)
		}
		for _, t := range rd.Timers {
			w.push(&simEvent{at: w.now + t.DurationMS, kind: evTimer, node: nd.id, inc: nd.inc, tmr: t})
		}
		if rd.ProposeRequest != nil {
			nd.propose(rd.ProposeRequest)
		}
	}
}

// persist stores a decided (or synced) block, checking it first.
func (nd *simNode) persist(b *chain.Block, c *chain.Commit, next []chain.Authority) {
	nd.w.check.decided(nd, b, c, next)
	if b.Header.Height != nd.decided()+1 {
		return // reported by the checker
	}
	nd.blocks = append(nd.blocks, b)
	nd.commits = append(nd.commits, c)
	nd.app.apply(b.Header.Height, next)
	if c.Round > nd.w.maxRound {
		nd.w.maxRound = c.Round
	}
}

// propose answers a ProposeRequest.
func (nd *simNode) propose(req *consensus.ProposeRequest) {
	w := nd.w
	b := nd.buildBlock(req)
	if nd.byz != nil && nd.byz.invalidBlocks && w.rng.IntN(2) == 0 {
		nd.byzInvalidProposal(req, b)
		return
	}
	if err := nd.eng.Propose(b); err != nil && nd.byz == nil && !errors.Is(err, consensus.ErrNotProposing) {
		w.check.fail("%s: own block rejected: %v", nd.name, err)
	}
}

func (nd *simNode) buildBlock(req *consensus.ProposeRequest) *chain.Block {
	w := nd.w
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], w.rng.Uint64())
	root := chain.HashBytes(seed[:])
	root[0], root[1] = 0, opNone
	if w.sc.spare && w.rng.Float64() < w.sc.changeProb {
		if nd.app.setFor(req.Height + 1).Contains(w.spare.PubKey) {
			root[1] = opRemoveSpare
		} else {
			root[1] = opAddSpare
		}
	}
	b := &chain.Block{
		Header: chain.Header{
			ChainID: simChainID, Height: req.Height, Time: w.now, PrevHash: req.PrevHash,
			StateRoot: root, Proposer: nd.key.Public(), AuthoritySetHash: req.Authorities.Hash(),
		},
		LastCommit: req.LastCommit,
	}
	b.Fill()
	return b
}

// catchupTick asks a random peer for what we miss, like the p2p catch-up
// protocol: decided blocks if it is ahead, else its current messages.
func (nd *simNode) catchupTick() {
	w := nd.w
	peer := w.nodes[w.rng.IntN(len(w.nodes))]
	if peer == nd || !w.reachable(nd, peer) {
		return
	}
	w.push(&simEvent{at: w.now + 2*w.latency(), kind: evCatchupReply, node: nd.id, from: peer.id})
}

func (nd *simNode) catchupReply(peer *simNode, _ []*chain.Message) {
	w := nd.w
	if peer.decided() > nd.decided() {
		for nd.decided() < peer.decided() {
			h := nd.decided() + 1
			b, c := peer.blocks[h-1], peer.commits[h-1]
			if err := c.Verify(simChainID, nd.app.setFor(h), h, b.Hash()); err != nil {
				w.check.fail("%s: sync block %d from %s: %v", nd.name, h, peer.name, err)
				return
			}
			next, err := nd.app.ValidateBlock(b)
			if err != nil {
				w.check.fail("%s: sync block %d from %s: application: %v", nd.name, h, peer.name, err)
				return
			}
			nd.persist(b, c, next)
			if err := nd.eng.SyncTo(b, c, next); err != nil {
				w.check.fail("%s: SyncTo %d: %v", nd.name, h, err)
				return
			}
			nd.drain() // the engine may decide the next height from buffered messages
		}
		return
	}
	if !peer.up {
		return
	}
	for _, m := range peer.eng.CurrentMessages() {
		if err := nd.eng.Step(m); err != nil {
			nd.w.log("%s catch-up step %s: %v", nd.name, describe(m), err)
		}
	}
	nd.drain()
}

// byzantine lists one faulty authority's misbehaviours.
type byzantine struct {
	equivocate    bool // two different blocks in one round, one per side
	doubleVote    bool // two votes of one type in one round (block and nil)
	split         bool // votes for the proposal each side saw (coordinated with the other Byzantine nodes)
	invalidBlocks bool // proposes and votes for blocks the Application rejects
	noise         bool // signed votes for wrong heights and rounds
}

func newByzantine(rng *rand.Rand) *byzantine {
	b := &byzantine{}
	for !(b.equivocate || b.doubleVote || b.split || b.invalidBlocks || b.noise) {
		b.equivocate, b.doubleVote, b.split = rng.IntN(4) != 0, rng.IntN(2) == 0, rng.IntN(4) != 0
		b.invalidBlocks, b.noise = rng.IntN(2) == 0, rng.IntN(2) == 0
	}
	return b
}

// side splits the honest nodes in two halves per height, the same for
// every Byzantine node: the adversary's best chance to make two halves
// lock on, and decide, different blocks.
func (w *simWorld) side(to *simNode, h uint64) int {
	return int((w.seed*31 + uint64(to.id)*7919 + h*104729) >> 3 & 1)
}

// byzSend sends what the faulty node's engine produced, replaced per side
// by a conflicting twin where its behaviour says so.
func (nd *simNode) byzSend(m *chain.Message) {
	w := nd.w
	if m.Proposal != nil {
		w.noteProposal(m.Proposal)
	}
	var twin *chain.Message
	switch {
	case m.Proposal != nil && nd.byz.equivocate:
		alt := *m.Block
		alt.Header.Time++
		p := *m.Proposal
		p.BlockHash = alt.Hash()
		p.Sign(simChainID, nd.key)
		twin = &chain.Message{Proposal: &p, Block: &alt}
		w.noteProposal(twin.Proposal)
	case m.Vote != nil && nd.byz.split:
		seen := w.proposalsSeen[[2]uint64{m.Vote.Height, uint64(m.Vote.Round)}]
		if len(seen) > 0 {
			a, b := *m.Vote, *m.Vote
			a.BlockHash = seen[0]
			b.BlockHash = chain.Hash{}
			if len(seen) > 1 {
				b.BlockHash = seen[1]
			}
			a.Sign(simChainID, nd.key)
			b.Sign(simChainID, nd.key)
			m, twin = &chain.Message{Vote: &a}, &chain.Message{Vote: &b}
		}
	case m.Vote != nil && nd.byz.doubleVote && w.rng.IntN(2) == 0:
		v := *m.Vote
		if v.BlockHash.IsZero() {
			v.BlockHash = chain.HashBytes([]byte{byte(w.rng.IntN(256))})
		} else {
			v.BlockHash = chain.Hash{}
		}
		v.Sign(simChainID, nd.key)
		twin = &chain.Message{Vote: &v}
	}
	for _, to := range w.nodes {
		if to == nd {
			continue
		}
		if twin != nil && w.side(to, m.Height()) == 1 {
			w.send(nd, to, twin)
		} else {
			w.send(nd, to, m)
		}
	}
}

// byzInvalidProposal proposes a block the Application rejects and votes
// for it, bypassing its own engine.
func (nd *simNode) byzInvalidProposal(req *consensus.ProposeRequest, b *chain.Block) {
	b.Header.StateRoot[0] = markerInvalid
	hash := b.Hash()
	p := &chain.Proposal{Height: req.Height, Round: req.Round, POLRound: -1, BlockHash: hash}
	p.Sign(simChainID, nd.key)
	nd.w.broadcast(nd, &chain.Message{Proposal: p, Block: b})
	for _, t := range []chain.VoteType{chain.Prevote, chain.Precommit} {
		v := &chain.Vote{Type: t, Height: req.Height, Round: req.Round, BlockHash: hash}
		v.Sign(simChainID, nd.key)
		nd.w.broadcast(nd, &chain.Message{Vote: v})
	}
}

// byzNoise sends signed votes for wrong heights and rounds.
func (nd *simNode) byzNoise() {
	w := nd.w
	if !nd.up {
		return
	}
	st := nd.eng.Status()
	h := st.Height + uint64(w.rng.IntN(4))
	if w.rng.IntN(4) == 0 && h > 1 {
		h -= 2
	}
	v := &chain.Vote{Type: chain.Prevote + chain.VoteType(w.rng.IntN(2)), Height: h, Round: st.Round + uint32(w.rng.IntN(80))}
	if w.rng.IntN(2) == 0 {
		v.BlockHash = chain.HashBytes([]byte{byte(w.rng.IntN(256)), 1})
	}
	v.Sign(simChainID, nd.key)
	w.broadcast(nd, &chain.Message{Vote: v})
}

func describe(m *chain.Message) string {
	if m.Vote != nil {
		return fmt.Sprintf("%s %d/%d %s by %s", m.Vote.Type, m.Vote.Height, m.Vote.Round, m.Vote.BlockHash.Short(), m.Vote.Validator.Short())
	}
	return fmt.Sprintf("proposal %d/%d pol %d %s by %s", m.Proposal.Height, m.Proposal.Round, m.Proposal.POLRound, m.Proposal.BlockHash.Short(), m.Proposal.Proposer.Short())
}

// heldByAnotherHonest reports whether an honest node other than nd has
// decided height h.
func (w *simWorld) heldByAnotherHonest(nd *simNode, h uint64) bool {
	for _, x := range w.nodes {
		if x != nd && x.byz == nil && x.decided() >= h {
			return true
		}
	}
	return false
}
