package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node/keyfile"
)

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Show this node's identity; convert between public keys and peer IDs",
		Example: `  zwnode keys show --home /srv/zwnode
  zwnode keys convert 12D3KooWM6Edco5Z8RX9MgmY39jumZEc78WjF5KWTKwi459wNxTf`,
	}
	cmd.AddCommand(newKeysShowCmd(), newKeysConvertCmd(), newKeysNewCmd(), newKeysNewPSKCmd())
	return cmd
}

func newKeysShowCmd() *cobra.Command {
	var home string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --home DIR",
		Short: "Print this node's peer ID, public key, department and multiaddrs",
		Long: `Print this node's identity: the peer ID and public key (the same ed25519 key),
the department from node.toml, the multiaddrs other operators should put in
their p2p.bootstrap, and — when genesis is present — whether this node is an
authority or an observer.`,
		Example: `  zwnode keys show --home /srv/zwnode
  zwnode keys show --home /srv/zwnode --json | jq -r .peer_id`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKeysShow(cmd.OutOrStdout(), home, asJSON)
		},
	}
	addHomeFlag(cmd, &home)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// homeConfig loads the resolved config of a home directory; when there is no
// node.toml yet it falls back to the defaults, so `keys show` works on a home
// that only has a key.
func homeConfig(home string) (configs.Config, bool, error) {
	cfg, err := configs.LoadHome(home)
	if err == nil {
		return cfg, true, nil
	}
	if _, statErr := os.Stat(configs.Path(home)); errors.Is(statErr, os.ErrNotExist) {
		return configs.Default().Resolve(home), false, nil
	}
	return configs.Config{}, false, err
}

type identityJSON struct {
	PeerID       string   `json:"peer_id"`
	PublicKey    string   `json:"public_key"`
	PublicKeyHex string   `json:"public_key_hex"`
	Department   string   `json:"department,omitempty"`
	Multiaddrs   []string `json:"multiaddrs"`
	Role         string   `json:"role,omitempty"`
}

func runKeysShow(out io.Writer, home string, asJSON bool) error {
	cfg, _, err := homeConfig(home)
	if err != nil {
		return err
	}
	key, err := keyfile.Load(cfg.Node.KeyFile)
	if err != nil {
		return err
	}
	role := genesisRole(cfg.Node.GenesisFile, key)
	if asJSON {
		pk := key.PublicKey()
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(identityJSON{
			PeerID: key.PeerID().String(), PublicKey: pk.String(), PublicKeyHex: hex.EncodeToString(pk[:]),
			Department: cfg.Node.Department, Multiaddrs: p2pAddrs(cfg.P2P, key), Role: role,
		})
	}
	printIdentity(out, key, cfg.Node.Department, cfg.P2P)
	if role != "" {
		fmt.Fprintf(out, "genesis      %s\n", role)
	}
	return nil
}

// genesisRole says what this key is in the genesis at path, or "" if there
// is no readable genesis.
func genesisRole(path string, key *keyfile.Key) string {
	g, err := chain.LoadGenesis(path)
	if err != nil {
		return ""
	}
	set := g.AuthoritySet()
	if i, ok := set.Index(key.PublicKey()); ok {
		return fmt.Sprintf("authority #%d of %d (department %q) on chain %s", i, set.Size(), set.At(i).Department, g.ChainID)
	}
	return fmt.Sprintf("not an authority on chain %s: runs as an observer", g.ChainID)
}

// p2pAddrs are the addresses other operators dial: announce addresses if
// set, else listen addresses, each with /p2p/<peer id>.
func p2pAddrs(p configs.P2PConfig, key *keyfile.Key) []string {
	src := p.Announce
	if len(src) == 0 {
		src = p.Listen
	}
	out := make([]string, 0, len(src))
	for _, a := range src {
		out = append(out, a+"/p2p/"+key.PeerID().String())
	}
	return out
}

// printIdentity prints what other operators need from this node.
func printIdentity(out io.Writer, key *keyfile.Key, department string, p configs.P2PConfig) {
	pk := key.PublicKey()
	fmt.Fprintf(out, "peer id      %s\n", key.PeerID())
	fmt.Fprintf(out, "public key   %s\n", pk)
	fmt.Fprintf(out, "             %s (hex)\n", hex.EncodeToString(pk[:]))
	if department != "" {
		fmt.Fprintf(out, "department   %s\n", department)
	}
	addrs := p2pAddrs(p, key)
	fmt.Fprintf(out, "multiaddrs   (for the other operators' p2p.bootstrap)\n")
	unspecified := false
	for _, a := range addrs {
		fmt.Fprintf(out, "  %s\n", a)
		if strings.Contains(a, "/ip4/0.0.0.0/") || strings.Contains(a, "/ip6/::/") {
			unspecified = true
		}
	}
	if unspecified {
		fmt.Fprintf(out, "  note: replace 0.0.0.0 (or ::) with this server's address, or set p2p.announce\n")
	}
}

func newKeysConvertCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "convert PUBKEY_OR_PEERID",
		Short: "Print a key as peer ID, base64 and hex",
		Long: `Convert between the forms of an ed25519 node key. A peer ID (12D3KooW...)
embeds the public key, so either can be given wherever zwnode asks for a key.`,
		Example: `  zwnode keys convert 12D3KooWM6Edco5Z8RX9MgmY39jumZEc78WjF5KWTKwi459wNxTf
  zwnode keys convert p4FT0KTwAxE2ErOK1qcBV7PTVkV7FURkaQE7XFZ5Ue4=`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pk, err := keyfile.ParsePublicKeyOrPeerID(args[0])
			if err != nil {
				return err
			}
			id, err := keyfile.PeerIDFromPublicKey(pk)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "peer id      %s\n", id)
			fmt.Fprintf(out, "public key   %s\n", pk)
			fmt.Fprintf(out, "hex          %s\n", hex.EncodeToString(pk[:]))
			return nil
		},
	}
}

func newKeysNewCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "new FILE",
		Short: "Create a new ed25519 key file (e.g. a department admin account key)",
		Long: `Create a new random ed25519 key in FILE (mode 0600, never overwritten), in the
same format as a node key, and print its public key and peer ID. Use it for
account keys that should not be the node key, such as the admin accounts given
to ` + "`zwnode genesis new --admin`" + `.`,
		Example: `  zwnode keys new tax-admin.key      # prints the public key and peer ID
  zwnode genesis new ... --admin 'tax=<that peer ID>:税务局管理员'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := keyfile.Generate(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "wrote %s (mode 0600)\n", args[0])
			fmt.Fprintf(out, "peer id      %s\n", k.PeerID())
			fmt.Fprintf(out, "public key   %s\n", k.PublicKey())
			return nil
		},
	}
}

func newKeysNewPSKCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "new-psk FILE",
		Short: "Create a libp2p private-network key (PSK) file",
		Long: `Create a random libp2p private-network key in FILE (mode 0600, never
overwritten). Copy it to every node over a secure channel and set p2p.psk_file.
A PSK closes the network to anyone without it, but PSK networks are TCP only:
remove QUIC addresses from p2p.listen. Revoking one department means giving
everyone a new PSK.`,
		Example: `  zwnode keys new-psk /srv/zwnode/config/swarm.key`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := keyfile.GeneratePSK(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (mode 0600); set p2p.psk_file and use TCP listen addresses only\n", args[0])
			return nil
		},
	}
}
