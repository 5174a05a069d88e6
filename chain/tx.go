package chain

import (
	"fmt"
	"sync"
)

// Limits that hold for every transaction whatever the genesis says. Genesis
// parameters may set tighter ones.
const (
	MaxChainIDLen   = 64
	MaxTxTypeLen    = 64
	MaxTxPayload    = 256 << 10
	MaxTxEncodedLen = MaxTxPayload + 1024
)

// Tx is a transaction: a typed payload signed by an account key. The chain
// gives it no meaning; the ledger does, by Type.
//
// Encoding: string(ChainID) ‖ Account ‖ uint64(Nonce) ‖ string(Type) ‖
// bytes(Payload) ‖ Signature. The signature is over
// SignBytes("tx", ChainID, Account ‖ uint64(Nonce) ‖ string(Type) ‖ bytes(Payload)).
type Tx struct {
	ChainID   string    `json:"chain_id"`
	Account   PublicKey `json:"account"`
	Nonce     uint64    `json:"nonce"`
	Type      string    `json:"type"`
	Payload   []byte    `json:"payload"`
	Signature Signature `json:"signature"`
}

func (tx *Tx) encodeBody(e *Encoder) {
	e.Raw(tx.Account[:])
	e.Uint64(tx.Nonce)
	e.String(tx.Type)
	e.ByteString(tx.Payload)
}

// SignBytes returns the bytes the account signs.
func (tx *Tx) SignBytes() []byte {
	return tx.appendSignBytes(make([]byte, 0, tx.signBytesLen()))
}

func (tx *Tx) signBytesLen() int {
	return signPrefixLen(DomainTx, tx.ChainID) + PublicKeySize + 8 + 4 + len(tx.Type) + 4 + len(tx.Payload)
}

// appendSignBytes appends SignBytes() to buf, for batch verification
// that hashes each message as it is added and can reuse one buffer.
func (tx *Tx) appendSignBytes(buf []byte) []byte {
	e := Encoder{buf: buf}
	appendSignPrefix(&e, DomainTx, tx.ChainID)
	tx.encodeBody(&e)
	return e.buf
}

// Sign sets the account and signature from key.
func (tx *Tx) Sign(key *PrivateKey) {
	tx.Account = key.Public()
	tx.Signature = key.Sign(tx.SignBytes())
}

// VerifySignature checks the signature against the account key.
func (tx *Tx) VerifySignature() error {
	if !tx.Account.Verify(tx.SignBytes(), tx.Signature) {
		return fmt.Errorf("tx from %s nonce %d: %w", tx.Account.Short(), tx.Nonce, ErrBadSignature)
	}
	return nil
}

// Encode returns the canonical encoding.
func (tx *Tx) Encode() []byte {
	e := NewEncoder(tx.EncodedLen())
	tx.encode(e)
	return e.Bytes()
}

// EncodedLen is the length of the canonical encoding.
func (tx *Tx) EncodedLen() int {
	return 4 + len(tx.ChainID) + PublicKeySize + 8 + 4 + len(tx.Type) + 4 + len(tx.Payload) + SignatureSize
}

func (tx *Tx) encode(e *Encoder) {
	e.String(tx.ChainID)
	tx.encodeBody(e)
	e.Raw(tx.Signature[:])
}

func (tx *Tx) decode(d *Decoder) {
	tx.ChainID = d.String(MaxChainIDLen)
	d.Raw(tx.Account[:])
	tx.Nonce = d.Uint64()
	tx.Type = d.String(MaxTxTypeLen)
	tx.Payload = d.ByteString(MaxTxPayload)
	d.Raw(tx.Signature[:])
}

// DecodeTx decodes one transaction and rejects trailing bytes.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxEncodedLen {
		return nil, fmt.Errorf("decode tx: %w: %d bytes exceed the limit of %d: %w", ErrTooLarge, len(b), MaxTxEncodedLen, ErrMalformed)
	}
	d := NewDecoder(b)
	tx := new(Tx)
	tx.decode(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode tx: %w", err)
	}
	return tx, nil
}

// Hash is SHA-256 of the canonical encoding.
func (tx *Tx) Hash() Hash {
	bp := encodingPool.Get().(*[]byte)
	*bp = tx.appendEncoding((*bp)[:0])
	h := HashBytes(*bp)
	if cap(*bp) <= maxPooledEncoding {
		encodingPool.Put(bp)
	}
	return h
}

// TxHashes returns txs[i].Hash() for each tx, encoding them all into one
// reused buffer. A node computes them once per block and hands them to
// execution, the store's indexes and the event stream.
func TxHashes(txs []Tx) []Hash { return hashEncodings(txs, HashBytes) }

// encodingPool holds buffers for Hash; one larger than maxPooledEncoding
// (a tx near the size limit) is left to the garbage collector.
var encodingPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledEncoding = 64 << 10

// appendEncoding appends the canonical encoding to buf and returns the
// result. Hash and TxLeaves encode into a reused buffer instead of a new
// one per call: Tx.Encode was a fifth of the bytes a node allocated under
// load, mostly for hashes.
func (tx *Tx) appendEncoding(buf []byte) []byte {
	e := Encoder{buf: buf}
	tx.encode(&e)
	return e.buf
}

// ValidateBasic checks what needs no state and no signature verification.
func (tx *Tx) ValidateBasic() error {
	if err := validateChainID(tx.ChainID); err != nil {
		return fmt.Errorf("tx: %w", err)
	}
	if tx.Account.IsZero() {
		return fmt.Errorf("tx: account: %w: missing", ErrInvalid)
	}
	if tx.Nonce == 0 {
		return fmt.Errorf("tx: nonce: %w: nonces start at 1", ErrInvalid)
	}
	if err := validateName(tx.Type, MaxTxTypeLen); err != nil {
		return fmt.Errorf("tx: type: %w", err)
	}
	if len(tx.Payload) > MaxTxPayload {
		return fmt.Errorf("tx: payload of %d bytes: %w (limit %d)", len(tx.Payload), ErrTooLarge, MaxTxPayload)
	}
	if tx.Signature.IsZero() {
		return fmt.Errorf("tx: signature: %w: missing", ErrInvalid)
	}
	return nil
}

// validateChainID accepts 1..64 characters of [a-z0-9._-].
func validateChainID(id string) error {
	if err := validateName(id, MaxChainIDLen); err != nil {
		return fmt.Errorf("chain id: %w", err)
	}
	return nil
}

// validateName accepts 1..limit characters of [a-z0-9._-], starting with a
// letter or digit.
func validateName(s string, limit int) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(s) > limit {
		return fmt.Errorf("%w: %d characters, limit %d", ErrInvalid, len(s), limit)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return fmt.Errorf("%w: %q: only lowercase letters, digits and . _ - are allowed", ErrInvalid, s)
		}
	}
	return nil
}

// ValidateName is the check used for chain ids, department ids and
// transaction types: 1..limit characters of [a-z0-9._-], starting with a
// letter or digit.
func ValidateName(s string, limit int) error { return validateName(s, limit) }
