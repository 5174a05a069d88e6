package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
)

func newQueryCmd() *cobra.Command {
	f := new(clientFlags)
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Read the ledger through a node's API",
		Long: `Read ledger state from a node (--api). Public data needs no key. Confidential
records, social-insurance accounts, pseudonymisation and application
details without an access code need a request signed with an account key
(--key). Output is indented JSON unless a command says otherwise.`,
		Example: `  zwnode query credit 91370100000000001W
  zwnode query record --schema tax.clearance --uscc 91370100000000001W
  zwnode query record --key market.key --schema tax.filing --uscc 91370100000000001W \
      --enc-key market-enc.key --purpose "licence review" --wait`,
	}
	f.register(cmd)
	cmd.AddCommand(newQueryRecordCmd(f), newQueryAppCmd(f), newQuerySICmd(f),
		newQueryCreditCmd(f), newQueryAccessCmd(f), newQueryAlertsCmd(f),
		newQueryTxCmd(f), newQueryBlockCmd(f), newQueryAccountCmd(f), newQueryPublishedCmd(f))
	cmd.AddCommand(simpleQueries(f)...)
	return cmd
}

// printJSON writes v indented; a raw JSON body keeps its field order.
func printJSON(w io.Writer, v any) error {
	if raw, ok := v.(*json.RawMessage); ok {
		var buf bytes.Buffer
		if err := json.Indent(&buf, bytes.TrimSpace(*raw), "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// getAndPrint fetches path (signed when a --key is given) and prints the
// JSON it returns.
func (f *clientFlags) getAndPrint(cmd *cobra.Command, path string) error {
	return f.run(cmd, func(ctx context.Context, c *apiClient) error {
		var raw json.RawMessage
		var err error
		if c.key != nil {
			err = c.GetSigned(ctx, path, &raw)
		} else {
			err = c.Get(ctx, path, &raw)
		}
		if err != nil {
			return err
		}
		return printJSON(cmd.OutOrStdout(), &raw)
	})
}

// simpleQueries are one GET each with no flags of their own.
func simpleQueries(f *clientFlags) []*cobra.Command {
	mk := func(use, short, example string, path func(args []string) string, args cobra.PositionalArgs) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Example: example, Args: args,
			RunE: func(cmd *cobra.Command, a []string) error { return f.getAndPrint(cmd, path(a)) },
		}
	}
	return []*cobra.Command{
		mk("departments", "List departments with their encryption keys", "  zwnode query departments",
			func([]string) string { return "/v1/departments" }, cobra.NoArgs),
		mk("schemas", "List record schemas", "  zwnode query schemas",
			func([]string) string { return "/v1/schemas" }, cobra.NoArgs),
		mk("grants SCHEMA", "List grants (active and revoked) on a schema", "  zwnode query grants tax.filing",
			func(a []string) string { return "/v1/schemas/" + url.PathEscape(a[0]) + "/grants" }, cobra.ExactArgs(1)),
		mk("pending-checks DEPT", "List a department's pending application checks", "  zwnode query pending-checks market",
			func(a []string) string { return "/v1/departments/" + url.PathEscape(a[0]) + "/pending-checks" }, cobra.ExactArgs(1)),
		mk("proposals [ID]", "List governance proposals, or show one", "  zwnode query proposals\n  zwnode query proposals 9f2c...",
			func(a []string) string {
				if len(a) == 1 {
					return "/v1/governance/proposals/" + url.PathEscape(a[0])
				}
				return "/v1/governance/proposals"
			}, cobra.MaximumNArgs(1)),
		mk("app-stats", "Show decision times per application type and per department", "  zwnode query app-stats",
			func([]string) string { return "/v1/applications/stats" }, cobra.NoArgs),
		mk("blacklist", "List subjects whose credit score is below the blacklist threshold (失信名单)", "  zwnode query blacklist",
			func([]string) string { return "/v1/credit/blacklist" }, cobra.NoArgs),
	}
}

// subjectArg accepts a subject (e:…, p:…) or a bare USCC.
func subjectArg(s string) (string, error) {
	if len(s) > 2 && (s[:2] == "e:" || s[:2] == "p:") {
		return s, ledger.ValidateSubject(s)
	}
	return ledger.EnterpriseSubject(s)
}

func newQueryCreditCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "credit SUBJECT|USCC",
		Short: "Show a subject's credit score, level and events",
		Example: `  zwnode query credit 91370100000000001W
  zwnode query credit e:91370100000000001W --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			subject, err := subjectArg(args[0])
			if err != nil {
				return err
			}
			return f.run(cmd, func(ctx context.Context, c *apiClient) error {
				var v ledger.CreditView
				if err := c.Get(ctx, "/v1/credit/"+url.PathEscape(subject), &v); err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if f.asJSON {
					return printJSON(out, &v)
				}
				fmt.Fprintf(out, "subject      %s\nscore        %d\nlevel        %s\nblacklisted  %t\nevents       %d\n",
					v.Subject, v.Score, v.Level, v.Blacklisted, len(v.History))
				for _, e := range v.History {
					sign := "+"
					if !e.Positive {
						sign = "-"
					}
					fmt.Fprintf(out, "  height %d  %s%s severity %d  delta %d  by %s  evidence %s\n",
						e.Height, sign, e.Category, e.Severity, e.Delta, e.Department, e.EvidenceDigest.Short())
				}
				return nil
			})
		},
	}
}

func newQueryAccessCmd(f *clientFlags) *cobra.Command {
	var subj subjectFlags
	var dept string
	cmd := &cobra.Command{
		Use:   "access (--subject S | --uscc CODE | --resident-id ID | --department D)",
		Short: "Show who read a subject's records, or what a department read",
		Long: `List logged reads (access.log) oldest first: of one subject's records ("who
looked at my data"), or by one department. A --resident-id is pseudonymised
by the node, which needs --key.`,
		Example: `  zwnode query access --uscc 91370100000000001W
  zwnode query access --department market`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if subj.given() == (dept != "") {
				return usagef("give a subject (--subject, --uscc or --resident-id) or --department")
			}
			if dept != "" {
				return f.getAndPrint(cmd, "/v1/departments/"+url.PathEscape(dept)+"/access")
			}
			return f.run(cmd, func(ctx context.Context, c *apiClient) error {
				subject, err := subj.resolve(ctx, c, "")
				if err != nil {
					return err
				}
				var raw json.RawMessage
				if err := c.Get(ctx, "/v1/subjects/"+url.PathEscape(subject)+"/access", &raw); err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), &raw)
			})
		},
	}
	subj.register(cmd, "", "the subject")
	cmd.Flags().StringVar(&dept, "department", "", "reader department")
	return cmd
}

func newQueryAlertsCmd(f *clientFlags) *cobra.Command {
	var from uint64
	cmd := &cobra.Command{
		Use:     "alerts [--from HEIGHT]",
		Short:   "List monitoring alerts (unusual reads, frequent amendments, overdue checks)",
		Example: `  zwnode query alerts --from 1200`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.getAndPrint(cmd, "/v1/alerts?from="+strconv.FormatUint(from, 10))
		},
	}
	cmd.Flags().Uint64Var(&from, "from", 0, "only alerts raised at this height or later")
	return cmd
}

func newQueryPublishedCmd(f *clientFlags) *cobra.Command {
	var from, to string
	var limit int
	cmd := &cobra.Command{
		Use:   "published SCHEMA [--from TIME] [--to TIME]",
		Short: "List the record versions written to a schema in a period, oldest first",
		Long: `List the versions of SCHEMA's records written in blocks whose time is in
[--from, --to): what a department published in a period. Times are RFC 3339
or Unix milliseconds. A confidential schema is listed only to its owner
department (--key).`,
		Example: `  zwnode query published tax.clearance --from 2026-12-01T00:00:00+08:00 --to 2026-12-08T00:00:00+08:00
  zwnode query published tax.filing --key tax-admin.key --limit 10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			q := url.Values{}
			for _, b := range []struct{ name, v string }{{"from", from}, {"to", to}} {
				if b.v == "" {
					continue
				}
				ms, err := parseTimeFlag(b.v)
				if err != nil {
					return fmt.Errorf("--%s: %w", b.name, err)
				}
				q.Set(b.name, strconv.FormatInt(ms, 10))
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			path := "/v1/schemas/" + url.PathEscape(a[0]) + "/records"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			return f.getAndPrint(cmd, path)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "earliest block time (RFC 3339 or Unix ms)")
	cmd.Flags().StringVar(&to, "to", "", "block times before this (RFC 3339 or Unix ms)")
	cmd.Flags().IntVar(&limit, "limit", 0, "most versions to list (at most 1000)")
	return cmd
}

// parseTimeFlag reads an RFC 3339 time or Unix milliseconds.
func parseTimeFlag(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither RFC 3339 (2026-12-01T00:00:00+08:00) nor Unix milliseconds", s)
	}
	return t.UnixMilli(), nil
}

func newQueryTxCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "tx HASH",
		Short: "Show whether a transaction is pending or finalized, with its result",
		Example: `  zwnode query tx 3f2a9c1d...
  zwnode query tx 3f2a9c1d... --wait    # wait until it is finalized`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := chain.ParseHash(args[0])
			if err != nil {
				return err
			}
			return f.run(cmd, func(ctx context.Context, c *apiClient) error {
				var st *txState
				if f.wait {
					st, err = c.WaitTx(ctx, h)
				} else {
					st, err = c.TxStatus(ctx, h)
				}
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if f.asJSON {
					return printJSON(out, st)
				}
				if st.Status != "finalized" {
					fmt.Fprintf(out, "tx %s %s\n", h, st.Status)
					return nil
				}
				fmt.Fprintf(out, "tx %s finalized at height %d (index %d): code %d (%s)\n", h, st.Height, st.Index, st.code(), st.message())
				return nil
			})
		},
	}
}

func newQueryBlockCmd(f *clientFlags) *cobra.Command {
	var noTxs bool
	cmd := &cobra.Command{
		Use:   "block [HEIGHT]",
		Short: "Show a finalized block (the head without HEIGHT) with its commit certificate",
		Example: `  zwnode query block
  zwnode query block 42
  zwnode query block 42 --no-txs   # header, certificate and tx_count only`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/v1/blocks/latest"
			if len(args) == 1 {
				h, err := strconv.ParseUint(args[0], 10, 64)
				if err != nil || h == 0 {
					return usagef("height %q is not a positive integer", args[0])
				}
				path = "/v1/blocks/" + args[0]
			}
			if noTxs {
				path += "?txs=false"
			}
			return f.getAndPrint(cmd, path)
		},
	}
	cmd.Flags().BoolVar(&noTxs, "no-txs", false, "leave the block's transactions out (a block can be megabytes)")
	return cmd
}

func newQueryAccountCmd(f *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "account [PUBKEY]",
		Short: "Show an account (the --key account without PUBKEY) and its next nonce",
		Example: `  zwnode query account --key tax.key
  zwnode query account 12D3KooW...`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, func(ctx context.Context, c *apiClient) error {
				if len(args) == 0 {
					acct, err := c.Account(ctx)
					if err != nil {
						return err
					}
					return printJSON(cmd.OutOrStdout(), acct)
				}
				pk, err := optionalKey("pubkey", args[0])
				if err != nil {
					return err
				}
				var raw json.RawMessage
				if err := c.Get(ctx, "/v1/accounts/"+hex.EncodeToString(pk[:]), &raw); err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), &raw)
			})
		},
	}
}
