package chain

import (
	"fmt"
	"sync"

	voied25519 "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// zip215 selects the ZIP-215 validation rules in curve25519-voi: A and R
// may be any encoding of a curve point (small order and non-canonical y
// included), S must be below the group order, and the check is the
// cofactored equation [8]([S]B - R - [k]A) = 0. These are exactly the rules
// of ed25519consensus, which this package used before; the tests compare the
// two on the edge cases.
var zip215 = &voied25519.Options{Verify: voied25519.VerifyOptionsZIP_215}

// verifyZIP215 checks one signature under zip215.
func verifyZIP215(k PublicKey, msg, sig []byte) bool {
	if e := expandedKeys.get(k); e != nil {
		return voied25519.VerifyExpandedWithOptions(e, msg, sig, zip215)
	}
	return voied25519.VerifyWithOptions(k[:], msg, sig, zip215)
}

// VerifyTxSignatures checks the signatures of txs as one batch, which costs
// a fraction of checking them one by one (less per signature the larger the
// batch), and returns one result per transaction. When the batch fails,
// each signature is checked alone to find which ones are bad. A batch of
// valid signatures always passes; one with a bad signature passes with
// probability about 2^-128 (random batch coefficients), so the verdicts
// are those of single checks.
func VerifyTxSignatures(txs []*Tx) []error {
	errs := make([]error, len(txs))
	if len(txs) == 0 {
		return errs
	}
	if len(txs) == 1 {
		errs[0] = txs[0].VerifySignature()
		return errs
	}
	// Verify runs the batch equation and, only if it fails, checks each
	// entry alone, reusing the decoded points and hashes.
	var ok bool
	var valid []bool
	withTxBatch(txs, func(bv *voied25519.BatchVerifier) { ok, valid = bv.Verify(nil) })
	if ok {
		return errs
	}
	for i, tx := range txs {
		if !valid[i] {
			errs[i] = fmt.Errorf("tx from %s nonce %d: %w", tx.Account.Short(), tx.Nonce, ErrBadSignature)
		}
	}
	return errs
}

// TxSignaturesValid reports whether every signature of txs verifies, under
// the same rules as VerifyTxSignatures. It checks the batch equation only,
// so a batch with a bad signature costs no more than a good one, but it
// does not say which signature is bad: for callers that refuse the whole
// batch, such as the gossip validator. An empty batch is valid.
func TxSignaturesValid(txs []*Tx) bool {
	switch len(txs) {
	case 0:
		return true
	case 1:
		return txs[0].VerifySignature() == nil
	}
	var ok bool
	withTxBatch(txs, func(bv *voied25519.BatchVerifier) { ok = bv.VerifyBatchOnly(nil) })
	return ok
}

// batchVerifiers holds batch verifiers for reuse: a verifier's entries
// (decoded points and hashes, ~400 bytes per signature) were 3 % of what
// a node allocated at full load. One used for more than
// maxPooledBatch signatures is left to the garbage collector.
var batchVerifiers = sync.Pool{New: func() any { return voied25519.NewBatchVerifier() }}

const maxPooledBatch = 2048

// withTxBatch loads txs into a batch verifier and runs check on it. Keys
// are expanded only through the cache: expanding one costs more than a
// batch saves with it unless the expansion is reused. Forcing the
// unexpanded mode also keeps the batch on the multiscalar multiplication
// that suits large batches. The verifier hashes each message as it is
// added and keeps only the signature's decoded values (the cofactorless
// mode, which would keep the message, is never used), so the sign bytes
// of all txs are built in one reused buffer.
func withTxBatch(txs []*Tx, check func(*voied25519.BatchVerifier)) {
	bv := batchVerifiers.Get().(*voied25519.BatchVerifier)
	bv.Reset().ForceNoPublicKeyExpansion()
	bp := encodingPool.Get().(*[]byte)
	msg := (*bp)[:0]
	for _, tx := range txs {
		msg = tx.appendSignBytes(msg[:0])
		if e := expandedKeys.get(tx.Account); e != nil {
			bv.AddExpandedWithOptions(e, msg, tx.Signature[:], zip215)
		} else {
			bv.AddWithOptions(tx.Account[:], msg, tx.Signature[:], zip215)
		}
	}
	check(bv)
	if cap(msg) <= maxPooledEncoding {
		*bp = msg[:0]
		encodingPool.Put(bp)
	}
	if len(txs) <= maxPooledBatch {
		bv.Reset()
		batchVerifiers.Put(bv)
	}
}
