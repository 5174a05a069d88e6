package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	ds "github.com/ipfs/go-datastore"

	"github.com/zwnode/zwnode/chain"
)

// CommitOption adds something to a CommitBlock batch.
type CommitOption func(*commitExtras) error

type commitExtras struct {
	setAuths   bool
	authHeight uint64
	auths      []chain.Authority
	txHashes   []chain.Hash
}

// WithTxHashes hands over the block's transaction hashes, hashes[i] =
// b.Txs[i].Hash() (chain.TxHashes), which the caller has computed anyway,
// for the transaction and account indexes. A list of the wrong length is
// refused.
func WithTxHashes(hashes []chain.Hash) CommitOption {
	return func(x *commitExtras) error {
		x.txHashes = hashes
		return nil
	}
}

// WithAuthorities stores an authority-set change decided by the block, in
// the same batch: auths certify blocks from height effective on (the change
// rule is h + 2), which must be above the block's height.
func WithAuthorities(effective uint64, auths []chain.Authority) CommitOption {
	return func(x *commitExtras) error {
		x.setAuths, x.authHeight, x.auths = true, effective, auths
		return nil
	}
}

// CommitBlock appends the finalized block b with its certificate c and the
// ledger state changes executing it caused. Everything goes in one batch:
// block, certificate, block-hash, transaction, account and evidence indexes,
// state writes, any authority-set change, and the head pointer; the batch is
// durable when CommitBlock returns nil.
//
// It refuses, writing nothing: a block whose height is not head+1 or whose
// PrevHash is not the head hash (ErrNotNext); a block of another chain; a
// block or certificate failing ValidateBasic (body not matching header);
// a certificate that is not for this block; a state root other than
// StateRoot(HeadStateRoot(), writes) (ErrStateRoot). It does not verify
// signatures: the caller has verified c against the authority set.
func (s *Store) CommitBlock(ctx context.Context, b *chain.Block, c *chain.Commit, writes []Write, opts ...CommitOption) error {
	if b == nil || c == nil {
		return fmt.Errorf("commit block: %w: missing block or certificate", chain.ErrInvalid)
	}
	h := b.Header.Height
	if err := s.enter(); err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.writable(); err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	var x commitExtras
	for _, o := range opts {
		if err := o(&x); err != nil {
			return fmt.Errorf("commit block %d: %w", h, err)
		}
	}
	writes = NormalizeWrites(writes)
	s.mu.RLock()
	cur := s.head
	s.mu.RUnlock()
	hash, next, err := s.checkNext(cur, b, c, writes, &x)
	if err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	batch, err := s.newBatch(ctx, commitBatchSize(b, c, writes))
	if err != nil {
		return fmt.Errorf("commit block %d: new batch: %w", h, err)
	}
	if err := s.fillBatch(batch, b, hash, c, writes, &x, next); err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	if err := s.commitBatch(ctx, batch); err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	s.mu.Lock()
	s.head = next
	s.mu.Unlock()
	s.committed(next.height)
	if x.setAuths {
		s.setAuthorities(x.authHeight, x.auths)
	}
	return nil
}

// checkNext validates b against the head cur and returns its hash and the
// new head.
func (s *Store) checkNext(cur head, b *chain.Block, c *chain.Commit, writes []Write, x *commitExtras) (chain.Hash, head, error) {
	s.mu.RLock()
	chainID := s.chainID
	s.mu.RUnlock()
	hd := &b.Header
	if hd.Height != cur.height+1 {
		return chain.Hash{}, head{}, fmt.Errorf("%w: height %d, head is %d", ErrNotNext, hd.Height, cur.height)
	}
	if hd.PrevHash != cur.hash {
		return chain.Hash{}, head{}, fmt.Errorf("%w: previous hash %s, head is %s", ErrNotNext, hd.PrevHash.Short(), cur.hash.Short())
	}
	if hd.ChainID != chainID {
		return chain.Hash{}, head{}, fmt.Errorf("%w: block of chain %q, store holds %q", chain.ErrWrongChain, hd.ChainID, chainID)
	}
	if err := b.ValidateBasic(); err != nil {
		return chain.Hash{}, head{}, err
	}
	if err := c.ValidateBasic(); err != nil {
		return chain.Hash{}, head{}, fmt.Errorf("certificate: %w", err)
	}
	hash := b.Hash()
	if c.Height != hd.Height || c.BlockHash != hash {
		return chain.Hash{}, head{}, fmt.Errorf("%w: certificate is for block %s at height %d, not %s at %d", chain.ErrInvalid, c.BlockHash.Short(), c.Height, hash.Short(), hd.Height)
	}
	if x.txHashes != nil && len(x.txHashes) != len(b.Txs) {
		return chain.Hash{}, head{}, fmt.Errorf("%w: %d tx hashes for %d txs", chain.ErrInvalid, len(x.txHashes), len(b.Txs))
	}
	if err := checkWrites(writes); err != nil {
		return chain.Hash{}, head{}, err
	}
	root := StateRoot(cur.root, writes)
	if root != hd.StateRoot {
		return chain.Hash{}, head{}, fmt.Errorf("%w: header says %s, writes on %s give %s", ErrStateRoot, hd.StateRoot.Short(), cur.root.Short(), root.Short())
	}
	if x.setAuths {
		if x.authHeight <= hd.Height {
			return chain.Hash{}, head{}, fmt.Errorf("authority set: %w: effective at %d, not after block %d", chain.ErrInvalid, x.authHeight, hd.Height)
		}
		if _, err := chain.NewAuthoritySet(x.auths); err != nil {
			return chain.Hash{}, head{}, fmt.Errorf("authority set: %w", err)
		}
	}
	return hash, head{height: hd.Height, hash: hash, root: root}, nil
}

// fillBatch puts everything CommitBlock writes into batch. Keys of the
// per-transaction and state entries are built in one reused buffer.
func (s *Store) fillBatch(batch writeBatch, b *chain.Block, hash chain.Hash, c *chain.Commit, writes []Write, x *commitExtras, next head) error {
	h := b.Header.Height
	put := func(k ds.Key, v []byte) error {
		if err := batch.put(k.Bytes(), v); err != nil {
			return fmt.Errorf("put %s: %w", k, err)
		}
		return nil
	}
	if skip, prev := s.pendingAt(h, hash); !skip {
		bk := blockKey(h)
		if err := putBlock(batch, bk.Bytes(), b, prev); err != nil {
			return fmt.Errorf("put %s: %w", bk, err)
		}
	}
	if err := put(commitKey(h), c.Encode()); err != nil {
		return err
	}
	if err := put(hashKey(hash), encodeHeight(h)); err != nil {
		return err
	}
	var kb []byte
	var loc [12]byte
	acct := newAccountIndex(b.Txs)
	for i := range b.Txs {
		tx := &b.Txs[i]
		var th chain.Hash
		if x.txHashes != nil {
			th = x.txHashes[i]
		} else {
			th = tx.Hash()
		}
		binary.BigEndian.PutUint64(loc[:8], h)
		binary.BigEndian.PutUint32(loc[8:], uint32(i))
		kb = appendRawKey(kb[:0], prefixTx, th[:])
		if err := batch.put(kb, loc[:]); err != nil {
			return fmt.Errorf("put tx index %s: %w", th.Short(), err)
		}
		acct.add(i, th)
	}
	for g, a := range acct.accts {
		kb = appendAccountBlockKey(kb[:0], a, h)
		if err := batch.put(kb, acct.value(g)); err != nil {
			return fmt.Errorf("put account index of %s: %w", a.Short(), err)
		}
	}
	for i := range b.Evidence {
		if err := put(evidKey(b.Evidence[i].Hash()), encodeLocation(h, uint32(i))); err != nil {
			return err
		}
	}
	if err := putWrites(batch, writes); err != nil {
		return err
	}
	if x.setAuths {
		v, err := encodeAuthorities(x.auths)
		if err != nil {
			return fmt.Errorf("authority set: %w", err)
		}
		if err := put(authKey(x.authHeight), v); err != nil {
			return err
		}
	}
	return put(keyHead, next.encode())
}

// putWrites adds ledger state changes to a batch.
func putWrites(batch writeBatch, writes []Write) error {
	var kb []byte
	for _, w := range writes {
		kb = appendRawKey(kb[:0], prefixState, w.Key)
		var err error
		if w.Value == nil {
			err = batch.del(kb)
		} else {
			err = batch.put(kb, w.Value)
		}
		if err != nil {
			return fmt.Errorf("state write %q: %w", w.Key, err)
		}
	}
	return nil
}

// accountIndex builds a block's account index: one key per account, whose
// value lists the account's (index, hash) entries in block order. All
// values share one buffer; accounts keep the order of their first
// transaction.
type accountIndex struct {
	accts []chain.PublicKey
	gid   []int32 // group of each transaction
	start []int   // group g's value is buf[start[g]:start[g+1]]
	next  []int   // where group g's next entry goes
	buf   []byte
}

func newAccountIndex(txs []chain.Tx) *accountIndex {
	x := &accountIndex{gid: make([]int32, len(txs))}
	group := make(map[chain.PublicKey]int32, min(len(txs), 64))
	var counts []int
	for i := range txs {
		g, ok := group[txs[i].Account]
		if !ok {
			g = int32(len(x.accts))
			group[txs[i].Account] = g
			x.accts = append(x.accts, txs[i].Account)
			counts = append(counts, 0)
		}
		x.gid[i] = g
		counts[g]++
	}
	x.start = make([]int, len(counts)+1)
	for g, c := range counts {
		x.start[g+1] = x.start[g] + c*accountEntryLen
	}
	x.next = slices.Clone(x.start[:len(counts)])
	x.buf = make([]byte, x.start[len(counts)])
	return x
}

// add records transaction i (added in ascending order) and its hash.
func (x *accountIndex) add(i int, th chain.Hash) {
	g := x.gid[i]
	e := x.buf[x.next[g]:]
	binary.BigEndian.PutUint32(e, uint32(i))
	copy(e[4:accountEntryLen], th[:])
	x.next[g] += accountEntryLen
}

func (x *accountIndex) value(g int) []byte { return x.buf[x.start[g]:x.start[g+1]] }
