package consensus_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

func TestValidStateEncoding(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	b := c.block("B", &consensus.ProposeRequest{Height: 1, PrevHash: testGenesisHash, Authorities: c.set})
	v := &consensus.ValidState{Height: 1, Round: 2, Block: b}
	for _, n := range []string{"A", "B", "C"} {
		v.Prevotes = append(v.Prevotes, signedVote(n, chain.Prevote, 1, 2, b.Hash()).Vote)
	}
	got, err := consensus.UnmarshalValidState(v.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if got.Height != 1 || got.Round != 2 || got.Block.Hash() != b.Hash() || !reflect.DeepEqual(got.Prevotes, v.Prevotes) {
		t.Fatalf("round trip: %+v", got)
	}
	enc := v.Marshal()
	// The layout records already on disk have: the block as a byte string
	// of its own encoding, then the list of votes.
	old := chain.NewEncoder(0)
	old.Uint64(1)
	old.Uint32(2)
	old.ByteString(b.Encode())
	old.Uint32(3)
	for _, p := range v.Prevotes {
		old.Raw(p.Encode())
	}
	if !bytes.Equal(enc, old.Bytes()) {
		t.Error("Marshal's layout changed: stored valid-states would not decode")
	}
	if v.EncodedLen() != len(enc) {
		t.Errorf("EncodedLen %d, Marshal gives %d bytes", v.EncodedLen(), len(enc))
	}
	if _, err := consensus.UnmarshalValidState(enc[:len(enc)-1]); err == nil {
		t.Error("decoded a truncated valid-state")
	}
	v.Prevotes[1] = signedVote("B", chain.Prevote, 1, 3, b.Hash()).Vote // wrong round
	if _, err := consensus.UnmarshalValidState(v.Marshal()); !errors.Is(err, consensus.ErrInvalidConfig) {
		t.Errorf("a prevote from another round: %v", err)
	}
}

// A ValidRef is the valid-state without its block: it round-trips, takes
// back only the block it names, and checks the prevotes as
// UnmarshalValidState does.
func TestValidRefEncoding(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	b := c.block("B", &consensus.ProposeRequest{Height: 1, PrevHash: testGenesisHash, Authorities: c.set})
	other := c.block("C", &consensus.ProposeRequest{Height: 1, PrevHash: testGenesisHash, Authorities: c.set})
	v := &consensus.ValidState{Height: 1, Round: 2, Block: b}
	for _, n := range []string{"A", "B", "C"} {
		v.Prevotes = append(v.Prevotes, signedVote(n, chain.Prevote, 1, 2, b.Hash()).Vote)
	}
	encode := func(r consensus.ValidRef) []byte {
		e := chain.NewEncoder(r.EncodedLen())
		r.EncodeTo(e)
		if len(e.Bytes()) != r.EncodedLen() {
			t.Fatalf("EncodedLen %d, EncodeTo gives %d bytes", r.EncodedLen(), len(e.Bytes()))
		}
		return e.Bytes()
	}
	enc := encode(v.Ref())
	if want := len(v.Marshal()) - 4 - b.EncodedLen() + chain.HashSize; len(enc) != want {
		t.Fatalf("a ref of %d bytes, want the valid-state's %d without the block, with its hash", len(enc), want)
	}
	ref, err := consensus.DecodeValidRef(enc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ref.WithBlock(b)
	if err != nil || got.Height != 1 || got.Round != 2 || got.Block != b || !reflect.DeepEqual(got.Prevotes, v.Prevotes) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if other.Hash() == b.Hash() {
		t.Fatal("want two different blocks")
	}
	if _, err := ref.WithBlock(other); !errors.Is(err, consensus.ErrInvalidConfig) {
		t.Errorf("WithBlock of another block: %v, want ErrInvalidConfig", err)
	}
	if _, err := consensus.DecodeValidRef(enc[:len(enc)-1]); err == nil {
		t.Error("decoded a truncated ref")
	}
	v.Prevotes[1] = signedVote("B", chain.Prevote, 1, 3, b.Hash()).Vote // wrong round
	bad, err := consensus.DecodeValidRef(encode(v.Ref()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.WithBlock(b); !errors.Is(err, consensus.ErrInvalidConfig) {
		t.Errorf("a prevote from another round: %v, want ErrInvalidConfig", err)
	}
}

// TestRestartKeepsValidValue: a node that saw a proof of lock, crashed and
// restarted from its SignState and ValidState re-proposes that block when
// it is the proposer, with its proof.
func TestRestartKeepsValidValue(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	all := []string{"A", "B", "C", "D"}
	c.start(all...)
	x := c.propose("B")
	// A is cut off. B, C and D prevote X, lock on it and precommit it, but
	// their precommits are lost.
	c.drop = func(_, _ string, m *chain.Message) bool { return m.Vote != nil && m.Vote.Type == chain.Precommit }
	c.flush("B", "C", "D")
	v := c.nodes["C"].valid
	if v == nil || v.Round != 0 || v.Block.Hash() != x.Hash() || len(v.Prevotes) < c.set.Quorum() {
		t.Fatalf("C's valid-state: %+v", v)
	}
	valid, err := consensus.UnmarshalValidState(v.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := consensus.UnmarshalSignState(c.nodes["C"].signState.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if signed.LockedHash != x.Hash() || signed.LockedRound != 0 {
		t.Fatalf("C's sign-state does not carry its lock: %+v", signed)
	}
	// C restarts: it continues in round 1, where it is the proposer.
	eng, err := consensus.New(consensus.Config{ChainID: testChainID, Signer: testKey("C"), App: c.app, Params: testParams(),
		Height: 1, PrevHash: testGenesisHash, Authorities: c.set, NextAuthorities: c.set, LastSigned: signed, LastValid: valid})
	if err != nil {
		t.Fatal(err)
	}
	c.nodes["C"] = &tnode{name: "C", eng: eng}
	c.start("C")
	st := eng.Status()
	if st.Round != 1 || st.LockedRound != 0 || st.ValidRound != 0 {
		t.Fatalf("restarted C: %+v", st)
	}
	p := c.sentBy("C", 1, 1, consensus.StepPropose)
	if len(p) != 1 || p[0].Proposal.BlockHash != x.Hash() || p[0].Proposal.POLRound != 0 {
		t.Fatalf("restarted C proposed %v, want X with POLRound 0", p)
	}
	// A, which saw nothing of round 0, gets the proof from C's current
	// messages; once f+1 authorities are in round 1, it joins and prevotes X.
	for _, m := range eng.CurrentMessages() {
		if err := c.deliver("A", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.deliver("A", signedVote("D", chain.Prevote, 1, 1, x.Hash())); err != nil {
		t.Fatal(err)
	}
	if pv := c.sentBy("A", 1, 1, consensus.StepPrevote); len(pv) != 1 || pv[0].Vote.BlockHash != x.Hash() {
		t.Fatalf("A's prevote in round 1: %v, want X", pv)
	}
}
