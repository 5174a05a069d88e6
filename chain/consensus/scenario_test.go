package consensus_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

// With authorities A, B, C, D: proposer(h, r) = set[(h+r) mod 4], so at
// height 1 round 0 is B's, round 1 C's, round 2 D's, round 3 A's.

func TestHappyPath(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	c.start("A", "B", "C", "D")
	if c.nodes["B"].request == nil {
		t.Fatal("B, proposer of 1/0, got no ProposeRequest")
	}
	for _, n := range []string{"A", "C", "D"} {
		if c.nodes[n].request != nil {
			t.Fatalf("%s is not the proposer but got a ProposeRequest", n)
		}
	}
	c.flush("A", "B", "C", "D")
	var first chain.Hash
	for _, n := range c.names {
		d := c.lastDecision(n)
		if d.Block.Header.Height != 1 || d.Commit.Round != 0 {
			t.Fatalf("%s decided %d in round %d, want 1 in round 0", n, d.Block.Header.Height, d.Commit.Round)
		}
		if err := d.Commit.Verify(testChainID, c.set, 1, d.Block.Hash()); err != nil {
			t.Fatalf("%s: certificate: %v", n, err)
		}
		if first.IsZero() {
			first = d.Block.Hash()
		} else if d.Block.Hash() != first {
			t.Fatalf("%s decided a different block", n)
		}
		if st := c.nodes[n].eng.Status(); st.Height != 2 || st.Step != consensus.StepCommit {
			t.Fatalf("%s status after deciding: %+v", n, st)
		}
	}
	// After TimeoutCommitMS, round 0 of height 2: C proposes on top.
	c.fireAll(consensus.StepCommit, c.names...)
	req := c.nodes["C"].request
	if req == nil || req.Height != 2 || req.PrevHash != first || req.LastCommit == nil {
		t.Fatalf("height 2 propose request for C: %+v", req)
	}
	c.flush("A", "B", "C", "D")
	if d := c.lastDecision("A"); d.Block.Header.Height != 2 || d.Block.LastCommit.BlockHash != first {
		t.Fatalf("height 2 decision: %+v", d.Block.Header)
	}
}

func TestProposerOfflineRoundChange(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	live := []string{"A", "C", "D"} // B, proposer of round 0, is down
	c.start(live...)
	c.fireAll(consensus.StepPropose, live...) // no proposal: prevote nil
	c.flush(live...)                          // 3 prevotes nil = q: precommit nil
	for _, n := range live {
		if pc := c.sentBy(n, 1, 0, consensus.StepPrecommit); len(pc) != 1 || !pc[0].Vote.BlockHash.IsZero() {
			t.Fatalf("%s precommits at 1/0: %v, want one nil", n, pc)
		}
	}
	c.fireAll(consensus.StepPrecommit, live...) // q precommits seen: next round
	if st := c.nodes["A"].eng.Status(); st.Round != 1 || st.Proposer.PubKey != testKey("C").Public() {
		t.Fatalf("after round 0: %+v", st)
	}
	// Round 1 waits longer: base + 1·delta.
	if tm := c.nodes["A"].timers[len(c.nodes["A"].timers)-1]; tm.Round != 1 || tm.DurationMS != testParams().TimeoutProposeMS+testParams().TimeoutDeltaMS {
		t.Fatalf("round 1 propose timer: %+v", tm)
	}
	c.flush(live...)
	for _, n := range live {
		if d := c.lastDecision(n); d.Commit.Round != 1 || d.Block.Header.Proposer != testKey("C").Public() {
			t.Fatalf("%s decided in round %d a block by %s, want round 1 by C", n, d.Commit.Round, d.Block.Header.Proposer.Short())
		}
	}
}

func TestLockedValueReproposedWithPOLRound(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	all := []string{"A", "B", "C", "D"}
	c.start(all...)
	x := c.propose("B")
	// Round 0: D never gets B's proposal; only C gets C's own prevote and
	// everyone else's, so only C sees a quorum for X and locks on it.
	c.drop = func(from, to string, m *chain.Message) bool {
		if m.Proposal != nil {
			return to == "D"
		}
		return m.Vote.Type == chain.Prevote && from == "C"
	}
	c.flush(all...)
	c.fire("D", consensus.StepPropose) // D prevotes nil
	c.flush(all...)
	if st := c.nodes["C"].eng.Status(); st.LockedRound != 0 || st.ValidRound != 0 {
		t.Fatalf("C should be locked on X in round 0: %+v", st)
	}
	for _, n := range []string{"A", "B", "D"} {
		if st := c.nodes[n].eng.Status(); st.LockedRound != -1 {
			t.Fatalf("%s should not be locked: %+v", n, st)
		}
		c.fire(n, consensus.StepPrevote) // A, B, D precommit nil
	}
	c.flush(all...)
	c.fireAll(consensus.StepPrecommit, all...)
	// Round 1 is C's: it re-proposes X, unchanged, with POLRound 0.
	props := c.sentBy("C", 1, 1, consensus.StepPropose)
	if len(props) != 1 {
		t.Fatalf("C sent %d proposals in round 1", len(props))
	}
	p := props[0]
	if p.Proposal.BlockHash != x.Hash() || p.Proposal.POLRound != 0 || p.Block.Header.Proposer != testKey("B").Public() {
		t.Fatalf("round 1 proposal: %+v (block by %s)", p.Proposal, p.Block.Header.Proposer.Short())
	}
	if c.nodes["C"].request != nil {
		t.Fatal("C holds a valid value and must not ask for a new block")
	}
	// The others see the proof of lock once C's round-0 prevote arrives.
	c.drop = nil
	c.flush(all...)
	for _, n := range all {
		if d := c.lastDecision(n); d.Block.Hash() != x.Hash() || d.Commit.Round != 1 {
			t.Fatalf("%s decided %s in round %d, want X in round 1", n, d.Block.Hash().Short(), d.Commit.Round)
		}
	}
}

func TestRoundSkipOnFPlusOne(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D") // f = 1: f+1 = 2
	c.start("A")
	if err := c.deliver("A", signedVote("B", chain.Prevote, 1, 5, chain.Hash{})); err != nil {
		t.Fatal(err)
	}
	if r := c.nodes["A"].eng.Status().Round; r != 0 {
		t.Fatalf("one authority in round 5 moved A to round %d", r)
	}
	// Same sender again: still one authority.
	if err := c.deliver("A", signedVote("B", chain.Precommit, 1, 5, chain.Hash{})); err != nil {
		t.Fatal(err)
	}
	if r := c.nodes["A"].eng.Status().Round; r != 0 {
		t.Fatalf("one authority's two messages moved A to round %d", r)
	}
	if err := c.deliver("A", signedVote("C", chain.Prevote, 1, 5, chain.Hash{})); err != nil {
		t.Fatal(err)
	}
	st := c.nodes["A"].eng.Status()
	if st.Round != 5 || st.Step != consensus.StepPropose {
		t.Fatalf("f+1 authorities in round 5: A at %d/%s", st.Round, st.Step)
	}
	// Round 5 = (1+5) mod 4 = 2: C proposes; A waits base + 5·delta.
	tm := c.nodes["A"].timers[len(c.nodes["A"].timers)-1]
	if tm.Round != 5 || tm.DurationMS != testParams().TimeoutProposeMS+5*testParams().TimeoutDeltaMS {
		t.Fatalf("round 5 timer: %+v", tm)
	}
	// Far beyond the stored window, f+1 still counts.
	c.deliver("A", signedVote("B", chain.Prevote, 1, 500, chain.Hash{}))
	c.deliver("A", signedVote("D", chain.Prevote, 1, 700, chain.Hash{}))
	if r := c.nodes["A"].eng.Status().Round; r != 500 {
		t.Fatalf("f+1 authorities at rounds ≥ 500: A at round %d", r)
	}
}

func TestRestartedValidatorRefusesConflictingVote(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	all := []string{"A", "B", "C", "D"}
	c.start(all...)
	x := c.propose("B")
	c.flush("B", "A") // A prevotes X
	pv := c.sentBy("A", 1, 0, consensus.StepPrevote)
	if len(pv) != 1 || pv[0].Vote.BlockHash != x.Hash() {
		t.Fatalf("A's prevotes: %v", pv)
	}
	last := c.nodes["A"].signState
	if last == nil || last.Height != 1 || last.Round != 0 || last.Step != consensus.StepPrevote || last.BlockHash != x.Hash() {
		t.Fatalf("A's sign-state: %+v", last)
	}
	// A crashes and restarts from the persisted sign-state (through its
	// encoding, as the node stores it).
	loaded, err := consensus.UnmarshalSignState(last.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	c.nodes["A"] = c.newNode("A", loaded)
	c.start("A")
	// It may re-emit exactly what it signed — and nothing else at 1/0.
	re := c.sentBy("A", 1, 0, consensus.StepPrevote)
	if len(re) != 1 || !bytes.Equal(re[0].Encode(), pv[0].Encode()) {
		t.Fatalf("restarted A re-emitted %v, want the identical prevote", re)
	}
	if st := c.nodes["A"].eng.Status(); st.Round != 1 {
		t.Fatalf("restarted A should continue in round 1, is in %d", st.Round)
	}

	// A store that lags the sign-state: A signed at height 2 but restarts at
	// height 1. It must not sign anything at height 1, and at height 2 it
	// must refuse a prevote for another block than the one it signed.
	y := chain.HashBytes([]byte("the block A prevoted at 2/0 before the crash"))
	c2 := newCluster(t, "A", "B", "C", "D")
	c2.nodes["A"] = c2.newNode("A", &consensus.SignState{Height: 2, Round: 0, Step: consensus.StepPrevote, BlockHash: y})
	c2.start(all...)
	c2.flush(all...)
	for r := uint32(0); r < 2; r++ {
		for _, s := range []consensus.Step{consensus.StepPropose, consensus.StepPrevote, consensus.StepPrecommit} {
			if m := c2.sentBy("A", 1, r, s); len(m) != 0 {
				t.Fatalf("A signed %v at height 1 below its sign-state", m)
			}
		}
	}
	if d := c2.lastDecision("A"); d.Block.Header.Height != 1 {
		t.Fatalf("A should still follow height 1: %+v", d)
	}
	c2.fireAll(consensus.StepCommit, all...)
	c2.flush(all...)
	// Entering height 2, A repeats only its earlier prevote (for y, which
	// nobody proposed) and continues in round 1; the others decide 2/0
	// without it.
	if m := c2.sentBy("A", 2, 0, consensus.StepPrevote); len(m) != 1 || m[0].Vote.BlockHash != y {
		t.Fatalf("A's prevotes at 2/0: %v, want only the repeated one for %s", m, y.Short())
	}
	if m := c2.sentBy("A", 2, 0, consensus.StepPrecommit); len(m) != 0 {
		t.Fatalf("A precommitted at 2/0: %v", m)
	}
	if d := c2.lastDecision("B"); d.Block.Header.Height != 2 {
		t.Fatalf("B, C, D should decide height 2: %+v", d.Block.Header)
	}
}

func TestAuthoritySetChangeAtHPlus2(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	all := []string{"A", "B", "C", "D"}
	five := append(c.set.List(), testAuthority("E"))
	c.app.nextAt[1] = five // block 1 schedules E
	c.start(all...)
	c.flush(all...)
	if d := c.lastDecision("A"); len(d.Next) != 5 {
		t.Fatalf("decision 1 Next: %v", d.Next)
	}
	c.fireAll(consensus.StepCommit, all...)
	// Height 2 is still certified by the four.
	st := c.nodes["A"].eng.Status()
	if st.Height != 2 || st.Authorities.Size() != 4 {
		t.Fatalf("height 2: %d authorities", st.Authorities.Size())
	}
	if err := c.deliver("A", signedVote("E", chain.Prevote, 2, 0, chain.Hash{})); !errors.Is(err, consensus.ErrUnknownAuthority) {
		t.Fatalf("E's vote at height 2: %v, want ErrUnknownAuthority", err)
	}
	c.flush(all...)
	if d := c.lastDecision("A"); d.Block.Header.Height != 2 || d.Block.Header.AuthoritySetHash != c.set.Hash() {
		t.Fatalf("height 2 decision: %+v", d.Block.Header)
	}
	c.fireAll(consensus.StepCommit, all...)
	// Height 3: the five; q = ⌊10/3⌋+1 = 4.
	st = c.nodes["A"].eng.Status()
	fiveSet, _ := chain.NewAuthoritySet(five)
	if st.Height != 3 || st.Authorities.Hash() != fiveSet.Hash() {
		t.Fatalf("height 3 set: %d authorities", st.Authorities.Size())
	}
	if err := c.deliver("A", signedVote("E", chain.Prevote, 3, 0, chain.Hash{})); err != nil {
		t.Fatalf("E's vote at height 3: %v", err)
	}
	c.flush(all...) // four of five suffice
	d := c.lastDecision("A")
	if d.Block.Header.Height != 3 || d.Block.Header.AuthoritySetHash != fiveSet.Hash() {
		t.Fatalf("height 3 decision: %+v", d.Block.Header)
	}
	if err := d.Commit.Verify(testChainID, fiveSet, 3, d.Block.Hash()); err != nil {
		t.Fatalf("height 3 certificate under the new set: %v", err)
	}
}

func TestConflictsProduceEvidenceOnce(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	c.start("A")
	req := &consensus.ProposeRequest{Height: 1, PrevHash: testGenesisHash, Authorities: c.set}
	x, y := c.block("B", req), c.block("B", req)
	for _, m := range []*chain.Message{
		signedProposal("B", x, 0, -1), signedProposal("B", y, 0, -1), signedProposal("B", y, 0, -1),
		signedVote("C", chain.Prevote, 1, 0, x.Hash()), signedVote("C", chain.Prevote, 1, 0, y.Hash()),
		signedVote("C", chain.Prevote, 1, 0, chain.Hash{}),
		signedVote("C", chain.Precommit, 1, 0, x.Hash()), signedVote("C", chain.Precommit, 1, 0, chain.Hash{}),
		signedVote("D", chain.Prevote, 1, 0, x.Hash()), signedVote("D", chain.Prevote, 1, 0, x.Hash()),
	} {
		if err := c.deliver("A", m); err != nil {
			t.Fatal(err)
		}
	}
	evs := c.nodes["A"].evidence
	want := []struct {
		kind     chain.EvidenceKind
		offender string
	}{{chain.ConflictingProposal, "B"}, {chain.DuplicateVote, "C"}, {chain.DuplicateVote, "C"}}
	if len(evs) != len(want) {
		t.Fatalf("got %d pieces of evidence, want %d (once per offender, height, round and kind)", len(evs), len(want))
	}
	for i, w := range want {
		if evs[i].Kind != w.kind || evs[i].Offender() != testKey(w.offender).Public() {
			t.Fatalf("evidence %d: %s against %s, want %s against %s", i, evs[i].Kind, evs[i].Offender().Short(), w.kind, w.offender)
		}
		if err := evs[i].Verify(testChainID, c.set); err != nil {
			t.Fatalf("evidence %d does not verify: %v", i, err)
		}
	}
	if evs[1].VoteA.Type != chain.Prevote || evs[2].VoteA.Type != chain.Precommit {
		t.Fatal("want one prevote and one precommit duplicate")
	}
}
