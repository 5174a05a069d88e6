package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "zwnode",
		Short:         "zwnode — a department node of the city government data-sharing chain",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newInitCmd())
	root.AddCommand(newGenesisCmd())
	root.AddCommand(newKeysCmd())
	root.AddCommand(newConfigCmd())
	root.AddCommand(newRunCmd())
	root.AddCommand(newDevnetCmd())
	root.AddCommand(newStatusCmd())
	root.AddCommand(newTxCmd())
	root.AddCommand(newQueryCmd())
	root.AddCommand(newBenchCmd())
	return root
}
