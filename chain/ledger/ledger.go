// Package ledger is the deterministic state machine every department node
// applies to finalized blocks: accounts and roles, data records with version
// history, encrypted sharing with grants, the access audit trail, one-stop
// enterprise registration, social-insurance contributions, the city credit
// record, governance of the authority set and monitoring alerts.
//
// The ledger never sees a clock, a network or a random source: the block
// header supplies height and time, the state is read through KV and the
// result is a sorted list of writes. Two nodes that apply the same blocks to
// the same state produce byte-identical writes.
//
// How a node drives it:
//
//	l, err := ledger.New(genesis)         // validates genesis.app_state
//	ws, err := l.GenesisWrites()          // commit once, before height 1
//	err = l.CheckTx(state, tx)            // mempool admission (plus nonce, signature)
//	res, err := l.Execute(state, hdr, txs) // state: committed state as a ScanKV
//	// commit res.Writes atomically with the block; err means the block is invalid.
//	// res.NextAuthorities != nil: the new set takes effect at hdr.Height+2.
//
// Only Writes (and so the state root) are consensus-critical. TxResult codes
// are deterministic; messages are for people and may change between
// versions, so a node that commits results should hash codes, not messages.
// The read side (Record, AccessBySubject, Application, Credit, …) works on
// committed state. TRANSACTIONS.md documents every payload.
package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// KV is read access to committed state. A store-backed implementation and a
// map in tests both satisfy it.
type KV interface {
	// Get returns the value under key; ok is false when the key is absent.
	Get(key []byte) (value []byte, ok bool, err error)
}

// ScanKV is committed state that can also list keys by prefix. Execute and
// the queries need it: deadlines, histories and logs are prefix ranges.
// A go-datastore backed store implements Scan with a prefix query ordered
// by key.
type ScanKV interface {
	KV
	// Scan calls fn for every key with the given prefix in ascending byte
	// order, stopping early when fn returns false. fn must not keep k or v.
	Scan(prefix []byte, fn func(k, v []byte) bool) error
}

// Write is one state change. A nil Value deletes the key.
type Write struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value"`
}

// TxResult is the outcome of one transaction. Code 0 is success; any other
// code means the transaction was included (its nonce is consumed) but
// changed nothing else.
type TxResult struct {
	Code    uint32 `json:"code"`
	Message string `json:"message,omitempty"`
}

// Event tells the node what a block did, for logs and subscribers.
type Event struct {
	Type    string `json:"type"`
	TxIndex int    `json:"tx_index"` // -1 for block-level events
	Key     string `json:"key,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Result is what executing a block produced.
type Result struct {
	// Writes are sorted by key, one per key.
	Writes    []Write    `json:"writes"`
	TxResults []TxResult `json:"tx_results"`
	// NextAuthorities is non-nil when governance decided a change of the
	// authority set in this block; the node applies it at height h+2.
	NextAuthorities []chain.Authority `json:"next_authorities,omitempty"`
	Alerts          []Alert           `json:"alerts,omitempty"`
	Events          []Event           `json:"events,omitempty"`
}

// Ledger holds the parsed genesis configuration. It is immutable after New
// and safe for concurrent use; all mutable state lives in the KV.
type Ledger struct {
	chainID     string
	genesisTime int64
	authorities []chain.Authority
	accounts    []chain.GenesisAccount
	app         *AppState
	appTypes    map[string]*AppType
}

// New parses and validates g.AppState against the rest of the genesis.
func New(g *chain.Genesis) (*Ledger, error) {
	if g == nil {
		return nil, fmt.Errorf("ledger: %w: nil genesis", ErrGenesis)
	}
	app, err := ParseAppState(g.AppState)
	if err != nil {
		return nil, err
	}
	l := &Ledger{
		chainID:     g.ChainID,
		genesisTime: g.GenesisTime.UnixMilli(),
		authorities: append([]chain.Authority(nil), g.Authorities...),
		accounts:    append([]chain.GenesisAccount(nil), g.Accounts...),
		app:         app,
		appTypes:    make(map[string]*AppType, len(app.AppTypes)),
	}
	for i := range app.AppTypes {
		l.appTypes[app.AppTypes[i].ID] = &app.AppTypes[i]
	}
	if err := l.validateGenesis(); err != nil {
		return nil, err
	}
	return l, nil
}

// AppState returns a deep copy of the parsed application state.
func (l *Ledger) AppState() AppState {
	var cp AppState
	b, err := json.Marshal(l.app)
	if err == nil {
		err = json.Unmarshal(b, &cp)
	}
	if err != nil {
		panic(fmt.Sprintf("ledger: copy app state: %v", err)) // it was decoded from JSON
	}
	return cp
}

// GenesisWrites returns the initial state: departments (authorities and
// app_state departments), genesis accounts, schemas and the authority set.
func (l *Ledger) GenesisWrites() ([]Write, error) {
	ov := newOverlay(emptyKV{})
	for _, d := range l.genesisDepartments() {
		if err := putJSON(ov, deptKey(d.ID), d); err != nil {
			return nil, err
		}
	}
	for _, a := range l.accounts {
		acct := Account{PubKey: a.PubKey, Department: a.Department, Role: Role(a.Role), Name: a.Name, Active: true}
		putAccount(ov, &acct)
	}
	for _, s := range l.app.Schemas {
		if err := putJSON(ov, schemaKey(s.Name), s); err != nil {
			return nil, err
		}
	}
	if err := putJSON(ov, []byte(keyAuthorities), l.authorities); err != nil {
		return nil, err
	}
	return ov.writes(), nil
}

func (l *Ledger) genesisDepartments() []Department {
	var out []Department
	seen := make(map[string]bool)
	for _, a := range l.authorities {
		out = append(out, Department{ID: a.Department, Name: a.Name, NodeKey: a.PubKey, Authority: true})
		seen[a.Department] = true
	}
	for _, d := range l.app.Departments {
		if !seen[d.ID] {
			out = append(out, Department{ID: d.ID, Name: d.Name})
			seen[d.ID] = true
		}
	}
	return out
}

// emptyKV is the state before genesis.
type emptyKV struct{}

func (emptyKV) Get([]byte) ([]byte, bool, error) { return nil, false, nil }
func (emptyKV) Scan([]byte, func(k, v []byte) bool) error {
	return nil
}

// MapKV is an in-memory ScanKV for tests and tools. It is not safe for
// concurrent writes.
type MapKV map[string][]byte

// Get implements KV.
func (m MapKV) Get(key []byte) ([]byte, bool, error) {
	v, ok := m[string(key)]
	return v, ok, nil
}

// Scan implements ScanKV by sorting the matching keys.
func (m MapKV) Scan(prefix []byte, fn func(k, v []byte) bool) error {
	keys := make([]string, 0)
	for k := range m {
		if bytes.HasPrefix([]byte(k), prefix) {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	for _, k := range keys {
		if !fn([]byte(k), m[k]) {
			return nil
		}
	}
	return nil
}

// Apply applies writes to the map, as the store would commit them.
func (m MapKV) Apply(ws []Write) {
	for _, w := range ws {
		if w.Value == nil {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = append([]byte(nil), w.Value...)
		}
	}
}
