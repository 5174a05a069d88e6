package store

// StorageStats are figures of the Pebble database under a Store that an
// operator watches: the block cache and the memtables are C memory, outside
// the Go heap and any Go memory limit, so a node's resident memory is
// about its binary, the Go runtime's memory and these; L0 files and the
// compaction debt show whether compaction keeps up with the writes.
type StorageStats struct {
	// BlockCacheBytes is what the block cache holds now (at most the
	// configured cache less the memtables' reservation).
	BlockCacheBytes int64
	// BlockCacheHits and BlockCacheMisses count block lookups since open.
	BlockCacheHits, BlockCacheMisses int64
	// MemTableBytes is the memtables' memory, including memtables waiting
	// to be flushed or still read by an iterator.
	MemTableBytes uint64
	// L0Files and L0Sublevels: Pebble compacts L0 into the base level at 16
	// sublevels and stops writes at 64 (see OpenPebbleSized).
	L0Files     int64
	L0Sublevels int32
	// CompactionDebtBytes is Pebble's estimate of the bytes compactions
	// owe to bring every level to its target size.
	CompactionDebtBytes uint64
	// DiskBytes is the database's disk space.
	DiskBytes uint64
}

// StorageStats returns the figures of s's Pebble database, and false when
// s is not on Pebble (a map datastore in tests).
func (s *Store) StorageStats() (StorageStats, bool) {
	if s.db == nil || s.enter() != nil {
		return StorageStats{}, false
	}
	defer s.life.RUnlock()
	m := s.db.Metrics()
	return StorageStats{
		BlockCacheBytes:     m.BlockCache.Size,
		BlockCacheHits:      m.BlockCache.Hits,
		BlockCacheMisses:    m.BlockCache.Misses,
		MemTableBytes:       m.MemTable.Size + m.MemTable.ZombieSize,
		L0Files:             m.Levels[0].TablesCount,
		L0Sublevels:         m.Levels[0].Sublevels,
		CompactionDebtBytes: m.Compact.EstimatedDebt,
		DiskBytes:           m.DiskSpaceUsage(),
	}, true
}

// StorageReport is Pebble's own table of the database: per level, files,
// size, bytes flushed, compacted and moved, write and read amplification,
// and the caches. It is what to read when compaction does not keep up. It
// is false when s is not on Pebble.
func (s *Store) StorageReport() (string, bool) {
	if s.db == nil || s.enter() != nil {
		return "", false
	}
	defer s.life.RUnlock()
	return s.db.Metrics().String(), true
}
