package store

import (
	"context"
	"fmt"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

	"github.com/zwnode/zwnode/chain"
)

// MaxAccountTxs caps one AccountTxs answer.
const MaxAccountTxs = 10_000

// TxRef locates a committed transaction.
type TxRef struct {
	Hash   chain.Hash
	Height uint64
	Index  uint32
}

// read reads one key under the lifetime lock, reporting absence as
// ErrNotFound.
func (s *Store) read(ctx context.Context, k ds.Key, what string) ([]byte, error) {
	return s.readWith(ctx, k, what, s.get)
}

// readWith is read with another getter (getChunked for large values).
func (s *Store) readWith(ctx context.Context, k ds.Key, what string, get func(context.Context, ds.Key) ([]byte, bool, error)) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer s.life.RUnlock()
	v, ok, err := get(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !ok {
		return nil, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return v, nil
}

// RawBlock returns the canonical encoding of the block at height h, as sync
// peers want it, without decoding it; ErrNotFound above the head (a
// pending block there is not finalized).
func (s *Store) RawBlock(ctx context.Context, h uint64) ([]byte, error) {
	if err := s.finalized(h); err != nil {
		return nil, err
	}
	return s.rawBlock(ctx, h)
}

// Block returns the block at height h, or ErrNotFound.
func (s *Store) Block(ctx context.Context, h uint64) (*chain.Block, error) {
	if err := s.finalized(h); err != nil {
		return nil, err
	}
	return s.block(ctx, h)
}

// finalized is ErrNotFound for a height above the head (ErrClosed once
// the store is closed).
func (s *Store) finalized(h uint64) error {
	if err := s.enter(); err != nil {
		return fmt.Errorf("block %d: %w", h, err)
	}
	defer s.life.RUnlock()
	head, _ := s.Head()
	if h > head {
		return fmt.Errorf("block %d: %w (the head is at %d)", h, ErrNotFound, head)
	}
	return nil
}

func (s *Store) rawBlock(ctx context.Context, h uint64) ([]byte, error) {
	return s.readWith(ctx, blockKey(h), fmt.Sprintf("block %d", h), s.getChunked)
}

// block decodes the block under h's key, whatever the head.
func (s *Store) block(ctx context.Context, h uint64) (*chain.Block, error) {
	v, err := s.rawBlock(ctx, h)
	if err != nil {
		return nil, err
	}
	b, err := chain.DecodeBlock(v)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", h, corrupt(blockKey(h), err))
	}
	return b, nil
}

// RawCommit returns the encoding of the certificate that finalized the
// block at height h, as sync peers want it, without decoding it.
func (s *Store) RawCommit(ctx context.Context, h uint64) ([]byte, error) {
	return s.read(ctx, commitKey(h), fmt.Sprintf("certificate %d", h))
}

// Commit returns the certificate that finalized the block at height h.
func (s *Store) Commit(ctx context.Context, h uint64) (*chain.Commit, error) {
	v, err := s.RawCommit(ctx, h)
	if err != nil {
		return nil, err
	}
	c, err := chain.DecodeCommit(v)
	if err != nil {
		return nil, fmt.Errorf("certificate %d: %w", h, corrupt(commitKey(h), err))
	}
	return c, nil
}

// HeightOf returns the height of the committed block with this hash.
func (s *Store) HeightOf(ctx context.Context, hash chain.Hash) (uint64, error) {
	k := hashKey(hash)
	v, err := s.read(ctx, k, "block "+hash.Short())
	if err != nil {
		return 0, err
	}
	return decodeHeight(k, v)
}

// BlockByHash returns the committed block with this hash.
func (s *Store) BlockByHash(ctx context.Context, hash chain.Hash) (*chain.Block, error) {
	h, err := s.HeightOf(ctx, hash)
	if err != nil {
		return nil, err
	}
	return s.Block(ctx, h)
}

// TxLocation returns the height and index of a committed transaction.
func (s *Store) TxLocation(ctx context.Context, txHash chain.Hash) (height uint64, index uint32, err error) {
	k := txKey(txHash)
	v, err := s.read(ctx, k, "tx "+txHash.Short())
	if err != nil {
		return 0, 0, err
	}
	return decodeLocation(k, v)
}

// Tx returns a committed transaction and where it is.
func (s *Store) Tx(ctx context.Context, txHash chain.Hash) (*chain.Tx, TxRef, error) {
	h, i, err := s.TxLocation(ctx, txHash)
	if err != nil {
		return nil, TxRef{}, err
	}
	b, err := s.Block(ctx, h)
	if err != nil {
		return nil, TxRef{}, err
	}
	if int(i) >= len(b.Txs) {
		return nil, TxRef{}, fmt.Errorf("tx %s: %w: index %d, block %d has %d txs", txHash.Short(), ErrCorrupt, i, h, len(b.Txs))
	}
	return &b.Txs[i], TxRef{Hash: txHash, Height: h, Index: i}, nil
}

// EvidenceLocation returns where a piece of evidence was committed, so it is
// not committed twice.
func (s *Store) EvidenceLocation(ctx context.Context, evHash chain.Hash) (height uint64, index uint32, err error) {
	k := evidKey(evHash)
	v, err := s.read(ctx, k, "evidence "+evHash.Short())
	if err != nil {
		return 0, 0, err
	}
	return decodeLocation(k, v)
}

// AccountTxs returns up to limit (at most MaxAccountTxs) transactions signed
// by acct, newest first.
func (s *Store) AccountTxs(ctx context.Context, acct chain.PublicKey, limit int) ([]TxRef, error) {
	return s.accountTxs(ctx, acct, nil, limit)
}

// AccountTxsBefore pages through an account's history: like AccountTxs, but
// only transactions strictly older than position (height, index), which is
// typically the last TxRef of the previous page.
func (s *Store) AccountTxsBefore(ctx context.Context, acct chain.PublicKey, height uint64, index uint32, limit int) ([]TxRef, error) {
	return s.accountTxs(ctx, acct, &TxRef{Height: height, Index: index}, limit)
}

// accountTxs reads acct's index backwards, from the newest transaction or,
// with before set, from the newest older than before.
func (s *Store) accountTxs(ctx context.Context, acct chain.PublicKey, before *TxRef, limit int) ([]TxRef, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("account txs: %w: limit %d, must be positive", chain.ErrInvalid, limit)
	}
	limit = min(limit, MaxAccountTxs)
	if err := s.enter(); err != nil {
		return nil, fmt.Errorf("account txs: %w", err)
	}
	defer s.life.RUnlock()
	// Every index key holds at least one transaction, so limit keys are
	// enough, plus one for the key of before's block, which may hold
	// none older than before. The upper bound (accountPageBound) keeps the
	// block key of before's height and excludes later heights.
	var upper string
	keys := limit
	if before != nil {
		upper = accountPageBound(acct, before.Height, before.Index)
		keys++
	}
	var out []TxRef
	add := func(k string, v []byte) error {
		refs, err := parseAccountIndex(k, v)
		if err != nil {
			return err
		}
		for j := len(refs) - 1; j >= 0 && len(out) < limit; j-- {
			r := refs[j]
			if before != nil && (r.Height > before.Height || r.Height == before.Height && r.Index >= before.Index) {
				continue
			}
			out = append(out, r)
		}
		return nil
	}
	var err error
	if s.db != nil {
		err = s.scanPebbleBackward(accountPrefix(acct)+"/", upper, keys, add)
	} else {
		err = s.scanQueryBackward(ctx, accountPrefix(acct), upper, keys, add)
	}
	if err != nil {
		return nil, fmt.Errorf("account txs of %s: %w", acct.Short(), err)
	}
	return out, nil
}

// scanQueryBackward visits up to limit keys under prefix below before,
// newest first, through the datastore query interface.
func (s *Store) scanQueryBackward(ctx context.Context, prefix, before string, limit int, fn func(k string, v []byte) error) error {
	q := query.Query{Prefix: prefix, Orders: []query.Order{query.OrderByKeyDescending{}}, Limit: limit}
	if before != "" {
		q.Filters = []query.Filter{query.FilterKeyCompare{Op: query.LessThan, Key: before}}
	}
	res, err := s.d.Query(ctx, q)
	if err != nil {
		return err
	}
	defer res.Close()
	for r := range res.Next() {
		if r.Error != nil {
			return r.Error
		}
		if err := fn(r.Key, r.Value); err != nil {
			return err
		}
	}
	return nil
}
