package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	ds "github.com/ipfs/go-datastore"

	"github.com/zwnode/zwnode/chain"
)

// Large values — a block, and a sign-state that carries a valid block, a
// few MB each at full load — are stored in chunks (storage format 5). As
// single values they made Pebble build a data block of their whole size in
// every flush and compaction that met them: the sstable writer's buffer,
// its Snappy output and the compaction iterator's copy each grew to the
// value's size: 12 % of the bytes a node allocated at full load and up to
// 18 MB of its live heap at a time. In chunks of chunkSize those
// buffers stay at the size of ordinary data blocks.
//
// A chunked value v under key k is a manifest under k,
//
//	chunkMagic ‖ uint32(len(v)) ‖ uint32(chunks)
//
// and v's chunks under k + "/" + 8 hex digits of the chunk number. No
// value written whole starts with chunkMagic: a block encoding starts with
// the length of its chain id and a sign-state record with the length of its
// sign-state, both far below 2^32 − 1. Values up to chunkThreshold are
// written whole, as are all values of format 4 and older, which reads
// accept.
const (
	chunkSize      = 32 << 10
	chunkThreshold = 64 << 10
	manifestLen    = 12
	// maxChunkedLen bounds what a manifest may claim, so a corrupt one
	// cannot make a read allocate without limit.
	maxChunkedLen = 1 << 30
)

var chunkMagic = [4]byte{0xff, 0xff, 0xff, 0xff}

// chunkCount is how many chunks a value of n bytes is stored in; 0 if it
// is stored whole.
func chunkCount(n int) int {
	if n <= chunkThreshold {
		return 0
	}
	return (n + chunkSize - 1) / chunkSize
}

// chunkedBatchSize is what a value of n bytes under a key of keyLen bytes
// adds to a batch.
func chunkedBatchSize(keyLen, n int) int {
	c := chunkCount(n)
	if c == 0 {
		return batchRecordOverhead + keyLen + n
	}
	return (c+1)*(batchRecordOverhead+keyLen+9) + manifestLen + n
}

// appendChunkKey appends the key of chunk i of the value under k.
func appendChunkKey(dst, k []byte, i int) []byte {
	dst = append(dst, k...)
	dst = append(dst, '/')
	return fmt.Appendf(dst, "%08x", i)
}

// putChunked puts a value of n bytes that fill writes under k: whole, or
// as a manifest and chunks. prevChunks is how many chunks the value it
// replaces had (0 if none or whole); those beyond the new value's are
// deleted in the same batch.
func putChunked(batch writeBatch, k []byte, n int, fill func([]byte) error, prevChunks int) error {
	chunks := chunkCount(n)
	if chunks == 0 {
		if err := batch.putFunc(k, n, fill); err != nil {
			return err
		}
	} else {
		// The value is encoded once into a buffer of its own and copied
		// into the batch chunk by chunk (a sign-state, once per height;
		// blocks go through putBlock, which needs no such buffer).
		v := make([]byte, n)
		if err := fill(v); err != nil {
			return err
		}
		if err := putManifest(batch, k, n, chunks); err != nil {
			return err
		}
		var kb []byte
		for i := range chunks {
			kb = appendChunkKey(kb[:0], k, i)
			if err := batch.put(kb, v[i*chunkSize:min(n, (i+1)*chunkSize)]); err != nil {
				return err
			}
		}
	}
	return deleteChunks(batch, k, chunks, prevChunks)
}

func putManifest(batch writeBatch, k []byte, n, chunks int) error {
	var m [manifestLen]byte
	copy(m[:], chunkMagic[:])
	binary.BigEndian.PutUint32(m[4:], uint32(n))
	binary.BigEndian.PutUint32(m[8:], uint32(chunks))
	return batch.put(k, m[:])
}

// putBlock puts b's encoding under k like putChunked, but a chunked block
// is encoded piece by piece straight into the batch (Block.EncodeChunks):
// a buffer of the whole block, allocated and zeroed for every block, cost
// a catching-up node about a tenth of its commit time. prevChunks is the
// chunk count of a pending block it replaces (pending.go).
func putBlock(batch writeBatch, k []byte, b *chain.Block, prevChunks int) error {
	n := b.EncodedLen()
	chunks := chunkCount(n)
	if chunks == 0 {
		if err := batch.putFunc(k, n, func(dst []byte) error { return chain.EncodeInto(dst, b.EncodeTo) }); err != nil {
			return err
		}
	} else {
		if err := putManifest(batch, k, n, chunks); err != nil {
			return err
		}
		var kb []byte
		i, total := 0, 0
		err := b.EncodeChunks(chunkSize, func(piece []byte) error {
			kb = appendChunkKey(kb[:0], k, i)
			i++
			total += len(piece)
			return batch.put(kb, piece)
		})
		if err != nil {
			return err
		}
		if i != chunks || total != n {
			return fmt.Errorf("block encoded to %d bytes in %d chunks, expected %d in %d", total, i, n, chunks)
		}
	}
	return deleteChunks(batch, k, chunks, prevChunks)
}

// deleteChunks deletes chunks from..to-1 of the value under k.
func deleteChunks(batch writeBatch, k []byte, from, to int) error {
	var kb []byte
	for i := from; i < to; i++ {
		kb = appendChunkKey(kb[:0], k, i)
		if err := batch.del(kb); err != nil {
			return err
		}
	}
	return nil
}

// manifestChunks is the chunk count a stored value names if it is a
// well-formed manifest, 0 otherwise (a whole value).
func manifestChunks(m []byte) int {
	if len(m) != manifestLen || [4]byte(m[:4]) != chunkMagic {
		return 0
	}
	return int(binary.BigEndian.Uint32(m[8:]))
}

// getChunked reads the value under k, whole or chunked, reporting absence
// as ok == false. A manifest whose chunks are missing or do not add up is
// ErrCorrupt.
func (s *Store) getChunked(ctx context.Context, k ds.Key) (v []byte, ok bool, err error) {
	m, ok, err := s.get(ctx, k)
	if err != nil || !ok {
		return nil, ok, err
	}
	if len(m) < len(chunkMagic) || [4]byte(m[:4]) != chunkMagic {
		return m, true, nil
	}
	if len(m) != manifestLen {
		return nil, false, corrupt(k, fmt.Errorf("chunk manifest of %d bytes", len(m)))
	}
	n, chunks := int(binary.BigEndian.Uint32(m[4:])), manifestChunks(m)
	if n > maxChunkedLen || chunks == 0 || chunks != chunkCount(n) {
		return nil, false, corrupt(k, fmt.Errorf("chunk manifest: %d bytes in %d chunks", n, chunks))
	}
	if v, err = s.readChunks(ctx, k.Bytes(), n, chunks); err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// readChunks reads the chunks of a value of n bytes under k: on Pebble
// with one iterator over the chunk keys (they sort in chunk order), else
// one Get each.
func (s *Store) readChunks(ctx context.Context, k []byte, n, chunks int) ([]byte, error) {
	v := make([]byte, 0, n)
	kb := appendChunkKey(nil, k, 0)
	add := func(i int, key, c []byte) error {
		want := min(chunkSize, n-i*chunkSize)
		if key == nil || !bytes.Equal(key, kb) || len(c) != want {
			return corrupt(ds.RawKey(string(kb)), fmt.Errorf("chunk %d of %d: %d bytes under %q, want %d", i, chunks, len(c), key, want))
		}
		v = append(v, c...)
		return nil
	}
	if s.db == nil {
		for i := range chunks {
			kb = appendChunkKey(kb[:0], k, i)
			c, ok, err := s.get(ctx, ds.RawKey(string(kb)))
			if err != nil {
				return nil, err
			}
			key := kb
			if !ok {
				key = nil
			}
			if err := add(i, key, c); err != nil {
				return nil, err
			}
		}
		return v, nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: kb, UpperBound: appendChunkKey(nil, k, chunks)})
	if err != nil {
		return nil, err
	}
	ok := it.First()
	for i := range chunks {
		kb = appendChunkKey(kb[:0], k, i)
		var key, c []byte
		if ok {
			key = it.Key()
			if c, err = it.ValueAndErr(); err != nil {
				_ = it.Close()
				return nil, err
			}
		}
		if err := add(i, key, c); err != nil {
			_ = it.Close()
			return nil, err
		}
		ok = it.Next()
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return nil, err
	}
	return v, it.Close()
}
