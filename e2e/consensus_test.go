package e2e

import (
	"github.com/zwnode/zwnode/chain"
	"syscall"
	"testing"
	"time"
)

// Four department nodes finalize blocks and agree on every one of them.
func TestFourNodesFinalizeSameChain(t *testing.T) {
	c := newCluster(t, 4)
	c.startAll()
	c.waitHeight(10, 90*time.Second, all(4)...)
	if h := c.checkSameChain(all(4)...); h < 10 {
		t.Fatalf("common height %d, want at least 10", h)
	}
}

// With two of four nodes stopped there is no quorum (3 of 4): no block is
// finalized and nothing forks. Restarting them resumes progress.
func TestNoQuorumNoProgressThenRecovery(t *testing.T) {
	c := newCluster(t, 4)
	c.startAll()
	c.waitHeight(3, 90*time.Second, all(4)...)
	c.stop(2)
	c.stop(3)
	// Let in-flight heights settle, then watch for a while: one more block
	// may still finalize from precommits already cast, no more.
	h0 := max(c.height(0), c.height(1))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if h := max(c.height(0), c.height(1)); h > h0+1 {
			t.Fatalf("height moved from %d to %d with only 2 of 4 authorities running", h0, h)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stalled := max(c.height(0), c.height(1))
	c.start(2)
	c.start(3)
	c.waitHeight(stalled+3, 90*time.Second, all(4)...)
	c.checkSameChain(all(4)...)
}

// Stopping the whole cluster and starting it again keeps the head and the
// chain continues from it.
func TestFullRestartKeepsHead(t *testing.T) {
	c := newCluster(t, 4)
	c.startAll()
	c.waitHeight(5, 90*time.Second, all(4)...)
	for i := range 4 {
		c.stop(i)
	}
	heads := make([]uint64, 4)
	c.startAll()
	c.waitFor("API up on all nodes", 30*time.Second, func() bool {
		for i := range 4 {
			st, err := c.status(i)
			if err != nil {
				return false
			}
			heads[i] = st.Height
		}
		return true
	})
	for i, h := range heads {
		if h < 5 {
			t.Fatalf("node %d restarted at height %d, had finalized at least 5", i, h)
		}
	}
	c.waitHeight(heads[0]+5, 90*time.Second, all(4)...)
	c.checkSameChain(all(4)...)
}

// A node started after the others have finalized 200 blocks syncs them.
func TestLateNodeSyncs(t *testing.T) {
	c := newCluster(t, 4)
	for i := range 3 {
		c.start(i)
	}
	c.waitHeight(200, 4*time.Minute, 0, 1, 2)
	c.start(3)
	target := c.height(0)
	c.waitHeight(target, 2*time.Minute, 3)
	c.waitFor("late node ready", 60*time.Second, func() bool {
		code, err := c.get(3, "/readyz", nil)
		return err == nil && code == 200
	})
	c.checkSameChain(all(4)...)
}

// A paused proposer (SIGSTOP) does not stop the cluster: the other three
// change rounds past it. After SIGCONT it rejoins.
func TestPausedProposerClusterContinues(t *testing.T) {
	c := newCluster(t, 4)
	c.startAll()
	c.waitHeight(3, 90*time.Second, all(4)...)
	// Pause the proposer of the next height: authorities[(h+0) mod 4].
	h := c.height(0) + 1
	victim := int(h % 4)
	c.signal(victim, syscall.SIGSTOP)
	others := []int{}
	for i := range 4 {
		if i != victim {
			others = append(others, i)
		}
	}
	c.waitHeight(h+4, 90*time.Second, others...)
	// The others waited out the paused proposer's turn at least once: they
	// count it as a propose timeout.
	for _, i := range others {
		if n := c.metric(i, `zwnode_consensus_timeouts_total{step="propose"}`); n < 1 {
			t.Errorf("node %d: %v propose timeouts counted with the proposer paused", i, n)
		}
	}
	c.signal(victim, syscall.SIGCONT)
	c.waitHeight(c.height(others[0])+2, 90*time.Second, all(4)...)
	c.checkSameChain(all(4)...)
}

// Under a steady transaction load, kill -9 one node: the other three keep
// finalizing; the restarted node catches up and joins consensus; every tx
// acknowledged as finalized is present, at the same height and with
// success, on all nodes.
func TestKillOneNodeUnderLoad(t *testing.T) {
	c := newCluster(t, 4)
	c.startAll()
	c.waitHeight(2, 90*time.Second, all(4)...)
	ws := c.writers(t)
	var hashes []chain.Hash
	// Bounded load: 40 rounds of 5 txs per department, always to node 0.
	submitRound := func() {
		var txs []chain.Tx
		for _, w := range ws {
			for range 5 {
				txs = append(txs, w.next(t, c.net.ChainID))
			}
		}
		hashes = append(hashes, c.submitBatch(t, 0, txs)...)
	}
	for range 10 {
		submitRound()
	}
	c.kill(3)
	h := c.height(0)
	for r := range 20 {
		submitRound()
		if r%5 == 4 {
			c.waitHeight(h+uint64(r/5)+1, 60*time.Second, 0, 1, 2)
		}
	}
	c.start(3)
	for range 10 {
		submitRound()
	}
	done := 0
	c.waitFor("every submitted tx finalized on node 0", 2*time.Minute, func() bool {
		for ; done < len(hashes); done++ {
			if st, err := c.txStatus(0, hashes[done]); err != nil || st.Status != "finalized" {
				return false
			}
		}
		return true
	})
	c.waitHeight(c.height(0), 2*time.Minute, 3)
	for _, hash := range hashes {
		want, err := c.txStatus(0, hash)
		if err != nil || want.Status != "finalized" || want.Result.Code != 0 {
			t.Fatalf("tx %s on node 0: %+v %v", hash, want, err)
		}
		for i := 1; i < 4; i++ {
			got, err := c.txStatus(i, hash)
			if err != nil || got.Status != "finalized" || got.Height != want.Height {
				t.Fatalf("tx %s: node 0 has it finalized at %d, node %d says %+v %v", hash, want.Height, i, got, err)
			}
		}
	}
	// The restarted node votes again: with node 0 stopped, progress needs it.
	c.stop(0)
	h = c.height(1)
	c.waitHeight(h+3, 90*time.Second, 1, 2, 3)
	c.checkSameChain(1, 2, 3)
}
