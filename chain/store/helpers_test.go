package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/zwnode/zwnode/chain"
)

const testChain = "zw-test"

// key returns a deterministic key named by a label.
func key(label string) *chain.PrivateKey {
	seed := sha256.Sum256([]byte("store-test/" + label))
	return chain.PrivateKeyFromSeed(seed[:])
}

// validators are the fixed test authorities "A".."D".
var validators = []*chain.PrivateKey{key("A"), key("B"), key("C"), key("D")}

func testGenesis(chainID string) *chain.Genesis {
	g := &chain.Genesis{
		ChainID:     chainID,
		GenesisTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Params:      chain.DefaultParams(),
	}
	for i, k := range validators {
		g.Authorities = append(g.Authorities, chain.Authority{
			Department: fmt.Sprintf("dept-%c", 'a'+i), Name: fmt.Sprintf("Dept %c", 'A'+i), PubKey: k.Public(),
		})
	}
	return g
}

func newMapStore(t testing.TB) (*Store, ds.Batching) {
	t.Helper()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	s, err := Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(context.Background(), testGenesis(testChain)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, d
}

// makeTx signs a transaction of account acct.
func makeTx(acct *chain.PrivateKey, nonce uint64, payload []byte) chain.Tx {
	tx := chain.Tx{ChainID: testChain, Nonce: nonce, Type: "record.put", Payload: payload}
	tx.Sign(acct)
	return tx
}

// nextBlock builds the block after s's head with txs and a certificate signed
// by a quorum, and a state root matching writes.
func nextBlock(t testing.TB, s *Store, txs []chain.Tx, writes []Write, evs ...chain.Evidence) (*chain.Block, *chain.Commit) {
	t.Helper()
	h, prev := s.Head()
	b := &chain.Block{
		Header: chain.Header{
			ChainID: testChain, Height: h + 1, Time: int64(1_700_000_000_000 + h), PrevHash: prev,
			StateRoot: s.NextStateRoot(writes), Proposer: validators[int(h+1)%len(validators)].Public(),
			AuthoritySetHash: testGenesis(testChain).AuthoritySet().Hash(),
		},
		Txs:      txs,
		Evidence: evs,
	}
	if h > 0 {
		lc, err := s.Commit(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		b.LastCommit = lc
	}
	b.Fill()
	return b, certify(t, b)
}

// certify returns a certificate of three precommits for b.
func certify(t testing.TB, b *chain.Block) *chain.Commit {
	t.Helper()
	var votes []*chain.Vote
	for _, k := range validators[:3] {
		v := &chain.Vote{Type: chain.Precommit, Height: b.Header.Height, BlockHash: b.Hash()}
		v.Sign(testChain, k)
		votes = append(votes, v)
	}
	c, err := chain.NewCommit(votes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// commitNext builds and commits the next block.
func commitNext(t testing.TB, s *Store, txs []chain.Tx, writes []Write) *chain.Block {
	t.Helper()
	b, c := nextBlock(t, s, txs, writes)
	if err := s.CommitBlock(context.Background(), b, c, writes); err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshot returns every key and value in d, to prove that nothing changed.
func snapshot(t testing.TB, d ds.Datastore) map[string]string {
	t.Helper()
	res, err := d.Query(context.Background(), query.Query{})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.Key] = string(e.Value)
	}
	return out
}

func sameSnapshot(t testing.TB, before, after map[string]string) {
	t.Helper()
	var diff []string
	for k, v := range before {
		if w, ok := after[k]; !ok || w != v {
			diff = append(diff, "changed or deleted "+k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diff = append(diff, "added "+k)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("datastore changed: %v", diff)
	}
}

// u64 is an 8-byte big-endian value for state writes.
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// backendStore opens an initialised store on a map datastore ("map") or on
// Pebble in a temporary directory ("pebble"), and a reopen function that
// closes the store it last returned (Pebble only: a map datastore has
// nothing to close) and opens the same data again.
func backendStore(t *testing.T, backend string) (*Store, func() *Store) {
	t.Helper()
	ctx := context.Background()
	if backend == "map" {
		s, d := newMapStore(t)
		return s, func() *Store {
			t.Helper()
			s2, err := Open(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			return s2
		}
	}
	dir := t.TempDir()
	open := func() *Store {
		s := openPebbleStore(t, dir)
		t.Cleanup(func() { _ = s.Close() }) // Close is idempotent
		return s
	}
	cur := open()
	return cur, func() *Store {
		t.Helper()
		if err := cur.Close(); err != nil {
			t.Fatal(err)
		}
		cur = open()
		return cur
	}
}
