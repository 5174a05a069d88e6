// Package mempool holds transactions that are valid against the committed
// state but not yet in a block, and hands proposers runs of them that can
// execute in order.
//
// Accounts order their own transactions with nonces, so the pool keeps, per
// account, the pending transactions by nonce and the account's next
// committed nonce. A transaction is admitted only if its nonce lies in the
// window [next, next+MaxAccountTxs) and is not taken; Reap takes from each
// account only the unbroken run starting at next. Everything is in maps
// keyed by hash and by (account, nonce), so Add costs O(1) plus one
// signature check, and Reap costs O(k + a log a) for k transactions from a
// accounts with a ready transaction.
package mempool

import (
	"errors"
	"fmt"
	"sync"

	"github.com/zwnode/zwnode/chain"
)

// Sentinel errors, returned wrapped with the transaction's details.
var (
	// ErrWrongChain is chain.ErrWrongChain: the tx names another chain.
	ErrWrongChain = chain.ErrWrongChain
	// ErrTooLarge is chain.ErrTooLarge: the tx exceeds MaxTxBytes.
	ErrTooLarge = chain.ErrTooLarge
	// ErrDuplicate means the same tx, or another tx with the same account
	// and nonce, is already pending.
	ErrDuplicate = errors.New("mempool: already pending")
	// ErrNonceTooLow means the nonce was already used by a committed tx.
	ErrNonceTooLow = errors.New("mempool: nonce already used")
	// ErrNonceGap means the nonce is too far ahead of the account's next
	// committed nonce.
	ErrNonceGap = errors.New("mempool: nonce too far ahead")
	// ErrFull means the pool holds its maximum count or bytes.
	ErrFull = errors.New("mempool full")
	// ErrRejected wraps a refusal by the ledger's stateful check.
	ErrRejected = errors.New("mempool: rejected by the ledger")
)

// Config bounds the pool. Zero fields take the defaults below.
type Config struct {
	// MaxTxs and MaxBytes bound the whole pool (bytes of encoded txs).
	MaxTxs   int
	MaxBytes int
	// MaxTxBytes bounds one encoded tx (genesis params.max_tx_bytes).
	MaxTxBytes int
	// MaxAccountTxs bounds the nonce window per account: a nonce must be
	// below next committed nonce + MaxAccountTxs, which also bounds how
	// many txs one account can park in the pool.
	MaxAccountTxs int
	// ChainID is the only chain id accepted.
	ChainID string
	// MaxAgeBlocks drops a tx still pending after that many Updates
	// (blocks), so txs stuck behind a nonce gap that is never filled do not
	// hold pool space forever. 0 means DefaultMaxAgeBlocks; negative never.
	MaxAgeBlocks int
	// Recheck makes Update run StateReader.CheckTx again on every
	// remaining tx, dropping those the new state refuses (for example after
	// a role is revoked). It costs one CheckTx per pending tx per block.
	Recheck bool
}

// Defaults for zero Config fields.
const (
	DefaultMaxTxs        = 50_000
	DefaultMaxBytes      = 256 << 20
	DefaultMaxAccountTxs = 256
	DefaultMaxAgeBlocks  = 1000
)

func (c Config) withDefaults() Config {
	if c.MaxTxs <= 0 {
		c.MaxTxs = DefaultMaxTxs
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxTxBytes <= 0 {
		c.MaxTxBytes = chain.MaxTxEncodedLen
	}
	if c.MaxAccountTxs <= 0 {
		c.MaxAccountTxs = DefaultMaxAccountTxs
	}
	if c.MaxAgeBlocks == 0 {
		c.MaxAgeBlocks = DefaultMaxAgeBlocks
	}
	return c
}

// StateReader is the ledger's view of committed state. Both methods must be
// deterministic and safe to call concurrently with the pool's callers.
type StateReader interface {
	// NextNonce is the next nonce acct may use (1 for a new account).
	NextNonce(acct chain.PublicKey) (uint64, error)
	// CheckTx is an optional stateful check (authorization, schema); nil
	// if the tx may enter a block.
	CheckTx(tx *chain.Tx) error
}

// entry is one pending tx.
type entry struct {
	tx   *chain.Tx
	hash chain.Hash
	size int
	seq  uint64 // arrival order
	gen  uint64 // Update count at arrival, for MaxAgeBlocks
	// removed is set when the entry leaves the pool, so the age queue can
	// skip it.
	removed bool
}

// account is the pending txs of one account, by nonce.
type account struct {
	next    uint64 // next committed nonce
	pending map[uint64]*entry
}

// Mempool is safe for concurrent use.
type Mempool struct {
	cfg   Config
	state StateReader

	mu       sync.Mutex
	byHash   map[chain.Hash]*entry
	accounts map[chain.PublicKey]*account
	bytes    int
	seq      uint64
	// gen counts Updates, so an Add that read a nonce from state without
	// the lock knows whether it is still current.
	gen uint64
	// byAge holds entries in arrival order (so also in gen order) for
	// MaxAgeBlocks; removed ones are skipped when they reach the front.
	byAge []*entry

	// verified holds hashes of txs verified outside the pool (MarkVerified).
	verified recentSet
}

// New returns an empty pool.
func New(cfg Config, state StateReader) *Mempool {
	return &Mempool{
		cfg:      cfg.withDefaults(),
		state:    state,
		byHash:   make(map[chain.Hash]*entry),
		accounts: make(map[chain.PublicKey]*account),
	}
}

// Add checks tx, including its signature, and admits it. The pool keeps
// tx itself, so the caller must not modify it afterwards.
func (m *Mempool) Add(tx *chain.Tx) (chain.Hash, error) {
	if tx == nil {
		return chain.Hash{}, fmt.Errorf("mempool: %w: nil tx", chain.ErrInvalid)
	}
	return m.add(tx, tx.Hash(), true, false)
}

// AddVerified admits a tx whose signature the caller has already verified
// (the p2p validator does, once per message).
func (m *Mempool) AddVerified(tx *chain.Tx) (chain.Hash, error) {
	if tx == nil {
		return chain.Hash{}, fmt.Errorf("mempool: %w: nil tx", chain.ErrInvalid)
	}
	return m.add(tx, tx.Hash(), false, false)
}

// AddVerifiedHashed is AddVerified for a caller that already holds
// hash = tx.Hash(), so the tx is not encoded and hashed again. A wrong hash
// would corrupt the pool's index: pass only a hash computed from this tx's
// canonical encoding.
func (m *Mempool) AddVerifiedHashed(tx *chain.Tx, hash chain.Hash) (chain.Hash, error) {
	return m.add(tx, hash, false, false)
}

// AddSubmitted is AddVerifiedHashed for a tx a client submitted to this
// node: the pool counts as full at its local share (see Precheck).
func (m *Mempool) AddSubmitted(tx *chain.Tx, hash chain.Hash) (chain.Hash, error) {
	return m.add(tx, hash, false, true)
}

// add admits tx; verify checks its signature first, local holds it to the
// pool's local share.
func (m *Mempool) add(tx *chain.Tx, hash chain.Hash, verify, local bool) (chain.Hash, error) {
	if tx == nil {
		return chain.Hash{}, fmt.Errorf("mempool: %w: nil tx", chain.ErrInvalid)
	}
	if err := tx.ValidateBasic(); err != nil {
		return chain.Hash{}, fmt.Errorf("mempool: %w", err)
	}
	if tx.ChainID != m.cfg.ChainID {
		return chain.Hash{}, fmt.Errorf("mempool: tx for chain %q, this is %q: %w", tx.ChainID, m.cfg.ChainID, ErrWrongChain)
	}
	size := tx.EncodedLen()
	if size > m.cfg.MaxTxBytes {
		return chain.Hash{}, fmt.Errorf("mempool: tx of %d bytes: %w (limit %d)", size, ErrTooLarge, m.cfg.MaxTxBytes)
	}
	if m.Has(hash) { // cheap refusal of gossip duplicates before the signature check
		return hash, fmt.Errorf("tx %s: %w", hash.Short(), ErrDuplicate)
	}
	if verify {
		if err := tx.VerifySignature(); err != nil {
			return hash, fmt.Errorf("mempool: %w", err)
		}
	}
	if err := m.state.CheckTx(tx); err != nil {
		return hash, fmt.Errorf("tx %s: %w: %w", hash.Short(), ErrRejected, err)
	}
	e := &entry{tx: tx, hash: hash, size: size}

	m.mu.Lock()
	defer m.mu.Unlock()
	acct, err := m.accountLocked(tx.Account)
	if err != nil {
		return hash, err
	}
	if err := m.admitLocked(acct, e, local); err != nil {
		if len(acct.pending) == 0 {
			delete(m.accounts, tx.Account)
		}
		return hash, err
	}
	return hash, nil
}

// accountLocked returns the account's record, reading its next nonce from
// state without holding the lock if the pool has not seen it.
func (m *Mempool) accountLocked(k chain.PublicKey) (*account, error) {
	for {
		if a, ok := m.accounts[k]; ok {
			return a, nil
		}
		gen := m.gen
		m.mu.Unlock()
		next, err := m.state.NextNonce(k)
		m.mu.Lock()
		if err != nil {
			return nil, fmt.Errorf("mempool: next nonce of %s: %w", k.Short(), err)
		}
		if a, ok := m.accounts[k]; ok {
			return a, nil // another Add got there first
		}
		if gen == m.gen { // no Update in between: next is current
			a := &account{next: next, pending: make(map[uint64]*entry)}
			m.accounts[k] = a
			return a, nil
		}
	}
}

// admitLocked applies the nonce and capacity rules (the local share's for
// a local tx) and inserts e.
func (m *Mempool) admitLocked(a *account, e *entry, local bool) error {
	tx := e.tx
	if _, dup := m.byHash[e.hash]; dup {
		return fmt.Errorf("tx %s: %w", e.hash.Short(), ErrDuplicate)
	}
	if err := m.nonceInWindow(a, tx, e.hash); err != nil {
		return err
	}
	if _, taken := a.pending[tx.Nonce]; taken {
		return fmt.Errorf("tx %s: %w: account %s already has nonce %d pending", e.hash.Short(), ErrDuplicate, tx.Account.Short(), tx.Nonce)
	}
	if maxTxs, maxBytes := m.limits(local); len(m.byHash)+1 > maxTxs || m.bytes+e.size > maxBytes {
		return m.fullLocked(maxTxs, maxBytes)
	}
	m.seq++
	e.seq, e.gen = m.seq, m.gen
	if m.cfg.MaxAgeBlocks > 0 {
		m.byAge = append(m.byAge, e)
	}
	a.pending[tx.Nonce] = e
	m.byHash[e.hash] = e
	m.bytes += e.size
	return nil
}

// Precheck is the admission check for a tx submitted to this node by a
// client, run before its signature is checked. It refuses what
// AddSubmitted would refuse for reasons the pool alone can tell — already
// pending, a nonce below or beyond its account's window (when the pool has
// the account's next nonce), a pool full at its local share of the limits
// (LocalShare): the rest is kept for txs that peers accepted from their
// clients and gossip. A nil result promises nothing: AddSubmitted checks
// again.
//
// The share matters when clients offer more than the cluster finalizes.
// With one limit for both, every pool filled with its own clients' txs and
// dropped its peers' after checking their signatures, so proposals named
// txs their validators lacked and had to fetch: at an offered 5,000 tx/s a
// 4-node cluster that finalizes ~7,500 tx/s at max rate fell to ~3,000,
// fetching 44 % of proposed txs. Since every pool holds (nearly) the same
// txs, all nodes reach the local share together and stop taking new ones,
// with room left for what is still in flight between them.
func (m *Mempool) Precheck(tx *chain.Tx, hash chain.Hash) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.byHash[hash]; dup {
		return fmt.Errorf("tx %s: %w", hash.Short(), ErrDuplicate)
	}
	if a, ok := m.accounts[tx.Account]; ok {
		if err := m.nonceInWindow(a, tx, hash); err != nil {
			return err
		}
	}
	if maxTxs, maxBytes := m.limits(true); len(m.byHash) >= maxTxs || m.bytes >= maxBytes {
		return m.fullLocked(maxTxs, maxBytes)
	}
	return nil
}

// LocalShare is the fraction of the pool's limits up to which it takes
// clients' txs (see Precheck).
const LocalShare = 0.75

// limits returns the pool's limits in txs and bytes, for a local tx its
// local share.
func (m *Mempool) limits(local bool) (maxTxs, maxBytes int) {
	if !local {
		return m.cfg.MaxTxs, m.cfg.MaxBytes
	}
	share := func(n int) int { return max(1, int(float64(n)*LocalShare)) }
	return share(m.cfg.MaxTxs), share(m.cfg.MaxBytes)
}

func (m *Mempool) fullLocked(maxTxs, maxBytes int) error {
	return fmt.Errorf("%w: %d txs / %d bytes (limits %d txs / %d bytes)", ErrFull, len(m.byHash), m.bytes, maxTxs, maxBytes)
}

// nonceInWindow checks tx's nonce against a's window [next, next+MaxAccountTxs).
func (m *Mempool) nonceInWindow(a *account, tx *chain.Tx, hash chain.Hash) error {
	if tx.Nonce < a.next {
		return fmt.Errorf("tx %s: %w: nonce %d, account %s is at %d", hash.Short(), ErrNonceTooLow, tx.Nonce, tx.Account.Short(), a.next)
	}
	if tx.Nonce-a.next >= uint64(m.cfg.MaxAccountTxs) {
		return fmt.Errorf("tx %s: %w: nonce %d, account %s is at %d, window %d", hash.Short(), ErrNonceGap, tx.Nonce, tx.Account.Short(), a.next, m.cfg.MaxAccountTxs)
	}
	return nil
}

// Has reports whether a tx is pending.
func (m *Mempool) Has(h chain.Hash) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byHash[h]
	return ok
}

// Get returns a pending tx.
func (m *Mempool) Get(h chain.Hash) (*chain.Tx, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byHash[h]
	if !ok {
		return nil, false
	}
	return e.tx, true
}

// Lookup sets txs[i] to the pending tx whose hash is hashes[i] and returns
// the indexes of the hashes that are not pending, under one lock: a
// compact proposal names thousands of txs. txs must be as long as hashes;
// entries for missing hashes are left as they are.
func (m *Mempool) Lookup(hashes []chain.Hash, txs []chain.Tx) (missing []uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, h := range hashes {
		if e, ok := m.byHash[h]; ok {
			txs[i] = *e.tx
		} else {
			missing = append(missing, uint32(i))
		}
	}
	return missing
}

// Size returns the number of pending txs and their encoded bytes.
func (m *Mempool) Size() (n, bytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byHash), m.bytes
}

// removeLocked drops e from the pool.
func (m *Mempool) removeLocked(a *account, k chain.PublicKey, e *entry) {
	delete(a.pending, e.tx.Nonce)
	delete(m.byHash, e.hash)
	m.bytes -= e.size
	e.removed = true
	if len(a.pending) == 0 {
		delete(m.accounts, k)
	}
}

// PendingNonce returns the nonce an account's next transaction should carry
// given what is already waiting in the pool: one past the highest
// consecutive pending nonce, or ok == false if the pool holds nothing for
// the account (ask the committed state then).
func (m *Mempool) PendingNonce(k chain.PublicKey) (next uint64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, found := m.accounts[k]
	if !found {
		return 0, false
	}
	next = a.next
	for a.pending[next] != nil {
		next++
	}
	return next, true
}
