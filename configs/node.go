package configs

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/pnet"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/node/keyfile"
)

// NodeFiles is everything a node reads from its home directory at start.
type NodeFiles struct {
	// Config has its paths resolved against the home directory.
	Config    Config
	Key       *keyfile.Key
	Genesis   *chain.Genesis
	Pseudonym keyfile.Secret
	// PSK is nil when p2p.psk_file is not set.
	PSK pnet.PSK
	// Warnings are Check's warnings, for the node to log at start.
	Warnings Problems
}

// LoadNode runs Check on home and, if it found no errors, loads the files:
// what `zwnode run` does before it opens anything. On errors it returns a
// Problems error listing all of them (errors.Is(err, ErrInvalid)).
func LoadNode(home string) (*NodeFiles, error) {
	ps := Check(home)
	if err := ps.Err(); err != nil {
		return nil, err
	}
	cfg, err := LoadHome(home)
	if err != nil {
		return nil, err
	}
	nf := &NodeFiles{Config: cfg, Warnings: ps.Warnings()}
	if nf.Key, err = keyfile.Load(cfg.Node.KeyFile); err != nil {
		return nil, fmt.Errorf("node.key_file: %w", err)
	}
	if nf.Genesis, err = chain.LoadGenesis(cfg.Node.GenesisFile); err != nil {
		return nil, fmt.Errorf("node.genesis_file: %w", err)
	}
	if nf.Pseudonym, err = keyfile.LoadSecret(cfg.Ledger.PseudonymKeyFile); err != nil {
		return nil, fmt.Errorf("ledger.pseudonym_key_file: %w", err)
	}
	if cfg.P2P.PSKFile != "" {
		if nf.PSK, err = keyfile.LoadPSK(cfg.P2P.PSKFile); err != nil {
			return nil, fmt.Errorf("p2p.psk_file: %w", err)
		}
	}
	return nf, nil
}
