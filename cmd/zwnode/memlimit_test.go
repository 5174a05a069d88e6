package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/zwnode/zwnode/configs"
)

func TestApplyMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	log := slog.New(slog.DiscardHandler)

	applyMemoryLimit(configs.RuntimeConfig{MemoryLimitMB: 0}, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("memory_limit_mb = 0 changed the limit to %d", got)
	}
	applyMemoryLimit(configs.RuntimeConfig{MemoryLimitMB: 200}, log)
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Fatalf("limit = %d, want %d", got, 200<<20)
	}
}
