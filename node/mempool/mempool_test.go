package mempool

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

const testChain = "zw-test"

func key(label string) *chain.PrivateKey {
	seed := sha256.Sum256([]byte("mempool-test/" + label))
	return chain.PrivateKeyFromSeed(seed[:])
}

// fakeState is a committed state: next nonces and refused accounts.
type fakeState struct {
	mu      sync.Mutex
	next    map[chain.PublicKey]uint64
	refused map[chain.PublicKey]bool
	fail    error
}

func newState() *fakeState {
	return &fakeState{next: map[chain.PublicKey]uint64{}, refused: map[chain.PublicKey]bool{}}
}

func (s *fakeState) NextNonce(k chain.PublicKey) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	if n, ok := s.next[k]; ok {
		return n, nil
	}
	return 1, nil
}

func (s *fakeState) CheckTx(tx *chain.Tx) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused[tx.Account] {
		return errors.New("role revoked")
	}
	return nil
}

func (s *fakeState) set(k chain.PublicKey, next uint64) {
	s.mu.Lock()
	s.next[k] = next
	s.mu.Unlock()
}

// commit advances the state as a ledger would for committed txs.
func (s *fakeState) commit(txs []chain.Tx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tx := range txs {
		if tx.Nonce+1 > s.next[tx.Account] {
			s.next[tx.Account] = tx.Nonce + 1
		}
	}
}

// executable reports whether a reaped block can run in order against the
// state: each account's txs carry consecutive nonces from its next nonce.
func (s *fakeState) executable(txs []chain.Tx) error {
	want := map[chain.PublicKey]uint64{}
	for _, tx := range txs {
		n, ok := want[tx.Account]
		if !ok {
			n, _ = s.NextNonce(tx.Account)
		}
		if tx.Nonce != n {
			return fmt.Errorf("account %s: nonce %d, want %d", tx.Account.Short(), tx.Nonce, n)
		}
		want[tx.Account] = n + 1
	}
	return nil
}

func tx(k *chain.PrivateKey, nonce uint64, payload string) *chain.Tx {
	t := &chain.Tx{ChainID: testChain, Nonce: nonce, Type: "record.put", Payload: []byte(payload)}
	t.Sign(k)
	return t
}

func newPool(cfg Config) (*Mempool, *fakeState) {
	cfg.ChainID = testChain
	st := newState()
	return New(cfg, st), st
}

func mustAdd(t *testing.T, m *Mempool, txs ...*chain.Tx) {
	t.Helper()
	for _, x := range txs {
		if _, err := m.Add(x); err != nil {
			t.Fatalf("add %s nonce %d: %v", x.Account.Short(), x.Nonce, err)
		}
	}
}

// names renders reaped txs as "<label><nonce>" for readable assertions.
func names(txs []chain.Tx, labels map[chain.PublicKey]string) string {
	var out []string
	for _, x := range txs {
		out = append(out, fmt.Sprintf("%s%d", labels[x.Account], x.Nonce))
	}
	return strings.Join(out, " ")
}

var (
	keyA, keyB, keyC = key("A"), key("B"), key("C")
	labels           = map[chain.PublicKey]string{keyA.Public(): "A", keyB.Public(): "B", keyC.Public(): "C"}
)

func TestAddRefusals(t *testing.T) {
	badSig := tx(keyA, 1, "x")
	badSig.Signature[0] ^= 1
	wrongChain := &chain.Tx{ChainID: "zw-other", Nonce: 1, Type: "record.put"}
	wrongChain.Sign(keyA)
	noNonce := &chain.Tx{ChainID: testChain, Nonce: 0, Type: "record.put"}
	noNonce.Sign(keyA)

	cases := []struct {
		name  string
		cfg   Config
		setup func(m *Mempool, st *fakeState)
		tx    *chain.Tx
		want  error
		text  string
	}{
		{name: "invalid basic", tx: noNonce, want: chain.ErrInvalid},
		{name: "wrong chain", tx: wrongChain, want: ErrWrongChain},
		{name: "too large", cfg: Config{MaxTxBytes: 300}, tx: tx(keyA, 1, strings.Repeat("x", 400)), want: ErrTooLarge},
		{name: "bad signature", tx: badSig, want: chain.ErrBadSignature},
		{name: "nonce too low", setup: func(m *Mempool, st *fakeState) { st.set(keyA.Public(), 5) }, tx: tx(keyA, 4, ""), want: ErrNonceTooLow},
		{name: "same tx twice", setup: func(m *Mempool, st *fakeState) { _, _ = m.Add(tx(keyA, 1, "same")) }, tx: tx(keyA, 1, "same"), want: ErrDuplicate},
		{name: "nonce already pending", setup: func(m *Mempool, st *fakeState) { _, _ = m.Add(tx(keyA, 1, "first")) }, tx: tx(keyA, 1, "second"), want: ErrDuplicate},
		{name: "nonce beyond window", cfg: Config{MaxAccountTxs: 4}, tx: tx(keyA, 5, ""), want: ErrNonceGap},
		{name: "full by count", cfg: Config{MaxTxs: 2}, setup: func(m *Mempool, st *fakeState) { _, _ = m.Add(tx(keyA, 1, "")); _, _ = m.Add(tx(keyB, 1, "")) },
			tx: tx(keyC, 1, ""), want: ErrFull, text: "mempool full: 2 txs / "},
		{name: "full by bytes", cfg: Config{MaxBytes: 300}, setup: func(m *Mempool, st *fakeState) { _, _ = m.Add(tx(keyA, 1, "")) },
			tx: tx(keyB, 1, strings.Repeat("x", 100)), want: ErrFull, text: fmt.Sprintf("mempool full: 1 txs / %d bytes", tx(keyA, 1, "").EncodedLen())},
		{name: "ledger refuses", setup: func(m *Mempool, st *fakeState) { st.refused[keyA.Public()] = true }, tx: tx(keyA, 1, ""), want: ErrRejected, text: "role revoked"},
		{name: "state unreadable", setup: func(m *Mempool, st *fakeState) { st.fail = errors.New("disk gone") }, tx: tx(keyA, 1, ""), text: "disk gone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, st := newPool(tc.cfg)
			if tc.setup != nil {
				tc.setup(m, st)
			}
			n0, b0 := m.Size()
			_, err := m.Add(tc.tx)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.text != "" && !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %q does not say %q", err, tc.text)
			}
			if n, b := m.Size(); n != n0 || b != b0 {
				t.Fatalf("size changed from %d/%d to %d/%d", n0, b0, n, b)
			}
			if m.Has(tc.tx.Hash()) && !errors.Is(err, ErrDuplicate) {
				t.Fatal("refused tx is pending")
			}
		})
	}
}

func TestAddVerifiedSkipsSignature(t *testing.T) {
	m, _ := newPool(Config{})
	x := tx(keyA, 1, "")
	x.Signature[0] ^= 1 // AddVerified trusts its caller: this proves it does not verify again
	h, err := m.AddVerified(x)
	if err != nil || !m.Has(h) {
		t.Fatalf("AddVerified: %v", err)
	}
	got, ok := m.Get(h)
	if !ok || got.Hash() != h {
		t.Fatal("Get does not return the tx")
	}
	if n, b := m.Size(); n != 1 || b != x.EncodedLen() {
		t.Fatalf("size = %d/%d", n, b)
	}
}

func TestReapConsecutiveNoncesOnly(t *testing.T) {
	m, st := newPool(Config{})
	st.set(keyA.Public(), 3)
	mustAdd(t, m, tx(keyA, 3, ""), tx(keyA, 4, ""), tx(keyA, 6, ""))
	mustAdd(t, m, tx(keyB, 2, "")) // B is at 1: not ready
	if got := names(m.Reap(0, 0), labels); got != "A3 A4" {
		t.Fatalf("reap = %q, want the run A3 A4", got)
	}
	mustAdd(t, m, tx(keyA, 5, ""), tx(keyB, 1, ""))
	if got := names(m.Reap(0, 0), labels); got != "A3 B1 A4 B2 A5 A6" {
		t.Fatalf("reap = %q", got)
	}
	if n, _ := m.Size(); n != 6 {
		t.Fatalf("reap removed txs: size %d", n)
	}
}

func TestReapTakesTurns(t *testing.T) {
	m, _ := newPool(Config{})
	for n := uint64(1); n <= 5; n++ {
		mustAdd(t, m, tx(keyA, n, ""))
	}
	mustAdd(t, m, tx(keyB, 1, ""), tx(keyB, 2, ""), tx(keyC, 1, ""))
	if got := names(m.Reap(0, 0), labels); got != "A1 B1 C1 A2 B2 A3 A4 A5" {
		t.Fatalf("reap = %q", got)
	}
	if got := names(m.Reap(4, 0), labels); got != "A1 B1 C1 A2" {
		t.Fatalf("reap(4) = %q", got)
	}
}

func TestReapByteLimit(t *testing.T) {
	m, _ := newPool(Config{})
	small := tx(keyA, 1, "")
	mustAdd(t, m, small, tx(keyA, 2, ""), tx(keyB, 1, strings.Repeat("x", 1000)), tx(keyB, 2, ""), tx(keyC, 1, ""))
	limit := 3 * small.EncodedLen()
	// B1 does not fit, so B stops (B2 cannot go before B1), others go on.
	if got := names(m.Reap(0, limit), labels); got != "A1 C1 A2" {
		t.Fatalf("reap = %q", got)
	}
	if got := m.Reap(0, small.EncodedLen()-1); len(got) != 0 {
		t.Fatalf("nothing fits, got %d txs", len(got))
	}
}

func TestReapDeterministic(t *testing.T) {
	run := func() string {
		m, _ := newPool(Config{})
		for i := range 30 {
			k := []*chain.PrivateKey{keyA, keyB, keyC}[i*7%3]
			_, _ = m.Add(tx(k, uint64(i/3+1), fmt.Sprint(i)))
		}
		return names(m.Reap(20, 0), labels)
	}
	if a, b := run(), run(); a != b || a == "" {
		t.Fatalf("two identical pools reap %q and %q", a, b)
	}
}

func TestUpdate(t *testing.T) {
	m, st := newPool(Config{})
	a1, a2, a3 := tx(keyA, 1, ""), tx(keyA, 2, ""), tx(keyA, 3, "")
	b1 := tx(keyB, 1, "")
	mustAdd(t, m, a1, a2, a3, b1)
	// The block has a1 and a different tx with nonce 2 from another node.
	other2 := *tx(keyA, 2, "from elsewhere")
	block := []chain.Tx{*a1, other2}
	st.commit(block)
	m.Update(block)
	if m.Has(a1.Hash()) || m.Has(a2.Hash()) {
		t.Fatal("committed tx or tx with a used nonce still pending")
	}
	if !m.Has(a3.Hash()) || !m.Has(b1.Hash()) {
		t.Fatal("unrelated txs dropped")
	}
	if n, b := m.Size(); n != 2 || b != a3.EncodedLen()+b1.EncodedLen() {
		t.Fatalf("size = %d/%d", n, b)
	}
	if got := names(m.Reap(0, 0), labels); got != "A3 B1" {
		t.Fatalf("reap after update = %q", got)
	}
	if _, err := m.Add(a2); !errors.Is(err, ErrNonceTooLow) {
		t.Fatalf("re-adding a used nonce: %v", err)
	}
	// Emptying the pool forgets the accounts; their nonces come from state.
	rest := []chain.Tx{*a3, *b1}
	st.commit(rest)
	m.Update(rest)
	if n, b := m.Size(); n != 0 || b != 0 || len(m.accounts) != 0 {
		t.Fatalf("size = %d/%d with %d accounts after all committed", n, b, len(m.accounts))
	}
	if _, err := m.Add(tx(keyA, 3, "again")); !errors.Is(err, ErrNonceTooLow) {
		t.Fatalf("nonce 3 after commit: %v", err)
	}
	mustAdd(t, m, tx(keyA, 4, ""))
}

func TestUpdateWhenStateUnreadable(t *testing.T) {
	m, st := newPool(Config{})
	mustAdd(t, m, tx(keyA, 1, ""), tx(keyA, 2, ""), tx(keyA, 3, ""))
	st.fail = errors.New("disk gone")
	m.Update([]chain.Tx{*tx(keyA, 2, "elsewhere")})
	if got := names(m.Reap(0, 0), labels); got != "A3" {
		t.Fatalf("reap = %q, want A3 (next nonce from the committed txs)", got)
	}
}

func TestUpdateRecheck(t *testing.T) {
	m, st := newPool(Config{Recheck: true})
	mustAdd(t, m, tx(keyA, 1, ""), tx(keyB, 1, ""), tx(keyB, 2, ""))
	st.refused[keyB.Public()] = true
	m.Update(nil)
	if got := names(m.Reap(0, 0), labels); got != "A1" {
		t.Fatalf("reap after recheck = %q, want A1", got)
	}
	if n, _ := m.Size(); n != 1 {
		t.Fatalf("size = %d", n)
	}
}

// TestConcurrent runs adders, duplicate gossip, proposers and block commits
// at once (meant for -race) and checks the pool's books at the end.
func TestConcurrent(t *testing.T) {
	m, st := newPool(Config{})
	const accounts, perAccount = 8, 40
	keys := make([]*chain.PrivateKey, accounts)
	txs := make([][]*chain.Tx, accounts)
	for i := range keys {
		keys[i] = key(fmt.Sprint("acct", i))
		for n := uint64(1); n <= perAccount; n++ {
			txs[i] = append(txs[i], tx(keys[i], n, ""))
		}
	}
	var wg sync.WaitGroup
	for i := range accounts {
		for range 2 { // every tx arrives twice, as gossip does
			wg.Go(func() {
				for _, x := range txs[i] {
					if _, err := m.Add(x); err != nil && !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrNonceTooLow) {
						t.Errorf("add: %v", err)
					}
				}
			})
		}
	}
	wg.Go(func() {
		for range 20 {
			block := m.Reap(10, 0)
			if err := st.executable(block); err != nil {
				t.Errorf("reaped block: %v", err)
			}
			st.commit(block)
			m.Update(block)
		}
	})
	wg.Wait()
	// Commit everything left; the pool must end empty.
	for range accounts * perAccount {
		block := m.Reap(0, 0)
		if len(block) == 0 {
			break
		}
		if err := st.executable(block); err != nil {
			t.Fatalf("reaped block: %v", err)
		}
		st.commit(block)
		m.Update(block)
	}
	if n, b := m.Size(); n != 0 || b != 0 {
		t.Fatalf("pool holds %d txs / %d bytes after committing all", n, b)
	}
	for _, k := range keys {
		if next, _ := st.NextNonce(k.Public()); next != perAccount+1 {
			t.Fatalf("account %s committed up to %d, want %d", k.Public().Short(), next-1, perAccount)
		}
	}
}

func TestMaxAgeBlocks(t *testing.T) {
	m, st := newPool(Config{MaxAgeBlocks: 2})
	gapped := tx(keyA, 3, "") // A is at 1: waits for nonces 1 and 2
	b1 := tx(keyB, 1, "")
	mustAdd(t, m, gapped, b1)
	m.Update(nil)
	late := tx(keyC, 1, "")
	mustAdd(t, m, late)
	st.commit([]chain.Tx{*b1})
	m.Update([]chain.Tx{*b1}) // second block: the first two arrivals are 2 blocks old
	if m.Has(gapped.Hash()) {
		t.Fatal("gapped tx outlived MaxAgeBlocks")
	}
	if !m.Has(late.Hash()) {
		t.Fatal("young tx expired")
	}
	if n, _ := m.Size(); n != 1 || len(m.accounts) != 1 {
		t.Fatalf("size %d, accounts %d; want only C's tx", n, len(m.accounts))
	}
	m.Update(nil)
	if m.Has(late.Hash()) {
		t.Fatal("tx outlived MaxAgeBlocks")
	}

	never, _ := newPool(Config{MaxAgeBlocks: -1})
	mustAdd(t, never, gapped)
	for range 5 {
		never.Update(nil)
	}
	if !never.Has(gapped.Hash()) {
		t.Fatal("expired with MaxAgeBlocks < 0")
	}
}

func TestPendingNonceCountsConsecutivePending(t *testing.T) {
	m, _ := newPool(Config{})
	k := key("pending")
	if _, ok := m.PendingNonce(k.Public()); ok {
		t.Fatal("PendingNonce ok for an account the pool never saw")
	}
	mustAdd(t, m, tx(k, 1, "a"), tx(k, 2, "b"), tx(k, 4, "d"))
	if next, ok := m.PendingNonce(k.Public()); !ok || next != 3 {
		t.Fatalf("PendingNonce = %d, %v; want 3, true (nonce 4 is after a gap)", next, ok)
	}
}

// Lookup fills in the pending txs named by hash and reports the rest.
func TestLookup(t *testing.T) {
	m, _ := newPool(Config{})
	a1, a2, b1 := tx(keyA, 1, "a1"), tx(keyA, 2, "a2"), tx(keyB, 1, "b1")
	mustAdd(t, m, a1, b1)
	hashes := []chain.Hash{b1.Hash(), a2.Hash(), a1.Hash()}
	txs := make([]chain.Tx, len(hashes))
	missing := m.Lookup(hashes, txs)
	if len(missing) != 1 || missing[0] != 1 {
		t.Fatalf("missing %v, want [1] (a2 is not pending)", missing)
	}
	if txs[0].Hash() != b1.Hash() || txs[2].Hash() != a1.Hash() || txs[1].Payload != nil {
		t.Fatalf("looked up %s, %v, %s", names(txs[:1], labels), txs[1].Payload, names(txs[2:], labels))
	}
}

// Precheck refuses what Add would refuse for the pool's own reasons,
// without a signature check and without changing the pool, says nothing
// about an account whose next nonce it has not read yet, and calls the
// pool full at its local share, while Add still takes peers' txs.
func TestPrecheck(t *testing.T) {
	m, st := newPool(Config{MaxTxs: 4, MaxAccountTxs: 4})
	st.set(keyA.Public(), 5)
	pending := tx(keyA, 5, "pending")
	if _, err := m.Add(pending); err != nil {
		t.Fatal(err)
	}
	badSig := tx(keyA, 6, "bad")
	badSig.Signature[0] ^= 1
	cases := []struct {
		name string
		tx   *chain.Tx
		want error
	}{
		{"pending", pending, ErrDuplicate},
		{"nonce too low", tx(keyA, 4, ""), ErrNonceTooLow},
		{"nonce beyond window", tx(keyA, 9, ""), ErrNonceGap},
		{"in window, bad signature: left to Add", badSig, nil},
		{"account not read yet", tx(keyB, 100, ""), nil},
	}
	for _, tc := range cases {
		n0, b0 := m.Size()
		err := m.Precheck(tc.tx, tc.tx.Hash())
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if n, b := m.Size(); n != n0 || b != b0 {
			t.Errorf("%s: size changed from %d/%d to %d/%d", tc.name, n0, b0, n, b)
		}
	}
	if _, err := m.Add(tx(keyB, 1, "")); err != nil {
		t.Fatal(err)
	}
	next := tx(keyC, 1, "")
	if err := m.Precheck(next, next.Hash()); err != nil {
		t.Fatalf("2 of 4 txs: %v", err)
	}
	if _, err := m.Add(next); err != nil {
		t.Fatal(err)
	}
	// 3 of 4: the local share (3/4) is used up; the last place is for a
	// peer's tx.
	gossiped := tx(keyB, 2, "")
	if err := m.Precheck(gossiped, gossiped.Hash()); !errors.Is(err, ErrFull) {
		t.Fatalf("3 of 4 txs: got %v, want ErrFull", err)
	}
	// Admission holds a submitted tx to the share too, so a batch that
	// passed Precheck as a whole cannot fill the reserved place.
	if _, err := m.AddSubmitted(gossiped, gossiped.Hash()); !errors.Is(err, ErrFull) {
		t.Fatalf("3 of 4 txs, submitted: got %v, want ErrFull", err)
	}
	if _, err := m.Add(gossiped); err != nil {
		t.Fatalf("a peer's tx into the reserved place: %v", err)
	}
}
