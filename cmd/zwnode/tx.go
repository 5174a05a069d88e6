package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
)

// clientFlags are the flags every client command shares. One value is made
// per command tree and bound as persistent flags of its root.
type clientFlags struct {
	api     string
	keyFile string
	wait    bool
	timeout time.Duration
	asJSON  bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.api, "api", defaultAPI, "node API base `URL`")
	pf.StringVar(&f.keyFile, "key", "", "account key `FILE` (node key format; create one with: zwnode keys new FILE)")
	pf.BoolVar(&f.wait, "wait", false, "wait until the transaction (or a read's access.log) is finalized; print its height and result code")
	pf.DurationVar(&f.timeout, "timeout", time.Minute, "give up after this long (the transaction may still be finalized later)")
	pf.BoolVar(&f.asJSON, "json", false, "print JSON")
}

// client builds an API client with the --key account, if any.
func (f *clientFlags) client() (*apiClient, error) {
	key, err := loadAccountKey(f.keyFile)
	if err != nil {
		return nil, err
	}
	return newAPIClient(f.api, key), nil
}

// run gives fn a client and a context bounded by --timeout.
func (f *clientFlags) run(cmd *cobra.Command, fn func(ctx context.Context, c *apiClient) error) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	return fn(ctx, c)
}

// txOutcome is what a tx command reports (also its --json output).
type txOutcome struct {
	Hash    chain.Hash `json:"hash"`
	Type    string     `json:"type"`
	Status  string     `json:"status"`
	Height  uint64     `json:"height,omitempty"`
	Code    uint32     `json:"code"`
	Message string     `json:"message,omitempty"`
	// Set by the commands that create something with an id or secret.
	ApplicationID string `json:"application_id,omitempty"`
	AccessCode    string `json:"access_code,omitempty"`
	ProposalID    string `json:"proposal_id,omitempty"`
	Subject       string `json:"subject,omitempty"`
}

// send builds, signs and submits one transaction, then waits for it with
// --wait. A transaction that is finalized with a non-zero code is an error.
// Fields already set in out (ids, subject) are kept.
func (f *clientFlags) send(ctx context.Context, c *apiClient, out *txOutcome, txType string, payload any) (*txOutcome, error) {
	h, err := c.buildAndSubmit(ctx, txType, payload)
	if err != nil {
		return nil, err
	}
	out.Hash, out.Type, out.Status = h, txType, "pending"
	switch txType {
	case ledger.TxApplicationSubmit:
		out.ApplicationID = ledger.ApplicationID(h)
	case ledger.TxGovPropose:
		out.ProposalID = ledger.ApplicationID(h)
	}
	if !f.wait {
		return out, nil
	}
	st, err := c.WaitTx(ctx, h)
	if err != nil {
		return out, err
	}
	out.Status, out.Height, out.Code, out.Message = st.Status, st.Height, st.code(), st.message()
	if out.Code != ledger.CodeOK {
		return out, fmt.Errorf("%w: %s tx %s at height %d: code %d (%s)", errTxFailed, txType, h, st.Height, out.Code, out.Message)
	}
	return out, nil
}

// nonceRetries bounds how often a transaction is rebuilt when another
// one from the same account (another client run) took its nonce first.
const nonceRetries = 5

// buildAndSubmit signs and submits a transaction, taking a fresh nonce
// when the node reports the one it gave out as already used or pending.
func (c *apiClient) buildAndSubmit(ctx context.Context, txType string, payload any) (chain.Hash, error) {
	for attempt := 0; ; attempt++ {
		tx, err := c.BuildTx(ctx, txType, payload)
		if err != nil {
			return chain.Hash{}, err
		}
		h, err := c.SubmitTx(ctx, tx)
		var ae *apiError
		if err == nil || attempt == nonceRetries || !errors.As(err, &ae) || (ae.Code != "duplicate" && ae.Code != "nonce_too_low") {
			return h, err
		}
	}
}

// print reports a tx outcome: a status line, then any ids it created.
func (f *clientFlags) print(w io.Writer, o *txOutcome) error {
	if f.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(o)
	}
	if o.Status == "finalized" {
		fmt.Fprintf(w, "tx %s (%s) finalized at height %d: code %d (%s)\n", o.Hash, o.Type, o.Height, o.Code, o.Message)
	} else {
		fmt.Fprintf(w, "tx %s (%s) submitted; check it with `zwnode query tx %s`\n", o.Hash, o.Type, o.Hash)
	}
	if o.Subject != "" {
		fmt.Fprintf(w, "subject         %s\n", o.Subject)
	}
	if o.ApplicationID != "" {
		fmt.Fprintf(w, "application id  %s\n", o.ApplicationID)
	}
	if o.AccessCode != "" {
		fmt.Fprintf(w, "access code     %s   (give it to the applicant: with the id it shows progress; it is not stored anywhere)\n", o.AccessCode)
	}
	if o.ProposalID != "" {
		fmt.Fprintf(w, "proposal id     %s\n", o.ProposalID)
	}
	return nil
}

// txBuilder makes a transaction's payload; it may note ids or the subject
// in o for the report.
type txBuilder func(ctx context.Context, c *apiClient, o *txOutcome) (any, error)

// submitCmd is the common RunE of tx commands: build the payload, send it,
// print the outcome.
func (f *clientFlags) submitCmd(txType string, build txBuilder) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		return f.run(cmd, func(ctx context.Context, c *apiClient) error {
			o := new(txOutcome)
			payload, err := build(ctx, c, o)
			if err != nil {
				return err
			}
			o, err = f.send(ctx, c, o, txType, payload)
			if o != nil {
				if perr := f.print(cmd.OutOrStdout(), o); perr != nil {
					return perr
				}
			}
			return err
		})
	}
}

func newTxCmd() *cobra.Command {
	f := new(clientFlags)
	cmd := &cobra.Command{
		Use:   "tx",
		Short: "Sign and submit ledger transactions to a node",
		Long: `Build a ledger transaction, sign it with an account key (--key) and submit it
to a node's API (--api). The client fetches the chain id from /v1/status and
the account's next nonce from /v1/accounts/{key}. With --wait it polls until
the transaction is finalized and prints its height and result code; a
non-zero code (the transaction was included but changed nothing) makes the
command fail. Payloads are described in chain/ledger/TRANSACTIONS.md.`,
		Example: `  zwnode tx record put --key tax.key --schema tax.clearance --uscc 91370100000000001W --field status=clear --wait
  zwnode tx grant --key tax.key --schema tax.filing --department market --wait`,
	}
	f.register(cmd)
	cmd.AddCommand(newTxAccountCmd(f), newTxDeptCmd(f), newTxSchemaCmd(f), newTxRecordCmd(f),
		newTxGrantCmd(f, ledger.TxGrant), newTxGrantCmd(f, ledger.TxRevoke),
		newTxAppCmd(f), newTxSICmd(f), newTxCreditCmd(f), newTxGovCmd(f), newTxRawCmd(f))
	return cmd
}

func newTxRawCmd(f *clientFlags) *cobra.Command {
	var txType, payloadFile string
	cmd := &cobra.Command{
		Use:   "raw --type TYPE --payload-file F",
		Short: "Sign and submit any transaction type with a JSON payload from a file",
		Long: `Sign and submit a transaction whose payload is the JSON document in F, exactly
as written (see chain/ledger/TRANSACTIONS.md). For types without their own
command, or to try a payload by hand.`,
		Example: `  echo '{"schema":"tax.filing","department":"market"}' > grant.json
  zwnode tx raw --key tax.key --type grant --payload-file grant.json --wait`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		data, err := os.ReadFile(payloadFile)
		if err != nil {
			return err
		}
		if !json.Valid(data) {
			return usagef("%s is not valid JSON", payloadFile)
		}
		return f.submitCmd(txType, func(context.Context, *apiClient, *txOutcome) (any, error) {
			return json.RawMessage(bytes.TrimSpace(data)), nil
		})(c, args)
	}
	cmd.Flags().StringVar(&txType, "type", "", "transaction type, e.g. record.put")
	cmd.Flags().StringVar(&payloadFile, "payload-file", "", "file holding the JSON payload")
	_ = cmd.MarkFlagRequired("type")
	_ = cmd.MarkFlagRequired("payload-file")
	return cmd
}
