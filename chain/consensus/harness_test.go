package consensus_test

import (
	"slices"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

// A small synchronous harness for readable scenarios, in the spirit of
// etcd raft's interaction tests: signers are named "A", "B", ... with keys
// from a fixed pool, messages move only when the test says so, and timers
// fire only when the test fires them.

const testChainID = "test-chain"

var testGenesisHash = chain.HashBytes([]byte("test genesis"))

// testKey returns the fixed key of signer name ("A" → pool entry 0).
func testKey(name string) *chain.PrivateKey {
	var seed [32]byte
	copy(seed[:], "zwnode consensus test key "+name)
	return chain.PrivateKeyFromSeed(seed[:])
}

func testAuthority(name string) chain.Authority {
	return chain.Authority{Department: "dept-" + string(rune(name[0]-'A'+'a')), Name: name, PubKey: testKey(name).Public()}
}

func testSet(t testing.TB, names ...string) *chain.AuthoritySet {
	t.Helper()
	auths := make([]chain.Authority, len(names))
	for i, n := range names {
		auths[i] = testAuthority(n)
	}
	s, err := chain.NewAuthoritySet(auths)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testParams() chain.Params {
	p := chain.DefaultParams()
	p.TimeoutProposeMS, p.TimeoutPrevoteMS, p.TimeoutPrecommitMS, p.TimeoutDeltaMS, p.TimeoutCommitMS = 1000, 500, 500, 250, 100
	return p
}

// testApp accepts every block except those listed in reject, and schedules
// nextAt[h] with the block at height h.
type testApp struct {
	reject map[chain.Hash]bool
	nextAt map[uint64][]chain.Authority
}

func (a *testApp) ValidateBlock(b *chain.Block) ([]chain.Authority, error) {
	if a.reject[b.Hash()] {
		return nil, errMarkedInvalid
	}
	return a.nextAt[b.Header.Height], nil
}

// tnode is one engine with everything it emitted so far.
type tnode struct {
	name      string
	eng       *consensus.Engine
	signState *consensus.SignState
	valid     *consensus.ValidState
	sent      []*chain.Message
	timers    []consensus.Timer
	decisions []consensus.Decision
	evidence  []*chain.Evidence
	request   *consensus.ProposeRequest
}

type cluster struct {
	t     *testing.T
	app   *testApp
	set   *chain.AuthoritySet
	nodes map[string]*tnode
	names []string
	// drop, if set, loses a message from → to.
	drop func(from, to string, m *chain.Message) bool
	// blockTime makes successive test blocks differ.
	blockTime int64
	// labels names block hashes in transcripts.
	labels []chain.Hash
}

// newCluster starts one engine per name at height 1, all authorities.
func newCluster(t *testing.T, names ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, app: &testApp{reject: map[chain.Hash]bool{}, nextAt: map[uint64][]chain.Authority{}},
		set: testSet(t, names...), nodes: map[string]*tnode{}, names: names, blockTime: 1_000_000}
	for _, n := range names {
		c.nodes[n] = c.newNode(n, nil)
	}
	return c
}

func (c *cluster) newNode(name string, last *consensus.SignState) *tnode {
	c.t.Helper()
	eng, err := consensus.New(consensus.Config{
		ChainID: testChainID, Signer: testKey(name), App: c.app, Params: testParams(),
		Height: 1, PrevHash: testGenesisHash, Authorities: c.set, NextAuthorities: c.set, LastSigned: last,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return &tnode{name: name, eng: eng}
}

// start calls Start on the named engines and collects their output.
func (c *cluster) start(names ...string) {
	for _, n := range names {
		c.nodes[n].eng.Start()
		c.collect(n)
	}
}

// collect takes n's Ready and records it; it returns the new messages.
func (c *cluster) collect(n string) []*chain.Message {
	nd := c.nodes[n]
	var out []*chain.Message
	for nd.eng.HasReady() {
		rd := nd.eng.Ready()
		if rd.SignState != nil {
			nd.signState = rd.SignState
		}
		if rd.Valid != nil {
			nd.valid = rd.Valid
		}
		out = append(out, rd.Messages...)
		nd.timers = append(nd.timers, rd.Timers...)
		nd.decisions = append(nd.decisions, rd.Decisions...)
		nd.evidence = append(nd.evidence, rd.Evidence...)
		if rd.ProposeRequest != nil {
			nd.request = rd.ProposeRequest
		}
	}
	nd.sent = append(nd.sent, out...)
	return out
}

// block builds a block for req, as proposer.
func (c *cluster) block(proposer string, req *consensus.ProposeRequest) *chain.Block {
	c.blockTime++
	b := &chain.Block{
		Header: chain.Header{ChainID: testChainID, Height: req.Height, Time: c.blockTime, PrevHash: req.PrevHash,
			Proposer: testKey(proposer).Public(), AuthoritySetHash: req.Authorities.Hash()},
		LastCommit: req.LastCommit,
	}
	b.Fill()
	return b
}

// propose answers n's pending ProposeRequest and returns the block.
func (c *cluster) propose(n string) *chain.Block {
	c.t.Helper()
	nd := c.nodes[n]
	if nd.request == nil {
		c.t.Fatalf("%s has no propose request", n)
	}
	b := c.block(n, nd.request)
	nd.request = nil
	if err := nd.eng.Propose(b); err != nil {
		c.t.Fatalf("%s: propose: %v", n, err)
	}
	c.collect(n)
	return b
}

// deliver hands m to n (errors fail the test unless allowed).
func (c *cluster) deliver(n string, m *chain.Message) error {
	err := c.nodes[n].eng.Step(m)
	c.collect(n)
	return err
}

// flush delivers every message sent so far by the live nodes to every
// other live node, repeatedly, until nothing new is sent, answering
// propose requests on the way. Already delivered messages are delivered
// again, which the engine must treat as duplicates.
func (c *cluster) flush(live ...string) {
	c.t.Helper()
	delivered := map[*chain.Message]map[string]bool{}
	for progress := true; progress; {
		progress = false
		for _, from := range live {
			if c.nodes[from].request != nil {
				c.propose(from)
				progress = true
			}
			for _, m := range slices.Clone(c.nodes[from].sent) {
				for _, to := range live {
					if to == from || delivered[m][to] || c.drop != nil && c.drop(from, to, m) {
						continue
					}
					if delivered[m] == nil {
						delivered[m] = map[string]bool{}
					}
					delivered[m][to] = true
					progress = true
					if err := c.deliver(to, m); err != nil {
						c.t.Fatalf("%s <- %s: %v", to, from, err)
					}
				}
			}
		}
	}
}

// fire fires n's most recent timer of the given step.
func (c *cluster) fire(n string, step consensus.Step) {
	c.t.Helper()
	nd := c.nodes[n]
	for i := len(nd.timers) - 1; i >= 0; i-- {
		if nd.timers[i].Step == step {
			tm := nd.timers[i]
			nd.timers = slices.Delete(nd.timers, i, i+1)
			nd.eng.Timeout(tm)
			c.collect(n)
			return
		}
	}
	c.t.Fatalf("%s has no %s timer", n, step)
}

// fireAll fires the step's latest timer on each named node.
func (c *cluster) fireAll(step consensus.Step, names ...string) {
	for _, n := range names {
		c.fire(n, step)
	}
}

// signedVote builds a vote signed by name.
func signedVote(name string, t chain.VoteType, h uint64, r uint32, block chain.Hash) *chain.Message {
	v := &chain.Vote{Type: t, Height: h, Round: r, BlockHash: block}
	v.Sign(testChainID, testKey(name))
	return &chain.Message{Vote: v}
}

// signedProposal builds a proposal of b signed by name.
func signedProposal(name string, b *chain.Block, r uint32, pol int64) *chain.Message {
	p := &chain.Proposal{Height: b.Header.Height, Round: r, POLRound: pol, BlockHash: b.Hash()}
	p.Sign(testChainID, testKey(name))
	return &chain.Message{Proposal: p, Block: b}
}

// lastDecision returns n's latest decision, failing if there is none.
func (c *cluster) lastDecision(n string) consensus.Decision {
	c.t.Helper()
	d := c.nodes[n].decisions
	if len(d) == 0 {
		c.t.Fatalf("%s decided nothing; status %+v", n, c.nodes[n].eng.Status())
	}
	return d[len(d)-1]
}

// sentBy returns n's messages of one kind at (h, r): step Propose for
// proposals, Prevote / Precommit for votes.
func (c *cluster) sentBy(n string, h uint64, r uint32, step consensus.Step) []*chain.Message {
	var out []*chain.Message
	for _, m := range c.nodes[n].sent {
		if m.Height() != h || m.Round() != r {
			continue
		}
		switch {
		case step == consensus.StepPropose && m.Proposal != nil,
			step == consensus.StepPrevote && m.Vote != nil && m.Vote.Type == chain.Prevote,
			step == consensus.StepPrecommit && m.Vote != nil && m.Vote.Type == chain.Precommit:
			out = append(out, m)
		}
	}
	return out
}
