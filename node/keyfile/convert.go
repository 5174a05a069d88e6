package keyfile

import (
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	pb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

// PeerIDFromPublicKey returns the libp2p peer ID of an ed25519 public key.
// Ed25519 peer IDs embed the key itself (identity multihash), so the
// conversion is exact in both directions.
func PeerIDFromPublicKey(k chain.PublicKey) (peer.ID, error) {
	if k.IsZero() {
		return "", fmt.Errorf("keyfile: public key is missing (all zeros)")
	}
	pk, err := crypto.UnmarshalEd25519PublicKey(k[:])
	if err != nil {
		return "", fmt.Errorf("keyfile: public key %s: %w", k, err)
	}
	id, err := peer.IDFromPublicKey(pk)
	if err != nil {
		return "", fmt.Errorf("keyfile: public key %s: %w", k, err)
	}
	return id, nil
}

// PublicKeyFromPeerID extracts the ed25519 public key embedded in a peer ID.
// Peer IDs of other key types (RSA, secp256k1, hashed keys) are refused with
// ErrNotEd25519: they cannot name a department.
func PublicKeyFromPeerID(id peer.ID) (chain.PublicKey, error) {
	var out chain.PublicKey
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return out, fmt.Errorf("%w: peer id %s does not embed a public key: %v", ErrNotEd25519, id, err)
	}
	if pk.Type() != pb.KeyType_Ed25519 {
		return out, fmt.Errorf("%w: peer id %s is a %s key", ErrNotEd25519, id, pk.Type())
	}
	raw, err := pk.Raw()
	if err != nil || len(raw) != chain.PublicKeySize {
		return out, fmt.Errorf("%w: peer id %s: bad embedded key", ErrNotEd25519, id)
	}
	copy(out[:], raw)
	return out, nil
}

// ParsePublicKeyOrPeerID accepts what an operator pastes: an ed25519 public
// key in base64 or hex, or a libp2p peer ID (12D3KooW…).
func ParsePublicKeyOrPeerID(s string) (chain.PublicKey, error) {
	s = strings.TrimSpace(s)
	if k, err := chain.ParsePublicKey(s); err == nil {
		if k.IsZero() {
			return k, fmt.Errorf("keyfile: public key %q is all zeros", s)
		}
		return k, nil
	}
	id, err := peer.Decode(s)
	if err != nil {
		return chain.PublicKey{}, fmt.Errorf("keyfile: %q is neither an ed25519 public key (32 bytes of base64 or hex) nor a peer id", s)
	}
	return PublicKeyFromPeerID(id)
}
