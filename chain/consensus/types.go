package consensus

import (
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// Signer signs consensus messages with an authority's key. *chain.PrivateKey
// satisfies it; a remote signer or HSM can too.
type Signer interface {
	// Public returns the key the signatures verify under.
	Public() chain.PublicKey
	// Sign signs msg (already domain-separated by chain.SignBytes).
	Sign(msg []byte) chain.Signature
}

// Application judges block content, which the engine does not understand.
type Application interface {
	// ValidateBlock checks a proposed block's content beyond what the
	// engine checks (txs valid, state root correct, time after parent...)
	// by executing it; it must be deterministic. It returns the authority
	// list the block's transactions schedule (nil = no change), which
	// becomes the authority set two heights later.
	ValidateBlock(b *chain.Block) (next []chain.Authority, err error)
}

// Step is the phase of a round. Propose < Prevote < Precommit, so a
// sign-state (height, round, step) is totally ordered. StepCommit names the
// wait after a decision before the next height's round 0.
type Step uint8

// Steps of a round.
const (
	StepPropose   Step = 1
	StepPrevote   Step = 2
	StepPrecommit Step = 3
	StepCommit    Step = 4
)

// String names the step for logs and errors.
func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	case StepCommit:
		return "commit"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// Timer asks the caller to call Engine.Timeout(t) after DurationMS
// milliseconds. Timers are never cancelled: a stale one is ignored.
type Timer struct {
	Height     uint64
	Round      uint32
	Step       Step
	DurationMS int64
}

// ProposeRequest asks the caller to build a block for (Height, Round) on top
// of PrevHash, carrying LastCommit and certified by Authorities, and to pass
// it to Engine.Propose.
type ProposeRequest struct {
	Height      uint64
	Round       uint32
	PrevHash    chain.Hash
	LastCommit  *chain.Commit
	Authorities *chain.AuthoritySet
}

// Decision is a finalized block with its certificate (at least a quorum of
// precommits) and the authority list it schedules for Height+2 (nil = no
// change).
type Decision struct {
	Block  *chain.Block
	Commit *chain.Commit
	Next   []chain.Authority
}

// Ready is everything the engine produced since the last call to Ready.
type Ready struct {
	// SignState MUST be persisted (fsync) by the caller BEFORE Messages
	// are sent; nil if nothing new was signed.
	SignState *SignState
	// Valid, if set, is the new valid value with its proof, to persist
	// together with SignState and hand back in Config.LastValid.
	Valid *ValidState
	// Messages are signed by the engine, to broadcast. The engine has
	// already counted its own.
	Messages []*chain.Message
	// Timers to arm.
	Timers []Timer
	// ProposeRequest is set when we are the proposer and have no valid
	// value to re-propose: build a block and call Propose.
	ProposeRequest *ProposeRequest
	// Decisions are finalized blocks in height order.
	Decisions []Decision
	// Evidence of conflicting votes and conflicting proposals, once per
	// offender, height, round and kind.
	Evidence []*chain.Evidence
}

// Status is a snapshot of the engine's position, for APIs and metrics.
type Status struct {
	Height      uint64
	Round       uint32
	Step        Step
	LockedRound int64 // -1 if not locked
	ValidRound  int64 // -1 if no valid value
	// Proposer is proposer(Height, Round).
	Proposer    chain.Authority
	Authorities *chain.AuthoritySet
	// PrevHash is the hash of the last decided block (genesis at height 1).
	PrevHash chain.Hash
}

// Config says who the engine is and where it starts.
type Config struct {
	ChainID string
	// Signer is nil for an observer, which follows and decides but never
	// signs.
	Signer Signer
	App    Application
	Params chain.Params

	// Height is the next height to decide; PrevHash the previous block's
	// hash (the genesis hash at height 1) and LastCommit its certificate
	// (nil at height 1).
	Height     uint64
	PrevHash   chain.Hash
	LastCommit *chain.Commit
	// Authorities is the set for Height, NextAuthorities the set for
	// Height+1 (the same set if no change is pending).
	Authorities, NextAuthorities *chain.AuthoritySet
	// LastAuthorities is the set that signed LastCommit (the set for
	// Height-1). Proposals carry their own copy of the previous
	// certificate, which is verified against it. Nil means "same as
	// Authorities", which is right unless the set changed at Height.
	LastAuthorities *chain.AuthoritySet
	// LastSigned is the persisted sign-state; nil if never signed.
	LastSigned *SignState
	// LastValid is the last persisted Ready.Valid; nil if none. Ignored
	// if it is for a height below Height.
	LastValid *ValidState
}

func (c *Config) validate() error {
	switch {
	case c.ChainID == "":
		return fmt.Errorf("%w: missing chain id", ErrInvalidConfig)
	case c.App == nil:
		return fmt.Errorf("%w: missing application", ErrInvalidConfig)
	case c.Height == 0:
		return fmt.Errorf("%w: height 0 (the first block is height 1)", ErrInvalidConfig)
	case c.PrevHash.IsZero():
		return fmt.Errorf("%w: missing previous hash", ErrInvalidConfig)
	case c.Authorities == nil || c.NextAuthorities == nil:
		return fmt.Errorf("%w: missing authority set for height %d or %d", ErrInvalidConfig, c.Height, c.Height+1)
	case c.Height == 1 && c.LastCommit != nil:
		return fmt.Errorf("%w: last commit given at height 1", ErrInvalidConfig)
	case c.Height > 1 && c.LastCommit == nil:
		return fmt.Errorf("%w: missing last commit at height %d", ErrInvalidConfig, c.Height)
	}
	if err := c.Params.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if c.LastValid != nil && c.LastValid.Height >= c.Height {
		if err := c.LastValid.check(); err != nil {
			return err
		}
	}
	if c.LastCommit != nil && (c.LastCommit.Height+1 != c.Height || c.LastCommit.BlockHash != c.PrevHash) {
		return fmt.Errorf("%w: last commit is for %d/%s, want %d/%s", ErrInvalidConfig,
			c.LastCommit.Height, c.LastCommit.BlockHash.Short(), c.Height-1, c.PrevHash.Short())
	}
	return nil
}
