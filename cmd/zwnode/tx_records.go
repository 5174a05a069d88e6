package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
)

// subjectFlags name a subject in one of three ways. A resident ID number is
// pseudonymised by the node (POST /v1/pseudonym, a signed request) and
// never put in a transaction.
type subjectFlags struct {
	subject    string
	uscc       string
	residentID string
}

func (s *subjectFlags) register(cmd *cobra.Command, prefix, what string) {
	fl := cmd.Flags()
	fl.StringVar(&s.subject, prefix+"subject", "", what+" as a subject: e:<USCC> or p:<pseudonym>")
	fl.StringVar(&s.uscc, prefix+"uscc", "", what+" as an enterprise's unified social credit code")
	fl.StringVar(&s.residentID, prefix+"resident-id", "", what+" as a resident ID number (pseudonymised by the node; never sent in a tx)")
}

func (s *subjectFlags) given() bool { return s.subject != "" || s.uscc != "" || s.residentID != "" }

// resolve returns the subject, checking it locally before anything is sent.
func (s *subjectFlags) resolve(ctx context.Context, c *apiClient, prefix string) (string, error) {
	n := 0
	for _, v := range []string{s.subject, s.uscc, s.residentID} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return "", usagef("give exactly one of --%ssubject, --%suscc and --%sresident-id", prefix, prefix, prefix)
	}
	switch {
	case s.uscc != "":
		return ledger.EnterpriseSubject(s.uscc)
	case s.residentID != "":
		if err := ledger.ValidateResidentID(s.residentID); err != nil {
			return "", fmt.Errorf("resident id: %w", err)
		}
		return c.Pseudonym(ctx, s.residentID)
	default:
		if err := ledger.ValidateSubject(s.subject); err != nil {
			return "", err
		}
		return s.subject, nil
	}
}

// fetchSchema returns a schema from the node.
func fetchSchema(ctx context.Context, c *apiClient, name string) (*ledger.Schema, error) {
	var s ledger.Schema
	if err := c.Get(ctx, "/v1/schemas/"+url.PathEscape(name), &s); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	return &s, nil
}

// typedFields turns k=v pairs into a JSON object using the schema's field
// types, so "employees=12" becomes a number and "status=clear" a string.
func typedFields(s *ledger.Schema, kvs []string) (json.RawMessage, error) {
	types := make(map[string]ledger.FieldType, len(s.Fields))
	for _, f := range s.Fields {
		types[f.Name] = f.Type
	}
	obj := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--field %q: want NAME=VALUE", kv)
		}
		if _, dup := obj[k]; dup {
			return nil, usagef("--field %s given twice", k)
		}
		switch types[k] {
		case ledger.FieldInt:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, usagef("--field %s=%q: schema %s says int", k, v, s.Name)
			}
			obj[k] = n
		case ledger.FieldBool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, usagef("--field %s=%q: schema %s says bool", k, v, s.Name)
			}
			obj[k] = b
		case ledger.FieldString:
			obj[k] = v
		default:
			return nil, usagef("--field %s: schema %s has no such field", k, s.Name)
		}
	}
	return json.Marshal(obj)
}

// sealRecord encrypts plaintext for the schema's current recipients (the
// owner and the granted departments, with their current keys).
func sealRecord(ctx context.Context, c *apiClient, schema, subject string, plaintext []byte) (*sharing.Envelope, error) {
	var recips []sharing.RecipientKey
	if err := c.Get(ctx, "/v1/schemas/"+url.PathEscape(schema)+"/recipients", &recips); err != nil {
		return nil, fmt.Errorf("recipients of %s: %w", schema, err)
	}
	env, err := sharing.Seal(rand.Reader, plaintext, sharing.RecordAAD(schema, subject), recips)
	if err != nil {
		return nil, fmt.Errorf("seal %s record: %w", schema, err)
	}
	return env, nil
}

func newTxRecordCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "record",
		Short: "Write records (admin/operator of the schema's owner)",
		Example: `  zwnode tx record put --key tax.key --schema tax.clearance --uscc 91370100000000001W --field status=clear --wait
  zwnode tx record put --key tax.key --schema tax.filing --uscc 91370100000000001W --data-file filing.json --wait`,
	}
	var schema, dataFile string
	var subj subjectFlags
	var fields []string
	put := &cobra.Command{
		Use:   "put --schema SCHEMA (--subject S | --uscc CODE | --resident-id ID) (--field K=V... | --data-file F)",
		Short: "Write a new version of a subject's record",
		Long: `Write the next version of (schema, subject). For a public schema give the fields
as --field NAME=VALUE (typed by the schema). For a confidential schema give
--data-file: the file is sealed on this machine to the schema's current
recipients (GET /v1/schemas/{name}/recipients: the owner and every granted
department) and only the envelope is sent. A --resident-id is turned into the
person's pseudonym by the node; the number itself is never put in a tx.`,
		Example: `  zwnode tx record put --key hrss.key --schema hrss.registration --uscc 91370100000000001W \
      --field status=registered --field employees=12 --wait
  zwnode tx record put --key tax.key --schema tax.filing --uscc 91370100000000001W --data-file filing.json --wait`,
		Args: cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxRecordPut, func(ctx context.Context, c *apiClient, o *txOutcome) (any, error) {
			if (len(fields) > 0) == (dataFile != "") {
				return nil, usagef("give either --field (public schema) or --data-file (confidential schema)")
			}
			s, err := fetchSchema(ctx, c, schema)
			if err != nil {
				return nil, err
			}
			if s.Confidential != (dataFile != "") {
				if s.Confidential {
					return nil, usagef("schema %s is confidential: give the record as --data-file", schema)
				}
				return nil, usagef("schema %s is public: give the record as --field NAME=VALUE", schema)
			}
			subject, err := subj.resolve(ctx, c, "")
			if err != nil {
				return nil, err
			}
			o.Subject = subject
			p := ledger.RecordPut{Schema: schema, Subject: subject}
			if s.Confidential {
				data, err := os.ReadFile(dataFile)
				if err != nil {
					return nil, err
				}
				if p.Envelope, err = sealRecord(ctx, c, schema, subject, data); err != nil {
					return nil, err
				}
				return p, nil
			}
			p.Fields, err = typedFields(s, fields)
			return p, err
		}),
	}
	put.Flags().StringVar(&schema, "schema", "", "schema name")
	subj.register(put, "", "the record's subject")
	put.Flags().StringArrayVar(&fields, "field", nil, "field NAME=VALUE of a public record (repeatable)")
	put.Flags().StringVar(&dataFile, "data-file", "", "plaintext of a confidential record, sealed before sending")
	_ = put.MarkFlagRequired("schema")
	cmd.AddCommand(put)
	return cmd
}
