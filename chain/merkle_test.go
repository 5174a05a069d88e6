package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
)

// refRoot is the RFC 6962 section 2.1 definition, written as literally as
// possible: MTH({}) = SHA-256(), MTH({d0}) = SHA-256(0x00 ‖ d0), otherwise
// split at the largest power of two k < n and hash 0x01 ‖ MTH(left) ‖
// MTH(right). It works on leaf hashes, so MTH of one leaf is the leaf.
func refRoot(leaves []Hash) Hash {
	switch n := len(leaves); n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		l, r := refRoot(leaves[:k]), refRoot(leaves[k:])
		return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
	}
}

// refDirections lists, leaf to root, whether the sibling at each level of
// the RFC 6962 audit path for leaf i of n sits to the right. Two
// (index, total) pairs with the same directions and path length are
// indistinguishable to a verifier, by design of RFC 6962.
func refDirections(i, n int) []bool {
	if n <= 1 {
		return nil
	}
	k := 1
	for k*2 < n {
		k *= 2
	}
	if i < k {
		return append(refDirections(i, k), true)
	}
	return append(refDirections(i-k, n-k), false)
}

func sameDirections(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testLeaves returns n distinct leaf hashes.
func testLeaves(n int) []Hash {
	leaves := make([]Hash, n)
	for i := range leaves {
		leaves[i] = MerkleLeafHash(binary.BigEndian.AppendUint32([]byte("leaf-"), uint32(i)))
	}
	return leaves
}

func TestMerkleRootMatchesReference(t *testing.T) {
	sizes := []int{}
	for n := 0; n <= 70; n++ {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 127, 128, 129, 1000, 1023, 1024, 1025, 4097)
	all := testLeaves(4097)
	for _, n := range sizes {
		if got, want := MerkleRoot(all[:n]), refRoot(all[:n]); got != want {
			t.Errorf("n=%d: MerkleRoot %s, RFC 6962 reference %s", n, got, want)
		}
	}
}

// TestMerkleRFC6962Vectors checks the published Certificate Transparency
// test vectors (leaf data and tree heads for sizes 0..8 and two audit paths).
func TestMerkleRFC6962Vectors(t *testing.T) {
	data := []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	roots := []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	leaves := make([]Hash, len(data))
	for i, d := range data {
		b, _ := hex.DecodeString(d)
		leaves[i] = MerkleLeafHash(b)
	}
	// The empty tree is SHA-256 of the empty string; a single leaf is
	// SHA-256(0x00 ‖ data), computed here without MerkleLeafHash.
	if got := MerkleRoot(nil).String(); got != roots[0] {
		t.Errorf("empty root %s, want %s", got, roots[0])
	}
	if got, want := leaves[0], Hash(sha256.Sum256([]byte{0})); got != want {
		t.Errorf("leaf hash of empty data %s, want SHA-256(0x00) %s", got, want)
	}
	for n := 0; n <= len(leaves); n++ {
		if got := MerkleRoot(leaves[:n]).String(); got != roots[n] {
			t.Errorf("size %d: root %s, RFC 6962 vector %s", n, got, roots[n])
		}
	}
	paths := []struct {
		index int
		path  []string
	}{
		{0, []string{
			"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
		}},
		{5, []string{
			"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		}},
	}
	for _, tc := range paths {
		p, err := MerkleProve(leaves, tc.index)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Path) != len(tc.path) {
			t.Fatalf("index %d: path length %d, want %d", tc.index, len(p.Path), len(tc.path))
		}
		for i := range p.Path {
			if p.Path[i].String() != tc.path[i] {
				t.Errorf("index %d: path[%d] %s, vector %s", tc.index, i, p.Path[i], tc.path[i])
			}
		}
	}
}

func TestMerkleProofs(t *testing.T) {
	all := testLeaves(70)
	stranger := MerkleLeafHash([]byte("not in the tree"))
	for n := 1; n <= 70; n++ {
		leaves := all[:n]
		root := MerkleRoot(leaves)
		for i := 0; i < n; i++ {
			p, err := MerkleProve(leaves, i)
			if err != nil {
				t.Fatalf("n=%d i=%d: MerkleProve: %v", n, i, err)
			}
			if p.Index != uint64(i) || p.Total != uint64(n) || len(p.Path) != len(refDirections(i, n)) {
				t.Fatalf("n=%d i=%d: proof %d/%d with %d hashes", n, i, p.Index, p.Total, len(p.Path))
			}
			if err := VerifyMerkleProof(root, leaves[i], p); err != nil {
				t.Fatalf("n=%d i=%d: valid proof rejected: %v", n, i, err)
			}
			checkTamperedProofs(t, n, i, root, leaves, p, stranger)
		}
	}
}

// checkTamperedProofs asserts that every alteration of a valid proof is
// rejected with ErrBadProof, except a different total whose audit path has
// exactly the same shape: RFC 6962 proofs do not commit to the tree size
// beyond the path shape (the header's TxCount does that).
func checkTamperedProofs(t *testing.T, n, i int, root Hash, leaves []Hash, p MerkleProof, stranger Hash) {
	t.Helper()
	reject := func(what string, root, leaf Hash, q MerkleProof) {
		t.Helper()
		if err := VerifyMerkleProof(root, leaf, q); !errors.Is(err, ErrBadProof) {
			t.Fatalf("n=%d i=%d: %s: got %v, want ErrBadProof", n, i, what, err)
		}
	}
	clone := func() MerkleProof {
		q := p
		q.Path = append([]Hash(nil), p.Path...)
		return q
	}
	reject("wrong leaf", root, stranger, p)
	if n > 1 {
		reject("other leaf", root, leaves[(i+1)%n], p)
	}
	reject("wrong root", stranger, leaves[i], p)
	for j := 0; j < n+2; j++ {
		if j == i {
			continue
		}
		q := clone()
		q.Index = uint64(j)
		reject("wrong index", root, leaves[i], q)
	}
	for total := 0; total <= n+3; total++ {
		if total == n {
			continue
		}
		q := clone()
		q.Total = uint64(total)
		err := VerifyMerkleProof(root, leaves[i], q)
		if i < total && sameDirections(refDirections(i, total), refDirections(i, n)) {
			if err != nil {
				t.Fatalf("n=%d i=%d: total %d has the same path shape, yet rejected: %v", n, i, total, err)
			}
			continue
		}
		if !errors.Is(err, ErrBadProof) {
			t.Fatalf("n=%d i=%d: wrong total %d: got %v, want ErrBadProof", n, i, total, err)
		}
	}
	for k := range p.Path {
		q := clone()
		q.Path[k][k%HashSize] ^= 0x01
		reject("flipped sibling", root, leaves[i], q)
	}
	if len(p.Path) > 0 {
		q := clone()
		q.Path = q.Path[:len(q.Path)-1]
		reject("truncated path", root, leaves[i], q)
		q = clone()
		q.Path = q.Path[1:]
		reject("path without first sibling", root, leaves[i], q)
	}
	q := clone()
	q.Path = append(q.Path, stranger)
	reject("extended path", root, leaves[i], q)
	q = clone()
	q.Path = append([]Hash{stranger}, q.Path...)
	reject("path with a prepended sibling", root, leaves[i], q)
}

func TestMerkleProveRange(t *testing.T) {
	leaves := testLeaves(3)
	for _, i := range []int{-1, 3, 100} {
		if _, err := MerkleProve(leaves, i); err == nil {
			t.Errorf("MerkleProve index %d of 3: no error", i)
		}
	}
	if _, err := MerkleProve(nil, 0); err == nil {
		t.Errorf("MerkleProve on an empty tree: no error")
	}
	if err := VerifyMerkleProof(MerkleRoot(nil), Hash{}, MerkleProof{}); !errors.Is(err, ErrBadProof) {
		t.Errorf("proof in an empty tree: got %v, want ErrBadProof", err)
	}
	huge := MerkleProof{Index: 1<<64 - 2, Total: 1<<64 - 1}
	if err := VerifyMerkleProof(leaves[0], leaves[0], huge); !errors.Is(err, ErrBadProof) {
		t.Errorf("proof with a huge total and no path: got %v, want ErrBadProof", err)
	}
}

func TestTxRootAndEvidenceHash(t *testing.T) {
	key := testKey(9)
	txs := []Tx{signedTx(key, 1, 10), signedTx(key, 2, 20), signedTx(key, 3, 30)}
	leaves := make([]Hash, len(txs))
	for i := range txs {
		leaves[i] = Hash(sha256.Sum256(append([]byte{0}, txs[i].Encode()...)))
	}
	if got, want := TxRoot(txs), refRoot(leaves); got != want {
		t.Errorf("TxRoot %s, want RFC 6962 root over SHA-256(0x00 ‖ encoded tx) %s", got, want)
	}
	if got := TxRoot(nil); got != Hash(sha256.Sum256(nil)) {
		t.Errorf("TxRoot of no txs %s, want SHA-256 of the empty string", got)
	}
	if got := EvidenceHash(nil); !got.IsZero() {
		t.Errorf("EvidenceHash of no evidence %s, want the zero hash", got)
	}
	ev := testDuplicateVote(testKey(2))
	if got, want := EvidenceHash([]Evidence{*ev}), MerkleLeafHash(ev.Encode()); got != want {
		t.Errorf("EvidenceHash of one piece %s, want its leaf hash %s", got, want)
	}
}
