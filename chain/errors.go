package chain

import "errors"

// Sentinel errors returned (wrapped with context) by ValidateBasic and Verify.
var (
	ErrInvalid          = errors.New("invalid")
	ErrWrongChain       = errors.New("wrong chain id")
	ErrTooLarge         = errors.New("too large")
	ErrUnknownAuthority = errors.New("not a current authority")
	ErrNoQuorum         = errors.New("not enough signatures for a quorum")
)
