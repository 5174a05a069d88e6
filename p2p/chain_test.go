package p2p

import (
	"fmt"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// testChainSet is a real authority set with the keys that sign commits.
type testChainSet struct {
	keys []*chain.PrivateKey
	set  *chain.AuthoritySet
}

func newTestChainSet(t testing.TB, n int) *testChainSet {
	t.Helper()
	keys := authorityKeys(n)
	auths := make([]chain.Authority, n)
	for i, k := range keys {
		auths[i] = chain.Authority{Department: fmt.Sprintf("dept-%d", i), Name: fmt.Sprintf("Dept %d", i), PubKey: k.Public()}
	}
	set, err := chain.NewAuthoritySet(auths)
	if err != nil {
		t.Fatal(err)
	}
	return &testChainSet{keys: keys, set: set}
}

var genesisHash = chain.HashBytes([]byte("zw-test genesis"))

// buildChain makes blocks 1..n, each carrying the previous block's
// certificate and certified by a quorum of precommits.
func (cs *testChainSet) buildChain(t testing.TB, n, txsPerBlock int) []CertifiedBlock {
	t.Helper()
	return cs.buildChainPayload(t, n, txsPerBlock, 100)
}

// buildChainPayload is buildChain with txs of payload bytes each.
func (cs *testChainSet) buildChainPayload(t testing.TB, n, txsPerBlock, payload int) []CertifiedBlock {
	t.Helper()
	account := seedKey("account")
	out := make([]CertifiedBlock, 0, n)
	prev := genesisHash
	var lastCommit *chain.Commit
	nonce := uint64(1)
	for h := uint64(1); h <= uint64(n); h++ {
		b := &chain.Block{
			Header: chain.Header{
				ChainID:          testChain,
				Height:           h,
				Time:             int64(h) * 1000,
				PrevHash:         prev,
				StateRoot:        chain.HashBytes([]byte(fmt.Sprint("state", h))),
				Proposer:         cs.set.Proposer(h, 0).PubKey,
				AuthoritySetHash: cs.set.Hash(),
			},
			Txs:        signedTxs(testChain, account, nonce, txsPerBlock, payload),
			LastCommit: lastCommit,
		}
		nonce += uint64(txsPerBlock)
		b.Fill()
		if len(b.Txs) == 0 {
			b.Txs = nil
		}
		hash := b.Hash()
		votes := make([]*chain.Vote, 0, cs.set.Quorum())
		for _, k := range cs.keys[:cs.set.Quorum()] {
			v := &chain.Vote{Type: chain.Precommit, Height: h, BlockHash: hash}
			v.Sign(testChain, k)
			votes = append(votes, v)
		}
		c, err := chain.NewCommit(votes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, CertifiedBlock{Block: b, Commit: c})
		prev, lastCommit = hash, c
	}
	return out
}

// verifier checks what a joining node would: the block on its own, the
// link to the previous block, and the certificate under the set.
func (cs *testChainSet) verifier() func(CertifiedBlock) error {
	prev := genesisHash
	return func(cb CertifiedBlock) error {
		if err := cb.Block.ValidateBasic(); err != nil {
			return err
		}
		if cb.Block.Header.PrevHash != prev {
			return fmt.Errorf("block %d does not link to %s", cb.Block.Height(), prev.Short())
		}
		hash := cb.Block.Hash()
		if err := cb.Commit.Verify(testChain, cs.set, cb.Block.Height(), hash); err != nil {
			return err
		}
		prev = hash
		return nil
	}
}
