package chain

import (
	"errors"
	"strings"
	"testing"
)

// rule is one ValidateBasic case: mutate a valid value so that exactly one
// rule is broken, then expect the sentinel and a message naming the field.
type rule[T any] struct {
	name   string
	mutate func(*T)
	is     error
	want   string
}

func checkRules[T any](t *testing.T, fresh func() *T, validate func(*T) error, rules []rule[T]) {
	t.Helper()
	if err := validate(fresh()); err != nil {
		t.Fatalf("the unmodified value is invalid: %v", err)
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			v := fresh()
			r.mutate(v)
			err := validate(v)
			if err == nil {
				t.Fatalf("accepted")
			}
			if r.is != nil && !errors.Is(err, r.is) {
				t.Errorf("error %q does not wrap %q", err, r.is)
			}
			if !strings.Contains(err.Error(), r.want) {
				t.Errorf("error %q does not mention %q", err, r.want)
			}
		})
	}
}

func TestTxValidateBasic(t *testing.T) {
	fresh := func() *Tx { tx := fixedTx(); return &tx }
	checkRules(t, fresh, (*Tx).ValidateBasic, []rule[Tx]{
		{"empty chain id", func(tx *Tx) { tx.ChainID = "" }, ErrInvalid, "chain id"},
		{"uppercase chain id", func(tx *Tx) { tx.ChainID = "Jinan" }, ErrInvalid, "chain id"},
		{"chain id starting with a dash", func(tx *Tx) { tx.ChainID = "-jinan" }, ErrInvalid, "chain id"},
		{"chain id too long", func(tx *Tx) { tx.ChainID = strings.Repeat("a", MaxChainIDLen+1) }, ErrInvalid, "chain id"},
		{"missing account", func(tx *Tx) { tx.Account = PublicKey{} }, ErrInvalid, "account"},
		{"nonce 0", func(tx *Tx) { tx.Nonce = 0 }, ErrInvalid, "nonce"},
		{"empty type", func(tx *Tx) { tx.Type = "" }, ErrInvalid, "type"},
		{"type with a space", func(tx *Tx) { tx.Type = "record put" }, ErrInvalid, "type"},
		{"type too long", func(tx *Tx) { tx.Type = strings.Repeat("t", MaxTxTypeLen+1) }, ErrInvalid, "type"},
		{"payload too large", func(tx *Tx) { tx.Payload = make([]byte, MaxTxPayload+1) }, ErrTooLarge, "payload"},
		{"missing signature", func(tx *Tx) { tx.Signature = Signature{} }, ErrInvalid, "signature"},
	})
	// Boundaries that must pass.
	tx := fixedTx()
	tx.ChainID, tx.Type, tx.Payload = strings.Repeat("a", MaxChainIDLen), "a._-9", make([]byte, MaxTxPayload)
	if err := tx.ValidateBasic(); err != nil {
		t.Errorf("limits themselves rejected: %v", err)
	}
}

func TestVoteValidateBasic(t *testing.T) {
	fresh := func() *Vote { return signedVote(testKey(1), Prevote, 2, MaxRound, fixedHash(2)) }
	checkRules(t, fresh, (*Vote).ValidateBasic, []rule[Vote]{
		{"type 0", func(v *Vote) { v.Type = 0 }, ErrInvalid, "type"},
		{"type 3", func(v *Vote) { v.Type = 3 }, ErrInvalid, "type"},
		{"height 0", func(v *Vote) { v.Height = 0 }, ErrInvalid, "height"},
		{"round above limit", func(v *Vote) { v.Round = MaxRound + 1 }, ErrInvalid, "round"},
		{"missing validator", func(v *Vote) { v.Validator = PublicKey{} }, ErrInvalid, "validator"},
		{"missing signature", func(v *Vote) { v.Signature = Signature{} }, ErrInvalid, "signature"},
	})
	if err := signedVote(testKey(1), Precommit, 2, 0, Hash{}).ValidateBasic(); err != nil {
		t.Errorf("nil precommit rejected: %v", err)
	}
}

func TestProposalValidateBasic(t *testing.T) {
	fresh := func() *Proposal { return signedProposal(testKey(1), 2, 3, 2, fixedHash(2)) }
	checkRules(t, fresh, (*Proposal).ValidateBasic, []rule[Proposal]{
		{"height 0", func(p *Proposal) { p.Height = 0 }, ErrInvalid, "height"},
		{"round above limit", func(p *Proposal) { p.Round = MaxRound + 1 }, ErrInvalid, "round"},
		{"pol round below -1", func(p *Proposal) { p.POLRound = -2 }, ErrInvalid, "pol round"},
		{"pol round equal to round", func(p *Proposal) { p.POLRound = 3 }, ErrInvalid, "pol round"},
		{"pol round at round 0", func(p *Proposal) { p.Round, p.POLRound = 0, 0 }, ErrInvalid, "pol round"},
		{"missing block hash", func(p *Proposal) { p.BlockHash = Hash{} }, ErrInvalid, "block hash"},
		{"missing proposer", func(p *Proposal) { p.Proposer = PublicKey{} }, ErrInvalid, "proposer"},
		{"missing signature", func(p *Proposal) { p.Signature = Signature{} }, ErrInvalid, "signature"},
	})
	if err := signedProposal(testKey(1), 1, 0, -1, fixedHash(1)).ValidateBasic(); err != nil {
		t.Errorf("round 0 proposal without POL rejected: %v", err)
	}
}

func TestHeaderValidateBasic(t *testing.T) {
	fresh := func() *Header { h := testBlock(t, 1, 4).Header; return &h }
	checkRules(t, fresh, (*Header).ValidateBasic, []rule[Header]{
		{"bad chain id", func(h *Header) { h.ChainID = "Jinan 1" }, ErrInvalid, "chain id"},
		{"height 0", func(h *Header) { h.Height = 0 }, ErrInvalid, "height 0"},
		{"time 0", func(h *Header) { h.Time = 0 }, ErrInvalid, "time"},
		{"negative time", func(h *Header) { h.Time = -1 }, ErrInvalid, "time"},
		{"missing prev hash", func(h *Header) { h.PrevHash = Hash{} }, ErrInvalid, "previous hash"},
		{"missing proposer", func(h *Header) { h.Proposer = PublicKey{} }, ErrInvalid, "proposer"},
		{"missing authority set hash", func(h *Header) { h.AuthoritySetHash = Hash{} }, ErrInvalid, "authority set hash"},
		{"missing last commit hash", func(h *Header) { h.LastCommitHash = Hash{} }, ErrInvalid, "last commit hash"},
		{"last commit hash at height 1", func(h *Header) { h.Height = 1 }, ErrInvalid, "last commit hash must be zero"},
	})
}

func TestBlockValidateBasic(t *testing.T) {
	fresh := func() *Block { return testBlock(t, 3, 20) }
	other := testKey(77)
	checkRules(t, fresh, (*Block).ValidateBasic, []rule[Block]{
		{"invalid header", func(b *Block) { b.Header.Time = 0 }, ErrInvalid, "time"},
		{"tx count mismatch", func(b *Block) { b.Header.TxCount = 2 }, ErrInvalid, "header says 2 txs, body has 3"},
		{"tx dropped", func(b *Block) { b.Txs = b.Txs[:2] }, ErrInvalid, "body has 2"},
		{"tx root mismatch", func(b *Block) { b.Header.TxRoot = fixedHash(1) }, ErrInvalid, "tx root"},
		{"txs reordered", func(b *Block) { b.Txs[0], b.Txs[1] = b.Txs[1], b.Txs[0] }, ErrInvalid, "tx root"},
		{"invalid tx", func(b *Block) { b.Txs[1].Nonce = 0; b.Fill() }, ErrInvalid, "tx 1"},
		{"tx for another chain", func(b *Block) {
			tx := Tx{ChainID: "other-1", Nonce: 1, Type: "t"}
			tx.Sign(other)
			b.Txs[2] = tx
			b.Fill()
		}, ErrWrongChain, "tx 2"},
		{"last commit does not match header", func(b *Block) { b.LastCommit.Round++ }, ErrInvalid, "last commit does not match"},
		{"last commit missing", func(b *Block) { b.LastCommit = nil }, ErrInvalid, "last commit does not match"},
		{"last commit for wrong height", func(b *Block) { b.LastCommit.Height = 3; b.Fill() }, ErrInvalid, "last commit is for height 3"},
		{"last commit for wrong block", func(b *Block) { b.LastCommit.BlockHash = fixedHash(0x45); b.Fill() }, ErrInvalid, "last commit is for block"},
		{"last commit not canonical", func(b *Block) {
			s := b.LastCommit.Signatures
			s[0], s[1] = s[1], s[0]
			b.Fill()
		}, ErrInvalid, "last commit"},
		{"last commit at height 1", func(b *Block) { b.Header.Height = 1 }, ErrInvalid, "last commit hash must be zero"},
		{"evidence hash mismatch", func(b *Block) { b.Header.EvidenceHash = Hash{} }, ErrInvalid, "evidence does not match"},
		{"evidence dropped", func(b *Block) { b.Evidence = nil }, ErrInvalid, "evidence does not match"},
		{"invalid evidence", func(b *Block) {
			b.Evidence[0].VoteA, b.Evidence[0].VoteB = b.Evidence[0].VoteB, b.Evidence[0].VoteA
			b.Fill()
		}, ErrInvalid, "evidence 0"},
	})
	genesisChild := testBlock(t, 1, 4)
	genesisChild.Header.Height, genesisChild.LastCommit = 1, nil
	genesisChild.Fill()
	if err := genesisChild.ValidateBasic(); err != nil {
		t.Errorf("height-1 block without a last commit rejected: %v", err)
	}
}

func TestCommitValidateBasic(t *testing.T) {
	fresh := func() *Commit { return testCommit(t, testKeys(4), 9, 1, fixedHash(9)) }
	checkRules(t, fresh, (*Commit).ValidateBasic, []rule[Commit]{
		{"height 0", func(c *Commit) { c.Height = 0 }, ErrInvalid, "height 0"},
		{"round above limit", func(c *Commit) { c.Round = MaxRound + 1 }, ErrInvalid, "round"},
		{"missing block hash", func(c *Commit) { c.BlockHash = Hash{} }, ErrInvalid, "block hash"},
		{"no signatures", func(c *Commit) { c.Signatures = nil }, ErrInvalid, "no signatures"},
		{"unsorted signatures", func(c *Commit) { c.Signatures[1], c.Signatures[2] = c.Signatures[2], c.Signatures[1] }, ErrInvalid, "increasing validator order"},
		{"duplicate signature", func(c *Commit) { c.Signatures[1] = c.Signatures[0] }, ErrInvalid, "increasing validator order"},
	})
}

func TestEvidenceValidateBasic(t *testing.T) {
	k, other := testKey(5), testKey(6)
	fresh := func() *Evidence { return testDuplicateVote(k) }
	checkRules(t, fresh, (*Evidence).ValidateBasic, []rule[Evidence]{
		{"same block: no conflict", func(ev *Evidence) { ev.VoteB = ev.VoteA }, ErrInvalid, "do not conflict"},
		{"wrong order", func(ev *Evidence) { ev.VoteA, ev.VoteB = ev.VoteB, ev.VoteA }, ErrInvalid, "canonical order"},
		{"different signers", func(ev *Evidence) { ev.VoteB = signedVote(other, Precommit, 4, 1, fixedHash(0xb2)) }, ErrInvalid, "one validator"},
		{"different heights", func(ev *Evidence) { ev.VoteB = signedVote(k, Precommit, 5, 1, fixedHash(0xb2)) }, ErrInvalid, "one validator"},
		{"different rounds", func(ev *Evidence) { ev.VoteB = signedVote(k, Precommit, 4, 2, fixedHash(0xb2)) }, ErrInvalid, "one validator"},
		{"prevote against precommit", func(ev *Evidence) { ev.VoteB = signedVote(k, Prevote, 4, 1, fixedHash(0xb2)) }, ErrInvalid, "type"},
		{"missing vote", func(ev *Evidence) { ev.VoteB = nil }, ErrInvalid, "missing vote"},
		{"invalid vote", func(ev *Evidence) { ev.VoteA.Height, ev.VoteB.Height = 0, 0 }, ErrInvalid, "height 0"},
		{"unknown kind", func(ev *Evidence) { ev.Kind = 9 }, ErrInvalid, "unknown kind"},
		{"proposal kind with votes", func(ev *Evidence) { ev.Kind = ConflictingProposal }, ErrInvalid, "missing proposal"},
	})
	freshP := func() *Evidence { return testConflictingProposal(k) }
	checkRules(t, freshP, (*Evidence).ValidateBasic, []rule[Evidence]{
		{"same block: no conflict", func(ev *Evidence) { ev.ProposalB = ev.ProposalA }, ErrInvalid, "do not conflict"},
		{"wrong order", func(ev *Evidence) { ev.ProposalA, ev.ProposalB = ev.ProposalB, ev.ProposalA }, ErrInvalid, "canonical order"},
		{"different proposers", func(ev *Evidence) { ev.ProposalB = signedProposal(other, 4, 2, -1, fixedHash(0xd4)) }, ErrInvalid, "one proposer"},
		{"different rounds", func(ev *Evidence) { ev.ProposalB = signedProposal(k, 4, 3, -1, fixedHash(0xd4)) }, ErrInvalid, "one proposer"},
		{"missing proposal", func(ev *Evidence) { ev.ProposalA = nil }, ErrInvalid, "missing proposal"},
		{"invalid proposal", func(ev *Evidence) { ev.ProposalB.Signature = Signature{} }, ErrInvalid, "signature"},
	})
	// The constructors put either argument order into canonical order.
	a := signedVote(k, Prevote, 3, 0, fixedHash(1))
	b := signedVote(k, Prevote, 3, 0, fixedHash(2))
	if NewDuplicateVoteEvidence(a, b).Hash() != NewDuplicateVoteEvidence(b, a).Hash() {
		t.Errorf("duplicate-vote evidence depends on argument order")
	}
	nilVote := signedVote(k, Prevote, 3, 0, Hash{})
	if err := NewDuplicateVoteEvidence(a, nilVote).ValidateBasic(); err != nil {
		t.Errorf("a nil vote and a block vote in one round are equivocation, got %v", err)
	}
	ev := testDuplicateVote(k)
	if ev.Offender() != k.Public() || ev.Height() != 4 {
		t.Errorf("Offender/Height = %s/%d", ev.Offender().Short(), ev.Height())
	}
	evP := testConflictingProposal(k)
	if evP.Offender() != k.Public() || evP.Height() != 4 {
		t.Errorf("proposal evidence Offender/Height = %s/%d", evP.Offender().Short(), evP.Height())
	}
}

func TestMessageValidateBasic(t *testing.T) {
	keys := testKeys(4)
	freshProposal := func() *Message {
		b := testBlock(t, 2, 8)
		return &Message{Proposal: signedProposal(keys[1], 5, 0, -1, b.Hash()), Block: b}
	}
	checkRules(t, freshProposal, (*Message).ValidateBasic, []rule[Message]{
		{"empty", func(m *Message) { m.Proposal, m.Block = nil, nil }, ErrInvalid, "empty"},
		{"block without proposal", func(m *Message) { m.Proposal = nil }, ErrInvalid, "empty"},
		{"vote and proposal", func(m *Message) { m.Vote = signedVote(keys[0], Prevote, 5, 0, Hash{}) }, ErrInvalid, "both"},
		{"invalid proposal", func(m *Message) { m.Proposal.Height = 0 }, ErrInvalid, "proposal"},
		{"invalid block", func(m *Message) { m.Block.Header.TxCount = 9 }, ErrInvalid, "header says 9 txs"},
		{"block hash mismatch", func(m *Message) { m.Proposal.BlockHash = fixedHash(0x12) }, ErrInvalid, "block hash does not match"},
		{"height mismatch", func(m *Message) { m.Proposal.Height = 6 }, ErrInvalid, "block is for height 5"},
	})
	freshVote := func() *Message { return &Message{Vote: signedVote(keys[0], Precommit, 5, 0, fixedHash(5))} }
	checkRules(t, freshVote, (*Message).ValidateBasic, []rule[Message]{
		{"invalid vote", func(m *Message) { m.Vote.Type = 7 }, ErrInvalid, "type"},
	})
	// A re-proposed block keeps its original proposer in the header.
	m := freshProposal()
	m.Proposal = signedProposal(keys[2], 5, 1, 0, m.Block.Hash())
	if err := m.ValidateBasic(); err != nil {
		t.Errorf("re-proposal by another authority rejected: %v", err)
	}
}
