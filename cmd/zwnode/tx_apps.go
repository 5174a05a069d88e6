package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"os"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
)

// accessCodeAlphabet leaves out characters that are easy to misread
// (0/O, 1/I/L) because applicants type the code from a printed slip.
const accessCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newAccessCode returns a random 10-character access code (~49 bits).
func newAccessCode() (string, error) {
	b := make([]byte, 10)
	max := big.NewInt(int64(len(accessCodeAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = accessCodeAlphabet[n.Int64()]
	}
	return string(b), nil
}

// fileDigest is the SHA-256 of a file's contents: forms and evidence stay
// off chain and are bound to it by their digest.
func fileDigest(path string) (chain.Hash, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return chain.Hash{}, err
	}
	return sha256.Sum256(data), nil
}

func newTxAppCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Submit and attest applications (service hall and reviewing departments)",
		Example: `  zwnode tx app submit --key hall.key --type enterprise.establishment --uscc 91370100000000001W \
      --applicant-id 37010219900101108X --form-file form.pdf --access-code K7QH3M9RXP --wait
  zwnode tx app attest --key market.key --id 5d0c... --check market.name --pass --wait`,
	}
	cmd.AddCommand(newTxAppSubmitCmd(f), newTxAppAttestCmd(f))
	return cmd
}

func newTxAppSubmitCmd(f *clientFlags) *cobra.Command {
	var appType, nameReservation, formFile, accessCode string
	var subj subjectFlags
	var applicant subjectFlags
	cmd := &cobra.Command{
		Use:   "submit --type TYPE (--uscc CODE | --name-reservation NAME) (--applicant-id ID | --applicant p:...) --form-file F",
		Short: "Submit an application on behalf of an applicant",
		Long: `Send application.submit. The form stays off chain: only its SHA-256 digest is
recorded. The applicant follows progress with the application id and the
access code (only its SHA-256 goes on chain); without --access-code a random
one is made. Both are printed: hand them to the applicant. Checks whose
records already exist are decided in the same block.`,
		Example: `  zwnode tx app submit --key hall.key --type enterprise.establishment --uscc 91370100000000001W \
      --applicant-id 37010219900101108X --form-file form.pdf --wait
  zwnode query app <application id> --code <access code>`,
		Args: cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxApplicationSubmit, func(ctx context.Context, c *apiClient, o *txOutcome) (any, error) {
			if subj.given() == (nameReservation != "") {
				return nil, usagef("give exactly one of the enterprise (--uscc or --subject) and --name-reservation")
			}
			if subj.residentID != "" {
				return nil, usagef("an application's subject is an enterprise: use --uscc or --subject e:...")
			}
			digest, err := fileDigest(formFile)
			if err != nil {
				return nil, fmt.Errorf("--form-file: %w", err)
			}
			if accessCode == "" {
				if accessCode, err = newAccessCode(); err != nil {
					return nil, err
				}
			}
			if (applicant.subject == "") == (applicant.residentID == "") {
				return nil, usagef("give exactly one of --applicant-id and --applicant")
			}
			who, err := applicant.resolve(ctx, c, "applicant-")
			if err != nil {
				return nil, err
			}
			p := ledger.ApplicationSubmit{AppType: appType, Applicant: who, NameReservation: nameReservation,
				FormDigest: digest, AccessCodeHash: sha256.Sum256([]byte(accessCode))}
			if subj.given() {
				if p.Subject, err = subj.resolve(ctx, c, ""); err != nil {
					return nil, err
				}
			}
			o.AccessCode = accessCode
			return p, nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&appType, "type", "", "application type (genesis application_types), e.g. enterprise.establishment")
	fl.StringVar(&subj.uscc, "uscc", "", "the enterprise's unified social credit code")
	fl.StringVar(&subj.subject, "subject", "", "the enterprise as e:<USCC>")
	fl.StringVar(&nameReservation, "name-reservation", "", "proposed name of an enterprise not yet registered (≤64 characters)")
	fl.StringVar(&applicant.residentID, "applicant-id", "", "the applicant's resident ID number (pseudonymised by the node)")
	fl.StringVar(&applicant.subject, "applicant", "", "the applicant as p:<pseudonym>")
	fl.StringVar(&formFile, "form-file", "", "the application form; its SHA-256 is recorded")
	fl.StringVar(&accessCode, "access-code", "", "access code for the applicant (random if empty)")
	_ = cmd.MarkFlagRequired("type")
	_ = cmd.MarkFlagRequired("form-file")
	return cmd
}

func newTxAppAttestCmd(f *clientFlags) *cobra.Command {
	var id, check, reason string
	var pass, fail bool
	cmd := &cobra.Command{
		Use:   "attest --id ID --check CHECK (--pass | --fail --reason R)",
		Short: "Decide your department's check of an application",
		Long: `Send application.attest for a check that belongs to your department and is
still pending (see GET /v1/departments/{id}/pending-checks). A failure needs a
reason; it rejects the application.`,
		Example: `  zwnode tx app attest --key market.key --id 5d0c1e... --check market.name --pass --wait
  zwnode tx app attest --key tax.key --id 5d0c1e... --check tax.no_arrears --fail --reason "arrears for 2026Q2" --wait`,
		Args: cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxApplicationAttest, func(context.Context, *apiClient, *txOutcome) (any, error) {
			if pass == fail {
				return nil, usagef("give exactly one of --pass and --fail")
			}
			if fail && reason == "" {
				return nil, usagef("--fail needs --reason")
			}
			return ledger.ApplicationAttest{Application: id, Check: check, Pass: pass, Reason: reason}, nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&id, "id", "", "application id (32 hex digits)")
	fl.StringVar(&check, "check", "", "check id, e.g. market.name")
	fl.BoolVar(&pass, "pass", false, "the check passes")
	fl.BoolVar(&fail, "fail", false, "the check fails (needs --reason)")
	fl.StringVar(&reason, "reason", "", "reason (≤500 characters)")
	_ = cmd.MarkFlagRequired("id")
	_ = cmd.MarkFlagRequired("check")
	return cmd
}
