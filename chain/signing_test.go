package chain

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// TestDomainSeparation checks at the byte level that a signature made for
// one kind of message or one chain never verifies for another, even when
// the signed body is byte-for-byte the same.
func TestDomainSeparation(t *testing.T) {
	key := testKey(1)
	pub := key.Public()
	vote := signedVote(key, Prevote, 9, 2, fixedHash(9))
	body := vote.Encode()[:VoteEncodedLen-SignatureSize]
	if !bytes.Equal(vote.SignBytes(testChainID), SignBytes(DomainPrevote, testChainID, body)) {
		t.Fatalf("vote sign bytes are not SignBytes(prevote, chain, body)")
	}
	for _, tc := range []struct{ kind, chain string }{
		{DomainPrecommit, testChainID},
		{DomainProposal, testChainID},
		{DomainTx, testChainID},
		{DomainAPIAuth, testChainID},
		{DomainPrevote, "jinan-2"},
		{DomainPrevote, ""},
	} {
		if pub.Verify(SignBytes(tc.kind, tc.chain, body), vote.Signature) {
			t.Errorf("prevote signature verifies as %q on chain %q", tc.kind, tc.chain)
		}
	}
	// Length prefixes keep kind, chain id and body apart.
	if bytes.Equal(SignBytes("tx", "ab", []byte("c")), SignBytes("txa", "b", []byte("c"))) ||
		bytes.Equal(SignBytes("tx", "ab", []byte("c")), SignBytes("tx", "a", []byte("bc"))) {
		t.Errorf("SignBytes is ambiguous across kind/chain/body boundaries")
	}
}

func TestSignatureBinding(t *testing.T) {
	key := testKey(1)
	prevote := signedVote(key, Prevote, 9, 2, fixedHash(9))
	asPrecommit := *prevote
	asPrecommit.Type = Precommit
	precommit := signedVote(key, Precommit, 9, 2, fixedHash(9))
	asPrevote := *precommit
	asPrevote.Type = Prevote
	prop := signedProposal(key, 9, 2, -1, fixedHash(9))
	// A proposal carrying the vote's signature, for the same height, round
	// and block.
	propWithVoteSig := *prop
	propWithVoteSig.Signature = prevote.Signature
	tx := fixedTx()
	txWithVoteSig := tx
	txWithVoteSig.Account, txWithVoteSig.Signature = key.Public(), prevote.Signature
	otherChainTx := tx
	otherChainTx.ChainID = "jinan-2"
	moved := *prevote
	moved.Round++
	otherBlock := *prevote
	otherBlock.BlockHash = fixedHash(8)
	impostor := *prevote
	impostor.Validator = testKey(2).Public()

	for _, tc := range []struct {
		name string
		err  error
	}{
		{"prevote replayed as precommit", asPrecommit.VerifySignature(testChainID)},
		{"precommit replayed as prevote", asPrevote.VerifySignature(testChainID)},
		{"vote signature on a proposal", propWithVoteSig.VerifySignature(testChainID)},
		{"vote signature on a tx", txWithVoteSig.VerifySignature()},
		{"vote on another chain", prevote.VerifySignature("jinan-2")},
		{"proposal on another chain", prop.VerifySignature("jinan-2")},
		{"tx on another chain", otherChainTx.VerifySignature()},
		{"vote moved to another round", moved.VerifySignature(testChainID)},
		{"vote moved to another block", otherBlock.VerifySignature(testChainID)},
		{"vote claimed by another validator", impostor.VerifySignature(testChainID)},
		{"message on another chain", (&Message{Vote: precommit}).VerifySignature("jinan-2")},
		{"proposal message on another chain", (&Message{Proposal: prop}).VerifySignature("jinan-2")},
	} {
		if !errors.Is(tc.err, ErrBadSignature) {
			t.Errorf("%s: got %v, want ErrBadSignature", tc.name, tc.err)
		}
	}
	for name, err := range map[string]error{
		"prevote":          prevote.VerifySignature(testChainID),
		"precommit":        precommit.VerifySignature(testChainID),
		"proposal":         prop.VerifySignature(testChainID),
		"tx":               tx.VerifySignature(),
		"vote message":     (&Message{Vote: precommit}).VerifySignature(testChainID),
		"proposal message": (&Message{Proposal: prop}).VerifySignature(testChainID),
	} {
		if err != nil {
			t.Errorf("valid %s rejected: %v", name, err)
		}
	}
}

// commitOf builds a canonical certificate from the given keys' round-0
// precommits; tests then break it one way at a time.
func commitOf(t *testing.T, keys []*PrivateKey, height uint64, block Hash) *Commit {
	t.Helper()
	return testCommit(t, keys, height, 0, block)
}

func TestCommitVerify(t *testing.T) {
	for _, n := range []int{1, 4, 7, 21} {
		set, keys := testSet(t, n)
		q := set.Quorum()
		block := fixedHash(0x77)
		const h = 12
		if err := commitOf(t, keys[:q], h, block).Verify(testChainID, set, h, block); err != nil {
			t.Errorf("n=%d: commit with exactly q=%d signatures rejected: %v", n, q, err)
		}
		if err := commitOf(t, keys, h, block).Verify(testChainID, set, h, block); err != nil {
			t.Errorf("n=%d: commit with all signatures rejected: %v", n, err)
		}
		if q > 1 {
			err := commitOf(t, keys[:q-1], h, block).Verify(testChainID, set, h, block)
			if !errors.Is(err, ErrNoQuorum) {
				t.Errorf("n=%d: q-1 signatures: got %v, want ErrNoQuorum", n, err)
			}
		}
		signers := append(append([]*PrivateKey(nil), keys[:q-1]...), testKey(200))
		if err := commitOf(t, signers, h, block).Verify(testChainID, set, h, block); !errors.Is(err, ErrUnknownAuthority) {
			t.Errorf("n=%d: stranger counted towards quorum: got %v, want ErrUnknownAuthority", n, err)
		}
		forged := commitOf(t, keys[:q], h, block)
		forged.Signatures[q/2].Signature[5] ^= 0x40
		if err := forged.Verify(testChainID, set, h, block); !errors.Is(err, ErrBadSignature) {
			t.Errorf("n=%d: forged signature: got %v, want ErrBadSignature", n, err)
		}
		if err := commitOf(t, keys[:q], h, block).Verify(testChainID, set, h+1, block); !errors.Is(err, ErrInvalid) {
			t.Errorf("n=%d: wrong height: got %v, want ErrInvalid", n, err)
		}
		if err := commitOf(t, keys[:q], h, block).Verify(testChainID, set, h, fixedHash(0x78)); !errors.Is(err, ErrInvalid) {
			t.Errorf("n=%d: wrong block hash: got %v, want ErrInvalid", n, err)
		}
		if err := commitOf(t, keys[:q], h, block).Verify("jinan-2", set, h, block); !errors.Is(err, ErrBadSignature) {
			t.Errorf("n=%d: other chain: got %v, want ErrBadSignature", n, err)
		}
		moved := commitOf(t, keys[:q], h, block)
		moved.Round = 1
		if err := moved.Verify(testChainID, set, h, block); !errors.Is(err, ErrBadSignature) {
			t.Errorf("n=%d: signatures moved to another round: got %v, want ErrBadSignature", n, err)
		}
		prevotes := commitOf(t, keys[:q], h, block)
		for i := range prevotes.Signatures {
			v := signedVote(keys[i], Prevote, h, 0, block)
			prevotes.Signatures[i] = CommitSig{Validator: v.Validator, Signature: v.Signature}
		}
		sortSigs(prevotes)
		if err := prevotes.Verify(testChainID, set, h, block); !errors.Is(err, ErrBadSignature) {
			t.Errorf("n=%d: prevotes as a certificate: got %v, want ErrBadSignature", n, err)
		}
		if q > 1 {
			dup := commitOf(t, keys[:q], h, block)
			dup.Signatures[1] = dup.Signatures[0]
			if err := dup.Verify(testChainID, set, h, block); !errors.Is(err, ErrInvalid) {
				t.Errorf("n=%d: one validator counted twice: got %v, want ErrInvalid", n, err)
			}
		}
	}
}

// sortSigs puts a hand-built certificate into canonical order.
func sortSigs(c *Commit) {
	votes := make([]*Vote, len(c.Signatures))
	for i := range c.Signatures {
		v := c.Vote(i)
		votes[i] = &v
	}
	sorted, err := NewCommit(votes)
	if err != nil {
		panic(err)
	}
	c.Signatures = sorted.Signatures
}

func TestNewCommit(t *testing.T) {
	_, keys := testSet(t, 7)
	block := fixedHash(0x31)
	votes := make([]*Vote, 0, 10)
	for _, k := range keys {
		votes = append(votes, signedVote(k, Precommit, 3, 1, block))
	}
	votes = append(votes, votes[2], votes[5], votes[0])
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(votes), func(i, j int) { votes[i], votes[j] = votes[j], votes[i] })
	c, err := NewCommit(votes)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Signatures) != len(keys) {
		t.Fatalf("%d signatures from %d validators", len(c.Signatures), len(keys))
	}
	if err := c.ValidateBasic(); err != nil {
		t.Fatalf("NewCommit output not canonical: %v", err)
	}
	if c.Height != 3 || c.Round != 1 || c.BlockHash != block {
		t.Errorf("commit for %d/%d/%s", c.Height, c.Round, c.BlockHash.Short())
	}
	// Order of the input does not matter.
	rng.Shuffle(len(votes), func(i, j int) { votes[i], votes[j] = votes[j], votes[i] })
	c2, _ := NewCommit(votes)
	if c2.Hash() != c.Hash() {
		t.Errorf("certificate depends on vote order")
	}
	for i := range c.Signatures {
		v := c.Vote(i)
		if err := v.VerifySignature(testChainID); err != nil {
			t.Errorf("reconstructed vote %d: %v", i, err)
		}
	}

	bad := map[string]*Vote{
		"prevote":       signedVote(keys[0], Prevote, 3, 1, block),
		"other height":  signedVote(keys[0], Precommit, 4, 1, block),
		"other round":   signedVote(keys[0], Precommit, 3, 2, block),
		"other block":   signedVote(keys[0], Precommit, 3, 1, fixedHash(0x32)),
		"nil precommit": signedVote(keys[0], Precommit, 3, 1, Hash{}),
	}
	for name, v := range bad {
		if _, err := NewCommit([]*Vote{votes[0], v}); !errors.Is(err, ErrInvalid) {
			t.Errorf("mixing in a %s: got %v, want ErrInvalid", name, err)
		}
	}
	if _, err := NewCommit(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("no votes: got %v, want ErrInvalid", err)
	}
}

func TestEvidenceVerify(t *testing.T) {
	set, keys := testSet(t, 4)
	offender := keys[2]
	for name, fresh := range map[string]func() *Evidence{
		"duplicate vote":       func() *Evidence { return testDuplicateVote(offender) },
		"conflicting proposal": func() *Evidence { return testConflictingProposal(offender) },
	} {
		t.Run(name, func(t *testing.T) {
			if err := fresh().Verify(testChainID, set); err != nil {
				t.Fatalf("valid evidence rejected: %v", err)
			}
			if err := fresh().Verify("jinan-2", set); !errors.Is(err, ErrBadSignature) {
				t.Errorf("other chain: got %v, want ErrBadSignature", err)
			}
			for _, which := range []string{"first", "second"} {
				ev := fresh()
				sig := map[string]*Signature{}
				if ev.Kind == DuplicateVote {
					sig["first"], sig["second"] = &ev.VoteA.Signature, &ev.VoteB.Signature
				} else {
					sig["first"], sig["second"] = &ev.ProposalA.Signature, &ev.ProposalB.Signature
				}
				sig[which][0] ^= 1
				if err := ev.Verify(testChainID, set); !errors.Is(err, ErrBadSignature) {
					t.Errorf("forged %s signature: got %v, want ErrBadSignature", which, err)
				}
			}
			outsiders, _ := testSet(t, 2)
			if err := fresh().Verify(testChainID, outsiders); !errors.Is(err, ErrUnknownAuthority) {
				t.Errorf("offender outside the set: got %v, want ErrUnknownAuthority", err)
			}
			ev := fresh()
			ev.Kind = 0
			if err := ev.Verify(testChainID, set); !errors.Is(err, ErrInvalid) {
				t.Errorf("invalid evidence: got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestMessageAccessors(t *testing.T) {
	keys := testKeys(2)
	vote := &Message{Vote: signedVote(keys[0], Prevote, 8, 3, Hash{})}
	if vote.Kind() != MsgVote || vote.Height() != 8 || vote.Round() != 3 || vote.Signer() != keys[0].Public() {
		t.Errorf("vote message: kind %d height %d round %d", vote.Kind(), vote.Height(), vote.Round())
	}
	prop := &Message{Proposal: signedProposal(keys[1], 9, 4, -1, fixedHash(1)), Block: &Block{}}
	if prop.Kind() != MsgProposal || prop.Height() != 9 || prop.Round() != 4 || prop.Signer() != keys[1].Public() {
		t.Errorf("proposal message: kind %d height %d round %d", prop.Kind(), prop.Height(), prop.Round())
	}
	var empty Message
	if empty.Height() != 0 || empty.Round() != 0 || !empty.Signer().IsZero() {
		t.Errorf("empty message reports a height, round or signer")
	}
}

// TestTxSignBytesLayout: a tx's sign bytes are SignBytes(tx, chain, body)
// with the body encoded in the same buffer, which is exactly full.
func TestTxSignBytesLayout(t *testing.T) {
	for _, tx := range []Tx{fixedTx(), {ChainID: "", Type: "t", Nonce: 1}} {
		body := NewEncoder(0)
		tx.encodeBody(body)
		got := tx.SignBytes()
		if !bytes.Equal(got, SignBytes(DomainTx, tx.ChainID, body.Bytes())) {
			t.Fatalf("tx sign bytes %x are not SignBytes(tx, chain, body)", got)
		}
		if len(got) != cap(got) {
			t.Errorf("sign bytes of %d in a buffer of %d: the size estimate is off", len(got), cap(got))
		}
	}
}
