package main

import (
	"context"
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
	"github.com/zwnode/zwnode/node"
)

// errNoPurpose is returned for a confidential read by another department
// without --purpose: the access.log it must submit states one.
var errNoPurpose = errors.New("reading another department's confidential record is logged on chain: give --purpose (1-200 bytes)")

func newQueryRecordCmd(f *clientFlags) *cobra.Command {
	var schema, encKeyFile, purpose string
	var version uint64
	var subj subjectFlags
	cmd := &cobra.Command{
		Use:   "record --schema SCHEMA (--subject S | --uscc CODE | --resident-id ID) [--enc-key F --purpose P]",
		Short: "Read a record; decrypt a confidential one with your department's key",
		Long: `Read the latest version of (schema, subject).

A public record is printed as its fields (--json: every version).

A confidential record is decrypted here with --enc-key (your department's
X25519 private key file) and its plaintext written to standard output. The
schema's owner reads it directly. Any other department first submits an
access.log transaction stating --purpose (with --wait it waits until that
is finalized), then fetches the envelope with a signed request naming that
transaction (?access_tx=): every such read is on chain, visible to the
subject in ` + "`zwnode query access`" + `. Only departments granted the schema when the
version was written can open it.`,
		Example: `  zwnode query record --schema tax.clearance --uscc 91370100000000001W
  zwnode query record --key market.key --schema tax.filing --uscc 91370100000000001W \
      --enc-key market-enc.key --purpose "licence review #2026-118" --wait > filing.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, c *apiClient) error {
				s, err := fetchSchema(ctx, c, schema)
				if err != nil {
					return err
				}
				subject, err := subj.resolve(ctx, c, "")
				if err != nil {
					return err
				}
				if !s.Confidential {
					return f.readPublic(ctx, c, cmd.OutOrStdout(), s.Name, subject, version)
				}
				r := confidentialRead{f: f, c: c, schema: s, subject: subject, purpose: purpose, version: version, encKeyFile: encKeyFile}
				return r.run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr())
			})
		},
	}
	cmd.Flags().StringVar(&schema, "schema", "", "schema name")
	subj.register(cmd, "", "the record's subject")
	cmd.Flags().StringVar(&encKeyFile, "enc-key", "", "your department's X25519 private key file (confidential records)")
	cmd.Flags().StringVar(&purpose, "purpose", "", "why you read it, logged on chain (another department's confidential record)")
	cmd.Flags().Uint64Var(&version, "version", 0, "version to read (default: the latest)")
	_ = cmd.MarkFlagRequired("schema")
	return cmd
}

func recordPath(schema, subject string) string {
	return "/v1/records/" + url.PathEscape(schema) + "/" + url.PathEscape(subject)
}

func (f *clientFlags) readPublic(ctx context.Context, c *apiClient, out io.Writer, schema, subject string, version uint64) error {
	var resp node.RecordResponse
	if err := c.Get(ctx, recordPath(schema, subject), &resp); err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(out, &resp)
	}
	v := pickVersion(&resp, version)
	if v == nil {
		return fmt.Errorf("%w: %s %s has no version %d", ledger.ErrNotFound, schema, subject, version)
	}
	fmt.Fprintf(out, "%s %s version %d by %s at height %d (%s)\n", schema, subject, v.Version, v.Department, v.Height,
		time.UnixMilli(v.Time).UTC().Format(time.RFC3339))
	raw := json.RawMessage(v.Fields)
	return printJSON(out, &raw)
}

// confidentialRead is one read of a confidential record.
type confidentialRead struct {
	f          *clientFlags
	c          *apiClient
	schema     *ledger.Schema
	subject    string
	purpose    string
	version    uint64
	encKeyFile string
}

func (r *confidentialRead) run(ctx context.Context, out, diag io.Writer) error {
	if r.encKeyFile == "" {
		return usagef("%s is confidential: give --enc-key with your department's X25519 private key file", r.schema.Name)
	}
	priv, err := loadEncKey(r.encKeyFile)
	if err != nil {
		return err
	}
	acct, err := r.c.Account(ctx)
	if err != nil {
		return err
	}
	path := recordPath(r.schema.Name, r.subject)
	if acct.Department != r.schema.Owner {
		if r.purpose == "" {
			return errNoPurpose
		}
		if r.version == 0 {
			if r.version, err = r.latestVersion(ctx); err != nil {
				return err
			}
		}
		o, err := r.f.send(ctx, r.c, new(txOutcome), ledger.TxAccessLog,
			ledger.AccessLog{Subject: r.subject, Schema: r.schema.Name, Version: r.version, Purpose: r.purpose})
		if err != nil {
			return fmt.Errorf("log the read: %w", err)
		}
		fmt.Fprintf(diag, "access.log %s %s\n", o.Hash, o.Status)
		return r.readLogged(ctx, out, diag, acct.Department, priv, path+"?access_tx="+o.Hash.String(), o)
	}
	return r.open(ctx, out, diag, acct.Department, priv, path)
}

// readLogged reads with a submitted access.log. The node serves the read
// only once the log is finalized (409 access_log_pending before that), so a
// pending read waits for the log and tries again; the node then decides.
func (r *confidentialRead) readLogged(ctx context.Context, out, diag io.Writer, dept string, priv *ecdh.PrivateKey, path string, o *txOutcome) error {
	err := r.open(ctx, out, diag, dept, priv, path)
	var ae *apiError
	if o.Status != "pending" || !errors.As(err, &ae) || (ae.Status != http.StatusConflict && ae.Status != http.StatusForbidden) {
		return err
	}
	st, werr := r.c.WaitTx(ctx, o.Hash)
	if werr != nil {
		return fmt.Errorf("%w (and waiting for access.log %s: %v)", err, o.Hash.Short(), werr)
	}
	err = r.open(ctx, out, diag, dept, priv, path)
	if err != nil && st.code() != ledger.CodeOK {
		return fmt.Errorf("%w; access.log %s was finalized at height %d with code %d (%s)", err, o.Hash, st.Height, st.code(), st.message())
	}
	return err
}

// open fetches the envelope with a signed request and decrypts it.
func (r *confidentialRead) open(ctx context.Context, out, diag io.Writer, dept string, priv *ecdh.PrivateKey, path string) error {
	var resp node.RecordResponse
	if err := r.c.GetSigned(ctx, path, &resp); err != nil {
		return err
	}
	v := pickVersion(&resp, r.version)
	if v == nil {
		return fmt.Errorf("%s %s has no version %d", r.schema.Name, r.subject, r.version)
	}
	if v.Envelope == nil {
		return fmt.Errorf("%s %s version %d has no envelope", r.schema.Name, r.subject, v.Version)
	}
	pt, err := sharing.Open(v.Envelope, dept, priv, sharing.RecordAAD(r.schema.Name, r.subject))
	if err != nil {
		return fmt.Errorf("decrypt %s %s version %d as %s: %w", r.schema.Name, r.subject, v.Version, dept, err)
	}
	fmt.Fprintf(diag, "%s %s version %d by %s at height %d, decrypted as %s\n", r.schema.Name, r.subject, v.Version, v.Department, v.Height, dept)
	_, err = out.Write(pt)
	return err
}

// latestVersion finds the current version number without reading the
// envelope (the subject's record list omits ciphertexts).
func (r *confidentialRead) latestVersion(ctx context.Context) (uint64, error) {
	var recs []ledger.RecordVersion
	if err := r.c.Get(ctx, "/v1/subjects/"+url.PathEscape(r.subject)+"/records", &recs); err != nil {
		return 0, err
	}
	for _, v := range recs {
		if v.Schema == r.schema.Name {
			return v.Version, nil
		}
	}
	return 0, fmt.Errorf("%w: no %s record for %s", ledger.ErrNotFound, r.schema.Name, r.subject)
}

// pickVersion returns the wanted version (0: the latest) from a response.
func pickVersion(resp *node.RecordResponse, want uint64) *ledger.RecordVersion {
	if want == 0 {
		return resp.Latest
	}
	for i := range resp.History {
		if resp.History[i].Version == want {
			return &resp.History[i]
		}
	}
	return nil
}

func newQueryAppCmd(f *clientFlags) *cobra.Command {
	var code string
	cmd := &cobra.Command{
		Use:   "app ID [--code CODE]",
		Short: "Show an application's progress (with its access code, or as department staff with --key)",
		Example: `  zwnode query app 5d0c1e2f... --code K7QH3M9RXP
  zwnode query app 5d0c1e2f... --key market.key --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, func(ctx context.Context, c *apiClient) error {
				path := "/v1/applications/" + url.PathEscape(args[0])
				var app ledger.Application
				var err error
				if code != "" {
					err = c.Get(ctx, path+"?code="+url.QueryEscape(code), &app)
				} else {
					err = c.GetSigned(ctx, path, &app)
				}
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if f.asJSON {
					return printJSON(out, &app)
				}
				printApplication(out, &app)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&code, "code", "", "the applicant's access code")
	return cmd
}

func printApplication(out io.Writer, app *ledger.Application) {
	fmt.Fprintf(out, "application  %s\ntype         %s\nstatus       %s\n", app.ID, app.Type, app.Status)
	if app.Subject != "" {
		fmt.Fprintf(out, "subject      %s\n", app.Subject)
	}
	if app.NameReservation != "" {
		fmt.Fprintf(out, "name         %s\n", app.NameReservation)
	}
	fmt.Fprintf(out, "submitted    by %s at height %d\n", app.SubmittedDept, app.SubmittedHeight)
	for _, ck := range app.Checks {
		how := ""
		if ck.Auto {
			how = " (automatic)"
		}
		fmt.Fprintf(out, "  check %-20s %-10s %s%s", ck.ID, ck.Status, ck.Department, how)
		if ck.Reason != "" {
			fmt.Fprintf(out, ": %s", ck.Reason)
		}
		fmt.Fprintln(out)
	}
}

func newQuerySICmd(f *clientFlags) *cobra.Command {
	var subj subjectFlags
	cmd := &cobra.Command{
		Use:   "si (--resident-id ID | --subject p:...)",
		Short: "Show a person's social-insurance account and contributions (signed request)",
		Example: `  zwnode query si --key hrss.key --resident-id 37010219900101108X
  zwnode query si --key tax.key --subject p:5f1c...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, c *apiClient) error {
				subject, err := subj.resolve(ctx, c, "")
				if err != nil {
					return err
				}
				var raw json.RawMessage
				if err := c.GetSigned(ctx, "/v1/si/"+url.PathEscape(subject), &raw); err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), &raw)
			})
		},
	}
	cmd.Flags().StringVar(&subj.residentID, "resident-id", "", "the person's resident ID number (pseudonymised by the node)")
	cmd.Flags().StringVar(&subj.subject, "subject", "", "the person as p:<pseudonym>")
	return cmd
}
