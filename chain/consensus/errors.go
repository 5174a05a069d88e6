package consensus

import "errors"

// Sentinel errors, always returned wrapped with context. None of them means
// the engine's state is damaged: a call that returns an error has changed
// nothing, except where ErrInvalidBlock says otherwise.
var (
	// ErrInvalidConfig: New was given an unusable Config.
	ErrInvalidConfig = errors.New("consensus: invalid config")
	// ErrInvalidMessage: the message failed ValidateBasic.
	ErrInvalidMessage = errors.New("consensus: invalid message")
	// ErrUnknownAuthority: the signer is not in the authority set of the
	// message's height. Peers relaying such messages are misbehaving.
	ErrUnknownAuthority = errors.New("consensus: signer is not an authority at this height")
	// ErrNotProposer: a proposal signed by someone other than proposer(h, r).
	ErrNotProposer = errors.New("consensus: proposal not signed by the round's proposer")
	// ErrInvalidBlock: a proposal's block is invalid (wrong consensus
	// fields or rejected by the Application). The proposal is still
	// recorded: by the protocol its signer's proposal for the round is an
	// invalid value, which the engine prevotes nil.
	ErrInvalidBlock = errors.New("consensus: invalid block")
	// ErrFutureHeight: the message is for a height at least two above the
	// engine's; it is dropped. Not a fault of the sender: we are behind and
	// the caller should sync blocks.
	ErrFutureHeight = errors.New("consensus: message for a future height")
	// ErrNotProposing: Propose was called when no proposal is wanted
	// (another height or round, or already proposed). Harmless when the
	// answer to a ProposeRequest arrives late.
	ErrNotProposing = errors.New("consensus: no proposal requested")
	// ErrSyncHeight: SyncTo was given a block that is not for the engine's
	// current height.
	ErrSyncHeight = errors.New("consensus: synced block is not for the current height")
)
