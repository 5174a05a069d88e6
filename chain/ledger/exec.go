package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// payload is one decoded transaction body. validate checks what needs no
// state (CheckTx runs it too); apply checks authorization and semantics
// against state and writes.
type payload interface {
	validate() error
	apply(c *txCtx) error
}

// txSpec says which roles may send a tx type and how to decode it.
type txSpec struct {
	roles []Role
	new   func() payload
}

var (
	adminOnly   = []Role{RoleAdmin}
	writerRoles = []Role{RoleAdmin, RoleOperator}
)

// txSpecs lists every transaction type. Auditors appear nowhere: they read
// through the API and never write.
var txSpecs = map[string]txSpec{
	TxAccountAdd:        {adminOnly, func() payload { return new(AccountAdd) }},
	TxAccountRemove:     {adminOnly, func() payload { return new(AccountRemove) }},
	TxDeptSetKey:        {adminOnly, func() payload { return new(DeptSetKey) }},
	TxSchemaRegister:    {adminOnly, func() payload { return new(SchemaRegister) }},
	TxRecordPut:         {writerRoles, func() payload { return new(RecordPut) }},
	TxGrant:             {adminOnly, func() payload { return new(GrantTx) }},
	TxRevoke:            {adminOnly, func() payload { return new(RevokeTx) }},
	TxAccessLog:         {writerRoles, func() payload { return new(AccessLog) }},
	TxApplicationSubmit: {writerRoles, func() payload { return new(ApplicationSubmit) }},
	TxApplicationAttest: {writerRoles, func() payload { return new(ApplicationAttest) }},
	TxSIContribution:    {writerRoles, func() payload { return new(SIContribution) }},
	TxCreditEvent:       {writerRoles, func() payload { return new(CreditEventTx) }},
	TxGovPropose:        {adminOnly, func() payload { return new(GovPropose) }},
	TxGovVote:           {adminOnly, func() payload { return new(GovVote) }},
}

// Transaction types (chain.Tx.Type). TRANSACTIONS.md documents each payload.
const (
	TxAccountAdd        = "account.add"
	TxAccountRemove     = "account.remove"
	TxDeptSetKey        = "dept.set_key"
	TxSchemaRegister    = "schema.register"
	TxRecordPut         = "record.put"
	TxGrant             = "grant"
	TxRevoke            = "revoke"
	TxAccessLog         = "access.log"
	TxApplicationSubmit = "application.submit"
	TxApplicationAttest = "application.attest"
	TxSIContribution    = "si.contribution"
	TxCreditEvent       = "credit.event"
	TxGovPropose        = "gov.propose"
	TxGovVote           = "gov.vote"
)

// TxTypes returns the transaction types in sorted order.
func TxTypes() []string {
	out := make([]string, 0, len(txSpecs))
	for t := range txSpecs {
		out = append(out, t)
	}
	sortStrings(out)
	return out
}

// blockCtx is what one Execute call accumulates.
type blockCtx struct {
	h      *chain.Header
	alerts []Alert
	events []Event
	next   []chain.Authority
	// txo is the transactions' overlay, reset for each.
	txo *overlay
	// tx and sender are the current transaction's context and its copy
	// of the sender's account, reused from one transaction to the next
	// (nothing keeps a txCtx past its transaction).
	tx     txCtx
	sender Account
	// versions are the record versions the block's successful
	// transactions wrote, in order, for the by-time index (timeindex.go).
	versions []versionRef
}

// txCtx is one transaction's view: its own overlay, its sender and where
// it sits in the block.
type txCtx struct {
	l      *Ledger
	st     *overlay
	b      *blockCtx
	tx     *chain.Tx
	hash   chain.Hash
	index  int
	acct   *Account
	alerts []Alert
	events []Event
	next   []chain.Authority
	// versions: the record versions this transaction wrote.
	versions []versionRef
}

func (c *txCtx) height() uint64 { return c.b.h.Height }
func (c *txCtx) time() int64    { return c.b.h.Time }
func (c *txCtx) dept() string   { return c.acct.Department }

// who names the sender in error messages: "account 1a2b3c4d (tax/operator)".
func (c *txCtx) who() string {
	return fmt.Sprintf("account %s (%s/%s)", c.acct.PubKey.Short(), c.acct.Department, c.acct.Role)
}

func (c *txCtx) event(typ, key, detail string) {
	c.events = append(c.events, Event{Type: typ, TxIndex: c.index, Key: key, Detail: detail})
}

// Execute applies txs in order on an overlay of state and returns the
// writes. It fails (the block is invalid) when a tx names an unknown
// account, carries a wrong nonce or another chain's id, or state cannot be
// read. A tx that fails authorization or semantics is included: its nonce
// is consumed and TxResult records why. state must implement ScanKV.
func (l *Ledger) Execute(state KV, h *chain.Header, txs []chain.Tx) (*Result, error) {
	return l.execute(state, h, txs, nil, true)
}

// ExecuteHashed is Execute for a caller that already has each tx's hash:
// hashes[i] must be txs[i].Hash() (chain.TxHashes), which records and
// application ids are derived from. A nil hashes computes them.
func (l *Ledger) ExecuteHashed(state KV, h *chain.Header, txs []chain.Tx, hashes []chain.Hash) (*Result, error) {
	return l.execute(state, h, txs, hashes, true)
}

// execute is ExecuteHashed; cache selects the block overlay's
// decoded-value cache, which must not change any result (a test runs
// both).
func (l *Ledger) execute(state KV, h *chain.Header, txs []chain.Tx, hashes []chain.Hash, cache bool) (*Result, error) {
	sc, ok := state.(ScanKV)
	if !ok {
		return nil, ErrNoScan
	}
	if h == nil || h.Time <= 0 || h.Height == 0 {
		return nil, fmt.Errorf("execute: %w: header needs a height and a positive time", ErrInvalid)
	}
	if hashes == nil {
		hashes = chain.TxHashes(txs)
	} else if len(hashes) != len(txs) {
		return nil, fmt.Errorf("execute: %w: %d tx hashes for %d txs", ErrInvalid, len(hashes), len(txs))
	}
	blk := newBlockOverlay(sc, 5*len(txs)) // a record.put writes five keys
	if !cache {
		blk.decoded = nil
	}
	// Most transactions report one event (a record.put does).
	b := &blockCtx{h: h, txo: newOverlay(blk), events: make([]Event, 0, len(txs))}
	res := &Result{TxResults: make([]TxResult, len(txs))}
	for i := range txs {
		r, err := l.executeTx(blk, b, &txs[i], hashes[i], i)
		if err != nil {
			return nil, fmt.Errorf("execute block %d: tx %d: %w", h.Height, i, err)
		}
		res.TxResults[i] = r
	}
	putTimeIndex(blk, b)
	if err := l.runBlockMonitors(blk, b); err != nil {
		return nil, fmt.Errorf("execute block %d: monitors: %w", h.Height, err)
	}
	res.Writes = blk.writes()
	res.Alerts = b.alerts
	res.Events = b.events
	res.NextAuthorities = b.next
	return res, nil
}

func (l *Ledger) executeTx(blk *overlay, b *blockCtx, tx *chain.Tx, hash chain.Hash, i int) (TxResult, error) {
	if tx.ChainID != l.chainID {
		return TxResult{}, fmt.Errorf("%w: %q, want %q", chain.ErrWrongChain, tx.ChainID, l.chainID)
	}
	key := acctKey(tx.Account)
	acct, ok, err := getAccountAt(blk, key)
	if err != nil {
		return TxResult{}, err
	}
	if !ok {
		return TxResult{}, fmt.Errorf("%w: %s", ErrUnknownAccount, tx.Account.String())
	}
	if tx.Nonce != acct.Nonce+1 {
		return TxResult{}, fmt.Errorf("account %s: %w: got %d, want %d", tx.Account.Short(), ErrBadNonce, tx.Nonce, acct.Nonce+1)
	}
	// The tx gets its own copy: apply must not change the account it
	// reads its sender's rights from, and acct stays the state before it.
	b.sender = *acct
	b.txo.reset()
	c := &b.tx
	*c = txCtx{l: l, st: b.txo, b: b, tx: tx, hash: hash, index: i, acct: &b.sender,
		alerts: c.alerts[:0], events: c.events[:0], versions: c.versions[:0]} // their contents are copied out below
	terr := l.deliver(c)
	if isFatal(terr) {
		return TxResult{}, terr
	}
	after := acct
	ks := string(key)
	if terr == nil {
		_, touched := c.st.pending[ks]
		c.st.commitTo(blk)
		b.events = append(b.events, c.events...)
		b.alerts = append(b.alerts, c.alerts...)
		b.versions = append(b.versions, c.versions...)
		if c.next != nil {
			b.next = c.next
		}
		if touched { // e.g. the tx removed its own account
			if after, err = loadAccount(blk, tx.Account); err != nil {
				return TxResult{}, err
			}
		}
	}
	after.Nonce = tx.Nonce
	putAccountAt(blk, ks, after)
	if terr != nil {
		return TxResult{Code: codeOf(terr), Message: fmt.Sprintf("%s: %v", tx.Type, terr)}, nil
	}
	return TxResult{Code: CodeOK}, nil
}

// deliver authorizes, decodes and applies one tx on c.st.
func (l *Ledger) deliver(c *txCtx) error {
	p, err := l.authorizeAndDecode(c.acct, c.tx)
	if err != nil {
		return err
	}
	return p.apply(c)
}

func (l *Ledger) authorizeAndDecode(acct *Account, tx *chain.Tx) (payload, error) {
	spec, ok := txSpecs[tx.Type]
	if !ok {
		return nil, fmt.Errorf("%w: %q (known: %v)", ErrUnknownTxType, tx.Type, TxTypes())
	}
	if !acct.Active {
		return nil, unauthorized("account %s (%s) was removed", acct.PubKey.Short(), acct.Department)
	}
	if !acct.Role.in(spec.roles) {
		return nil, unauthorized("account %s (%s/%s) may not send %s (allowed roles: %v)", acct.PubKey.Short(), acct.Department, acct.Role, tx.Type, spec.roles)
	}
	p := spec.new()
	if rp, ok := p.(*RecordPut); !ok || !rp.decodeFast(tx.Payload) {
		if err := decodeStrict(tx.Payload, p); err != nil {
			return nil, err
		}
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// CheckTx is the mempool pre-check: the account exists and is active, its
// role may send this type and the payload decodes and passes the stateless
// checks. The mempool checks the nonce and the signature.
func (l *Ledger) CheckTx(state KV, tx *chain.Tx) error {
	if tx == nil {
		return fmt.Errorf("check tx: %w: nil", ErrInvalid)
	}
	if tx.ChainID != l.chainID {
		return fmt.Errorf("check tx: %w: %q, want %q", chain.ErrWrongChain, tx.ChainID, l.chainID)
	}
	acct, err := loadAccount(state, tx.Account)
	if err != nil {
		return fmt.Errorf("check tx: %w", err)
	}
	if _, err := l.authorizeAndDecode(acct, tx); err != nil {
		return fmt.Errorf("check tx %s: %w", tx.Type, err)
	}
	return nil
}

// NextNonce returns the nonce the account's next tx must carry: 1 for an
// account never seen.
func (l *Ledger) NextNonce(state KV, acct chain.PublicKey) (uint64, error) {
	a, ok, err := getAccount(state, acct)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 1, nil
	}
	return a.Nonce + 1, nil
}

// Authorities returns the current authority set as stored by genesis and
// governance.
func (l *Ledger) Authorities(state KV) ([]chain.Authority, error) {
	var out []chain.Authority
	ok, err := getJSON(state, []byte(keyAuthorities), &out)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("authorities: %w: state has no authority set (genesis not applied?)", ErrNotFound)
	}
	return out, nil
}

func loadAccount(kv KV, pk chain.PublicKey) (*Account, error) {
	a, ok, err := getAccount(kv, pk)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownAccount, pk.String())
	}
	return a, nil
}

// decodeStrict decodes JSON rejecting unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, ioEOF) {
		return fmt.Errorf("%w: trailing data after the JSON object", ErrBadPayload)
	}
	return nil
}

// EncodePayload marshals a payload struct for tx.Payload.
func EncodePayload(p any) ([]byte, error) { return json.Marshal(p) }
