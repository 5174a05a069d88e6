package store

import (
	"context"
	"strings"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// StorageStats reports Pebble's figures: an L0 file and more disk after a
// flush, cached blocks only after a read of flushed data; nothing for a
// store on a map datastore or a closed one.
func TestStorageStats(t *testing.T) {
	ctx := context.Background()
	s := openPebbleStore(t, t.TempDir())
	writes := []Write{{Key: []byte("rec/tax.clearance/e:1"), Value: make([]byte, 4096)}}
	b, c := nextBlock(t, s, []chain.Tx{makeTx(key("acct"), 1, []byte("payload"))}, writes)
	if err := s.CommitBlock(ctx, b, c, writes); err != nil {
		t.Fatal(err)
	}
	before, ok := s.StorageStats()
	if !ok || before.MemTableBytes == 0 || before.DiskBytes == 0 || before.L0Files != 0 || before.BlockCacheBytes != 0 {
		t.Fatalf("after a commit: %+v, %v; want memtable and disk bytes, no L0 file, nothing cached", before, ok)
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.State(ctx, writes[0].Key); err != nil {
		t.Fatal(err)
	}
	after, _ := s.StorageStats()
	if after.BlockCacheMisses == 0 || after.BlockCacheBytes == 0 || after.L0Files != 1 || after.L0Sublevels != 1 || after.DiskBytes <= before.DiskBytes {
		t.Fatalf("after a flush and a read: %+v (before %+v); want cached blocks, one L0 file, the flushed bytes on disk", after, before)
	}
	if report, ok := s.StorageReport(); !ok || !strings.Contains(report, "Flushes: 1") {
		t.Fatalf("report after one flush (%v):\n%s", ok, report)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.StorageStats(); ok {
		t.Fatal("closed store: stats reported")
	}
	if _, ok := s.StorageReport(); ok {
		t.Fatal("closed store: report written")
	}
	m, _ := newMapStore(t)
	if _, ok := m.StorageStats(); ok {
		t.Fatal("map datastore: stats reported")
	}
	if _, ok := m.StorageReport(); ok {
		t.Fatal("map datastore: report written")
	}
}
