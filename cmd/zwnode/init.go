package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node/keyfile"
)

type initOptions struct {
	home         string
	department   string
	listen       []string
	announce     []string
	bootstrap    []string
	genesis      string
	pseudonymKey string
}

func newInitCmd() *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init --home DIR --department ID",
		Short: "Create a node's home directory: key, config, pseudonym key, data dir",
		Long: `Create a department node's home directory:

  DIR/config/node_key       new ed25519 node key (mode 0600): the consensus key and libp2p identity
  DIR/config/node.toml      annotated config with defaults and this department
  DIR/config/pseudonym.key  network secret for resident-ID pseudonyms (mode 0600), unless present
  DIR/config/genesis.json   copied from --genesis, if given
  DIR/data/                 database directory

init never overwrites a key or a config: run it once per node. It prints the
peer ID, public key and multiaddrs to give the other departments' operators, who
need them to build genesis and to bootstrap.

The pseudonym key must be the SAME on every node of a network. The first
department creates it; everyone else passes the copy they received with
--pseudonym-key.`,
		Example: `  # first department
  zwnode init --home /srv/zwnode --department tax

  # another department joining: shared pseudonym key, listen on TCP only, known genesis
  zwnode init --home /srv/zwnode --department market \
      --listen /ip4/0.0.0.0/tcp/7400 \
      --pseudonym-key ./pseudonym.key --genesis ./genesis.json \
      --bootstrap /ip4/10.20.0.5/tcp/7400/p2p/12D3KooW...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd.OutOrStdout(), o)
		},
	}
	addHomeFlag(cmd, &o.home)
	f := cmd.Flags()
	f.StringVar(&o.department, "department", "", "this node's department id as it will appear in genesis, e.g. tax (required)")
	f.StringArrayVar(&o.listen, "listen", nil, "p2p listen multiaddr, repeatable (default TCP and QUIC on port 7400)")
	f.StringArrayVar(&o.announce, "announce", nil, "address to advertise to peers instead of the listen addresses, repeatable")
	f.StringArrayVar(&o.bootstrap, "bootstrap", nil, "peer multiaddr ending in /p2p/<peer id> to dial at start, repeatable")
	f.StringVar(&o.genesis, "genesis", "", "genesis file to validate and copy into config/genesis.json")
	f.StringVar(&o.pseudonymKey, "pseudonym-key", "", "the network's shared pseudonym key file to copy, instead of creating a new one")
	_ = cmd.MarkFlagRequired("department")
	return cmd
}

// runInit parses the flags into a config and lets configs.InitHome, which
// checks everything before creating anything, do the work.
func runInit(out io.Writer, o initOptions) error {
	if err := chain.ValidateName(o.department, 64); err != nil {
		return fmt.Errorf("--department: %w", err)
	}
	cfg := configs.Default()
	cfg.Node.Department = o.department
	if len(o.listen) > 0 {
		cfg.P2P.Listen = o.listen
	}
	if len(o.announce) > 0 {
		cfg.P2P.Announce = o.announce
	}
	if len(o.bootstrap) > 0 {
		cfg.P2P.Bootstrap = o.bootstrap
	}
	if err := cfg.Validate().Err(); err != nil {
		return fmt.Errorf("the flags give an invalid config:\n%w", err)
	}
	var opts configs.InitOptions
	if o.genesis != "" {
		g, err := chain.LoadGenesis(o.genesis)
		if err != nil {
			return fmt.Errorf("--genesis: %w", err)
		}
		opts.Genesis = g
	}
	if o.pseudonymKey != "" {
		s, err := keyfile.LoadSecret(o.pseudonymKey)
		if err != nil {
			return fmt.Errorf("--pseudonym-key: %w", err)
		}
		opts.PseudonymKey = &s
	}
	res, err := configs.InitHome(o.home, cfg, opts)
	if err != nil {
		return err
	}
	printInit(out, o, res, opts.Genesis != nil)
	return nil
}

func pseudonymNote(p configs.PseudonymOutcome) string {
	switch p {
	case configs.PseudonymKept:
		return "kept the existing one"
	case configs.PseudonymCopied:
		return "copied from --pseudonym-key"
	default:
		return "NEW random secret: every department must use the same one, so either send this file to the " +
			"other operators over a secure channel, or replace it with the copy you were given"
	}
}

func printInit(out io.Writer, o initOptions, res *configs.InitResult, copiedGenesis bool) {
	rc, key := res.Config, res.Key
	cfgPath := configs.Path(o.home)
	fmt.Fprintf(out, "initialised department %q in %s\n\n", o.department, o.home)
	fmt.Fprintf(out, "  config         %s\n", cfgPath)
	fmt.Fprintf(out, "  node key       %s (mode 0600; back it up, never share it)\n", rc.Node.KeyFile)
	fmt.Fprintf(out, "  pseudonym key  %s (%s)\n", rc.Ledger.PseudonymKeyFile, pseudonymNote(res.Pseudonym))
	if copiedGenesis {
		fmt.Fprintf(out, "  genesis        %s\n", rc.Node.GenesisFile)
	}
	fmt.Fprintf(out, "  data           %s\n\n", rc.Node.DataDir)
	printIdentity(out, key, o.department, rc.P2P)
	fmt.Fprintf(out, "\nnext steps:\n")
	if !copiedGenesis {
		fmt.Fprintf(out, "  1. put the network's genesis at %s\n     (founders build it with `zwnode genesis new --authority %s=%s ...`)\n",
			rc.Node.GenesisFile, o.department, key.PeerID())
	} else {
		fmt.Fprintf(out, "  1. genesis is in place\n")
	}
	fmt.Fprintf(out, "  2. add the other departments' multiaddrs to p2p.bootstrap in %s\n", cfgPath)
	fmt.Fprintf(out, "  3. zwnode config check --home %s\n", o.home)
}
