package main

import (
	"log/slog"
	"testing"
)

// On glibc the mmap threshold is set unless GLIBC_TUNABLES already sets
// one; elsewhere (no cgo, musl) nothing is set.
func TestApplyMallocTuning(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if applyMallocTuning("glibc.malloc.mmap_threshold=131072", log) {
		t.Fatal("set the threshold although GLIBC_TUNABLES sets one")
	}
	got := applyMallocTuning("glibc.malloc.arena_max=2", log)
	if got != mallocIsGlibc() {
		t.Fatalf("applyMallocTuning = %v on a process where glibc = %v", got, mallocIsGlibc())
	}
}
