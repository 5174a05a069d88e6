// Package sharing is the client side of confidential records: envelope
// encryption with a fresh data key per record, sealed to each entitled
// department's X25519 key. The ledger only checks an envelope's shape and
// recipient list; encryption and decryption happen in the departments'
// clients, so the chain holds only ciphertext.
//
// Construction (Alg):
//
//	data key K: 32 random bytes; body = XChaCha20-Poly1305(K, nonce, plaintext, aad)
//	ephemeral X25519 key pair (e, E) per envelope
//	for each recipient department d with public key R:
//	  kek_d  = HKDF-SHA256(secret = X25519(e, R), salt = E ‖ R, info = "zwnode/sharing/v1/kek/" ‖ d)
//	  sealed = nonce_d ‖ XChaCha20-Poly1305(kek_d, nonce_d, K, aad = d)
//
// The aad of the body binds the ciphertext to its record (RecordAAD), so a
// body copied under another subject or schema fails to open.
package sharing

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"

	"golang.org/x/crypto/chacha20poly1305"
)

// Alg names the construction; envelopes carry it so a successor can coexist.
const Alg = "x25519-hkdf-sha256-xchacha20poly1305"

// Size limits of the parts.
const (
	KeySize        = 32
	NonceSize      = chacha20poly1305.NonceSizeX
	SealedKeySize  = NonceSize + KeySize + chacha20poly1305.Overhead
	MaxRecipients  = 64
	MaxPlaintext   = 192 << 10
	kekInfoPrefix  = "zwnode/sharing/v1/kek/"
	recordAADLabel = "zwnode/record/v1"
)

// Errors.
var (
	// ErrNotRecipient means the envelope holds no sealed key for the department.
	ErrNotRecipient = errors.New("sharing: department is not a recipient of this envelope")
	// ErrDecrypt means authentication failed: wrong key, wrong aad or tampering.
	ErrDecrypt = errors.New("sharing: decryption failed")
	// ErrMalformed means the envelope's shape is wrong.
	ErrMalformed = errors.New("sharing: malformed envelope")
)

// Recipient is one department's sealed copy of the data key.
type Recipient struct {
	Department string `json:"department"`
	// Key is the recipient's X25519 public key the data key was sealed to,
	// so a reader (and the ledger) can tell which key generation is meant.
	Key       []byte `json:"key"`
	SealedKey []byte `json:"sealed_key"`
}

// Envelope is a confidential record body. Byte fields are base64 in JSON.
type Envelope struct {
	Alg        string      `json:"alg"`
	Ephemeral  []byte      `json:"ephemeral"`
	Nonce      []byte      `json:"nonce"`
	Ciphertext []byte      `json:"ciphertext"`
	Recipients []Recipient `json:"recipients"`
}

// RecipientKey is a department and its current public key, input to Seal.
type RecipientKey struct {
	Department string `json:"department"`
	Key        []byte `json:"key"`
}

// RecordAAD binds a record body to its schema and subject.
func RecordAAD(schema, subject string) []byte {
	b := []byte(recordAADLabel)
	b = append(b, 0)
	b = append(b, schema...)
	b = append(b, 0)
	return append(b, subject...)
}

// GenerateKey makes a department's X25519 key pair.
func GenerateKey(rand io.Reader) (*ecdh.PrivateKey, error) {
	return ecdh.X25519().GenerateKey(rand)
}

// Seal encrypts plaintext under a fresh data key and seals that key to each
// recipient. Recipients are sorted by department in the envelope.
func Seal(rand io.Reader, plaintext, aad []byte, recipients []RecipientKey) (*Envelope, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("%w: plaintext of %d bytes, limit %d", ErrMalformed, len(plaintext), MaxPlaintext)
	}
	if len(recipients) == 0 || len(recipients) > MaxRecipients {
		return nil, fmt.Errorf("%w: need 1..%d recipients, got %d", ErrMalformed, MaxRecipients, len(recipients))
	}
	dataKey := make([]byte, KeySize)
	nonce := make([]byte, NonceSize)
	if _, err := io.ReadFull(rand, dataKey); err != nil {
		return nil, fmt.Errorf("sharing: data key: %w", err)
	}
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("sharing: nonce: %w", err)
	}
	body, err := chacha20poly1305.NewX(dataKey)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.X25519().GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("sharing: ephemeral key: %w", err)
	}
	env := &Envelope{
		Alg:        Alg,
		Ephemeral:  eph.PublicKey().Bytes(),
		Nonce:      nonce,
		Ciphertext: body.Seal(nil, nonce, plaintext, aad),
	}
	seen := make(map[string]bool)
	for _, r := range recipients {
		if r.Department == "" || seen[r.Department] {
			return nil, fmt.Errorf("%w: recipient department %q empty or repeated", ErrMalformed, r.Department)
		}
		seen[r.Department] = true
		sealed, err := sealKey(rand, eph, r, dataKey)
		if err != nil {
			return nil, err
		}
		env.Recipients = append(env.Recipients, Recipient{Department: r.Department, Key: append([]byte(nil), r.Key...), SealedKey: sealed})
	}
	sort.Slice(env.Recipients, func(i, j int) bool { return env.Recipients[i].Department < env.Recipients[j].Department })
	return env, nil
}

func sealKey(rand io.Reader, eph *ecdh.PrivateKey, r RecipientKey, dataKey []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(r.Key)
	if err != nil {
		return nil, fmt.Errorf("sharing: recipient %s: %w", r.Department, err)
	}
	kek, err := deriveKEK(eph, pub, eph.PublicKey().Bytes(), pub.Bytes(), r.Department)
	if err != nil {
		return nil, fmt.Errorf("sharing: recipient %s: %w", r.Department, err)
	}
	n := make([]byte, NonceSize, SealedKeySize)
	if _, err := io.ReadFull(rand, n); err != nil {
		return nil, fmt.Errorf("sharing: nonce: %w", err)
	}
	return kek.Seal(n, n, dataKey, []byte(r.Department)), nil
}

// deriveKEK runs X25519 between priv and peer and expands the shared
// secret. ephPub and the recipient key go in the salt so every (envelope,
// recipient) pair gets its own key.
func deriveKEK(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, ephPub, recipientPub []byte, dept string) (aeadSealer, error) {
	shared, err := priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	salt := append(append([]byte{}, ephPub...), recipientPub...)
	key, err := hkdf.Key(sha256.New, shared, salt, kekInfoPrefix+dept, KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.NewX(key)
}

type aeadSealer interface {
	Seal(dst, nonce, plaintext, aad []byte) []byte
	Open(dst, nonce, ciphertext, aad []byte) ([]byte, error)
}

// Open decrypts env as department dept holding priv. It fails with
// ErrNotRecipient when the envelope has no key for dept or for priv's
// public key, and with ErrDecrypt when authentication fails.
func Open(env *Envelope, dept string, priv *ecdh.PrivateKey, aad []byte) ([]byte, error) {
	if err := env.ValidateBasic(); err != nil {
		return nil, err
	}
	var rec *Recipient
	for i := range env.Recipients {
		if env.Recipients[i].Department == dept {
			rec = &env.Recipients[i]
		}
	}
	if rec == nil || string(rec.Key) != string(priv.PublicKey().Bytes()) {
		return nil, fmt.Errorf("%w: %s", ErrNotRecipient, dept)
	}
	eph, err := ecdh.X25519().NewPublicKey(env.Ephemeral)
	if err != nil {
		return nil, fmt.Errorf("%w: ephemeral key: %v", ErrMalformed, err)
	}
	kek, err := deriveKEK(priv, eph, env.Ephemeral, priv.PublicKey().Bytes(), dept)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	dataKey, err := kek.Open(nil, rec.SealedKey[:NonceSize], rec.SealedKey[NonceSize:], []byte(dept))
	if err != nil {
		return nil, fmt.Errorf("%w: data key for %s", ErrDecrypt, dept)
	}
	body, err := chacha20poly1305.NewX(dataKey)
	if err != nil {
		return nil, err
	}
	pt, err := body.Open(nil, env.Nonce, env.Ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: body", ErrDecrypt)
	}
	return pt, nil
}

// ValidateBasic checks sizes, the algorithm and that recipients are sorted
// by department without repeats. It cannot check the ciphertext.
func (e *Envelope) ValidateBasic() error {
	switch {
	case e == nil:
		return fmt.Errorf("%w: missing", ErrMalformed)
	case e.Alg != Alg:
		return fmt.Errorf("%w: alg %q, want %q", ErrMalformed, e.Alg, Alg)
	case len(e.Ephemeral) != KeySize:
		return fmt.Errorf("%w: ephemeral key is %d bytes, want %d", ErrMalformed, len(e.Ephemeral), KeySize)
	case len(e.Nonce) != NonceSize:
		return fmt.Errorf("%w: nonce is %d bytes, want %d", ErrMalformed, len(e.Nonce), NonceSize)
	case len(e.Ciphertext) < chacha20poly1305.Overhead || len(e.Ciphertext) > MaxPlaintext+chacha20poly1305.Overhead:
		return fmt.Errorf("%w: ciphertext of %d bytes", ErrMalformed, len(e.Ciphertext))
	case len(e.Recipients) == 0 || len(e.Recipients) > MaxRecipients:
		return fmt.Errorf("%w: %d recipients, want 1..%d", ErrMalformed, len(e.Recipients), MaxRecipients)
	}
	for i, r := range e.Recipients {
		if r.Department == "" || len(r.Department) > 64 {
			return fmt.Errorf("%w: recipient %d: bad department", ErrMalformed, i)
		}
		if i > 0 && e.Recipients[i-1].Department >= r.Department {
			return fmt.Errorf("%w: recipients must be sorted by department without repeats", ErrMalformed)
		}
		if len(r.Key) != KeySize {
			return fmt.Errorf("%w: recipient %s: key is %d bytes", ErrMalformed, r.Department, len(r.Key))
		}
		if len(r.SealedKey) != SealedKeySize {
			return fmt.Errorf("%w: recipient %s: sealed key is %d bytes, want %d", ErrMalformed, r.Department, len(r.SealedKey), SealedKeySize)
		}
	}
	return nil
}
