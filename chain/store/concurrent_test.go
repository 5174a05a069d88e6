package store

import (
	"context"
	"sync"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// TestReadersDuringCommits checks, under -race, that readers never see a
// head whose block, certificate or state is missing: the head moves only
// after the batch is in.
func TestReadersDuringCommits(t *testing.T) {
	ctx := context.Background()
	s := openPebbleStore(t, t.TempDir())
	t.Cleanup(func() { _ = s.Close() })
	alice := key("alice")
	const blocks = 30
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				h, hash := s.Head()
				if h == 0 {
					continue
				}
				b, err := s.Block(ctx, h)
				if err != nil || b.Hash() != hash {
					t.Errorf("head %d: block %v", h, err)
					return
				}
				if _, err := s.Commit(ctx, h); err != nil {
					t.Errorf("head %d: certificate %v", h, err)
					return
				}
				if refs, err := s.AccountTxs(ctx, alice.Public(), 1); err != nil || len(refs) != 1 || refs[0].Height < h {
					t.Errorf("head %d: account index %+v %v", h, refs, err)
					return
				}
				if v, ok, err := s.State(ctx, []byte("last")); err != nil || !ok || string(v) < string(u64(h)) {
					t.Errorf("head %d: state 'last' %x %v", h, v, err)
					return
				}
			}
		})
	}
	for n := uint64(1); n <= blocks; n++ {
		commitNext(t, s, []chain.Tx{makeTx(alice, n, nil)}, []Write{{Key: []byte("last"), Value: u64(n)}})
	}
	close(done)
	wg.Wait()
}
