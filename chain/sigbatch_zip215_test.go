package chain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
	"github.com/hdevalence/ed25519consensus"
)

// These tests pin the acceptance rules of PublicKey.Verify and
// VerifyTxSignatures to ed25519consensus (ZIP-215), the library the chain
// used before: a node that accepted a signature another node refuses would
// split the network. Every case is checked four ways (our single and batch
// checks, the reference's single and batch checks) and all must agree.

// order8 is the encoding of a point of order 8; its multiples are the whole
// small-order subgroup.
const order8 = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"

// groupOrderLE is L = 2^252 + 27742317777372353535851937790883648493,
// little-endian.
var groupOrderLE = [32]byte{
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
}

// fieldPrimeLE is p = 2^255 - 19, little-endian.
var fieldPrimeLE = [32]byte{
	0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
}

// addLE returns a+b as 256-bit little-endian numbers and whether it
// overflowed.
func addLE(a, b [32]byte) ([32]byte, bool) {
	var out [32]byte
	carry := 0
	for i := range out {
		s := int(a[i]) + int(b[i]) + carry
		out[i], carry = byte(s), s>>8
	}
	return out, carry != 0
}

func torsionPoint(t testing.TB) *edwards25519.Point {
	t.Helper()
	b, _ := hex.DecodeString(order8)
	p, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// smallOrderEncodings returns every 32-byte string that decodes to a point
// of order dividing 8: the eight canonical encodings plus the non-canonical
// ones (y >= p, or x = 0 with the sign bit set). ZIP-215 accepts them all.
func smallOrderEncodings(t testing.TB) [][32]byte {
	t.Helper()
	t8 := torsionPoint(t)
	seen := map[[32]byte]bool{}
	var out [][32]byte
	p := edwards25519.NewIdentityPoint()
	for range 8 {
		var canon [32]byte
		copy(canon[:], p.Bytes())
		cands := [][32]byte{canon}
		y := canon
		y[31] &= 0x7f
		if yp, _ := addLE(y, fieldPrimeLE); yp[31]&0x80 == 0 { // y + p still fits in 255 bits
			yp[31] |= canon[31] & 0x80
			cands = append(cands, yp)
		}
		for _, c := range cands {
			flipped := c
			flipped[31] ^= 0x80
			for _, e := range [][32]byte{c, flipped} {
				q, err := new(edwards25519.Point).SetBytes(e[:])
				if err != nil || seen[e] {
					continue
				}
				if new(edwards25519.Point).MultByCofactor(q).Equal(edwards25519.NewIdentityPoint()) != 1 {
					continue
				}
				seen[e] = true
				out = append(out, e)
			}
		}
		p.Add(p, t8)
	}
	return out
}

func TestSmallOrderEncodingsAreTheZIP215Set(t *testing.T) {
	encs := smallOrderEncodings(t)
	canonical := 0
	for _, e := range encs {
		q, _ := new(edwards25519.Point).SetBytes(e[:])
		if bytes.Equal(q.Bytes(), e[:]) {
			canonical++
		}
	}
	// ZIP-215's test vectors are built from 8 canonical and 6
	// non-canonical encodings.
	if len(encs) != 14 || canonical != 8 {
		t.Fatalf("found %d encodings, %d canonical; want 14 and 8", len(encs), canonical)
	}
}

// refBatch is the reference batch verdict.
func refBatch(txs []*Tx) bool {
	bv := ed25519consensus.NewPreallocatedBatchVerifier(len(txs))
	for _, tx := range txs {
		bv.Add(ed25519.PublicKey(tx.Account[:]), tx.SignBytes(), tx.Signature[:])
	}
	return bv.Verify()
}

// checkAgree verifies txs every way and fails unless all agree with the
// reference's single verdicts; want (if not nil) is the expected verdict.
func checkAgree(t *testing.T, name string, txs []*Tx, want []bool) {
	t.Helper()
	ref := make([]bool, len(txs))
	allRef := true
	for i, tx := range txs {
		ref[i] = ed25519consensus.Verify(tx.Account[:], tx.SignBytes(), tx.Signature[:])
		allRef = allRef && ref[i]
		if want != nil && ref[i] != want[i] {
			t.Fatalf("%s %d: reference says %v, test expects %v", name, i, ref[i], want[i])
		}
	}
	if len(txs) > 1 {
		if got := refBatch(txs); got != allRef {
			t.Fatalf("%s: reference batch says %v, its single checks %v", name, got, allRef)
		}
	}
	// Pass 0 starts from an empty key cache, so keys are unexpanded (or
	// expanded on their second sighting within the batch); by pass 2 every
	// valid key is expanded. Both paths must give the same verdicts.
	resetKeyCache()
	for pass := range 3 {
		if got := TxSignaturesValid(txs); got != allRef {
			t.Fatalf("%s pass %d: TxSignaturesValid says %v, reference %v", name, pass, got, allRef)
		}
		for i, err := range VerifyTxSignatures(txs) {
			if (err == nil) != ref[i] {
				t.Fatalf("%s pass %d, %d: VerifyTxSignatures says %v, reference valid=%v", name, pass, i, err, ref[i])
			}
		}
		for i, tx := range txs {
			if got := tx.Account.Verify(tx.SignBytes(), tx.Signature); got != ref[i] {
				t.Fatalf("%s pass %d, %d: PublicKey.Verify says %v, reference %v", name, pass, i, got, ref[i])
			}
		}
	}
}

func resetKeyCache() {
	expandedKeys.mu.Lock()
	clear(expandedKeys.keys)
	clear(expandedKeys.seen)
	expandedKeys.mu.Unlock()
}

func zipTx(i int) *Tx {
	return &Tx{ChainID: "zw-zip215", Nonce: uint64(i + 1), Type: "record.put", Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))}
}

// TestZIP215SmallOrderVectors is ZIP-215's set: every small-order A with
// every small-order R and S = 0 satisfies the cofactored equation, so all
// 196 are valid, in any encoding; S = L instead of 0 is never valid.
func TestZIP215SmallOrderVectors(t *testing.T) {
	encs := smallOrderEncodings(t)
	var valid, sLarge []*Tx
	for _, a := range encs {
		for _, r := range encs {
			tx := zipTx(len(valid))
			tx.Account = PublicKey(a)
			copy(tx.Signature[:32], r[:])
			valid = append(valid, tx)
			bad := *tx
			copy(bad.Signature[32:], groupOrderLE[:])
			sLarge = append(sLarge, &bad)
		}
	}
	checkAgree(t, "small order S=0", valid, repeat(true, len(valid)))
	if n := expandedKeys.len(); n != len(encs) {
		t.Fatalf("%d keys expanded, want all %d small-order encodings (the expanded path went untested)", n, len(encs))
	}
	checkAgree(t, "small order S=L", sLarge, repeat(false, len(sLarge)))
	mixed := append(append([]*Tx{}, valid[:50]...), sLarge[7])
	checkAgree(t, "small order mixed", mixed, append(repeat(true, 50), false))
}

func repeat(v bool, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// crafted signs tx for a = secret with optional torsion components on A and
// R. With torsion the cofactorless check (stdlib) refuses, ZIP-215 accepts.
func crafted(t *testing.T, rng *rand.ChaCha8, tx *Tx, torsionA, torsionR int) {
	t.Helper()
	scalar := func() *edwards25519.Scalar {
		var b [64]byte
		_, _ = rng.Read(b[:])
		s, err := new(edwards25519.Scalar).SetUniformBytes(b[:])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	withTorsion := func(p *edwards25519.Point, k int) *edwards25519.Point {
		t8 := torsionPoint(t)
		for range k {
			p.Add(p, t8)
		}
		return p
	}
	a, r := scalar(), scalar()
	A := withTorsion(new(edwards25519.Point).ScalarBaseMult(a), torsionA)
	R := withTorsion(new(edwards25519.Point).ScalarBaseMult(r), torsionR)
	copy(tx.Account[:], A.Bytes())
	h := sha512.New()
	h.Write(R.Bytes())
	h.Write(tx.Account[:])
	h.Write(tx.SignBytes())
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	S := new(edwards25519.Scalar).MultiplyAdd(k, a, r)
	copy(tx.Signature[:32], R.Bytes())
	copy(tx.Signature[32:], S.Bytes())
}

// TestZIP215MixedOrder: keys and nonces with a small-order component pass
// the cofactored check, and are still refused with S + L.
func TestZIP215MixedOrder(t *testing.T) {
	rng := rand.NewChaCha8([32]byte{2, 1, 5})
	var txs, sPlusL []*Tx
	stdRefused := 0
	for i := range 64 {
		tx := zipTx(i)
		crafted(t, rng, tx, i%8, (i/8)%8)
		if !ed25519.Verify(tx.Account[:], tx.SignBytes(), tx.Signature[:]) {
			stdRefused++
		}
		txs = append(txs, tx)
		bad := *tx
		var s [32]byte
		copy(s[:], tx.Signature[32:])
		sl, _ := addLE(s, groupOrderLE)
		copy(bad.Signature[32:], sl[:])
		sPlusL = append(sPlusL, &bad)
	}
	// The torsion parts cancel in the cofactorless equation only by chance
	// (k*T_A + T_R = 0), so most cases must be ones the stdlib refuses, or
	// this test would not test the cofactored rule.
	if stdRefused < 32 {
		t.Fatalf("stdlib refuses only %d of 64 crafted signatures", stdRefused)
	}
	checkAgree(t, "mixed order", txs, repeat(true, len(txs)))
	checkAgree(t, "mixed order S+L", sPlusL, repeat(false, len(sPlusL)))
}

// TestZIP215RandomAgreement compares the verdicts on seeded random valid
// signatures and random corruptions of them, in batches of several sizes.
func TestZIP215RandomAgreement(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{9, 9}))
	keys := testKeys(8)
	for round, size := range []int{2, 3, 17, 64, 130, 300} {
		txs := make([]*Tx, size)
		for i := range txs {
			tx := zipTx(round*1000 + i)
			tx.Payload = make([]byte, rng.IntN(300))
			for j := range tx.Payload {
				tx.Payload[j] = byte(rng.Uint32())
			}
			tx.Sign(keys[rng.IntN(len(keys))])
			txs[i] = tx
		}
		checkAgree(t, fmt.Sprintf("valid %d", size), txs, repeat(true, size))
		for i, tx := range txs {
			if rng.IntN(4) != 0 {
				continue
			}
			switch rng.IntN(6) {
			case 0: // flip one bit of R or S
				bit := rng.IntN(512)
				tx.Signature[bit/8] ^= 1 << (bit % 8)
			case 1: // flip one bit of the key
				bit := rng.IntN(256)
				tx.Account[bit/8] ^= 1 << (bit % 8)
			case 2: // the message changes
				tx.Nonce++
			case 3: // random R (often not a point)
				for j := range 32 {
					tx.Signature[j] = byte(rng.Uint32())
				}
			case 4: // random key bytes (often not a point)
				for j := range tx.Account {
					tx.Account[j] = byte(rng.Uint32())
				}
			case 5: // S + L: the same scalar, non-canonical
				var s [32]byte
				copy(s[:], tx.Signature[32:])
				sl, _ := addLE(s, groupOrderLE)
				copy(tx.Signature[32:], sl[:])
			}
			txs[i] = tx
		}
		checkAgree(t, fmt.Sprintf("corrupted %d", size), txs, nil)
	}
}

// BenchmarkReferenceBatch256 is BenchmarkVerifyTxSignatures256 done with
// ed25519consensus, the library VerifyTxSignatures replaced, so the two can
// be compared in one run on a shared machine.
func BenchmarkReferenceBatch256(b *testing.B) {
	txs := signedTxs(256)
	for b.Loop() {
		if !refBatch(txs) {
			b.Fatal("valid batch refused")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(txs)), "ns/tx")
}
