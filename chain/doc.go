// Package chain holds the types every zwnode agrees on: transactions, blocks,
// headers, proposals, votes, commit certificates, evidence and the genesis
// document, together with their canonical encoding, hashing, signing and
// Merkle proofs.
//
// # Canonical encoding
//
// Everything that is hashed, signed or sent between nodes is encoded with one
// rule, so that a value has exactly one byte representation:
//
//   - uint8: one byte; bool: one byte, 0 or 1 (anything else is an error).
//   - uint32, uint64, int64: fixed width, big-endian (int64 in two's complement).
//   - byte strings and UTF-8 strings: a uint32 length, then the bytes.
//   - fixed-size values (Hash: 32 bytes, PublicKey: 32 bytes, Signature: 64
//     bytes): the raw bytes, no length.
//   - lists: a uint32 element count, then the elements.
//   - optional values: a bool presence flag, then the value if present.
//   - structs: their fields in the order the encoder documents, no tags, no
//     padding.
//
// Decoders are strict: truncated input, trailing bytes, non-canonical booleans
// and lengths beyond the documented limits are errors, never silently accepted.
//
// # Hashes and signatures
//
// Hashes are SHA-256. A block's hash is the hash of its encoded header; a
// transaction's hash is the hash of its full encoding, signature included.
//
// Signatures are ed25519 over domain-separated bytes:
//
//	"zwnode/sig/v1" ‖ string(kind) ‖ string(chainID) ‖ body
//
// where kind is one of "tx", "proposal", "prevote", "precommit" (see
// [SignBytes]). A signature for one kind or one chain therefore never verifies
// as another kind or on another chain.
//
// # Merkle trees
//
// The transaction root follows RFC 6962: leaf = SHA-256(0x00 ‖ encoded tx),
// node = SHA-256(0x01 ‖ left ‖ right), the split point is the largest power of
// two smaller than the number of leaves, and the root of an empty list is
// SHA-256 of the empty string. See [MerkleRoot], [MerkleProve] and
// [VerifyMerkleProof].
package chain
