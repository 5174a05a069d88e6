package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/zwnode/zwnode/chain"
)

// Limits on ledger state entries.
const (
	MaxStateKeyLen   = 1024
	MaxStateValueLen = 4 << 20
)

// Write is one ledger state change. A nil Value deletes the key; an empty
// non-nil Value stores an empty value.
type Write struct {
	Key   []byte
	Value []byte
}

// NormalizeWrites returns the writes sorted by key with one entry per key:
// when a key appears more than once the later entry wins. The input is not
// modified; if it is already strictly sorted it is returned as is.
func NormalizeWrites(writes []Write) []Write {
	sorted := true
	for i := 1; i < len(writes); i++ {
		if bytes.Compare(writes[i-1].Key, writes[i].Key) >= 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return writes
	}
	out := slices.Clone(writes)
	slices.SortStableFunc(out, func(a, b Write) int { return bytes.Compare(a.Key, b.Key) })
	// Keep the last of each run of equal keys.
	n := 0
	for i := range out {
		if i+1 < len(out) && bytes.Equal(out[i].Key, out[i+1].Key) {
			continue
		}
		out[n] = out[i]
		n++
	}
	return out[:n]
}

// checkWrites refuses keys and values the store cannot hold.
func checkWrites(writes []Write) error {
	for i, w := range writes {
		if len(w.Key) == 0 || len(w.Key) > MaxStateKeyLen {
			return fmt.Errorf("state write %d: %w: key of %d bytes (1..%d allowed)", i, chain.ErrInvalid, len(w.Key), MaxStateKeyLen)
		}
		if len(w.Value) > MaxStateValueLen {
			return fmt.Errorf("state write %d: %w: value of %d bytes (limit %d)", i, chain.ErrInvalid, len(w.Value), MaxStateValueLen)
		}
	}
	return nil
}

const stateRootDomain = "zw/state/v1"

// StateRoot is the state root a block header carries: SHA-256 of
// "zw/state/v1" ‖ prev ‖ the canonical encoding of the normalized writes
// (see [NormalizeWrites]), where prev is the previous block's state root (the
// genesis state root for block 1, see [Store.Init]). Writes are encoded as a
// uint32 count, then per write bytes(Key) ‖ bool(Value != nil) ‖
// bytes(Value) if present, as in package chain's canonical encoding.
//
// It is an incremental commitment to the history of state changes, not a
// Merkle tree over the state: two nodes agree on it exactly when they applied
// the same changes from the same genesis, which is what block validation
// needs, and it costs one hash pass over the changes. Its limits: it cannot
// prove a single key's value (no per-key inclusion or absence proofs, so
// light clients must trust a full node for reads), it depends on history
// rather than on the resulting state alone, and a state snapshot cannot be
// checked against it without replaying the blocks.
func StateRoot(prev chain.Hash, writes []Write) chain.Hash {
	writes = NormalizeWrites(writes)
	h := sha256.New()
	e := chain.NewEncoder(64)
	e.String(stateRootDomain)
	e.Raw(prev[:])
	e.Uint32(uint32(len(writes)))
	h.Write(e.Bytes())
	var hdr []byte
	for _, w := range writes {
		// bytes(Key) ‖ bool(present) ‖ bytes(Value), written piecewise so
		// values are hashed without being copied.
		hdr = binary.BigEndian.AppendUint32(hdr[:0], uint32(len(w.Key)))
		h.Write(hdr)
		h.Write(w.Key)
		if w.Value == nil {
			h.Write([]byte{0})
			continue
		}
		hdr = append(hdr[:0], 1)
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(w.Value)))
		h.Write(hdr)
		h.Write(w.Value)
	}
	var out chain.Hash
	h.Sum(out[:0])
	return out
}
