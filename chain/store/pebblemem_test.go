package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPebbleMemoryValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mem  PebbleMemory
		ok   bool
	}{
		{"defaults", PebbleMemory{}, true},
		{"small", PebbleMemory{CacheBytes: 8 << 20, MemTableBytes: 4 << 20}, true},
		{"default memtable in small cache", PebbleMemory{CacheBytes: 2*DefaultPebbleMemTable - 1<<20}, false},
		{"memtable too small", PebbleMemory{MemTableBytes: 512 << 10}, false},
		{"memtable too large", PebbleMemory{CacheBytes: 4 << 30, MemTableBytes: 2 << 30}, false},
		{"negative cache", PebbleMemory{CacheBytes: -1}, false},
	} {
		err := tc.mem.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrPebbleMemory) {
			t.Errorf("%s: %v is not ErrPebbleMemory", tc.name, err)
		}
	}
}

func TestOpenPebbleSizedRefusesBadSizesAndCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	_, err := OpenPebbleSized(dir, PebbleMemory{CacheBytes: 16 << 20, MemTableBytes: 16 << 20})
	if !errors.Is(err, ErrPebbleMemory) {
		t.Fatalf("OpenPebbleSized = %v, want ErrPebbleMemory", err)
	}
	if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
		t.Fatalf("database directory exists after a refused open: %v", serr)
	}
}

func TestOpenPebbleSizedSmallCacheWorks(t *testing.T) {
	d, err := OpenPebbleSized(t.TempDir(), PebbleMemory{CacheBytes: 8 << 20, MemTableBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}
