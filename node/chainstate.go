package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// fatalError marks an error after which the node must stop: storage
// failures and state divergence.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatal(err error) error {
	if err == nil {
		return nil
	}
	return &fatalError{err: err}
}

func isFatal(err error) bool {
	var f *fatalError
	return errors.As(err, &f)
}

// chainState is the committed head as the consensus loop sees it. It is
// replaced, never mutated, so readers can hold a snapshot.
type chainState struct {
	height     uint64
	hash       chain.Hash
	time       int64
	stateRoot  chain.Hash
	lastCommit *chain.Commit
	// sets holds the authority sets for height+1 and height+2.
	sets map[uint64]*chain.AuthoritySet
}

func (n *Node) chainState() *chainState { return n.cs.Load() }

// authorities is the set deciding the next height.
func (n *Node) authorities() *chain.AuthoritySet {
	cs := n.chainState()
	return cs.sets[cs.height+1]
}

// setAt returns the authority set for height h if it is known in memory
// (the next two heights) or in the store.
func (n *Node) setAt(h uint64) (*chain.AuthoritySet, error) {
	cs := n.chainState()
	if s, ok := cs.sets[h]; ok {
		return s, nil
	}
	list, err := n.store.Authorities(context.Background(), h)
	if err != nil {
		return nil, fmt.Errorf("authority set at height %d: %w", h, err)
	}
	return chain.NewAuthoritySet(list)
}

// verifyCertified checks a block fetched by sync against the head it must
// extend and the set that must certify it.
func (n *Node) verifyCertified(cs *chainState, cb certified) error {
	b := cb.block
	h := b.Height()
	if !cb.basicOK {
		if err := b.ValidateBasic(); err != nil {
			return fmt.Errorf("sync: block %d: %w", h, err)
		}
	}
	if b.Header.ChainID != n.chainID {
		return fmt.Errorf("sync: block %d: %w", h, chain.ErrWrongChain)
	}
	if b.Header.PrevHash != cs.hash {
		return fmt.Errorf("sync: block %d: previous hash %s does not match head %s", h, b.Header.PrevHash.Short(), cs.hash.Short())
	}
	set := cs.sets[h]
	if b.Header.AuthoritySetHash != set.Hash() {
		return fmt.Errorf("sync: block %d: names authority set %s, expected %s", h, b.Header.AuthoritySetHash.Short(), set.Hash().Short())
	}
	if err := cb.commit.Verify(n.chainID, set, h, b.Hash()); err != nil {
		return fmt.Errorf("sync: block %d: %w", h, err)
	}
	return nil
}

// after returns the head after committing b (certified by c) on top of cs;
// next is the authority set b decided, effective at its height + 2, nil if
// none. commitBlock and the sync runs move the head the same way.
func (cs *chainState) after(b *chain.Block, c *chain.Commit, next []chain.Authority) (*chainState, error) {
	h := b.Height()
	ns := &chainState{
		height:     h,
		hash:       b.Hash(),
		time:       b.Header.Time,
		stateRoot:  b.Header.StateRoot,
		lastCommit: c,
		sets:       map[uint64]*chain.AuthoritySet{h + 1: cs.sets[h+1], h + 2: cs.sets[h+1]},
	}
	if next != nil {
		set, err := chain.NewAuthoritySet(next)
		if err != nil {
			return nil, fmt.Errorf("block %d decided an invalid authority set: %w", h, err)
		}
		ns.sets[h+2] = set
	}
	return ns, nil
}
