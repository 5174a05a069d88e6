package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
	"github.com/zwnode/zwnode/node/keyfile"
)

// errUsage marks a flag combination the command cannot act on.
var errUsage = errors.New("usage")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func newTxAccountCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Add or remove accounts of your department (admin)",
		Example: `  zwnode keys new clerk.key
  zwnode tx account add --key tax-admin.key --role operator --pub-key <clerk's public key> --name "service hall clerk" --wait
  zwnode tx account remove --key tax-admin.key --pub-key <clerk's public key> --wait`,
	}
	var role, pubKey, name string
	add := &cobra.Command{
		Use:   "add --role ROLE --pub-key KEY",
		Short: "Add an account (admin, operator or auditor) to the sender's department",
		Long: `Add an account to the department of the signing admin. KEY is an ed25519 public
key as base64, hex or peer ID (as printed by ` + "`zwnode keys new`" + `). A key that ever
had an account cannot be added again.`,
		Example: `  zwnode tx account add --key tax-admin.key --role operator --pub-key 12D3KooW... --wait`,
		Args:    cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxAccountAdd, func(context.Context, *apiClient, *txOutcome) (any, error) {
			pk, err := keyfile.ParsePublicKeyOrPeerID(pubKey)
			if err != nil {
				return nil, fmt.Errorf("--pub-key: %w", err)
			}
			r := ledger.Role(role)
			if r != ledger.RoleAdmin && r != ledger.RoleOperator && r != ledger.RoleAuditor {
				return nil, usagef("--role %q: want admin, operator or auditor", role)
			}
			return ledger.AccountAdd{PubKey: pk, Role: r, Name: name}, nil
		}),
	}
	add.Flags().StringVar(&role, "role", "operator", "admin, operator or auditor")
	add.Flags().StringVar(&pubKey, "pub-key", "", "the new account's public key (base64, hex or peer ID)")
	add.Flags().StringVar(&name, "name", "", "a label for the account (≤100 characters)")
	_ = add.MarkFlagRequired("pub-key")

	var rmKey string
	remove := &cobra.Command{
		Use:     "remove --pub-key KEY",
		Short:   "Deactivate an account of the sender's department",
		Example: `  zwnode tx account remove --key tax-admin.key --pub-key 12D3KooW... --wait`,
		Args:    cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxAccountRemove, func(context.Context, *apiClient, *txOutcome) (any, error) {
			pk, err := keyfile.ParsePublicKeyOrPeerID(rmKey)
			if err != nil {
				return nil, fmt.Errorf("--pub-key: %w", err)
			}
			return ledger.AccountRemove{PubKey: pk}, nil
		}),
	}
	remove.Flags().StringVar(&rmKey, "pub-key", "", "the account's public key (base64, hex or peer ID)")
	_ = remove.MarkFlagRequired("pub-key")
	cmd.AddCommand(add, remove)
	return cmd
}

// loadEncKey reads a department's X25519 private key file (64 hex digits,
// mode 0600, as written by `zwnode tx dept gen-enc-key`).
func loadEncKey(path string) (*ecdh.PrivateKey, error) {
	s, err := keyfile.LoadSecret(path)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	k, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		return nil, fmt.Errorf("encryption key %s: %w", path, err)
	}
	return k, nil
}

func newTxDeptCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dept",
		Short: "Set your department's X25519 key for confidential records (admin)",
		Example: `  zwnode tx dept gen-enc-key --key tax-admin.key --out tax-enc.key --wait
  zwnode tx dept set-key --key tax-admin.key --enc-key-file tax-enc.key --wait`,
	}
	var encFile string
	setKey := &cobra.Command{
		Use:   "set-key --enc-key-file FILE",
		Short: "Publish the public half of an existing X25519 private key file",
		Long: `Send dept.set_key with the public half of the X25519 private key in FILE. Later
confidential records are sealed to this key; older ones stay sealed to the
key that was current when they were written, so keep old key files.`,
		Example: `  zwnode tx dept set-key --key tax-admin.key --enc-key-file tax-enc.key --wait`,
		Args:    cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxDeptSetKey, func(context.Context, *apiClient, *txOutcome) (any, error) {
			k, err := loadEncKey(encFile)
			if err != nil {
				return nil, err
			}
			return ledger.DeptSetKey{EncKey: k.PublicKey().Bytes()}, nil
		}),
	}
	setKey.Flags().StringVar(&encFile, "enc-key-file", "", "X25519 private key file")
	_ = setKey.MarkFlagRequired("enc-key-file")

	var outFile string
	var written bool
	gen := &cobra.Command{
		Use:   "gen-enc-key --out FILE",
		Short: "Create an X25519 private key file (0600) and publish its public half",
		Long: `Generate a new X25519 key pair, write the private key to FILE (64 hex digits,
mode 0600, never overwritten) and send dept.set_key with the public key. Give
FILE to ` + "`zwnode query record --enc-key`" + ` to decrypt confidential records.`,
		Example: `  zwnode tx dept gen-enc-key --key market-admin.key --out market-enc.key --wait`,
		Args:    cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxDeptSetKey, func(context.Context, *apiClient, *txOutcome) (any, error) {
			k, err := sharing.GenerateKey(rand.Reader)
			if err != nil {
				return nil, err
			}
			var s keyfile.Secret
			copy(s[:], k.Bytes())
			if err := keyfile.SaveSecret(outFile, s); err != nil {
				return nil, err
			}
			written = true
			return ledger.DeptSetKey{EncKey: k.PublicKey().Bytes()}, nil
		}),
	}
	send := gen.RunE
	gen.RunE = func(cmd *cobra.Command, args []string) error {
		err := send(cmd, args)
		if err != nil && written {
			return fmt.Errorf("%w\nthe private key is in %s; publish it later with: zwnode tx dept set-key --enc-key-file %s", err, outFile, outFile)
		}
		return err
	}
	gen.Flags().StringVar(&outFile, "out", "", "file for the new private key")
	_ = gen.MarkFlagRequired("out")
	cmd.AddCommand(setKey, gen)
	return cmd
}

// parseFieldSpec reads NAME:TYPE[:required].
func parseFieldSpec(spec string) (ledger.Field, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return ledger.Field{}, usagef("--field %q: want NAME:TYPE or NAME:TYPE:required", spec)
	}
	t := ledger.FieldType(parts[1])
	if t != ledger.FieldString && t != ledger.FieldInt && t != ledger.FieldBool {
		return ledger.Field{}, usagef("--field %q: type %q is not string, int or bool", spec, parts[1])
	}
	f := ledger.Field{Name: parts[0], Type: t}
	if len(parts) == 3 {
		if parts[2] != "required" {
			return ledger.Field{}, usagef("--field %q: third part must be \"required\"", spec)
		}
		f.Required = true
	}
	return f, nil
}

func newTxSchemaCmd(f *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "schema",
		Short:   "Register record schemas (admin)",
		Example: `  zwnode tx schema register --key tax-admin.key --name tax.clearance --field status:string:required --wait`,
	}
	var name, title string
	var fields []string
	var confidential bool
	reg := &cobra.Command{
		Use:   "register --name DEPT.KIND [--field NAME:TYPE[:required]]... [--confidential]",
		Short: "Register a schema owned by your department",
		Long: `Register a record schema. The name's prefix must be the sender's department.
A public schema lists its fields (types string, int, bool); a confidential
schema has none: its records are envelopes only the owner and granted
departments can open.`,
		Example: `  zwnode tx schema register --key tax-admin.key --name tax.clearance \
      --field status:string:required --field period:string --field arrears_fen:int --wait
  zwnode tx schema register --key tax-admin.key --name tax.filing --confidential --wait`,
		Args: cobra.NoArgs,
		RunE: f.submitCmd(ledger.TxSchemaRegister, func(context.Context, *apiClient, *txOutcome) (any, error) {
			if confidential && len(fields) > 0 {
				return nil, usagef("a --confidential schema declares no --field")
			}
			p := ledger.SchemaRegister{Name: name, Title: title, Confidential: confidential}
			for _, s := range fields {
				fd, err := parseFieldSpec(s)
				if err != nil {
					return nil, err
				}
				p.Fields = append(p.Fields, fd)
			}
			return p, nil
		}),
	}
	reg.Flags().StringVar(&name, "name", "", "schema name, <department>.<kind>")
	reg.Flags().StringVar(&title, "title", "", "human-readable title")
	reg.Flags().StringArrayVar(&fields, "field", nil, "field as NAME:TYPE or NAME:TYPE:required (repeatable)")
	reg.Flags().BoolVar(&confidential, "confidential", false, "records are encrypted envelopes")
	_ = reg.MarkFlagRequired("name")
	cmd.AddCommand(reg)
	return cmd
}

// newTxGrantCmd builds `tx grant` or `tx revoke`.
func newTxGrantCmd(f *clientFlags, txType string) *cobra.Command {
	var schema, dept string
	short := "Let a department receive keys of later confidential records (admin of the schema owner)"
	example := `  zwnode tx grant --key tax-admin.key --schema tax.filing --department market --wait`
	if txType == ledger.TxRevoke {
		short = "End a department's grant: later records are not sealed to it (admin of the schema owner)"
		example = `  zwnode tx revoke --key tax-admin.key --schema tax.filing --department market --wait`
	}
	cmd := &cobra.Command{
		Use:     txType + " --schema SCHEMA --department DEPT",
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: f.submitCmd(txType, func(context.Context, *apiClient, *txOutcome) (any, error) {
			return ledger.GrantTx{Schema: schema, Department: dept}, nil
		}),
	}
	cmd.Flags().StringVar(&schema, "schema", "", "confidential schema of your department")
	cmd.Flags().StringVar(&dept, "department", "", "department id")
	_ = cmd.MarkFlagRequired("schema")
	_ = cmd.MarkFlagRequired("department")
	return cmd
}
