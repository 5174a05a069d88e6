package chain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Sizes of the fixed-size values.
const (
	HashSize      = sha256.Size
	PublicKeySize = ed25519.PublicKeySize
	SignatureSize = ed25519.SignatureSize
)

// Signature domains: the kind string that precedes every signed body.
const (
	DomainTx        = "tx"
	DomainProposal  = "proposal"
	DomainPrevote   = "prevote"
	DomainPrecommit = "precommit"
	DomainAPIAuth   = "api-auth"
)

const signPrefix = "zwnode/sig/v1"

// ErrBadSignature means a signature does not verify for its key and bytes.
var ErrBadSignature = errors.New("signature does not verify")

// Hash is a SHA-256 digest. The zero Hash means "none" (a nil vote, no parent).
type Hash [HashSize]byte

// HashBytes returns SHA-256(b).
func HashBytes(b []byte) Hash { return sha256.Sum256(b) }

// IsZero reports whether h is the zero hash.
func (h Hash) IsZero() bool { return h == Hash{} }

// String returns h in lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the first 8 hex digits, for logs.
func (h Hash) Short() string { return hex.EncodeToString(h[:4]) }

// MarshalText encodes h as hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes 64 hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHash decodes a hash written as 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != HashSize {
		return h, fmt.Errorf("hash %q is not %d hex digits", s, 2*HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// PublicKey is an ed25519 public key. Authorities, accounts and libp2p peer IDs
// are all named by one.
type PublicKey [PublicKeySize]byte

// IsZero reports whether k is all zeros (no key).
func (k PublicKey) IsZero() bool { return k == PublicKey{} }

// String returns k in standard base64.
func (k PublicKey) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// Short returns a short prefix for logs.
func (k PublicKey) Short() string { return hex.EncodeToString(k[:4]) }

// MarshalText encodes k as base64.
func (k PublicKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes base64.
func (k *PublicKey) UnmarshalText(b []byte) error {
	v, err := ParsePublicKey(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParsePublicKey decodes a public key written as base64 (standard or URL
// alphabet, padded or not) or as 64 hex digits.
func ParsePublicKey(s string) (PublicKey, error) {
	var k PublicKey
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == PublicKeySize {
			copy(k[:], b)
			return k, nil
		}
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == PublicKeySize {
		copy(k[:], b)
		return k, nil
	}
	return k, fmt.Errorf("public key %q is not %d bytes of base64 or hex", s, PublicKeySize)
}

// Verify reports whether sig is k's signature over msg, under the ZIP-215
// validation rules. Those are the rules on which single and batch
// verification agree, so every node accepts exactly the same signatures
// whichever way it checked them (stdlib ed25519.Verify is stricter than a
// batch check and could split honest nodes on a crafted signature).
func (k PublicKey) Verify(msg []byte, sig Signature) bool {
	return verifyZIP215(k, msg, sig[:])
}

// Signature is an ed25519 signature.
type Signature [SignatureSize]byte

// IsZero reports whether s is all zeros (unsigned).
func (s Signature) IsZero() bool { return s == Signature{} }

// MarshalText encodes s as base64.
func (s Signature) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(s[:])), nil
}

// UnmarshalText decodes base64.
func (s *Signature) UnmarshalText(b []byte) error {
	v, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil || len(v) != SignatureSize {
		return fmt.Errorf("signature is not %d bytes of base64", SignatureSize)
	}
	copy(s[:], v)
	return nil
}

// PrivateKey is an ed25519 private key with its public half cached.
type PrivateKey struct {
	key ed25519.PrivateKey
	pub PublicKey
}

// NewPrivateKey wraps an ed25519 private key.
func NewPrivateKey(k ed25519.PrivateKey) (*PrivateKey, error) {
	if len(k) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("private key is %d bytes, want %d", len(k), ed25519.PrivateKeySize)
	}
	p := &PrivateKey{key: k}
	copy(p.pub[:], k.Public().(ed25519.PublicKey))
	return p, nil
}

// PrivateKeyFromSeed derives a key from a 32-byte seed (deterministic tests).
func PrivateKeyFromSeed(seed []byte) *PrivateKey {
	p, err := NewPrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		panic(err) // NewKeyFromSeed always returns a full key
	}
	return p
}

// Public returns the public key.
func (p *PrivateKey) Public() PublicKey { return p.pub }

// Ed25519 returns the underlying key.
func (p *PrivateKey) Ed25519() ed25519.PrivateKey { return p.key }

// Sign signs msg.
func (p *PrivateKey) Sign(msg []byte) Signature {
	var s Signature
	copy(s[:], ed25519.Sign(p.key, msg))
	return s
}

// SignBytes returns the domain-separated bytes that are signed for a message
// of the given kind on the given chain: "zwnode/sig/v1" ‖ string(kind) ‖
// string(chainID) ‖ body, with strings length-prefixed as in the canonical
// encoding.
func SignBytes(kind, chainID string, body []byte) []byte {
	e := NewEncoder(signPrefixLen(kind, chainID) + len(body))
	appendSignPrefix(e, kind, chainID)
	e.Raw(body)
	return e.Bytes()
}

// signPrefixLen is the size of what appendSignPrefix appends.
func signPrefixLen(kind, chainID string) int {
	return 12 + len(signPrefix) + len(kind) + len(chainID)
}

// appendSignPrefix appends SignBytes' domain separation, for callers that
// encode the body after it in the same buffer.
func appendSignPrefix(e *Encoder, kind, chainID string) {
	e.String(signPrefix)
	e.String(kind)
	e.String(chainID)
}
