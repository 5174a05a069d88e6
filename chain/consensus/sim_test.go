package consensus_test

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

var (
	flagSeeds = flag.Int("seeds", 1000, "simulation: number of seeds to run (1..N)")
	flagSeed  = flag.Uint64("seed", 0, "simulation: replay this one seed, logging every event with -v")
)

type simResult struct {
	seed      uint64
	scenario  string
	violation string
	heights   uint64
	maxRound  uint32
	events    int
	byz       int
	restarts  int
	changes   int
	evidence  int
	recovery  int64
}

func runSim(seed uint64, logf func(string, ...any)) simResult {
	w := newSimWorld(seed, logf)
	w.run()
	return simResult{seed: seed, scenario: w.sc.String(), violation: w.check.violation,
		heights: w.honestMaxDecided(), maxRound: w.maxRound, events: w.events, byz: w.sc.byz,
		restarts: w.restarts, changes: w.check.setChanges, evidence: w.check.evidenceCount, recovery: w.recoveryMS}
}

// TestSimulation runs -seeds seeded simulations of whole clusters (or the
// one -seed) and checks agreement, validity, no double signing, evidence
// and liveness after the network heals. A failure prints the command that
// replays exactly that run.
func TestSimulation(t *testing.T) {
	if *flagSeed != 0 {
		r := runSim(*flagSeed, t.Logf)
		t.Logf("seed %d: %s: heights=%d max_round=%d events=%d", r.seed, r.scenario, r.heights, r.maxRound, r.events)
		if r.violation != "" {
			t.Fatalf("seed %d: %s", r.seed, r.violation)
		}
		return
	}
	n := *flagSeeds
	if raceEnabled && !flagGiven("seeds") {
		n = 100
	}
	results := make([]simResult, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				results[i] = runSim(uint64(i+1), nil)
			}
		})
	}
	wg.Wait()
	var violations, byzRuns, restarts, changes, evidence, events int
	var heights uint64
	var maxRound uint32
	var maxRecovery int64
	for _, r := range results {
		maxRecovery = max(maxRecovery, r.recovery)
		heights += r.heights
		restarts += r.restarts
		changes += r.changes
		evidence += r.evidence
		events += r.events
		if r.byz > 0 {
			byzRuns++
		}
		maxRound = max(maxRound, r.maxRound)
		if r.violation == "" {
			continue
		}
		violations++
		if violations <= 5 {
			t.Errorf("seed %d (%s): %s\nreplay: go test ./chain/consensus -run 'TestSimulation$' -seed=%d -v",
				r.seed, r.scenario, r.violation, r.seed)
		}
	}
	fmt.Printf("sim: seeds=%d violations=%d heights=%d max_rounds=%d\n", n, violations, heights, maxRound)
	fmt.Printf("sim detail: runs_with_byzantine=%d restarts=%d set_changes=%d evidence=%d events=%d max_recovery_ms=%d (bound %d)\n",
		byzRuns, restarts, changes, evidence, events, maxRecovery, simLivenessMS)
}

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
