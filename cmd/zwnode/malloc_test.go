package main

import (
	"context"
	"log/slog"
	"testing"
	"time"
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

// The trimming loop runs until its context ends, trimming on every tick
// (on glibc; elsewhere it returns at once), and then returns.
func TestTrimMallocArenasStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		trimMallocArenas(ctx, time.Millisecond)
		close(done)
	}()
	mallocTrim() // safe to call alongside the loop
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("trimMallocArenas did not return after its context ended")
	}
}
