package store

import (
	"bytes"
	"context"

	"github.com/cockroachdb/pebble/v2"
	ds "github.com/ipfs/go-datastore"

	"github.com/zwnode/zwnode/chain"
)

// writeBatch is an atomic batch of writes. put and del may be handed
// buffers the caller reuses once they return.
type writeBatch interface {
	put(k, v []byte) error
	// putFunc puts a value of n bytes that fill writes into the buffer it
	// is given: a multi-MB block is encoded straight into the batch
	// instead of into a buffer of its own first.
	putFunc(k []byte, n int, fill func([]byte) error) error
	del(k []byte) error
	commit(ctx context.Context) error
}

// sizedBatch is a synced Pebble batch allocated at its expected size. A
// block's batch holds the whole block, its state writes and indexes, a few
// MB at full load; go-ds-pebble's batches start small and double, so a
// 5 MB batch went through buffers of 1, 2, 4 and 8 MB, and a batch of
// more than half a memtable — which Pebble keeps as its own memtable until
// it is flushed — held up to twice its size in the Go heap. Keys and
// values are copied into the batch, so callers build them in reused
// buffers instead of a datastore key (two allocations) per entry.
type sizedBatch struct{ b *pebble.Batch }

func (p *sizedBatch) put(k, v []byte) error { return p.b.Set(k, v, nil) }
func (p *sizedBatch) del(k []byte) error    { return p.b.Delete(k, nil) }

func (p *sizedBatch) putFunc(k []byte, n int, fill func([]byte) error) error {
	op := p.b.SetDeferred(len(k), n)
	copy(op.Key, k)
	if err := fill(op.Value); err != nil {
		return err
	}
	return op.Finish()
}

// commit writes the batch durably and releases it; it cannot be reused.
func (p *sizedBatch) commit(context.Context) error {
	err := p.b.Commit(pebble.Sync)
	_ = p.b.Close()
	return err
}

// dsBatch is a datastore's own batch (the map datastore of tests, a
// go-ds-pebble store not opened by OpenPebble). Keys and values are
// copied: a map datastore keeps the slices it is given.
type dsBatch struct {
	ctx context.Context
	b   ds.Batch
}

func (d dsBatch) put(k, v []byte) error {
	return d.b.Put(d.ctx, ds.RawKey(string(k)), bytes.Clone(v))
}
func (d dsBatch) putFunc(k []byte, n int, fill func([]byte) error) error {
	v := make([]byte, n)
	if err := fill(v); err != nil {
		return err
	}
	return d.b.Put(d.ctx, ds.RawKey(string(k)), v)
}
func (d dsBatch) del(k []byte) error               { return d.b.Delete(d.ctx, ds.RawKey(string(k))) }
func (d dsBatch) commit(ctx context.Context) error { return d.b.Commit(ctx) }

// newBatch returns a batch with room for about size bytes of records: a
// sizedBatch on OpenPebble's store (which writes synced), the datastore's
// own batch otherwise.
func (s *Store) newBatch(ctx context.Context, size int) (writeBatch, error) {
	if s.durable && s.db != nil {
		return &sizedBatch{b: s.db.NewBatchWithSize(size)}, nil
	}
	b, err := s.d.Batch(ctx)
	if err != nil {
		return nil, err
	}
	return dsBatch{ctx: ctx, b: b}, nil
}

// batchRecordOverhead bounds what a Pebble batch adds to a key and value:
// a kind byte and two varint lengths.
const batchRecordOverhead = 1 + 2*5

// commitBatchSize is about the size of the batch CommitBlock fills for b:
// block, certificate, hash, tx and account index entries, state writes and
// head. An estimate only: the batch grows if it is short.
func commitBatchSize(b *chain.Block, c *chain.Commit, writes []Write) int {
	n := 12 + 4*(batchRecordOverhead+64) // header, and keys of fixed size
	n += chunkedBatchSize(len(blockKey(b.Height()).String()), b.EncodedLen()) + 48 + len(c.Signatures)*(chain.PublicKeySize+chain.SignatureSize)
	// Per tx: its tx index entry and account index entry, and at most one
	// account index key (one per account in the block).
	const perTx = batchRecordOverhead + (len(prefixTx) + 2 + chain.HashSize + 12) + accountEntryLen
	const perAccount = batchRecordOverhead + accountBlockKeyLen
	n += len(b.Txs) * (perTx + perAccount)
	for _, w := range writes {
		n += batchRecordOverhead + len(prefixState) + 2 + len(w.Key) + len(w.Value)
	}
	return n
}
