package store

import "errors"

// Sentinel errors, always returned wrapped with context.
var (
	// ErrNotFound means the block, certificate, transaction or value does
	// not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrNotNext means a block does not extend the head: wrong height or
	// wrong previous hash. Nothing was written.
	ErrNotNext = errors.New("store: block does not extend the head")
	// ErrGenesisMismatch means the store was initialized for another chain
	// id or another genesis document.
	ErrGenesisMismatch = errors.New("store: genesis does not match the stored chain")
	// ErrNotInitialized means Init has not run on this store yet.
	ErrNotInitialized = errors.New("store: not initialized with a genesis")
	// ErrStateRoot means a block's state root is not the commitment of the
	// state writes given with it.
	ErrStateRoot = errors.New("store: state root does not match the state writes")
	// ErrFormat means the data directory was written by a zwnode with
	// another storage layout; it cannot be read, only replaced (the node
	// syncs the chain again from its peers).
	ErrFormat = errors.New("store: data written in another storage format")
	// ErrCorrupt means stored data does not decode; the error names the key.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrFailed means an earlier write could not be made durable; the store
	// refuses further writes and the node must stop.
	ErrFailed = errors.New("store: an earlier write failed to sync")
	// ErrStop may be returned by a StateIter callback to end the iteration
	// early without an error.
	ErrStop = errors.New("store: stop iteration")
)
