package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/node/keyfile"
)

func newTxSICmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "si",
		Short:   "Book social-insurance contributions (the social-insurance department)",
		Example: `  zwnode tx si contribute --key hrss.key --resident-id 37010219900101108X --employer-uscc 91370100000000001W --period 202609 --insurance pension --base-fen 800000 --unit-fen 128000 --personal-fen 64000 --status paid --wait`,
	}
	var p ledger.SIContribution
	var person, employer subjectFlags
	contribute := &cobra.Command{
		Use:   "contribute (--resident-id ID | --subject p:...) --period YYYYMM --insurance TYPE --base-fen N --unit-fen N --personal-fen N --status paid|arrears",
		Short: "Book one month of one insurance for a person",
		Long: `Send si.contribution. Amounts are integer fen (1/100 yuan). Booking the same
person, period and insurance again replaces the earlier booking. A
--resident-id is pseudonymised by the node and never sent in the tx.`,
		Example: `  zwnode tx si contribute --key hrss.key --resident-id 37010219900101108X --employer-uscc 91370100000000001W \
      --period 202609 --insurance pension --base-fen 800000 --unit-fen 128000 --personal-fen 64000 --status paid --wait`,
		Args: cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxSIContribution, func(ctx context.Context, c *apiClient, o *txOutcome) (any, error) {
			if person.uscc != "" {
				return nil, usagef("a contribution is booked for a person: use --resident-id or --subject p:...")
			}
			subject, err := person.resolve(ctx, c, "")
			if err != nil {
				return nil, err
			}
			q := p
			q.Subject = subject
			if employer.given() {
				if q.Employer, err = employer.resolve(ctx, c, "employer-"); err != nil {
					return nil, err
				}
			}
			o.Subject = subject
			return q, nil
		}),
	}
	fl := contribute.Flags()
	fl.StringVar(&person.residentID, "resident-id", "", "the person's resident ID number (pseudonymised by the node)")
	fl.StringVar(&person.subject, "subject", "", "the person as p:<pseudonym>")
	fl.StringVar(&employer.uscc, "employer-uscc", "", "employer's unified social credit code")
	fl.StringVar(&employer.subject, "employer", "", "employer as e:<USCC>")
	fl.StringVar(&p.Period, "period", "", "month, YYYYMM")
	fl.StringVar(&p.Insurance, "insurance", "", "pension, medical, unemployment, injury or maternity")
	fl.Int64Var(&p.BaseFen, "base-fen", 0, "contribution base in fen")
	fl.Int64Var(&p.UnitFen, "unit-fen", 0, "employer's part in fen")
	fl.Int64Var(&p.PersonalFen, "personal-fen", 0, "person's part in fen")
	fl.StringVar(&p.Status, "status", "paid", "paid or arrears")
	_ = contribute.MarkFlagRequired("period")
	_ = contribute.MarkFlagRequired("insurance")
	cmd.AddCommand(contribute)
	return cmd
}

func newTxCreditCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "credit",
		Short:   "Report credit events (departments listed as credit reporters)",
		Example: `  zwnode tx credit event --key tax.key --uscc 91370100000000001W --category tax --negative --severity 3 --evidence-file notice.pdf --wait`,
	}
	var subj subjectFlags
	var category, evidenceFile, note string
	var positive, negative bool
	var severity int
	event := &cobra.Command{
		Use:   "event (--uscc CODE | --subject S | --resident-id ID) --category C (--positive | --negative) --severity 1..5 --evidence-file F",
		Short: "Record a positive or negative credit event about a subject",
		Long: `Send credit.event. The evidence stays off chain; its SHA-256 is recorded. The
subject's score moves by the genesis points for the severity, weighted by
the category; a score below the threshold puts it on the blacklist.`,
		Example: `  zwnode tx credit event --key tax.key --uscc 91370100000000001W --category tax --negative --severity 3 \
      --evidence-file notice.pdf --note "late filing 2026Q2" --wait
  zwnode query credit 91370100000000001W`,
		Args: cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxCreditEvent, func(ctx context.Context, c *apiClient, o *txOutcome) (any, error) {
			if positive == negative {
				return nil, usagef("give exactly one of --positive and --negative")
			}
			digest, err := fileDigest(evidenceFile)
			if err != nil {
				return nil, fmt.Errorf("--evidence-file: %w", err)
			}
			subject, err := subj.resolve(ctx, c, "")
			if err != nil {
				return nil, err
			}
			o.Subject = subject
			return ledger.CreditEventTx{Subject: subject, Category: category, Positive: positive, Severity: severity,
				EvidenceDigest: digest, Note: note}, nil
		}),
	}
	subj.register(event, "", "the subject")
	fl := event.Flags()
	fl.StringVar(&category, "category", "", "credit category (genesis credit.categories), e.g. tax")
	fl.BoolVar(&positive, "positive", false, "a commendation or good record")
	fl.BoolVar(&negative, "negative", false, "a violation or bad record")
	fl.IntVar(&severity, "severity", 1, "1 (minor) to 5 (grave)")
	fl.StringVar(&evidenceFile, "evidence-file", "", "evidence document; its SHA-256 is recorded")
	fl.StringVar(&note, "note", "", "short note (≤500 characters)")
	_ = event.MarkFlagRequired("category")
	_ = event.MarkFlagRequired("evidence-file")
	cmd.AddCommand(event)
	return cmd
}

// optionalKey parses a public key flag that may be empty.
func optionalKey(flag, s string) (chain.PublicKey, error) {
	if s == "" {
		return chain.PublicKey{}, nil
	}
	pk, err := keyfile.ParsePublicKeyOrPeerID(s)
	if err != nil {
		return pk, fmt.Errorf("--%s: %w", flag, err)
	}
	return pk, nil
}

func newTxGovCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gov",
		Short: "Propose and vote on authority set changes (admins of authority departments)",
		Example: `  zwnode tx gov propose --key tax-admin.key --action add --department justice --name 司法局 --node-key 12D3KooW... --admin-key 12D3KooW... --wait
  zwnode tx gov vote --key market-admin.key --proposal 9f2c... --yes --wait`,
	}
	var action, dept, name, nodeKey, adminKey string
	propose := &cobra.Command{
		Use:   "propose --action add|remove --department D [--name N --node-key K --admin-key K]",
		Short: "Propose adding or removing one authority department",
		Long: `Send gov.propose. Your department votes yes. Adding names the new department's
node key (consensus and peer identity) and, if it has no accounts yet, its
first admin account. The printed proposal id is what the others vote on.`,
		Example: `  zwnode tx gov propose --key tax-admin.key --action add --department justice --name 司法局 \
      --node-key 12D3KooW... --admin-key 12D3KooW... --wait
  zwnode tx gov propose --key tax-admin.key --action remove --department credit --wait`,
		Args: cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxGovPropose, func(context.Context, *apiClient, *txOutcome) (any, error) {
			nk, err := optionalKey("node-key", nodeKey)
			if err != nil {
				return nil, err
			}
			ak, err := optionalKey("admin-key", adminKey)
			if err != nil {
				return nil, err
			}
			return ledger.GovPropose{Action: action, Department: dept, Name: name, PubKey: nk, AdminPubKey: ak}, nil
		}),
	}
	fl := propose.Flags()
	fl.StringVar(&action, "action", "", "add or remove")
	fl.StringVar(&dept, "department", "", "department id")
	fl.StringVar(&name, "name", "", "department name (add)")
	fl.StringVar(&nodeKey, "node-key", "", "the department's node public key (add; base64, hex or peer ID)")
	fl.StringVar(&adminKey, "admin-key", "", "first admin account key of a new department (add)")
	_ = propose.MarkFlagRequired("action")
	_ = propose.MarkFlagRequired("department")

	var proposal string
	var yes, no bool
	vote := &cobra.Command{
		Use:     "vote --proposal ID (--yes | --no)",
		Short:   "Vote on an open proposal (one vote per department)",
		Example: `  zwnode tx gov vote --key market-admin.key --proposal 9f2c... --yes --wait`,
		Args:    cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxGovVote, func(context.Context, *apiClient, *txOutcome) (any, error) {
			if yes == no {
				return nil, usagef("give exactly one of --yes and --no")
			}
			return ledger.GovVote{Proposal: proposal, Yes: yes}, nil
		}),
	}
	vote.Flags().StringVar(&proposal, "proposal", "", "proposal id (32 hex digits)")
	vote.Flags().BoolVar(&yes, "yes", false, "vote for the change")
	vote.Flags().BoolVar(&no, "no", false, "vote against the change")
	_ = vote.MarkFlagRequired("proposal")
	cmd.AddCommand(propose, vote)
	return cmd
}
