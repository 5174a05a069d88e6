package consensus_test

import (
	"fmt"
	"testing"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/consensus"
)

// BenchmarkCommitVerify measures verifying a certificate of q precommits,
// which every node does for every block's LastCommit and every synced block.
func BenchmarkCommitVerify(b *testing.B) {
	for _, n := range []int{4, 7, 21} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("%c%d", 'A'+i%26, i)
			}
			set := testSet(b, names...)
			hash := chain.HashBytes([]byte("block"))
			var votes []*chain.Vote
			for _, name := range names[:set.Quorum()] {
				votes = append(votes, signedVote(name, chain.Precommit, 9, 0, hash).Vote)
			}
			c, err := chain.NewCommit(votes)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Verify(testChainID, set, 9, hash); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClusterHeights runs a 4-node in-memory cluster (no network, no
// timers needed on the happy path) and reports finalized heights per second
// and engine steps (Step calls) per second. Signing is real ed25519.
func BenchmarkClusterHeights(b *testing.B) {
	names := []string{"A", "B", "C", "D"}
	set := testSet(b, names...)
	app := &testApp{}
	engines := make([]*consensus.Engine, len(names))
	for i, n := range names {
		e, err := consensus.New(consensus.Config{ChainID: testChainID, Signer: testKey(n), App: app, Params: testParams(),
			Height: 1, PrevHash: testGenesisHash, Authorities: set, NextAuthorities: set})
		if err != nil {
			b.Fatal(err)
		}
		engines[i] = e
	}
	var queue []struct {
		from int
		m    *chain.Message
	}
	var commitTimers []int
	steps, decided := 0, 0
	var blockTime int64 = 1
	drain := func(i int) {
		for engines[i].HasReady() {
			rd := engines[i].Ready()
			for _, m := range rd.Messages {
				queue = append(queue, struct {
					from int
					m    *chain.Message
				}{i, m})
			}
			for _, t := range rd.Timers {
				if t.Step == consensus.StepCommit {
					commitTimers = append(commitTimers, i)
					engines[i].Timeout(t)
				}
			}
			decided += len(rd.Decisions)
			if r := rd.ProposeRequest; r != nil {
				blockTime++
				blk := &chain.Block{Header: chain.Header{ChainID: testChainID, Height: r.Height, Time: blockTime, PrevHash: r.PrevHash,
					Proposer: testKey(names[i]).Public(), AuthoritySetHash: r.Authorities.Hash()}, LastCommit: r.LastCommit}
				blk.Fill()
				if err := engines[i].Propose(blk); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	for i, e := range engines {
		e.Start()
		drain(i)
	}
	b.ResetTimer()
	for decided < b.N*len(names) {
		if len(queue) == 0 {
			b.Fatalf("cluster stalled after %d decisions", decided)
		}
		q := queue[0]
		queue = queue[1:]
		for i := range engines {
			if i == q.from {
				continue
			}
			if err := engines[i].Step(q.m); err != nil {
				b.Fatal(err)
			}
			steps++
			drain(i)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "heights/s")
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
}
