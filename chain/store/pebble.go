package store

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// Default memory Pebble may use: the block cache, of which up to three
// memtables (the one being written, one being flushed and one kept for
// reuse) are reserved. BenchmarkPebbleWritePath (CPU per transaction
// including flushes and compactions): 8 MiB memtables in 64 MiB cost 39–41 µs
// and 9.1 KB of disk writes per tx; 16 MiB in 80 MiB 33–35 µs and 7.2–7.7 KB
// (fewer, larger L0 files, so less rewriting); 32 MiB in 128 MiB only 10%
// better again for 48 MiB more memory. Compacting L0 at 8 files instead of
// Pebble's 4 (and stopping writes at 32, not 12): fewer, larger compactions
// into the base level, 33 → 29 µs and 6.4 → 5.5 KB per tx with raw keys;
// reads (BenchmarkPebbleStateGet/store) no slower. At 16 files (stopping
// at 64): on a grown store, where every L0 compaction rewrites the whole
// base level because ledger keys are random, BenchmarkPebbleWritePathGrown
// went from 35–44 to 27–28 µs per tx over its last quarter (single runs,
// noisy) and 4.2–4.5 to 3.8 KB of disk writes; point reads 0–20 % slower
// (more L0 files to check, bloom filters keep misses cheap).
//
// The cache is C memory (cgo), outside the Go heap and outside any Go memory
// limit (zwnode_pebble_block_cache_bytes and _memtable_bytes on /metrics).
// It fills as blocks are read: at max load 36 MB after 30 s (98 % hits), at
// 3,000 tx/s about 1 MB, because state reads then hit the memtables and the
// block overlay. Large (flushable) batches are reserved in it too; in long
// max-rate runs with 16 MiB for blocks beyond three memtables the cache held
// 1–5 MB of blocks (92 % hits; docs/BENCHMARK.md, ninth round), later 3–27
// MB (fifteenth round).
//
// The defaults were 16 MiB memtables in 64 MiB. Since large values are
// chunked (chunked.go), 12 MiB memtables with a 96 MiB Go memory limit
// (configs) held a node at max rate under 150 MB RSS in 30 s runs (140–143
// MB against 178–185 MB) for 1–4 % of throughput (five alternating runs
// each: median 10,456 against 10,599 tx/s); docs/BENCHMARK.md, eighth
// round. Over 10 minutes, with three memtables alive more often as
// compaction lags the growing store, 96 MiB reached 154–163 MB; the limit
// is now 88 MiB (ninth round).
//
// Sixteenth round: Pebble's C memory is the cache, memtables included, once
// it has filled: with 8 MiB memtables in 32 MiB the blocks took the 16 MiB
// the memtables left, so smaller memtables alone do not lower RSS. The
// default cache is now 28 MiB with an 80 MiB Go limit (configs). The
// memtables stay at 12 MiB: Pebble commits a batch of half a memtable or
// more as a flushable batch of its own, which forces a flush, and with
// 8 MiB memtables the batches of a catch-up crossed that line: 23–25 k
// tx/s against 65–69 k with 12 (docs/BENCHMARK.md, sixteenth round).
const (
	DefaultPebbleCache    = 28 << 20
	DefaultPebbleMemTable = 12 << 20
)

// Bounds checked by PebbleMemory.Validate. Pebble refuses memtables of 4 GiB
// or more; a cache smaller than two memtables leaves nothing for blocks.
const (
	MinPebbleMemTable = 1 << 20
	MaxPebbleMemTable = 1 << 30
)

// ErrPebbleMemory means a PebbleMemory is out of bounds.
var ErrPebbleMemory = errors.New("store: bad pebble memory sizes")

// PebbleMemory sizes Pebble's memory. Zero fields take the defaults.
type PebbleMemory struct {
	// CacheBytes is the block cache, memtables included.
	CacheBytes int64
	// MemTableBytes is one memtable.
	MemTableBytes int64
}

// withDefaults fills zero fields.
func (m PebbleMemory) withDefaults() PebbleMemory {
	if m.CacheBytes == 0 {
		m.CacheBytes = DefaultPebbleCache
	}
	if m.MemTableBytes == 0 {
		m.MemTableBytes = DefaultPebbleMemTable
	}
	return m
}

// Validate checks the sizes after defaults: the memtable within
// [MinPebbleMemTable, MaxPebbleMemTable] and the cache at least two
// memtables, because Pebble reserves the memtables' memory inside the cache
// and with memtables as large as the cache (the earlier 16 MiB memtables in
// a 32 MiB cache) nothing is ever cached and every read, even of one hot
// key, goes to disk.
func (m PebbleMemory) Validate() error {
	m = m.withDefaults()
	if m.MemTableBytes < MinPebbleMemTable || m.MemTableBytes > MaxPebbleMemTable {
		return fmt.Errorf("%w: memtable %d bytes is outside [%d, %d]", ErrPebbleMemory, m.MemTableBytes, MinPebbleMemTable, MaxPebbleMemTable)
	}
	if m.CacheBytes < 2*m.MemTableBytes {
		return fmt.Errorf("%w: cache %d bytes is less than two memtables (2 × %d)", ErrPebbleMemory, m.CacheBytes, m.MemTableBytes)
	}
	return nil
}

// PebbleDatastore is a go-ds-pebble datastore whose every write is fsynced
// before it returns. Open it with OpenPebble.
type PebbleDatastore struct {
	*pebbleds.Datastore
}

// OpenPebble opens (creating if needed) a Pebble database in dir for a
// Store with the default memory sizes. See OpenPebbleSized.
func OpenPebble(dir string) (*PebbleDatastore, error) {
	return OpenPebbleSized(dir, PebbleMemory{})
}

// OpenPebbleSized opens (creating if needed) a Pebble database in dir for a
// Store, with the cache and memtables sized by mem (zero fields take the
// defaults; out-of-bounds sizes return ErrPebbleMemory and open nothing).
// go-ds-pebble writes with pebble.NoSync unless told otherwise, which would
// let a power cut lose finalized blocks and the sign-state; here every batch
// commit and put uses pebble.Sync, so a write is on disk when it returns.
// Pass the result to Open; Store.Close closes it.
//
// Tuning: bloom filters on every level, because executing a block reads many
// keys that do not exist yet (new record heads, new subjects) and without
// filters every such miss walks all levels.
func OpenPebbleSized(dir string, mem PebbleMemory) (*PebbleDatastore, error) {
	if err := mem.Validate(); err != nil {
		return nil, fmt.Errorf("open pebble in %s: %w", dir, err)
	}
	mem = mem.withDefaults()
	opts := &pebble.Options{MemTableSize: uint64(mem.MemTableBytes), L0CompactionThreshold: 16, L0StopWritesThreshold: 64}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	d, err := pebbleds.NewDatastore(dir,
		pebbleds.WithPebbleWriteOptions(pebble.Sync),
		pebbleds.WithPebbleOpts(opts),
		pebbleds.WithCacheSize(mem.CacheBytes))
	if err != nil {
		return nil, fmt.Errorf("open pebble in %s: %w", dir, err)
	}
	return &PebbleDatastore{Datastore: d}, nil
}
