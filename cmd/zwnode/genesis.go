package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node/keyfile"
)

func newGenesisCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "genesis",
		Short: "Build and verify the network's genesis file",
		Example: `  zwnode genesis new --chain-id jinan-gov-1 --authority tax=12D3KooW... --authority market=12D3KooW... -o genesis.json
  zwnode genesis verify genesis.json --home /srv/zwnode`,
	}
	cmd.AddCommand(newGenesisNewCmd(), newGenesisVerifyCmd())
	return cmd
}

type genesisNewOptions struct {
	chainID     string
	authorities []string
	admins      []string
	appState    string
	params      string
	genesisTime string
	output      string
	force       bool
}

func newGenesisNewCmd() *cobra.Command {
	var o genesisNewOptions
	cmd := &cobra.Command{
		Use:   "new --chain-id ID --authority DEPT=KEY[:Name] ... -o genesis.json",
		Short: "Build, validate and write a genesis file",
		Long: `Build a genesis file from the departments' node keys, validate it and write it.

--authority DEPT=KEY[:Display Name] lists one authority; the order of the flags
is the round-robin proposer order. KEY is the node's peer ID or its public key
(base64 or hex), as printed by ` + "`zwnode init` or `zwnode keys show`" + `.

Every department gets one admin account. By default it is the authority's own
node key; --admin DEPT=KEY[:Name] gives the department a separate admin key
instead (repeat it for more admins, or for departments without a node).

Consensus parameters are chain.DefaultParams unless --params names a JSON file
with some of them. The genesis hash printed at the end is what every operator
compares (` + "`zwnode genesis verify`" + `) before starting.`,
		Example: `  zwnode genesis new --chain-id jinan-gov-1 \
      --authority 'tax=12D3KooWM6Ed...:济南市税务局' \
      --authority 'market=12D3KooWA1b2...:济南市市场监督管理局' \
      --authority 'hrss=12D3KooWQ9x...:济南市人力资源和社会保障局' \
      --authority 'credit=12D3KooWZ7k...:济南市信用办' \
      --admin 'tax=StI8Qln0Rl9Xfdk909E1DDgwPKIfu0ZRSBIdfluFvlU=:tax admin' \
      -o genesis.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGenesisNew(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.chainID, "chain-id", "", "chain id: lowercase letters, digits, . _ - (required)")
	f.StringArrayVar(&o.authorities, "authority", nil, "DEPT=PUBKEY_OR_PEERID[:Display Name], repeatable, in proposer order (required)")
	f.StringArrayVar(&o.admins, "admin", nil, "DEPT=PUBKEY_OR_PEERID[:Name] admin account, repeatable (default: the authority key)")
	f.StringVar(&o.appState, "app-state", "", "JSON file with the ledger's initial app_state object (default {})")
	f.StringVar(&o.params, "params", "", "JSON file overriding consensus params (keys as in genesis \"params\")")
	f.StringVar(&o.genesisTime, "genesis-time", "", "RFC 3339 genesis time (default now)")
	f.StringVarP(&o.output, "output", "o", "genesis.json", "file to write")
	f.BoolVar(&o.force, "force", false, "overwrite an existing output file")
	_ = cmd.MarkFlagRequired("chain-id")
	_ = cmd.MarkFlagRequired("authority")
	return cmd
}

func runGenesisNew(out io.Writer, o genesisNewOptions) error {
	spec := configs.GenesisSpec{ChainID: o.chainID, GenesisTime: time.Now()}
	if o.genesisTime != "" {
		t, err := time.Parse(time.RFC3339, o.genesisTime)
		if err != nil {
			return fmt.Errorf("--genesis-time: %w", err)
		}
		spec.GenesisTime = t
	}
	for _, s := range o.authorities {
		dept, key, name, err := parseDeptKey(s)
		if err != nil {
			return fmt.Errorf("--authority %q: %w", s, err)
		}
		if name == "" {
			name = dept
		}
		spec.Authorities = append(spec.Authorities, chain.Authority{Department: dept, Name: name, PubKey: key})
	}
	for _, s := range o.admins {
		dept, key, name, err := parseDeptKey(s)
		if err != nil {
			return fmt.Errorf("--admin %q: %w", s, err)
		}
		spec.Admins = append(spec.Admins, chain.GenesisAccount{Department: dept, Role: configs.RoleAdmin, Name: name, PubKey: key})
	}
	if o.appState != "" {
		data, err := os.ReadFile(o.appState)
		if err != nil {
			return fmt.Errorf("--app-state: %w", err)
		}
		spec.AppState = data
	}
	if o.params != "" {
		p, err := readParams(o.params)
		if err != nil {
			return fmt.Errorf("--params: %w", err)
		}
		spec.Params = &p
	}
	g, err := configs.NewGenesis(spec)
	if err != nil {
		return err
	}
	data, err := g.Marshal()
	if err != nil {
		return err
	}
	if err := writeNew(o.output, data, o.force); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s\n\n", o.output)
	printGenesis(out, g)
	fmt.Fprintf(out, "\nsend %s to every operator; each checks the hash with `zwnode genesis verify`\n", o.output)
	return nil
}

// parseDeptKey splits "DEPT=KEY[:Name]". Keys (base64, hex, peer IDs) never
// contain ':', so the first ':' after '=' starts the name.
func parseDeptKey(s string) (dept string, key chain.PublicKey, name string, err error) {
	dept, rest, ok := strings.Cut(s, "=")
	if !ok || dept == "" || rest == "" {
		return "", key, "", fmt.Errorf("want DEPT=PUBKEY_OR_PEERID[:Name]")
	}
	if err := chain.ValidateName(dept, 64); err != nil {
		return "", key, "", fmt.Errorf("department: %w", err)
	}
	keyText, name, _ := strings.Cut(rest, ":")
	key, err = keyfile.ParsePublicKeyOrPeerID(keyText)
	if err != nil {
		return "", key, "", err
	}
	return dept, key, strings.TrimSpace(name), nil
}

// readParams decodes a params file strictly on top of the defaults, so a
// file may set only the parameters it changes.
func readParams(path string) (chain.Params, error) {
	p := chain.DefaultParams()
	data, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// writeNew writes data to path, refusing to overwrite unless force.
func writeNew(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; use --force to overwrite it", path)
		}
		return err
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// printGenesis prints what operators compare: chain id, hash, authorities
// with their peer IDs, quorum and fault tolerance.
func printGenesis(out io.Writer, g *chain.Genesis) {
	set := g.AuthoritySet()
	fmt.Fprintf(out, "chain id      %s\n", g.ChainID)
	fmt.Fprintf(out, "genesis time  %s\n", g.GenesisTime.UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "genesis hash  %s\n", g.Hash())
	fmt.Fprintf(out, "authorities   %d: quorum %d, tolerates %d faulty\n", set.Size(), set.Quorum(), set.MaxFaulty())
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  #\tdepartment\tpeer id\tname\n")
	for i, a := range set.List() {
		id, err := keyfile.PeerIDFromPublicKey(a.PubKey)
		idText := id.String()
		if err != nil {
			idText = "(" + err.Error() + ")"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", i, a.Department, idText, a.Name)
	}
	tw.Flush()
	fmt.Fprintf(out, "accounts      %d\n", len(g.Accounts))
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, a := range g.Accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Department, a.Role, a.PubKey, a.Name)
	}
	tw.Flush()
	p := g.Params
	fmt.Fprintf(out, "params        timeouts propose %dms, prevote %dms, precommit %dms, +%dms per round, commit %dms\n",
		p.TimeoutProposeMS, p.TimeoutPrevoteMS, p.TimeoutPrecommitMS, p.TimeoutDeltaMS, p.TimeoutCommitMS)
	fmt.Fprintf(out, "              blocks up to %d txs / %d bytes, txs up to %d bytes\n", p.MaxBlockTxs, p.MaxBlockBytes, p.MaxTxBytes)
	fmt.Fprintf(out, "app state     %d bytes\n", len(g.AppState))
}

func newGenesisVerifyCmd() *cobra.Command {
	var home string
	var observer bool
	cmd := &cobra.Command{
		Use:   "verify FILE [--home DIR]",
		Short: "Validate a genesis file and print its hash and authorities",
		Long: `Validate a genesis file and print its chain id, hash, authorities (department,
peer ID, name), quorum and fault tolerance. Every operator runs this on the file
they received and compares the hash with the others before starting.

With --home, also check that this node's key is an authority in it and that
its department matches node.toml (--observer accepts a node that is not an
authority), and say whether it is the genesis the node is configured with.`,
		Example: `  zwnode genesis verify genesis.json
  zwnode genesis verify genesis.json --home /srv/zwnode`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenesisVerify(cmd.OutOrStdout(), args[0], home, observer)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "also check this node's key and department against the genesis")
	cmd.Flags().BoolVar(&observer, "observer", false, "with --home: accept a node key that is not an authority")
	return cmd
}

func runGenesisVerify(out io.Writer, path, home string, observer bool) error {
	g, err := chain.LoadGenesis(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s is valid\n\n", path)
	printGenesis(out, g)
	if home == "" {
		return nil
	}
	cfg, haveCfg, err := homeConfig(home)
	if err != nil {
		return err
	}
	key, err := keyfile.Load(cfg.Node.KeyFile)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	if mine, err := chain.LoadGenesis(cfg.Node.GenesisFile); err == nil {
		if mine.Hash() == g.Hash() {
			fmt.Fprintf(out, "this node is configured with this genesis (%s)\n", cfg.Node.GenesisFile)
		} else {
			fmt.Fprintf(out, "note: this node is configured with a DIFFERENT genesis: %s has hash %s\n", cfg.Node.GenesisFile, mine.Hash())
		}
	}
	set := g.AuthoritySet()
	i, ok := set.Index(key.PublicKey())
	if !ok {
		if observer {
			fmt.Fprintf(out, "this node (%s) is not an authority: it will run as an observer\n", key.PeerID())
			return nil
		}
		return fmt.Errorf("this node's key %s (%s) is not an authority in %s; pass --observer if it is meant to observe",
			key.PeerID(), cfg.Node.KeyFile, path)
	}
	a := set.At(i)
	if haveCfg && a.Department != cfg.Node.Department {
		return fmt.Errorf("this node's key %s is authority %q in %s, but node.toml says department %q",
			key.PeerID(), a.Department, path, cfg.Node.Department)
	}
	fmt.Fprintf(out, "this node (%s) is authority #%d, department %q\n", key.PeerID(), i, a.Department)
	return nil
}
