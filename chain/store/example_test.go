package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"time"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/store"
)

// Example shows a node's use of the store: open Pebble, tie it to the
// genesis, execute a block on an Overlay, put the resulting state root in
// the header, and commit block, certificate and writes in one durable batch.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "zwstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	seed := sha256.Sum256([]byte("example authority"))
	auth := chain.PrivateKeyFromSeed(seed[:])
	g := &chain.Genesis{
		ChainID:     "zw-example",
		GenesisTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Authorities: []chain.Authority{{Department: "tax", PubKey: auth.Public()}},
		Params:      chain.DefaultParams(),
	}

	d, err := store.OpenPebble(dir)
	if err != nil {
		panic(err)
	}
	s, err := store.Open(ctx, d)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if err := s.Init(ctx, g); err != nil {
		panic(err)
	}

	// Execute: the ledger reads and writes through an overlay.
	state := store.NewOverlay(s.StateKV(ctx))
	state.Set([]byte("acct/tax-admin/nonce"), []byte{2})
	writes := state.Writes()

	height, prev := s.Head()
	b := &chain.Block{Header: chain.Header{
		ChainID: g.ChainID, Height: height + 1, Time: 1_767_225_600_000, PrevHash: prev,
		StateRoot: s.NextStateRoot(writes), Proposer: auth.Public(),
		AuthoritySetHash: g.AuthoritySet().Hash(),
	}}
	b.Fill()
	v := &chain.Vote{Type: chain.Precommit, Height: b.Header.Height, BlockHash: b.Hash()}
	v.Sign(g.ChainID, auth)
	cert, err := chain.NewCommit([]*chain.Vote{v})
	if err != nil {
		panic(err)
	}
	if err := s.CommitBlock(ctx, b, cert, writes); err != nil {
		panic(err)
	}

	h, _ := s.Head()
	val, _, _ := s.State(ctx, []byte("acct/tax-admin/nonce"))
	fmt.Println("head", h, "nonce", val[0])
	// Output: head 1 nonce 2
}
