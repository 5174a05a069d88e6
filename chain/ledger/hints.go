package ledger

import "github.com/zwnode/zwnode/chain"

// ReadHints calls add with state keys that executing tx will read, found
// from the transaction alone, without state: the sender's account and, for
// a record.put, its record head. A caller may read them ahead — in
// parallel, or while an earlier block executes — so that execution finds
// them in memory instead of paying a storage lookup on its critical path.
//
// Hints are best effort and change no result: a key not hinted is read
// when execution needs it, and a hinted key execution does not read (a
// payload that fails validation, say) costs one wasted read. Only
// record.put, the bulk of the traffic, names more than the account; its
// payload is parsed only in the fast path's plain form. add must not keep
// key.
func (l *Ledger) ReadHints(tx *chain.Tx, add func(key []byte)) {
	if tx == nil || tx.ChainID != l.chainID {
		return
	}
	add(acctKey(tx.Account))
	if tx.Type != TxRecordPut {
		return
	}
	var p RecordPut
	if p.decodeFast(tx.Payload) && p.Schema != "" && p.Subject != "" {
		add(recordKey(p.Schema, p.Subject))
	}
}
