package configs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/node/keyfile"
)

// ErrInitialised means InitHome found an existing node key or config.
var ErrInitialised = errors.New("configs: home is already initialised")

// InitOptions say what InitHome writes besides the config.
type InitOptions struct {
	// Key is the node key to save; nil generates a new random one. Devnets
	// and tests pass keys derived from fixed seeds.
	Key *keyfile.Key
	// PseudonymKey is the network's shared pseudonym secret. Nil keeps an
	// existing file or, if there is none, generates a new secret.
	PseudonymKey *keyfile.Secret
	// Genesis, if set, is written to the config's genesis_file.
	Genesis *chain.Genesis
}

// PseudonymOutcome says what InitHome did about the pseudonym key.
type PseudonymOutcome int

// Pseudonym key outcomes.
const (
	PseudonymKept      PseudonymOutcome = iota // an existing file was kept
	PseudonymCopied                            // InitOptions.PseudonymKey was written
	PseudonymGenerated                         // a new random secret was written
)

// InitResult is what InitHome created.
type InitResult struct {
	// Config is the written config with paths resolved against home.
	Config    Config
	Key       *keyfile.Key
	Pseudonym PseudonymOutcome
}

// InitHome creates a node home directory: config/node_key (0600),
// config/node.toml (cfg, annotated), config/pseudonym.key (0600) unless
// present, config/genesis.json if opts.Genesis is set, and the data
// directory. It validates cfg and checks that no key, config or genesis would
// be overwritten before creating anything, so a refused call changes nothing.
func InitHome(home string, cfg Config, opts InitOptions) (*InitResult, error) {
	if err := cfg.Validate().Err(); err != nil {
		return nil, err
	}
	rc := cfg.Resolve(home)
	cfgPath := Path(home)
	for _, p := range []string{rc.Node.KeyFile, cfgPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("%s already exists (%w): a key or a config is never overwritten", p, ErrInitialised)
		}
	}
	var genesisData []byte
	if opts.Genesis != nil {
		if err := opts.Genesis.Validate(); err != nil {
			return nil, err
		}
		var err error
		if genesisData, err = opts.Genesis.Marshal(); err != nil {
			return nil, err
		}
		if _, err := os.Lstat(rc.Node.GenesisFile); err == nil {
			return nil, fmt.Errorf("%s: %w", rc.Node.GenesisFile, ErrExists)
		}
	}
	outcome := PseudonymGenerated
	if _, err := os.Lstat(rc.Ledger.PseudonymKeyFile); err == nil {
		existing, err := keyfile.LoadSecret(rc.Ledger.PseudonymKeyFile)
		if err != nil {
			return nil, err
		}
		if opts.PseudonymKey != nil && *opts.PseudonymKey != existing {
			return nil, fmt.Errorf("%s exists and holds a different pseudonym key than the one given", rc.Ledger.PseudonymKeyFile)
		}
		outcome = PseudonymKept
	} else if opts.PseudonymKey != nil {
		outcome = PseudonymCopied
	}

	if err := os.MkdirAll(filepath.Join(home, ConfigDir), 0o700); err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	if err := os.MkdirAll(rc.Node.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	key := opts.Key
	if key == nil {
		var err error
		if key, err = keyfile.New(); err != nil {
			return nil, err
		}
	}
	if err := keyfile.Save(rc.Node.KeyFile, key); err != nil {
		return nil, err
	}
	if err := Write(cfgPath, cfg); err != nil {
		return nil, err
	}
	switch outcome {
	case PseudonymCopied:
		if err := keyfile.SaveSecret(rc.Ledger.PseudonymKeyFile, *opts.PseudonymKey); err != nil {
			return nil, err
		}
	case PseudonymGenerated:
		if _, err := keyfile.GenerateSecret(rc.Ledger.PseudonymKeyFile); err != nil {
			return nil, err
		}
	}
	if genesisData != nil {
		if err := os.WriteFile(rc.Node.GenesisFile, genesisData, 0o644); err != nil {
			return nil, fmt.Errorf("configs: %w", err)
		}
	}
	return &InitResult{Config: rc, Key: key, Pseudonym: outcome}, nil
}
