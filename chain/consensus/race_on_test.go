//go:build race

package consensus_test

// raceEnabled: the race detector slows the simulation about 20×, so
// TestSimulation runs fewer seeds by default under -race (an explicit
// -seeds wins).
const raceEnabled = true
