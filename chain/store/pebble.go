package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// Memory Pebble may use: the block cache, of which up to about three
// memtables are reserved while they are being written or flushed.
// BenchmarkPebbleWritePath (CPU per transaction including flushes and
// compactions): 8 MiB memtables in 64 MiB cost 39–41 µs and 9.1 KB of disk
// writes per tx; 16 MiB in 80 MiB 33–35 µs and 7.2–7.7 KB (fewer, larger
// L0 files, so less rewriting); 32 MiB in 128 MiB only 10% better again for
// 48 MiB more memory. Compacting L0 at 8 files instead of Pebble's 4 (stopping writes at 32, not 12) (fewer, larger
// compactions into the base level): 33 → 29 µs and 6.4 → 5.5 KB per tx
// with raw keys; reads (BenchmarkPebbleStateGet/store) no slower.
const (
	pebbleCache    = 80 << 20
	pebbleMemTable = 16 << 20
)

// PebbleDatastore is a go-ds-pebble datastore whose every write is fsynced
// before it returns. Open it with OpenPebble.
type PebbleDatastore struct {
	*pebbleds.Datastore
}

// OpenPebble opens (creating if needed) a Pebble database in dir for a
// Store. go-ds-pebble writes with pebble.NoSync unless told otherwise, which
// would let a power cut lose finalized blocks and the sign-state; here every
// batch commit and put uses pebble.Sync, so a write is on disk when it
// returns. Pass the result to Open; Store.Close closes it.
//
// Tuning: bloom filters on every level, because executing a block reads many
// keys that do not exist yet (new record heads, new subjects) and without
// filters every such miss walks all levels. The block cache is pebbleCache
// bytes, but Pebble reserves the memtables' memory inside it: with memtables
// as large as the cache (the earlier 16 MiB memtables in a 32 MiB cache)
// nothing is ever cached and every read, even of one hot key, goes to disk.
// pebbleMemTable is sized so that most of the cache is left for blocks.
func OpenPebble(dir string) (*PebbleDatastore, error) {
	opts := &pebble.Options{MemTableSize: pebbleMemTable, L0CompactionThreshold: 8, L0StopWritesThreshold: 32}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	d, err := pebbleds.NewDatastore(dir,
		pebbleds.WithPebbleWriteOptions(pebble.Sync),
		pebbleds.WithPebbleOpts(opts),
		pebbleds.WithCacheSize(pebbleCache))
	if err != nil {
		return nil, fmt.Errorf("open pebble in %s: %w", dir, err)
	}
	return &PebbleDatastore{Datastore: d}, nil
}
