package configs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/zwnode/zwnode/chain"
)

// RoleAdmin is the role of each department's first account in genesis.
const RoleAdmin = "admin"

// GenesisSpec is what an operator decides when founding a network; NewGenesis
// turns it into a validated genesis document.
type GenesisSpec struct {
	ChainID     string
	GenesisTime time.Time
	// Authorities in round-robin order.
	Authorities []chain.Authority
	// Admins are extra or replacement admin accounts. A department with no
	// admin listed here gets its authority key as its first admin account.
	Admins []chain.GenesisAccount
	// Params default to chain.DefaultParams() when nil.
	Params *chain.Params
	// AppState is the ledger's initial state; "{}" when empty.
	AppState json.RawMessage
}

// NewGenesis builds and validates a genesis document from spec. The time is
// truncated to the second and put in UTC so the file reads cleanly.
func NewGenesis(spec GenesisSpec) (*chain.Genesis, error) {
	g := &chain.Genesis{
		ChainID:     spec.ChainID,
		GenesisTime: spec.GenesisTime.UTC().Truncate(time.Second),
		Authorities: append([]chain.Authority(nil), spec.Authorities...),
		Params:      chain.DefaultParams(),
		AppState:    json.RawMessage("{}"),
	}
	if spec.Params != nil {
		g.Params = *spec.Params
	}
	if len(bytes.TrimSpace(spec.AppState)) > 0 {
		if !json.Valid(spec.AppState) {
			return nil, fmt.Errorf("genesis: app_state is not valid JSON")
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(spec.AppState, &obj); err != nil {
			return nil, fmt.Errorf("genesis: app_state must be a JSON object: %w", err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, spec.AppState); err != nil {
			return nil, fmt.Errorf("genesis: app_state: %w", err)
		}
		g.AppState = buf.Bytes()
	}
	g.Accounts = adminAccounts(spec.Authorities, spec.Admins)
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// adminAccounts lists, in authority order, each department's admins (its
// authority key when none is given), then admins of departments that run no
// authority node, in the order given.
func adminAccounts(auths []chain.Authority, admins []chain.GenesisAccount) []chain.GenesisAccount {
	byDept := make(map[string][]chain.GenesisAccount)
	var otherDepts []string
	isAuth := make(map[string]bool)
	for _, a := range auths {
		isAuth[a.Department] = true
	}
	for _, a := range admins {
		if a.Role == "" {
			a.Role = RoleAdmin
		}
		if a.Name == "" {
			a.Name = a.Department + " admin"
		}
		if _, seen := byDept[a.Department]; !seen && !isAuth[a.Department] {
			otherDepts = append(otherDepts, a.Department)
		}
		byDept[a.Department] = append(byDept[a.Department], a)
	}
	var out []chain.GenesisAccount
	for _, a := range auths {
		if given, ok := byDept[a.Department]; ok {
			out = append(out, given...)
			continue
		}
		out = append(out, chain.GenesisAccount{Department: a.Department, Role: RoleAdmin, Name: a.Department + " admin", PubKey: a.PubKey})
	}
	for _, d := range otherDepts {
		out = append(out, byDept[d]...)
	}
	return out
}
