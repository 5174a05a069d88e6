package mempool

import (
	"slices"

	"github.com/zwnode/zwnode/chain"
)

// Reap returns up to maxTxs transactions of at most maxBytes encoded bytes
// in total (a limit <= 0 means none) for a block proposal. From each account
// it takes only consecutive nonces starting at the account's next committed
// nonce, so every returned tx can execute in order. Accounts take turns, one
// tx per turn, in the arrival order of their first ready tx, so one busy
// account cannot crowd out the others. The pool is not changed: txs leave it
// through Update once committed.
func (m *Mempool) Reap(maxTxs, maxBytes int) []chain.Tx {
	m.mu.Lock()
	defer m.mu.Unlock()
	type cursor struct {
		a     *account
		nonce uint64
		first uint64 // arrival of the first ready tx, for the turn order
	}
	ready := make([]cursor, 0, len(m.accounts))
	for _, a := range m.accounts {
		if e, ok := a.pending[a.next]; ok {
			ready = append(ready, cursor{a: a, nonce: a.next, first: e.seq})
		}
	}
	slices.SortFunc(ready, func(x, y cursor) int { return cmpUint64(x.first, y.first) })

	var out []chain.Tx
	bytes := 0
	for len(ready) > 0 {
		kept := ready[:0]
		for _, c := range ready {
			if maxTxs > 0 && len(out) >= maxTxs {
				return out
			}
			e := c.a.pending[c.nonce]
			if maxBytes > 0 && bytes+e.size > maxBytes {
				continue // this account's run ends here; smaller txs of others may fit
			}
			out = append(out, *e.tx)
			bytes += e.size
			c.nonce++
			if _, ok := c.a.pending[c.nonce]; ok {
				kept = append(kept, c)
			}
		}
		ready = kept
	}
	return out
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Update removes txs committed in a block and then, for every pooled
// account the block touched, re-reads the next committed nonce from state
// (falling back to the highest committed nonce + 1 if the read fails) and
// drops pending txs whose nonce is now below it. Other accounts' nonces
// cannot have moved. Call it after the
// ledger has committed the block, so StateReader answers for the new state.
// It then expires txs older than Config.MaxAgeBlocks, and with
// Config.Recheck checks every remaining tx again with CheckTx.
func (m *Mempool) Update(committed []chain.Tx) {
	m.mu.Lock()
	m.gen++
	touched := make(map[chain.PublicKey]uint64)
	for i := range committed {
		tx := &committed[i]
		if n := tx.Nonce + 1; n > touched[tx.Account] {
			touched[tx.Account] = n
		}
		if a, ok := m.accounts[tx.Account]; ok {
			if e, ok := a.pending[tx.Nonce]; ok {
				m.removeLocked(a, tx.Account, e)
			}
		}
	}
	for k, floor := range touched {
		a, ok := m.accounts[k]
		if !ok {
			continue
		}
		next, err := m.state.NextNonce(k)
		if err != nil || next < floor {
			// The committed txs prove at least floor; never go backwards.
			next = max(floor, a.next)
		}
		a.next = max(a.next, next)
		m.dropStaleLocked(k, a)
	}
	m.expireLocked()
	var recheck []*entry
	if m.cfg.Recheck {
		recheck = make([]*entry, 0, len(m.byHash))
		for _, e := range m.byHash {
			recheck = append(recheck, e)
		}
	}
	m.mu.Unlock()
	if len(recheck) > 0 {
		m.recheck(recheck)
	}
}

// expireLocked drops entries older than MaxAgeBlocks Updates from the
// front of the age queue: amortized O(1) per tx.
func (m *Mempool) expireLocked() {
	if m.cfg.MaxAgeBlocks <= 0 {
		return
	}
	i := 0
	for ; i < len(m.byAge); i++ {
		e := m.byAge[i]
		if e.removed {
			continue
		}
		if m.gen-e.gen < uint64(m.cfg.MaxAgeBlocks) {
			break
		}
		m.removeLocked(m.accounts[e.tx.Account], e.tx.Account, e)
	}
	clear(m.byAge[:i])
	m.byAge = m.byAge[i:]
}

// dropStaleLocked removes txs whose nonce is below the account's next. It
// walks the pending map, which holds at most MaxAccountTxs entries.
func (m *Mempool) dropStaleLocked(k chain.PublicKey, a *account) {
	for n, e := range a.pending {
		if n < a.next {
			m.removeLocked(a, k, e)
		}
	}
}

// recheck runs CheckTx without the lock and removes the txs it refuses,
// if they are still pending.
func (m *Mempool) recheck(entries []*entry) {
	var bad []*entry
	for _, e := range entries {
		if m.state.CheckTx(e.tx) != nil {
			bad = append(bad, e)
		}
	}
	if len(bad) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range bad {
		if cur, ok := m.byHash[e.hash]; ok && cur == e {
			m.removeLocked(m.accounts[e.tx.Account], e.tx.Account, e)
		}
	}
}
