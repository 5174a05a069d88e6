package ledger

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the ledger returns wraps one of them with
// context, so callers test with errors.Is and users read what went wrong.
var (
	// ErrGenesis means the genesis app_state is malformed or inconsistent.
	ErrGenesis = errors.New("ledger: invalid genesis app_state")
	// ErrUnknownAccount means a tx is signed by a key with no account.
	// A block holding such a tx is invalid.
	ErrUnknownAccount = errors.New("unknown account")
	// ErrBadNonce means a tx nonce is not the account's next nonce. A block
	// holding such a tx is invalid.
	ErrBadNonce = errors.New("wrong nonce")
	// ErrNoScan means the state given to Execute cannot scan prefixes.
	ErrNoScan = errors.New("ledger: state does not implement ScanKV")
	// ErrState means stored state could not be decoded: a bug or corruption.
	ErrState = errors.New("ledger: corrupt state")

	// ErrUnknownTxType means tx.Type names no transaction type.
	ErrUnknownTxType = errors.New("unknown tx type")
	// ErrBadPayload means the payload is not the JSON the type requires.
	ErrBadPayload = errors.New("bad payload")
	// ErrUnauthorized means the account's department or role may not do this.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrInvalid means a field value breaks a rule (format, range, state).
	ErrInvalid = errors.New("invalid")
	// ErrInvalidSubject means a subject is not "e:<USCC>" or "p:<64 hex>".
	ErrInvalidSubject = errors.New("invalid subject")
	// ErrInvalidUSCC means a unified social credit code fails GB 32100-2015.
	ErrInvalidUSCC = errors.New("invalid unified social credit code")
	// ErrInvalidResidentID means a resident ID number fails GB 11643-1999.
	ErrInvalidResidentID = errors.New("invalid resident id number")
	// ErrNotFound means a named department, schema, record, application or
	// proposal does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means the thing being created already exists.
	ErrExists = errors.New("already exists")
	// ErrEnvelope means a confidential record's envelope does not cover
	// exactly the owner and the current grantees with their current keys.
	ErrEnvelope = errors.New("bad envelope")
	// ErrClosed means an application or proposal is already decided.
	ErrClosed = errors.New("already decided")
	// ErrAccessDenied means an application access code does not match.
	ErrAccessDenied = errors.New("access denied")
)

// Result codes recorded in TxResult.Code for included transactions that
// failed. 0 is success.
const (
	CodeOK           uint32 = 0
	CodeUnknownType  uint32 = 1
	CodeBadPayload   uint32 = 2
	CodeUnauthorized uint32 = 3
	CodeInvalid      uint32 = 4
	CodeNotFound     uint32 = 5
	CodeExists       uint32 = 6
	CodeEnvelope     uint32 = 7
	CodeClosed       uint32 = 8
	CodeInternal     uint32 = 99
)

// CodeName describes a result code in words, for APIs that only have the
// code (messages are not part of consensus state).
func CodeName(code uint32) string {
	switch code {
	case CodeOK:
		return "ok"
	case CodeUnknownType:
		return "unknown tx type"
	case CodeBadPayload:
		return "payload does not decode"
	case CodeUnauthorized:
		return "department or role may not do this"
	case CodeInvalid:
		return "a value breaks a rule (format, range, state)"
	case CodeNotFound:
		return "named thing does not exist"
	case CodeExists:
		return "already exists"
	case CodeEnvelope:
		return "confidential envelope does not cover exactly owner and grantees"
	case CodeClosed:
		return "already decided"
	}
	return "internal error"
}

// codeOf maps a tx failure to its result code.
func codeOf(err error) uint32 {
	switch {
	case err == nil:
		return CodeOK
	case errors.Is(err, ErrUnknownTxType):
		return CodeUnknownType
	case errors.Is(err, ErrBadPayload):
		return CodeBadPayload
	case errors.Is(err, ErrUnauthorized):
		return CodeUnauthorized
	case errors.Is(err, ErrEnvelope):
		return CodeEnvelope
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.Is(err, ErrExists):
		return CodeExists
	case errors.Is(err, ErrClosed):
		return CodeClosed
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrInvalidSubject),
		errors.Is(err, ErrInvalidUSCC), errors.Is(err, ErrInvalidResidentID):
		return CodeInvalid
	default:
		return CodeInternal
	}
}

// fatal marks errors that make the block invalid rather than failing one tx:
// state read failures and corrupt state.
type fatal struct{ err error }

func (f fatal) Error() string { return f.err.Error() }
func (f fatal) Unwrap() error { return f.err }

func isFatal(err error) bool {
	if err == nil { // the usual case; errors.As would allocate f
		return false
	}
	var f fatal
	return errors.As(err, &f)
}

func unauthorized(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthorized, fmt.Sprintf(format, args...))
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
