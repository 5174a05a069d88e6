package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Params are the consensus parameters fixed at genesis.
type Params struct {
	// Timeouts in milliseconds. Round r waits base + r·delta.
	TimeoutProposeMS   int64 `json:"timeout_propose_ms"`
	TimeoutPrevoteMS   int64 `json:"timeout_prevote_ms"`
	TimeoutPrecommitMS int64 `json:"timeout_precommit_ms"`
	TimeoutDeltaMS     int64 `json:"timeout_delta_ms"`
	// TimeoutCommitMS is how long a node waits after finalizing a block
	// before starting the next height (gathers late precommits and txs).
	TimeoutCommitMS int64 `json:"timeout_commit_ms"`
	MaxBlockTxs     int   `json:"max_block_txs"`
	MaxBlockBytes   int   `json:"max_block_bytes"`
	MaxTxBytes      int   `json:"max_tx_bytes"`
}

// DefaultParams are sane for a city network of a handful of departments.
func DefaultParams() Params {
	return Params{
		TimeoutProposeMS:   1000,
		TimeoutPrevoteMS:   500,
		TimeoutPrecommitMS: 500,
		TimeoutDeltaMS:     500,
		TimeoutCommitMS:    100,
		// A block must be built, gossiped, rebuilt and executed by every
		// validator within timeout_propose, on machines busy with the load
		// itself. Four nodes on 2 cores offered more than they finalize
		// proposed ~7,800 txs per block under a 10,000 limit, and round 0
		// failed at the propose step for 4 blocks in 3 minutes; under 5,000
		// the same load finalized as much with none. At max rate blocks
		// hold ~5,000 either way (docs/BENCHMARK.md, fifteenth round).
		MaxBlockTxs:   5_000,
		MaxBlockBytes: 8 << 20,
		MaxTxBytes:    64 << 10,
	}
}

// Validate checks every parameter's range.
func (p Params) Validate() error {
	check := func(name string, v, lo, hi int64) error {
		if v < lo || v > hi {
			return fmt.Errorf("params.%s: %d is outside [%d, %d]", name, v, lo, hi)
		}
		return nil
	}
	for _, c := range []struct {
		name      string
		v, lo, hi int64
	}{
		{"timeout_propose_ms", p.TimeoutProposeMS, 1, 600_000},
		{"timeout_prevote_ms", p.TimeoutPrevoteMS, 1, 600_000},
		{"timeout_precommit_ms", p.TimeoutPrecommitMS, 1, 600_000},
		{"timeout_delta_ms", p.TimeoutDeltaMS, 0, 600_000},
		{"timeout_commit_ms", p.TimeoutCommitMS, 0, 600_000},
		{"max_block_txs", int64(p.MaxBlockTxs), 1, MaxBlockTxs},
		{"max_block_bytes", int64(p.MaxBlockBytes), 1024, MaxBlockBytes},
		{"max_tx_bytes", int64(p.MaxTxBytes), 256, MaxTxEncodedLen},
	} {
		if err := check(c.name, c.v, c.lo, c.hi); err != nil {
			return err
		}
	}
	return nil
}

// GenesisAccount is an account that exists from the start, typically each
// department's first admin.
type GenesisAccount struct {
	Department string    `json:"department"`
	Role       string    `json:"role"`
	Name       string    `json:"name,omitempty"`
	PubKey     PublicKey `json:"pub_key"`
}

// Genesis is the document every node of a network starts from.
type Genesis struct {
	ChainID     string           `json:"chain_id"`
	GenesisTime time.Time        `json:"genesis_time"`
	Authorities []Authority      `json:"authorities"`
	Accounts    []GenesisAccount `json:"accounts,omitempty"`
	Params      Params           `json:"params"`
	// AppState is the ledger's own initial state (schemas, credit rules);
	// the chain does not interpret it.
	AppState json.RawMessage `json:"app_state,omitempty"`
}

// LoadGenesis reads and validates a genesis file.
func LoadGenesis(path string) (*Genesis, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	g, err := ParseGenesis(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// ParseGenesis decodes JSON strictly (unknown fields are errors) and validates.
func ParseGenesis(data []byte) (*Genesis, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var g Genesis
	if err := dec.Decode(&g); err != nil {
		if located := locateKeyError(data, err); located != nil {
			return nil, located
		}
		return nil, fmt.Errorf("genesis is not valid JSON of the expected shape: %w", err)
	}
	// Decoder.More is false before a stray '}' or ']', so look at the bytes.
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, fmt.Errorf("genesis: trailing data after the JSON object")
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// locateKeyError names the authority or account whose pub_key failed to
// parse: encoding/json returns a TextUnmarshaler's error without saying where
// in the document it happened, and an operator with a dozen keys needs to
// know which one is wrong. It returns nil if decodeErr is not such an error.
func locateKeyError(data []byte, decodeErr error) error {
	type entry struct {
		Department string `json:"department"`
		PubKey     string `json:"pub_key"`
	}
	var doc struct {
		Authorities []entry `json:"authorities"`
		Accounts    []entry `json:"accounts"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	for _, list := range []struct {
		field   string
		entries []entry
	}{{"authorities", doc.Authorities}, {"accounts", doc.Accounts}} {
		for i, e := range list.entries {
			if _, err := ParsePublicKey(e.PubKey); err != nil && err.Error() == decodeErr.Error() {
				return fmt.Errorf("genesis: %s[%d] (department %q): pub_key: %w", list.field, i, e.Department, err)
			}
		}
	}
	return nil
}

// Validate checks the chain id, authorities, accounts and parameters.
func (g *Genesis) Validate() error {
	if err := validateChainID(g.ChainID); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	if g.GenesisTime.IsZero() {
		return fmt.Errorf("genesis: genesis_time is missing")
	}
	if _, err := NewAuthoritySet(g.Authorities); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	seen := make(map[PublicKey]bool)
	for i, a := range g.Accounts {
		if err := validateName(a.Department, 64); err != nil {
			return fmt.Errorf("genesis: accounts[%d]: department: %w", i, err)
		}
		if a.PubKey.IsZero() {
			return fmt.Errorf("genesis: accounts[%d] (%s): pub_key is missing", i, a.Department)
		}
		if seen[a.PubKey] {
			return fmt.Errorf("genesis: accounts[%d] (%s): pub_key listed twice", i, a.Department)
		}
		seen[a.PubKey] = true
		if a.Role == "" {
			return fmt.Errorf("genesis: accounts[%d] (%s): role is missing", i, a.Department)
		}
	}
	if err := g.Params.Validate(); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	// Hash re-marshals AppState, which fails (and Hash panics) on invalid JSON.
	if len(g.AppState) > 0 && !json.Valid(g.AppState) {
		return fmt.Errorf("genesis: app_state is not valid JSON")
	}
	return nil
}

// AuthoritySet returns the initial authority set.
func (g *Genesis) AuthoritySet() *AuthoritySet {
	s, err := NewAuthoritySet(g.Authorities)
	if err != nil {
		panic(fmt.Sprintf("genesis validated but authority set is invalid: %v", err))
	}
	return s
}

// Hash is SHA-256 of the genesis re-encoded as compact JSON, so formatting of
// the file does not matter but every value does. Block 1's PrevHash is this
// hash, which ties the chain to its genesis.
func (g *Genesis) Hash() Hash {
	cp := *g
	cp.GenesisTime = g.GenesisTime.UTC()
	if len(cp.AppState) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, cp.AppState); err == nil {
			cp.AppState = buf.Bytes()
		}
	}
	data, err := json.Marshal(&cp)
	if err != nil {
		panic(fmt.Sprintf("marshal genesis: %v", err))
	}
	return HashBytes(data)
}

// Marshal returns the genesis as indented JSON for writing to a file.
func (g *Genesis) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
