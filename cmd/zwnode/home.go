package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// homeEnv overrides the default home directory, so scripts need not repeat
// --home.
const homeEnv = "ZWNODE_HOME"

// defaultHome is $ZWNODE_HOME, else ~/.zwnode, else ./.zwnode.
func defaultHome() string {
	if h := os.Getenv(homeEnv); h != "" {
		return h
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".zwnode")
	}
	return ".zwnode"
}

// addHomeFlag registers the --home flag every command that works on a node's
// files takes.
func addHomeFlag(cmd *cobra.Command, home *string) {
	cmd.Flags().StringVar(home, "home", defaultHome(),
		"node home directory (config/, data/); defaults to $"+homeEnv+" or ~/.zwnode")
}
