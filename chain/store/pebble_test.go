package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/zwnode/zwnode/chain"
)

func openPebbleStore(t testing.TB, dir string) *Store {
	t.Helper()
	d, err := OpenPebble(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), d)
	if err != nil {
		_ = d.Close()
		t.Fatal(err)
	}
	if err := s.Init(context.Background(), testGenesis(testChain)); err != nil {
		_ = s.Close()
		t.Fatal(err)
	}
	return s
}

func TestPebbleRestartResumesAtHead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openPebbleStore(t, dir)
	alice := key("alice")
	var last *chain.Block
	for h := uint64(1); h <= 5; h++ {
		last = commitNext(t, s, []chain.Tx{makeTx(alice, h, nil)}, []Write{{Key: []byte("n/alice"), Value: u64(h + 1)}})
	}
	if err := s.SaveSignState(ctx, []byte("signed 5/0")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := OpenPebble(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Init(ctx, testGenesis("zw-other")); !errors.Is(err, ErrGenesisMismatch) {
		t.Fatalf("reopen with another genesis: %v", err)
	}
	if err := s.Init(ctx, testGenesis(testChain)); err != nil {
		t.Fatal(err)
	}
	if h, hash := s.Head(); h != 5 || hash != last.Hash() {
		t.Fatalf("head after restart = %d %s, want 5 %s", h, hash.Short(), last.Hash().Short())
	}
	if s.HeadStateRoot() != last.Header.StateRoot {
		t.Fatal("head state root not restored")
	}
	if v, _, err := s.LoadSignState(ctx); err != nil || string(v) != "signed 5/0" {
		t.Fatalf("sign-state after restart = %q %v", v, err)
	}
	refs, err := s.AccountTxs(ctx, alice.Public(), 10)
	if err != nil || len(refs) != 5 || refs[0].Height != 5 || refs[4].Height != 1 {
		t.Fatalf("account txs after restart = %+v %v", refs, err)
	}
	commitNext(t, s, nil, nil)
	if h, _ := s.Head(); h != 6 {
		t.Fatalf("head = %d, want 6", h)
	}
}

func TestPebbleStateIter(t *testing.T) {
	s := openPebbleStore(t, t.TempDir())
	t.Cleanup(func() { _ = s.Close() })
	if s.db == nil || !s.durable {
		t.Fatal("OpenPebble datastore not recognized: no bounded scans or double syncs")
	}
	stateFixture(t, s)
	checkIter(t, s)
}

func TestPebbleFailingBatchWritesNothing(t *testing.T) {
	ctx := context.Background()
	d, err := OpenPebble(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fd := &failingBatching{Batching: d}
	s, err := Open(ctx, fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Init(ctx, testGenesis(testChain)); err != nil {
		t.Fatal(err)
	}
	writes := []Write{{Key: []byte("k"), Value: []byte("v")}}
	b, c := nextBlock(t, s, []chain.Tx{makeTx(key("alice"), 1, nil)}, writes)
	before := snapshot(t, d)
	fd.fail = true
	if err := s.CommitBlock(ctx, b, c, writes); err == nil {
		t.Fatal("commit through a failing batch succeeded")
	}
	sameSnapshot(t, before, snapshot(t, d))
	fd.fail = false
	if err := s.CommitBlock(ctx, b, c, writes); err != nil {
		t.Fatal(err)
	}
}

// crashEnv makes the test binary a child that commits blocks until killed.
const crashEnv = "ZW_STORE_CRASH_CHILD_DIR"

// TestPebbleCrashSafety re-executes the test binary as a child that commits
// blocks to Pebble and reports each one after CommitBlock returns, kills it
// with SIGKILL mid-run, reopens the database and checks that the head is a
// complete block: certificate, indexes and state all present, nothing beyond
// it, and nothing the child reported lost. Three kill/reopen cycles share
// one directory, so recovery after a crash is itself crashed.
func TestPebbleCrashSafety(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	dir := t.TempDir()
	for cycle, killAfter := range []int{3, 11, 7} {
		reported := runAndKill(t, dir, killAfter)
		s := openPebbleStore(t, dir)
		checkConsistentHead(t, s, reported)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("cycle %d: child reported height %d before SIGKILL", cycle, reported)
	}
}

// runAndKill starts the child, waits until it has reported killAfter more
// commits, kills it and returns the highest height it reported.
func runAndKill(t *testing.T, dir string, killAfter int) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPebbleCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan uint64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if h, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
				if v, err := strconv.ParseUint(h, 10, 64); err == nil {
					lines <- v
				}
			}
		}
	}()
	var reported uint64
	deadline := time.After(2 * time.Minute)
	for n := 0; n < killAfter; {
		select {
		case h, ok := <-lines:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("child exited after %d commits", n)
			}
			reported = h
			n++
		case <-deadline:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatal("child did not report commits in time")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for h := range lines { // reports written before the kill still count
		reported = h
	}
	_ = cmd.Wait()
	return reported
}

// crashChild commits blocks with transactions and state writes until killed
// (bounded in count and time in case nobody kills it).
func crashChild(t *testing.T, dir string) {
	s := openPebbleStore(t, dir)
	alice, bob := key("alice"), key("bob")
	stop := time.Now().Add(time.Minute)
	for i := 0; i < 5000 && time.Now().Before(stop); i++ {
		h, _ := s.Head()
		n := h + 1
		var txs []chain.Tx
		var writes []Write
		for j := uint64(0); j < 20; j++ {
			acct := alice
			if j%2 == 1 {
				acct = bob
			}
			txs = append(txs, makeTx(acct, n*100+j, u64(n)))
			writes = append(writes, Write{Key: fmt.Appendf(nil, "rec/%08d/%02d", n, j), Value: u64(n)})
		}
		writes = append(writes, Write{Key: []byte("last"), Value: u64(n)})
		b, c := nextBlock(t, s, txs, writes)
		if err := s.CommitBlock(context.Background(), b, c, writes); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("committed %d\n", n)
	}
}

// checkConsistentHead asserts that the head is a whole block.
func checkConsistentHead(t *testing.T, s *Store, reported uint64) {
	t.Helper()
	ctx := context.Background()
	h, hash := s.Head()
	if h < reported {
		t.Fatalf("head %d is below height %d the child reported durable", h, reported)
	}
	b, err := s.Block(ctx, h)
	if err != nil {
		t.Fatalf("head block %d: %v", h, err)
	}
	if b.Hash() != hash || b.Header.StateRoot != s.HeadStateRoot() {
		t.Fatal("head pointer does not match the head block")
	}
	if err := b.ValidateBasic(); err != nil {
		t.Fatalf("head block: %v", err)
	}
	c, err := s.Commit(ctx, h)
	if err != nil || c.BlockHash != hash {
		t.Fatalf("head certificate: %v", err)
	}
	if err := c.Verify(testChain, testGenesis(testChain).AuthoritySet(), h, hash); err != nil {
		t.Fatalf("head certificate: %v", err)
	}
	if _, err := s.Block(ctx, h+1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("block above head %d: %v", h, err)
	}
	if _, err := s.Commit(ctx, h+1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("certificate above head %d: %v", h, err)
	}
	if got, err := s.HeightOf(ctx, hash); err != nil || got != h {
		t.Fatalf("hash index of head: %d %v", got, err)
	}
	for i := range b.Txs {
		th, ti, err := s.TxLocation(ctx, b.Txs[i].Hash())
		if err != nil || th != h || ti != uint32(i) {
			t.Fatalf("tx %d of head: %d/%d %v", i, th, ti, err)
		}
	}
	refs, err := s.AccountTxs(ctx, key("bob").Public(), 1)
	if err != nil || len(refs) != 1 || refs[0].Height != h || refs[0].Hash != b.Txs[len(b.Txs)-1].Hash() {
		t.Fatalf("newest account tx = %+v %v, want the head's last", refs, err)
	}
	if v, ok, err := s.State(ctx, []byte("last")); err != nil || !ok || string(v) != string(u64(h)) {
		t.Fatalf("state 'last' = %x %v, want %d", v, err, h)
	}
	n := 0
	if err := s.StateIter(ctx, fmt.Appendf(nil, "rec/%08d/", h), func(k, v []byte) error { n++; return nil }); err != nil || n != 20 {
		t.Fatalf("head's records: %d %v, want 20", n, err)
	}
	n = 0
	if err := s.StateIter(ctx, fmt.Appendf(nil, "rec/%08d/", h+1), func(k, v []byte) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("records above head: %d %v", n, err)
	}
}

// TestPebbleBlockCacheHolds: a key read twice is served from the block
// cache the second time. (With the memtables' reservation as large as the
// cache, Pebble cached nothing and every read went to disk.)
func TestPebbleBlockCacheHolds(t *testing.T) {
	d, err := OpenPebble(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	db := d.DB
	// Enough data for Pebble to grow its memtables to full size (it starts
	// small and doubles), so their whole reservation is in effect.
	value := make([]byte, 1000)
	for batch := range 24 {
		b := db.NewBatch()
		for i := range 2000 {
			if err := b.Set(fmt.Appendf(nil, "k%08d", batch*2000+i), value, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	read := func() {
		_, c, err := db.Get([]byte("k00000005"))
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	read()
	before := db.Metrics().BlockCache
	read()
	after := db.Metrics().BlockCache
	if after.Misses != before.Misses || after.Hits <= before.Hits {
		t.Fatalf("second read of a key: cache hits %d→%d, misses %d→%d; want only hits (block cache size %d, %d blocks)",
			before.Hits, after.Hits, before.Misses, after.Misses, after.Size, after.Count)
	}
}
