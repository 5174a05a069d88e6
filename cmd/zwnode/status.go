package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/node"
)

func newStatusCmd() *cobra.Command {
	var api string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show a node's height, head, peers, authority set and sync state",
		Example: "  zwnode status --api http://127.0.0.1:7480",
		RunE: func(cmd *cobra.Command, args []string) error {
			var st node.Status
			if err := getJSON(api, "/v1/status", &st); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			sync := "in sync"
			if st.Syncing {
				sync = fmt.Sprintf("syncing (best peer at %d)", st.BestPeer)
			}
			fmt.Fprintf(out, "chain       %s (genesis %s)\n", st.ChainID, st.GenesisHash.Short())
			fmt.Fprintf(out, "department  %s  peer %s\n", st.Department, st.PeerID)
			fmt.Fprintf(out, "height      %d  head %s  at %s\n", st.Height, st.HeadHash.Short(), time.UnixMilli(st.HeadTime).UTC().Format(time.RFC3339))
			fmt.Fprintf(out, "consensus   round %d, step %s\n", st.Round, st.Step)
			fmt.Fprintf(out, "sync        %s\n", sync)
			fmt.Fprintf(out, "peers       %d connected\n", st.Peers)
			fmt.Fprintf(out, "mempool     %d txs\n", st.MempoolTxs)
			depts := make([]string, len(st.Authorities))
			for i, a := range st.Authorities {
				depts[i] = a.Department
			}
			fmt.Fprintf(out, "authorities %s (quorum %d of %d)\n", strings.Join(depts, ", "), st.Quorum, len(st.Authorities))
			return nil
		},
	}
	cmd.Flags().StringVar(&api, "api", "http://127.0.0.1:7480", "node API base URL")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the raw JSON status")
	return cmd
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

// getJSON fetches base+path and decodes a JSON body, turning API errors into
// readable messages.
func getJSON(base, path string, v any) error {
	resp, err := httpClient.Get(strings.TrimRight(base, "/") + path)
	if err != nil {
		return fmt.Errorf("reach node API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e node.APIError
		if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Message != "" {
			return fmt.Errorf("%s: %s (%s)", path, e.Message, e.Code)
		}
		return fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
