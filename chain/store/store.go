package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	ds "github.com/ipfs/go-datastore"
	pebbleds "github.com/ipfs/go-ds-pebble"

	"github.com/zwnode/zwnode/chain"
)

// Store is a node's finalized chain. It is safe for concurrent use; writers
// are serialized, readers see either the old or the new head.
type Store struct {
	d ds.Batching
	// db is the Pebble database under d, when there is one, for bounded
	// range scans the datastore query interface cannot express.
	db *pebble.DB
	// durable is true when every batch commit and put is already fsynced
	// (Pebble opened by OpenPebble), so no separate Sync is needed.
	durable bool
	// readers serves State's point reads on OpenPebble's store (see
	// readers); nil otherwise.
	readers *readers

	// life guards closed: operations hold it shared, Close exclusively, so
	// the datastore is never used after it is closed.
	life   sync.RWMutex
	closed bool

	// writeMu serializes writers (CommitBlock, runs, Init,
	// SaveAuthorities, WriteSignState) and guards pending.
	writeMu sync.Mutex
	pending pendingBlock

	// mu guards the cached metadata below.
	mu      sync.RWMutex
	chainID string
	genesis chain.Hash
	head    head
	inited  bool
	auths   []authEntry // sorted by height
	failed  error       // sticky sync failure
}

// Open reads the head and metadata from d. The Store takes ownership of d:
// Close closes it. An empty datastore is fine; Init then records the genesis.
func Open(ctx context.Context, d ds.Batching) (*Store, error) {
	s := &Store{d: d}
	switch v := d.(type) {
	case *PebbleDatastore:
		// Only with OpenPebble's bloom filters on every level: without
		// them a reused iterator's seek reads data blocks of every level
		// and is slower than a Get, not faster.
		s.db, s.durable = v.DB, true
		s.readers = &readers{db: v.DB}
	case *pebbleds.Datastore:
		s.db = v.DB
	}
	id, ok, err := s.get(ctx, keyChainID)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if !ok {
		return s, nil
	}
	fv, ok, err := s.get(ctx, keyFormat)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	format := decodeFormat(fv, ok)
	if format != storeFormat {
		return nil, fmt.Errorf("open store: %w: the data directory holds chain %q in storage format %d, this zwnode reads format %d; move the data directory away and start the node again to sync the chain from its peers",
			ErrFormat, id, format, storeFormat)
	}
	s.chainID = string(id)
	gv, ok, err := s.get(ctx, keyGenesis)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("open store: %w: chain id recorded without genesis hash", ErrCorrupt)
	}
	if s.genesis, err = decodeHash(keyGenesis, gv); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	hv, ok, err := s.get(ctx, keyHead)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("open store: %w: chain id recorded without head", ErrCorrupt)
	}
	if s.head, err = decodeHead(hv); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if s.auths, err = s.loadAuthorities(ctx); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.loadPending(ctx); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.inited = true
	return s, nil
}

// Init ties the store to a chain. On first start it records the chain id,
// the genesis hash, the genesis authority set (effective from height 1) and
// the ledger's initial state, genesisWrites; the genesis state root, which
// block 1's state root builds on, is StateRoot(genesis hash, genesisWrites).
// On later starts it only checks that g is the genesis the store was
// created with (genesisWrites are then ignored) and refuses anything else
// with ErrGenesisMismatch.
func (s *Store) Init(ctx context.Context, g *chain.Genesis, genesisWrites ...Write) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("init store: %w", err)
	}
	gh := g.Hash()
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	s.mu.RLock()
	inited, chainID, stored := s.inited, s.chainID, s.genesis
	s.mu.RUnlock()
	if inited {
		if chainID != g.ChainID || stored != gh {
			return fmt.Errorf("init store: %w: the data directory holds chain %q with genesis %s, the genesis file is chain %q with genesis %s; use the genesis this node was created with or a new data directory",
				ErrGenesisMismatch, chainID, stored, g.ChainID, gh)
		}
		return nil
	}
	writes := NormalizeWrites(genesisWrites)
	if err := checkWrites(writes); err != nil {
		return fmt.Errorf("init store: genesis state: %w", err)
	}
	auths, err := encodeAuthorities(g.Authorities)
	if err != nil {
		return fmt.Errorf("init store: %w", err)
	}
	h := head{height: 0, hash: gh, root: StateRoot(gh, writes)}
	b, err := s.newBatch(ctx, 0)
	if err != nil {
		return fmt.Errorf("init store: new batch: %w", err)
	}
	ops := []struct {
		k ds.Key
		v []byte
	}{
		{keyFormat, encodeFormat(storeFormat)},
		{keyChainID, []byte(g.ChainID)},
		{keyGenesis, bytes.Clone(gh[:])},
		{authKey(1), auths},
		{keyHead, h.encode()},
	}
	for _, op := range ops {
		if err := b.put(op.k.Bytes(), op.v); err != nil {
			return fmt.Errorf("init store: put %s: %w", op.k, err)
		}
	}
	if err := putWrites(b, writes); err != nil {
		return fmt.Errorf("init store: %w", err)
	}
	if err := s.commitBatch(ctx, b); err != nil {
		return fmt.Errorf("init store: %w", err)
	}
	s.mu.Lock()
	s.chainID, s.genesis, s.head, s.inited = g.ChainID, gh, h, true
	s.auths = []authEntry{{height: 1, list: cloneAuthorities(g.Authorities)}}
	s.mu.Unlock()
	return nil
}

// Head returns the last committed block's height and hash: 0 and the genesis
// hash before block 1 (zero values before Init).
func (s *Store) Head() (height uint64, hash chain.Hash) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head.height, s.head.hash
}

// HeadStateRoot is the state root after the head block (the genesis state
// root before block 1): the prev argument of StateRoot for the next block.
func (s *Store) HeadStateRoot() chain.Hash {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head.root
}

// NextStateRoot is the state root the next block must carry if it causes
// writes: StateRoot(HeadStateRoot(), writes).
func (s *Store) NextStateRoot(writes []Write) chain.Hash {
	return StateRoot(s.HeadStateRoot(), writes)
}

// ChainID returns the recorded chain id ("" before Init).
func (s *Store) ChainID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.chainID
}

// GenesisHash returns the recorded genesis hash (zero before Init).
func (s *Store) GenesisHash() chain.Hash {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.genesis
}

// Close closes the datastore. Later calls return ErrClosed; Close itself is
// idempotent.
func (s *Store) Close() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.readers != nil {
		s.readers.invalidate() // Pebble refuses to close under open iterators
	}
	if err := s.d.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// enter takes the shared lifetime lock; the caller must RUnlock it when
// enter returns nil.
func (s *Store) enter() error {
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return ErrClosed
	}
	return nil
}

// get reads a key, reporting absence as ok == false.
func (s *Store) get(ctx context.Context, k ds.Key) ([]byte, bool, error) {
	v, err := s.d.Get(ctx, k)
	if errors.Is(err, ds.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s: %w", k, err)
	}
	return v, true, nil
}

// writable reports a sticky failure, or ErrNotInitialized.
func (s *Store) writable() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.failed != nil {
		return fmt.Errorf("%w: %v", ErrFailed, s.failed)
	}
	if !s.inited {
		return ErrNotInitialized
	}
	return nil
}

// commitBatch commits b and makes it durable. A failed commit wrote nothing
// (batches are atomic) and leaves the store usable; a failed sync after a
// successful commit is sticky, since the data may be visible but not on
// disk.
func (s *Store) commitBatch(ctx context.Context, b writeBatch) error {
	if err := b.commit(ctx); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	if s.readers != nil {
		s.readers.invalidate()
	}
	return s.sync(ctx)
}

func (s *Store) sync(ctx context.Context) error {
	if s.durable {
		return nil
	}
	if err := s.d.Sync(ctx, ds.RawKey("/")); err != nil {
		s.mu.Lock()
		s.failed = err
		s.mu.Unlock()
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// SaveSignState stores the consensus engine's sign-state and returns only
// once it is durable, so a message signed after it can never be signed
// differently after a restart.
func (s *Store) SaveSignState(ctx context.Context, v []byte) error {
	return s.WriteSignState(ctx, len(v), func(dst []byte) error {
		copy(dst, v)
		return nil
	}, nil)
}

// WriteSignState is SaveSignState for a record of n bytes that encode
// writes into the buffer it is handed: on a store opened by OpenPebble that
// is the write batch's own memory. If encode fails nothing is written.
//
// valid, if not nil, is the valid block the record names: it must be at
// the height after the head, and is stored in the same synced batch under
// that height's block key (pending.go), unless it is already there. Read
// it back with PendingBlock; a commit of the same block does not write it
// again.
func (s *Store) WriteSignState(ctx context.Context, n int, encode func(dst []byte) error, valid *chain.Block) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	prev, err := s.signStateChunks(ctx)
	if err != nil {
		return fmt.Errorf("save sign-state: %w", err)
	}
	k := keySignState.Bytes()
	size := 12 + chunkedBatchSize(len(k), n) + prev*(batchRecordOverhead+len(k)+9)
	if valid != nil {
		size += s.validBatchSize(valid)
	}
	batch, err := s.newBatch(ctx, size)
	if err != nil {
		return fmt.Errorf("save sign-state: %w", err)
	}
	if err := putChunked(batch, k, n, encode, prev); err != nil {
		return fmt.Errorf("save sign-state: %w", err)
	}
	pending := s.pending
	if valid != nil {
		if pending, err = s.putValid(batch, valid); err != nil {
			return fmt.Errorf("save sign-state: %w", err)
		}
	}
	if err := batch.commit(ctx); err != nil {
		return fmt.Errorf("save sign-state: %w", err)
	}
	s.pending = pending // what the store now holds, synced or not
	if err := s.sync(ctx); err != nil {
		return fmt.Errorf("save sign-state: %w", err)
	}
	return nil
}

// signStateChunks returns the stored sign-state's chunk count (0: whole or
// none) from its manifest: one small read per save, which a save's fsync
// dwarfs.
func (s *Store) signStateChunks(ctx context.Context) (int, error) {
	m, ok, err := s.get(ctx, keySignState)
	if err != nil || !ok {
		return 0, err
	}
	return manifestChunks(m), nil
}

// LoadSignState returns the last saved sign-state, ok == false if none.
func (s *Store) LoadSignState(ctx context.Context) ([]byte, bool, error) {
	if err := s.enter(); err != nil {
		return nil, false, err
	}
	defer s.life.RUnlock()
	v, ok, err := s.getChunked(ctx, keySignState)
	if err != nil {
		return nil, false, fmt.Errorf("load sign-state: %w", err)
	}
	return v, ok, nil
}
