package store

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/ipfs/go-datastore/query"

	"github.com/zwnode/zwnode/chain"
)

// authEntry is an authority set and the first height it certifies.
type authEntry struct {
	height uint64
	list   []chain.Authority
}

// encodeAuthorities checks the set and encodes it: a uint32 count, then per
// authority string(Department) ‖ string(Name) ‖ PubKey.
func encodeAuthorities(auths []chain.Authority) ([]byte, error) {
	if _, err := chain.NewAuthoritySet(auths); err != nil {
		return nil, err
	}
	e := chain.NewEncoder(len(auths) * 96)
	e.Uint32(uint32(len(auths)))
	for _, a := range auths {
		e.String(a.Department)
		e.String(a.Name)
		e.Raw(a.PubKey[:])
	}
	return e.Bytes(), nil
}

func decodeAuthorities(v []byte) ([]chain.Authority, error) {
	d := chain.NewDecoder(v)
	n := d.Count(chain.MaxAuthorities, 8+chain.PublicKeySize)
	out := make([]chain.Authority, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		out[i].Department = d.String(64)
		out[i].Name = d.String(1024)
		d.Raw(out[i].PubKey[:])
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	if _, err := chain.NewAuthoritySet(out); err != nil {
		return nil, err
	}
	return out, nil
}

func cloneAuthorities(a []chain.Authority) []chain.Authority { return slices.Clone(a) }

// loadAuthorities reads every stored set; there is one per change, so few.
func (s *Store) loadAuthorities(ctx context.Context) ([]authEntry, error) {
	res, err := s.d.Query(ctx, query.Query{Prefix: prefixAuth, Orders: []query.Order{query.OrderByKey{}}})
	if err != nil {
		return nil, fmt.Errorf("query authority sets: %w", err)
	}
	entries, err := res.Rest()
	if err != nil {
		return nil, fmt.Errorf("query authority sets: %w", err)
	}
	out := make([]authEntry, 0, len(entries))
	for _, e := range entries {
		h, ok := parseHexHeight(e.Key[len(prefixAuth)+1:])
		if !ok {
			return nil, fmt.Errorf("%w: key %s is not an authority-set key", ErrCorrupt, e.Key)
		}
		list, err := decodeAuthorities(e.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: key %s: %v", ErrCorrupt, e.Key, err)
		}
		out = append(out, authEntry{height: h, list: list})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].height < out[j].height })
	return out, nil
}

// Authorities returns the authority set that certifies blocks at height:
// the last set stored at or below it. ErrNotFound before Init.
func (s *Store) Authorities(ctx context.Context, height uint64) ([]chain.Authority, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.auths), func(i int) bool { return s.auths[i].height > height })
	if i == 0 {
		return nil, fmt.Errorf("authority set at height %d: %w", height, ErrNotFound)
	}
	return cloneAuthorities(s.auths[i-1].list), nil
}

// SaveAuthorities records the set effective from height on, durably. The
// height must be above the head: history is never rewritten. Changes decided
// by a block are better passed to CommitBlock with WithAuthorities, so they
// land in the same batch as the block.
func (s *Store) SaveAuthorities(ctx context.Context, height uint64, auths []chain.Authority) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.writable(); err != nil {
		return fmt.Errorf("save authorities at height %d: %w", height, err)
	}
	if h, _ := s.Head(); height <= h {
		return fmt.Errorf("save authorities at height %d: %w: at or below head %d", height, chain.ErrInvalid, h)
	}
	v, err := encodeAuthorities(auths)
	if err != nil {
		return fmt.Errorf("save authorities at height %d: %w", height, err)
	}
	if err := s.d.Put(ctx, authKey(height), v); err != nil {
		return fmt.Errorf("save authorities at height %d: %w", height, err)
	}
	if err := s.sync(ctx); err != nil {
		return fmt.Errorf("save authorities at height %d: %w", height, err)
	}
	s.setAuthorities(height, auths)
	return nil
}

// setAuthorities updates the cache after a durable write.
func (s *Store) setAuthorities(height uint64, auths []chain.Authority) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := authEntry{height: height, list: cloneAuthorities(auths)}
	i := sort.Search(len(s.auths), func(i int) bool { return s.auths[i].height >= height })
	if i < len(s.auths) && s.auths[i].height == height {
		s.auths[i] = e
		return
	}
	s.auths = slices.Insert(s.auths, i, e)
}
