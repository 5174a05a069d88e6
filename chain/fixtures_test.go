package chain

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// Fixed fixtures shared by the vector, round-trip, validation and benchmark
// tests. Everything here is deterministic: keys come from fixed seeds and
// ed25519 signatures are deterministic, so the same inputs always give the
// same bytes.

const testChainID = "jinan-1"

// testDepartments names the fixture authorities, in set order.
var testDepartments = []string{"tax", "market", "hrss", "credit", "audit", "police", "health"}

// fixedHash returns a recognisable non-zero hash: every byte is b.
func fixedHash(b byte) Hash {
	var h Hash
	for i := range h {
		h[i] = b
	}
	return h
}

// testKeys returns n keys from seeds 1..n (seed i is 32 bytes of value i).
func testKeys(n int) []*PrivateKey {
	keys := make([]*PrivateKey, n)
	for i := range keys {
		keys[i] = testKey(byte(i + 1))
	}
	return keys
}

// testAuthorities builds authorities for keys, named after testDepartments
// (or "dept-i" beyond them).
func testAuthorities(keys []*PrivateKey) []Authority {
	auths := make([]Authority, len(keys))
	for i, k := range keys {
		dept := fmt.Sprintf("dept-%d", i)
		if i < len(testDepartments) {
			dept = testDepartments[i]
		}
		auths[i] = Authority{Department: dept, Name: "Department " + dept, PubKey: k.Public()}
	}
	return auths
}

// testSet builds an authority set of n fixture keys.
func testSet(t testing.TB, n int) (*AuthoritySet, []*PrivateKey) {
	t.Helper()
	keys := testKeys(n)
	set, err := NewAuthoritySet(testAuthorities(keys))
	if err != nil {
		t.Fatalf("NewAuthoritySet: %v", err)
	}
	return set, keys
}

// signedTx returns a signed transaction with a payload of the given size.
func signedTx(key *PrivateKey, nonce uint64, payloadLen int) Tx {
	payload := bytes.Repeat([]byte{byte(nonce)}, payloadLen)
	tx := Tx{ChainID: testChainID, Nonce: nonce, Type: "record.put", Payload: payload}
	tx.Sign(key)
	return tx
}

// fixedTx is the transaction pinned by the test vectors.
func fixedTx() Tx {
	tx := Tx{ChainID: testChainID, Nonce: 7, Type: "record.put", Payload: []byte(`{"subject":"s-1","field":"licence","value":"ok"}`)}
	tx.Sign(testKey(1))
	return tx
}

// signedVote returns a vote signed by key.
func signedVote(key *PrivateKey, typ VoteType, height uint64, round uint32, block Hash) *Vote {
	v := &Vote{Type: typ, Height: height, Round: round, BlockHash: block}
	v.Sign(testChainID, key)
	return v
}

// signedProposal returns a proposal signed by key.
func signedProposal(key *PrivateKey, height uint64, round uint32, pol int64, block Hash) *Proposal {
	p := &Proposal{Height: height, Round: round, POLRound: pol, BlockHash: block}
	p.Sign(testChainID, key)
	return p
}

// testCommit returns a certificate for block at height signed by keys.
func testCommit(t testing.TB, keys []*PrivateKey, height uint64, round uint32, block Hash) *Commit {
	t.Helper()
	votes := make([]*Vote, len(keys))
	for i, k := range keys {
		votes[i] = signedVote(k, Precommit, height, round, block)
	}
	c, err := NewCommit(votes)
	if err != nil {
		t.Fatalf("NewCommit: %v", err)
	}
	return c
}

// testDuplicateVote returns evidence that key precommitted two blocks at
// height 4, round 1.
func testDuplicateVote(key *PrivateKey) *Evidence {
	a := signedVote(key, Precommit, 4, 1, fixedHash(0xa1))
	b := signedVote(key, Precommit, 4, 1, fixedHash(0xb2))
	return NewDuplicateVoteEvidence(b, a)
}

// testConflictingProposal returns evidence that key proposed two blocks at
// height 4, round 2.
func testConflictingProposal(key *PrivateKey) *Evidence {
	a := signedProposal(key, 4, 2, -1, fixedHash(0xc3))
	b := signedProposal(key, 4, 2, -1, fixedHash(0xd4))
	return NewConflictingProposalEvidence(a, b)
}

// testBlock builds a valid, filled block at height 5 with ntx transactions
// of payloadLen bytes, a last commit from the first three of four fixture
// keys and one piece of evidence against the fourth.
func testBlock(t testing.TB, ntx, payloadLen int) *Block {
	t.Helper()
	set, keys := testSet(t, 4)
	prev := fixedHash(0x44)
	b := &Block{
		Header: Header{
			ChainID:          testChainID,
			Height:           5,
			Time:             1_767_225_600_000, // 2026-01-01T00:00:00Z
			PrevHash:         prev,
			StateRoot:        fixedHash(0x55),
			Proposer:         keys[1].Public(),
			AuthoritySetHash: set.Hash(),
		},
		LastCommit: testCommit(t, keys[:3], 4, 0, prev),
		Evidence:   []Evidence{*testDuplicateVote(keys[3])},
	}
	sender := testKey(100)
	for i := 0; i < ntx; i++ {
		b.Txs = append(b.Txs, signedTx(sender, uint64(i+1), payloadLen))
	}
	b.Fill()
	return b
}

// testGenesis returns a valid genesis over four fixture authorities. Its
// params are spelled out rather than DefaultParams: the encoding vectors
// hash this genesis, and a change of defaults is not a change of encoding.
func testGenesis() *Genesis {
	keys := testKeys(4)
	return &Genesis{
		ChainID:     testChainID,
		GenesisTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Authorities: testAuthorities(keys),
		Accounts: []GenesisAccount{
			{Department: "tax", Role: "admin", Name: "Tax admin", PubKey: testKey(50).Public()},
			{Department: "market", Role: "admin", PubKey: testKey(51).Public()},
		},
		Params: Params{
			TimeoutProposeMS: 1000, TimeoutPrevoteMS: 500, TimeoutPrecommitMS: 500, TimeoutDeltaMS: 500, TimeoutCommitMS: 100,
			MaxBlockTxs: 10_000, MaxBlockBytes: 8 << 20, MaxTxBytes: 64 << 10,
		},
		AppState: []byte(`{"schemas":["licence"]}`),
	}
}
