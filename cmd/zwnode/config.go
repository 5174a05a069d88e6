package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/configs"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check or print node configuration",
		Example: `  zwnode config check --home /srv/zwnode
  zwnode config default --department tax > node.toml`,
	}
	cmd.AddCommand(newConfigCheckCmd(), newConfigDefaultCmd())
	return cmd
}

func newConfigCheckCmd() *cobra.Command {
	var home string
	cmd := &cobra.Command{
		Use:   "check --home DIR",
		Short: "Check node.toml and the key, genesis and secret files it names",
		Long: `Check a node's home directory before starting it: node.toml (unknown keys,
bad multiaddrs and every other invalid value, all reported at once with file,
line and field), the node key (present, mode 0600, parses), the genesis
(parses, validates, lists this node's key under its department), the
pseudonym key and the optional PSK, and whether bootstrap peers will be
admitted. Exits with status 1 if there is any error; warnings alone pass.`,
		Example: `  zwnode config check --home /srv/zwnode`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConfigCheck(cmd.OutOrStdout(), home)
		},
	}
	addHomeFlag(cmd, &home)
	return cmd
}

func runConfigCheck(out io.Writer, home string) error {
	ps := configs.Check(home)
	for _, p := range ps {
		fmt.Fprintf(out, "%s: %s\n", p.Severity, p.Error())
	}
	nerr, nwarn := len(ps.Errors()), len(ps.Warnings())
	if nerr > 0 {
		return fmt.Errorf("config check: %d error(s), %d warning(s) in %s", nerr, nwarn, home)
	}
	fmt.Fprintf(out, "ok: %s (%d warning(s))\n", configs.Path(home), nwarn)
	return nil
}

func newConfigDefaultCmd() *cobra.Command {
	var department string
	cmd := &cobra.Command{
		Use:     "default",
		Short:   "Print the annotated default node.toml",
		Example: `  zwnode config default > node.toml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := configs.Default()
			c.Node.Department = department
			_, err := cmd.OutOrStdout().Write(configs.Marshal(c))
			return err
		},
	}
	cmd.Flags().StringVar(&department, "department", "", "department id to fill in")
	return cmd
}
