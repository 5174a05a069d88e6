//go:build cgo && linux

package main

/*
#include <malloc.h>

// zw_mmap_threshold sets glibc's mmap threshold; 0 where the C library
// has no such knob (musl).
static int zw_mmap_threshold(int bytes) {
#ifdef M_MMAP_THRESHOLD
	return mallopt(M_MMAP_THRESHOLD, bytes);
#else
	(void)bytes;
	return 0;
#endif
}

// zw_malloc_trim returns the free memory inside malloc's arenas to the
// system.
static void zw_malloc_trim(void) {
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static int zw_is_glibc(void) {
#ifdef __GLIBC__
	return 1;
#else
	return 0;
#endif
}
*/
import "C"

// mallocIsGlibc reports whether the process uses glibc's malloc.
func mallocIsGlibc() bool { return C.zw_is_glibc() == 1 }

// setMallocMmapThreshold fixes the size from which C allocations get their
// own mapping, so that freeing them returns the memory to the OS.
//
// Pebble allocates its block cache and memtables (16 MiB each) with C
// malloc. glibc starts with a 128 KiB threshold but raises it to the size
// of any mapped chunk that is freed: after the first memtable is released,
// later memtables come from the malloc arenas, and what they leave there
// after a flush is kept by the process. At max load that made each node's
// resident memory grow run after run (228 -> 292 MB over three 30 s runs)
// while the Go heap and Pebble's own accounting stayed flat. With the
// threshold fixed at 4 MiB, memtables are always mapped and unmapped, and
// cache blocks (32 KiB) still come from the arenas. It reports whether the
// C library took the setting.
func setMallocMmapThreshold(bytes int) bool {
	return C.zw_mmap_threshold(C.int(bytes)) == 1
}

// mallocTrim hands the free pages inside glibc's malloc arenas back to the
// system (malloc_trim(0)): freeing a chunk in the middle of an arena keeps
// its pages resident, and Pebble's cache blocks are such chunks.
func mallocTrim() { C.zw_malloc_trim() }
