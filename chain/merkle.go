package chain

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
)

// ErrBadProof means a Merkle inclusion proof does not lead to the root.
var ErrBadProof = errors.New("merkle proof does not match root")

// MerkleLeafHash is SHA-256(0x00 ‖ data).
func MerkleLeafHash(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

func merkleNode(l, r Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[1+HashSize:], r[:])
	return sha256.Sum256(buf[:])
}

// splitPoint is the largest power of two strictly smaller than n (n >= 2).
func splitPoint(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

// MerkleRoot returns the RFC 6962 root over already hashed leaves.
func MerkleRoot(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	// Bottom-up over a scratch copy: pair adjacent nodes level by level. An
	// odd node out is promoted unchanged, which yields the same tree as the
	// recursive definition with the largest-power-of-two split.
	level := make([]Hash, len(leaves))
	copy(level, leaves)
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 < len(level) {
				next = append(next, merkleNode(level[i], level[i+1]))
			} else {
				next = append(next, level[i])
			}
		}
		level = next
	}
	return level[0]
}

// TxLeaves returns the Merkle leaf hashes of txs.
func TxLeaves(txs []Tx) []Hash { return hashEncodings(txs, MerkleLeafHash) }

// hashEncodings returns hash of each tx's canonical encoding, encoding
// them all into one reused buffer.
func hashEncodings(txs []Tx, hash func([]byte) Hash) []Hash {
	out := make([]Hash, len(txs))
	var buf []byte
	for i := range txs {
		buf = txs[i].appendEncoding(buf[:0])
		out[i] = hash(buf)
	}
	return out
}

// TxRoot returns the Merkle root of txs.
func TxRoot(txs []Tx) Hash { return MerkleRoot(TxLeaves(txs)) }

// MerkleProof proves that a leaf is at Index in a tree of Total leaves.
// Path lists sibling hashes from the leaf upwards.
type MerkleProof struct {
	Index uint64 `json:"index"`
	Total uint64 `json:"total"`
	Path  []Hash `json:"path"`
}

// MerkleProve returns the inclusion proof for leaves[index].
func MerkleProve(leaves []Hash, index int) (MerkleProof, error) {
	if index < 0 || index >= len(leaves) {
		return MerkleProof{}, fmt.Errorf("merkle proof: index %d out of range [0,%d)", index, len(leaves))
	}
	p := MerkleProof{Index: uint64(index), Total: uint64(len(leaves))}
	p.Path = prove(leaves, index, nil)
	return p, nil
}

// prove appends the audit path (leaf to root order) for leaves[i].
func prove(leaves []Hash, i int, path []Hash) []Hash {
	if len(leaves) <= 1 {
		return path
	}
	k := splitPoint(len(leaves))
	if i < k {
		path = prove(leaves[:k], i, path)
		return append(path, MerkleRoot(leaves[k:]))
	}
	path = prove(leaves[k:], i-k, path)
	return append(path, MerkleRoot(leaves[:k]))
}

// VerifyMerkleProof checks that leaf is included under root according to p
// (RFC 6962 section 2.1.1 audit-path verification).
func VerifyMerkleProof(root, leaf Hash, p MerkleProof) error {
	if p.Total == 0 || p.Index >= p.Total {
		return fmt.Errorf("%w: index %d of %d", ErrBadProof, p.Index, p.Total)
	}
	fn, sn := p.Index, p.Total-1
	r := leaf
	for _, sib := range p.Path {
		if sn == 0 {
			return fmt.Errorf("%w: path too long", ErrBadProof)
		}
		if fn&1 == 1 || fn == sn {
			r = merkleNode(sib, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = merkleNode(r, sib)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || r != root {
		return ErrBadProof
	}
	return nil
}
