package consensus

import (
	"fmt"
	"slices"

	"github.com/zwnode/zwnode/chain"
)

// roundWindow is how many rounds above the current one are stored in full.
// Messages for rounds further ahead only count towards the f+1 round-skip
// rule, so a faulty authority cannot make us store a vote per round up to
// chain.MaxRound.
const roundWindow = 32

// maxBufferedPerSender bounds the messages for height+1 kept per authority
// until we reach that height.
const maxBufferedPerSender = 8

// lock is the paper's lockedRound/lockedValue. Only the hash matters for
// the rules, which is why a lock survives a restart through the sign-state.
type lock struct {
	round uint32
	hash  chain.Hash
}

// validValue is the paper's validRound/validValue: the block to re-propose.
type validValue struct {
	round uint32
	block *chain.Block
}

// verdict is the outcome of valid(v) for one block, computed once.
type verdict struct {
	err     error
	next    []chain.Authority
	nextSet *chain.AuthoritySet
}

type evidenceKey struct {
	offender chain.PublicKey
	height   uint64
	round    uint32
	kind     uint8 // 1 prevote, 2 precommit, 3 proposal
}

// Engine is one node's consensus state machine. It is not safe for
// concurrent use: one goroutine of the caller owns it.
type Engine struct {
	chainID string
	signer  Signer
	app     Application
	params  chain.Params

	// Position and the chain it extends.
	height                uint64
	round                 uint32
	step                  Step
	started               bool
	prevHash              chain.Hash
	lastCommit            *chain.Commit
	lastSet, set, nextSet *chain.AuthoritySet
	isMember              bool

	// The paper's per-height variables.
	locked *lock
	valid  *validValue

	lastSigned *SignState
	// persistedValid is Config.LastValid until its height is reached.
	persistedValid *ValidState

	// What we hold for the current height.
	rounds    map[uint32]*roundState
	roundNums []uint32 // keys of rounds, ascending
	farRounds map[chain.PublicKey]uint32
	verdicts  map[chain.Hash]*verdict
	commitOK  map[chain.Hash]bool
	// knownPrecommits are the signatures in our own certificate of the
	// previous block, which the caller verified when they arrived.
	knownPrecommits map[chain.PublicKey]chain.Signature
	proposeReq      *ProposeRequest
	future          []*chain.Message
	futureCount     map[chain.PublicKey]int
	evidence        map[evidenceKey]bool

	ready Ready
}

// New builds an engine positioned at cfg.Height; call Start to enter round 0.
func New(cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		chainID:    cfg.ChainID,
		signer:     cfg.Signer,
		app:        cfg.App,
		params:     cfg.Params,
		height:     cfg.Height,
		step:       StepPropose,
		prevHash:   cfg.PrevHash,
		lastCommit: cfg.LastCommit,
		lastSet:    cfg.LastAuthorities,
		set:        cfg.Authorities,
		nextSet:    cfg.NextAuthorities,
	}
	if e.lastSet == nil {
		e.lastSet = e.set
	}
	if s := cfg.LastSigned; s != nil {
		cp := *s
		e.lastSigned = &cp
	}
	if v := cfg.LastValid; v != nil && v.Height >= cfg.Height {
		e.persistedValid = v
	}
	e.resetHeight()
	return e, nil
}

// resetHeight clears what belongs to one height.
func (e *Engine) resetHeight() {
	e.rounds = make(map[uint32]*roundState)
	e.roundNums = nil
	e.farRounds = make(map[chain.PublicKey]uint32)
	e.verdicts = make(map[chain.Hash]*verdict)
	e.commitOK = make(map[chain.Hash]bool)
	e.knownPrecommits = make(map[chain.PublicKey]chain.Signature)
	e.proposeReq = nil
	e.evidence = make(map[evidenceKey]bool) // keys carry the height
	e.isMember = e.signer != nil && e.set.Contains(e.signer.Public())
	e.resumePersisted()
}

// resumePersisted restores, on entering a height, what the node persisted
// about it before a crash: the lock (from the sign-state) and the valid
// value with its proof. Normally there is none; after a restart there may
// be, even for a height above the store's, if the store lagged behind the
// sign-state.
func (e *Engine) resumePersisted() {
	if s := e.lastSigned; s != nil && s.Height == e.height && !s.LockedHash.IsZero() {
		e.locked = &lock{round: s.LockedRound, hash: s.LockedHash}
	}
	if v := e.persistedValid; v != nil && v.Height == e.height {
		e.restoreValid(v)
		e.persistedValid = nil
	}
}

// Start enters round 0 of the configured height (see enterHeight for the
// exception after a restart).
func (e *Engine) Start() {
	if e.started {
		return
	}
	e.started = true
	e.enterHeight()
	e.process()
}

// enterHeight starts the first round of the current height: round 0,
// unless the node signed at this height before a restart (its sign-state
// is at this height). Then it first re-emits the last vote signed, which
// the crash may have kept from the network, and enters the round after it:
// the earlier rounds' other messages are lost and cannot be signed again,
// so waiting in them could stall a cluster that needs this node's votes
// (the f+1 rule brings the others along).
func (e *Engine) enterHeight() {
	r := uint32(0)
	if s := e.lastSigned; s != nil && s.Height == e.height {
		switch s.Step {
		case StepPrevote:
			e.signVote(chain.Prevote, s.Round, s.BlockHash)
		case StepPrecommit:
			e.signVote(chain.Precommit, s.Round, s.BlockHash)
		}
		if s.Round < chain.MaxRound {
			r = s.Round + 1
		}
	}
	if e.valid != nil && e.valid.round >= r && e.valid.round < chain.MaxRound {
		r = e.valid.round + 1 // a re-proposal's POLRound must be below its round
	}
	e.startRound(r)
}

// Step takes one proposal (with its block) or vote whose signature the
// caller has verified. Messages for past heights are ignored (nil), for the
// next height buffered (nil), for later heights refused with
// ErrFutureHeight. See the sentinel errors for the rest.
func (e *Engine) Step(m *chain.Message) error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrInvalidMessage)
	}
	if m.Compact != nil {
		return fmt.Errorf("%w: compact proposal (the node must rebuild its block first)", ErrInvalidMessage)
	}
	if err := m.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if m.Proposal != nil && m.Block.Header.ChainID != e.chainID {
		return fmt.Errorf("%w: block for chain %q", ErrInvalidMessage, m.Block.Header.ChainID)
	}
	switch h := m.Height(); {
	case h < e.height:
		return nil
	case h == e.height+1:
		return e.buffer(m)
	case h > e.height+1:
		return fmt.Errorf("%s at height %d, we are at %d: %w", kindName(m), h, e.height, ErrFutureHeight)
	}
	err := e.deliver(m)
	e.process()
	return err
}

func kindName(m *chain.Message) string {
	if m.Vote != nil {
		return m.Vote.Type.String()
	}
	return "proposal"
}

// deliver records a basically valid message for the current height.
func (e *Engine) deliver(m *chain.Message) error {
	signer, r := m.Signer(), m.Round()
	if !e.set.Contains(signer) {
		return fmt.Errorf("%s by %s at height %d: %w", kindName(m), signer.Short(), e.height, ErrUnknownAuthority)
	}
	if m.Proposal != nil && e.set.Proposer(e.height, r).PubKey != signer {
		return fmt.Errorf("proposal by %s at %d/%d: %w", signer.Short(), e.height, r, ErrNotProposer)
	}
	if r > e.round+roundWindow {
		if r > e.farRounds[signer] {
			e.farRounds[signer] = r
		}
		return nil
	}
	if m.Vote != nil {
		e.addVote(m.Vote)
		return nil
	}
	return e.addProposal(m)
}

// buffer keeps a message for the next height, a few per sender.
func (e *Engine) buffer(m *chain.Message) error {
	signer := m.Signer()
	if !e.nextSet.Contains(signer) {
		return fmt.Errorf("%s by %s at height %d: %w", kindName(m), signer.Short(), e.height+1, ErrUnknownAuthority)
	}
	if e.futureCount == nil {
		e.futureCount = make(map[chain.PublicKey]int)
	}
	if e.futureCount[signer] >= maxBufferedPerSender {
		return nil
	}
	e.futureCount[signer]++
	e.future = append(e.future, m)
	return nil
}

// replayFuture hands the buffered next-height messages to the engine once
// it has reached that height.
func (e *Engine) replayFuture() {
	msgs := e.future
	e.future, e.futureCount = nil, nil
	for _, m := range msgs {
		_ = e.deliver(m) // errors were the sender's; nothing to report to
	}
}

// roundAt returns the state of round r, creating it.
func (e *Engine) roundAt(r uint32) *roundState {
	rs, ok := e.rounds[r]
	if !ok {
		rs = newRoundState()
		e.rounds[r] = rs
		i, _ := slices.BinarySearch(e.roundNums, r)
		e.roundNums = slices.Insert(e.roundNums, i, r)
	}
	return rs
}

// addVote records a vote and reports a conflicting earlier one as evidence.
func (e *Engine) addVote(v *chain.Vote) {
	rs := e.roundAt(v.Round)
	rs.senders[v.Validator] = true
	if old := rs.votes(v.Type).add(v); old != nil {
		e.reportEvidence(evidenceKey{v.Validator, v.Height, v.Round, uint8(v.Type)}, func() *chain.Evidence {
			return chain.NewDuplicateVoteEvidence(old, v)
		})
	}
}

// addProposal records a proposal from the round's proposer, judging its
// block. It returns ErrInvalidBlock (wrapped) for an invalid block, which is
// recorded all the same.
func (e *Engine) addProposal(m *chain.Message) error {
	p := m.Proposal
	rs := e.roundAt(p.Round)
	rs.senders[p.Proposer] = true
	if rs.proposalFor(p.BlockHash) != nil {
		return nil
	}
	if len(rs.proposals) > 0 {
		first := rs.proposals[0].msg.Proposal
		e.reportEvidence(evidenceKey{p.Proposer, p.Height, p.Round, 3}, func() *chain.Evidence {
			return chain.NewConflictingProposalEvidence(first, p)
		})
	}
	if len(rs.proposals) >= maxProposalsPerRound {
		return nil
	}
	prop := &proposal{msg: m, hash: p.BlockHash}
	rs.proposals = append(rs.proposals, prop)
	if e.step == StepCommit {
		// The caller has not yet applied the block just decided, which the
		// Application needs to judge this one: judge it when round 0 starts.
		return nil
	}
	if !e.isValid(prop) {
		return fmt.Errorf("proposal at %d/%d: %w: %w", p.Height, p.Round, ErrInvalidBlock, e.verdicts[p.BlockHash].err)
	}
	return nil
}

// isValid is valid(v) for a held proposal, judged once.
func (e *Engine) isValid(p *proposal) bool {
	if !p.judged {
		p.valid = e.judge(p.msg.Block).err == nil
		p.judged = true
	}
	return p.valid
}

func (e *Engine) reportEvidence(k evidenceKey, build func() *chain.Evidence) {
	if e.evidence[k] {
		return
	}
	e.evidence[k] = true
	e.ready.Evidence = append(e.ready.Evidence, build())
}

// Timeout is called when a timer from Ready.Timers fires. Stale timers are
// ignored.
func (e *Engine) Timeout(t Timer) {
	if !e.started || t.Height != e.height {
		return
	}
	switch t.Step {
	case StepPropose:
		e.onTimeoutPropose(t.Round)
	case StepPrevote:
		e.onTimeoutPrevote(t.Round)
	case StepPrecommit:
		e.onTimeoutPrecommit(t.Round)
	case StepCommit:
		if e.step == StepCommit {
			e.enterHeight()
		}
	}
	e.process()
}

// Propose answers a ProposeRequest with a block built by the caller. The
// engine checks it like any proposal, signs and emits it.
func (e *Engine) Propose(b *chain.Block) error {
	req := e.proposeReq
	if req == nil || b == nil || b.Header.Height != req.Height || e.round != req.Round || e.step != StepPropose {
		return fmt.Errorf("propose at height %d round %d: %w", e.height, e.round, ErrNotProposing)
	}
	if err := b.ValidateBasic(); err != nil {
		return fmt.Errorf("propose at %d/%d: %w: %w", req.Height, req.Round, ErrInvalidBlock, err)
	}
	if v := e.judge(b); v.err != nil {
		return fmt.Errorf("propose at %d/%d: %w: %w", req.Height, req.Round, ErrInvalidBlock, v.err)
	}
	e.proposeReq = nil
	e.signProposal(b, -1)
	e.process()
	return nil
}

// SyncTo moves the engine past a block the caller obtained by sync and has
// verified and applied: b at the current height with certificate c and the
// authority list it schedules (nil: no change). A block we already decided
// is accepted and ignored.
func (e *Engine) SyncTo(b *chain.Block, c *chain.Commit, next []chain.Authority) error {
	if b == nil || c == nil {
		return fmt.Errorf("sync: %w: missing block or commit", ErrInvalidBlock)
	}
	h := b.Header.Height
	if h+1 == e.height && b.Hash() == e.prevHash {
		return nil
	}
	if h != e.height {
		return fmt.Errorf("sync block %d, engine at %d: %w", h, e.height, ErrSyncHeight)
	}
	if c.Height != h || c.BlockHash != b.Hash() {
		return fmt.Errorf("sync block %d: %w: commit is for %d/%s", h, ErrInvalidBlock, c.Height, c.BlockHash.Short())
	}
	var nextSet *chain.AuthoritySet
	if next != nil {
		s, err := chain.NewAuthoritySet(next)
		if err != nil {
			return fmt.Errorf("sync block %d: next authorities: %w", h, err)
		}
		nextSet = s
	}
	e.advance(b, c, nextSet)
	if e.started {
		e.enterHeight()
		e.process()
	}
	return nil
}

// advance moves to the height after b. The set for the new height is the
// old next set; nextSet (from b's transactions) becomes the one after.
func (e *Engine) advance(b *chain.Block, c *chain.Commit, nextSet *chain.AuthoritySet) {
	e.lastSet, e.set = e.set, e.nextSet
	if nextSet != nil {
		e.nextSet = nextSet
	}
	e.height++
	e.prevHash = b.Hash()
	e.lastCommit = c
	e.round, e.step = 0, StepCommit
	e.locked, e.valid = nil, nil
	e.resetHeight()
	for _, s := range c.Signatures {
		e.knownPrecommits[s.Validator] = s.Signature
	}
	e.replayFuture()
}

// Ready returns the outputs accumulated since the last call and clears them.
func (e *Engine) Ready() Ready {
	rd := e.ready
	e.ready = Ready{}
	return rd
}

// HasReady reports whether Ready would return anything.
func (e *Engine) HasReady() bool {
	r := &e.ready
	return r.SignState != nil || r.Valid != nil || len(r.Messages) > 0 || len(r.Timers) > 0 || r.ProposeRequest != nil ||
		len(r.Decisions) > 0 || len(r.Evidence) > 0
}

// Status returns the engine's position.
func (e *Engine) Status() Status {
	s := Status{
		Height: e.height, Round: e.round, Step: e.step, LockedRound: -1, ValidRound: -1,
		Proposer: e.set.Proposer(e.height, e.round), Authorities: e.set, PrevHash: e.prevHash,
	}
	if e.locked != nil {
		s.LockedRound = int64(e.locked.round)
	}
	if e.valid != nil {
		s.ValidRound = int64(e.valid.round)
	}
	return s
}

// CurrentMessages returns the proposals and votes held for the current
// height, by round, for peers that missed them.
func (e *Engine) CurrentMessages() []*chain.Message {
	var out []*chain.Message
	for _, r := range e.roundNums {
		rs := e.rounds[r]
		for _, p := range rs.proposals {
			out = append(out, p.msg)
		}
		for _, v := range rs.prevotes.order {
			out = append(out, &chain.Message{Vote: v})
		}
		for _, v := range rs.precommits.order {
			out = append(out, &chain.Message{Vote: v})
		}
	}
	return out
}
