package consensus_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

func TestNewRejectsBadConfig(t *testing.T) {
	set := testSet(t, "A", "B", "C", "D")
	good := func() consensus.Config {
		return consensus.Config{ChainID: testChainID, Signer: testKey("A"), App: &testApp{}, Params: testParams(),
			Height: 1, PrevHash: testGenesisHash, Authorities: set, NextAuthorities: set}
	}
	cases := map[string]func(*consensus.Config){
		"no chain id":          func(c *consensus.Config) { c.ChainID = "" },
		"no app":               func(c *consensus.Config) { c.App = nil },
		"height 0":             func(c *consensus.Config) { c.Height = 0 },
		"no prev hash":         func(c *consensus.Config) { c.PrevHash = chain.Hash{} },
		"no set":               func(c *consensus.Config) { c.Authorities = nil },
		"no next set":          func(c *consensus.Config) { c.NextAuthorities = nil },
		"bad params":           func(c *consensus.Config) { c.Params.TimeoutProposeMS = 0 },
		"commit at height 1":   func(c *consensus.Config) { c.LastCommit = &chain.Commit{Height: 1} },
		"no commit at 2":       func(c *consensus.Config) { c.Height = 2 },
		"commit for elsewhere": func(c *consensus.Config) { c.Height, c.LastCommit = 2, &chain.Commit{Height: 1} },
		"bad valid state":      func(c *consensus.Config) { c.LastValid = &consensus.ValidState{Height: 1} },
	}
	for name, mutate := range cases {
		cfg := good()
		mutate(&cfg)
		if _, err := consensus.New(cfg); !errors.Is(err, consensus.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := consensus.New(good()); err != nil {
		t.Fatalf("good config: %v", err)
	}
}

// TestBadInputChangesNothing feeds an engine bad messages and calls: each
// returns the documented error and leaves status and outputs untouched.
func TestBadInputChangesNothing(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	c.start("A")
	eng := c.nodes["A"].eng
	req := &consensus.ProposeRequest{Height: 1, PrevHash: testGenesisHash, Authorities: c.set}
	good := c.block("B", req)
	noSig := signedVote("C", chain.Prevote, 1, 0, chain.Hash{})
	noSig.Vote.Signature = chain.Signature{}
	wrongProposer := signedProposal("C", good, 0, -1)
	badPOL := signedProposal("B", good, 0, 0)
	tampered := signedProposal("B", good, 0, -1)
	tb := *good
	tb.Header.Time++
	tampered.Block = &tb
	cases := []struct {
		name string
		m    *chain.Message
		want error
	}{
		{"nil", nil, consensus.ErrInvalidMessage},
		{"empty", &chain.Message{}, consensus.ErrInvalidMessage},
		{"unsigned vote", noSig, consensus.ErrInvalidMessage},
		{"pol round not below round", badPOL, consensus.ErrInvalidMessage},
		{"block does not match proposal", tampered, consensus.ErrInvalidMessage},
		{"compact proposal (not rebuilt)", signedProposal("B", good, 0, -1).Compacted(nil), consensus.ErrInvalidMessage},
		{"stranger's vote", signedVote("Z", chain.Prevote, 1, 0, chain.Hash{}), consensus.ErrUnknownAuthority},
		{"stranger's vote for next height", signedVote("Z", chain.Prevote, 2, 0, chain.Hash{}), consensus.ErrUnknownAuthority},
		{"proposal by non-proposer", wrongProposer, consensus.ErrNotProposer},
		{"far future height", signedVote("C", chain.Prevote, 3, 0, chain.Hash{}), consensus.ErrFutureHeight},
	}
	before := eng.Status()
	c.nodes["A"].eng.Ready()
	for _, tc := range cases {
		if err := eng.Step(tc.m); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if eng.HasReady() || !reflect.DeepEqual(eng.Status(), before) || len(eng.CurrentMessages()) != 0 {
			t.Fatalf("%s changed the engine: %+v", tc.name, eng.Status())
		}
	}
	if err := eng.Propose(good); !errors.Is(err, consensus.ErrNotProposing) {
		t.Errorf("Propose by a non-proposer: %v", err)
	}
	if err := eng.SyncTo(good, &chain.Commit{Height: 5}, nil); !errors.Is(err, consensus.ErrInvalidBlock) {
		t.Errorf("SyncTo with a mismatched commit: %v", err)
	}
	if err := eng.SyncTo(nil, nil, nil); !errors.Is(err, consensus.ErrInvalidBlock) {
		t.Errorf("SyncTo(nil): %v", err)
	}
	if eng.HasReady() || !reflect.DeepEqual(eng.Status(), before) {
		t.Fatal("bad calls changed the engine")
	}

	// An invalid block from the right proposer is an error, but by the
	// protocol it is B's proposal: A prevotes nil at once.
	bad := c.block("B", req)
	c.app.reject[bad.Hash()] = true
	if err := eng.Step(signedProposal("B", bad, 0, -1)); !errors.Is(err, consensus.ErrInvalidBlock) {
		t.Fatalf("invalid block: %v", err)
	}
	c.collect("A")
	if pv := c.sentBy("A", 1, 0, consensus.StepPrevote); len(pv) != 1 || !pv[0].Vote.BlockHash.IsZero() {
		t.Fatalf("after an invalid proposal A sent %v, want a nil prevote", pv)
	}
}

// TestObserverNeverSigns runs a cluster with a non-member signer and a
// nil-signer observer: both decide, neither emits a message.
func TestObserverNeverSigns(t *testing.T) {
	c := newCluster(t, "A", "B", "C", "D")
	for _, n := range []string{"E", "F"} {
		var signer consensus.Signer = testKey(n)
		if n == "F" {
			signer = nil
		}
		eng, err := consensus.New(consensus.Config{ChainID: testChainID, Signer: signer, App: c.app, Params: testParams(),
			Height: 1, PrevHash: testGenesisHash, Authorities: c.set, NextAuthorities: c.set})
		if err != nil {
			t.Fatal(err)
		}
		c.nodes[n] = &tnode{name: n, eng: eng}
	}
	all := []string{"A", "B", "C", "D", "E", "F"}
	c.start(all...)
	c.flush(all...)
	for _, n := range []string{"E", "F"} {
		if len(c.nodes[n].sent) != 0 || c.nodes[n].signState != nil {
			t.Fatalf("observer %s signed: %v", n, c.nodes[n].sent)
		}
		if d := c.lastDecision(n); d.Block.Hash() != c.lastDecision("A").Block.Hash() {
			t.Fatalf("observer %s decided another block", n)
		}
	}
}

// TestBlockLimits: blocks over the genesis limits are invalid values.
func TestBlockLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params func(*chain.Params)
	}{
		{"too many txs", func(p *chain.Params) { p.MaxBlockTxs = 1 }},
		{"too many bytes", func(p *chain.Params) { p.MaxBlockBytes = 1024 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := testSet(t, "A", "B", "C", "D")
			params := testParams()
			tc.params(&params)
			eng, err := consensus.New(consensus.Config{ChainID: testChainID, Signer: testKey("A"), App: &testApp{}, Params: params,
				Height: 1, PrevHash: testGenesisHash, Authorities: set, NextAuthorities: set})
			if err != nil {
				t.Fatal(err)
			}
			eng.Start()
			b := &chain.Block{Header: chain.Header{ChainID: testChainID, Height: 1, Time: 1, PrevHash: testGenesisHash,
				Proposer: testKey("B").Public(), AuthoritySetHash: set.Hash()}}
			for i := range 2 {
				b.Txs = append(b.Txs, chain.Tx{ChainID: testChainID, Account: testKey("A").Public(), Nonce: uint64(i + 1),
					Type: "note", Payload: make([]byte, 700), Signature: chain.Signature{1}})
			}
			b.Fill()
			if err := eng.Step(signedProposal("B", b, 0, -1)); !errors.Is(err, consensus.ErrInvalidBlock) {
				t.Fatalf("oversized block: %v, want ErrInvalidBlock", err)
			}
		})
	}
}
