package p2p

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zwnode/zwnode/chain"
)

// Sentinel errors, wrapped with context by the functions that return them.
var (
	// ErrConfig means the Config is unusable; the message says which field.
	ErrConfig = errors.New("p2p: bad config")
	// ErrPSKQUIC means a pre-shared key was combined with a QUIC address:
	// libp2p private networks are TCP only.
	ErrPSKQUIC = errors.New("p2p: a pre-shared key (private network) works over TCP only; remove the quic-v1 addresses")
	// ErrClosed is returned by calls on a closed Host.
	ErrClosed = errors.New("p2p: host closed")
	// ErrInvalidMessage means an outgoing message failed the checks its
	// receivers would apply; it was not published.
	ErrInvalidMessage = errors.New("p2p: invalid message")
	// ErrTooLarge means a message exceeds its topic's size bound.
	ErrTooLarge = errors.New("p2p: message too large")
	// ErrSync is wrapped by every sync-protocol failure.
	ErrSync = errors.New("p2p: sync")
	// ErrVerify means a block fetched from a peer failed verification; the
	// peer was disconnected and penalised.
	ErrVerify = errors.New("p2p: fetched block failed verification")
)

// Default bounds.
const (
	DefaultMaxTxBatchBytes   = 4 << 20
	DefaultMaxConsensusBytes = 16 << 20
	// maxEvidenceBytes bounds an evidence message: two proposals and a kind
	// byte, with room to spare.
	maxEvidenceBytes = 4 << 10
	// maxTxsPerBatch bounds the transactions decoded from one gossip message.
	maxTxsPerBatch = chain.MaxBlockTxs
	// pubsubFrameOverhead is headroom for the RPC envelope around the largest
	// message (topic, seqno, signature, key).
	pubsubFrameOverhead = 64 << 10
)

// Config configures a Host. ChainID and Key are required.
type Config struct {
	// ChainID names the network; it prefixes every protocol and topic.
	ChainID string
	// Key is the node's libp2p identity, the department's ed25519 key: the
	// peer ID names the department.
	Key crypto.PrivKey
	// ListenAddrs are multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0 and
	// /ip4/127.0.0.1/udp/0/quic-v1.
	ListenAddrs []string
	// AnnounceAddrs, if set, replace the addresses the host advertises.
	AnnounceAddrs []string
	// Bootstrap peers: full multiaddrs ending in /p2p/<id>; /dns4 and /dns6
	// work too. They are redialled with backoff whenever disconnected.
	Bootstrap []string
	// Authorities are the current authority keys: admitted, protected from
	// connection trimming, and the only signers of consensus messages.
	Authorities []chain.PublicKey
	// Observers are admitted read-only peers: they sync and relay, but
	// consensus messages they author are never accepted.
	Observers []peer.ID
	// PSK is an optional 32-byte pre-shared key that makes the network
	// private. It restricts the host to TCP.
	PSK []byte
	// EnableMDNS turns on mDNS discovery (devnets and LANs).
	EnableMDNS bool
	// EnableDHT turns on the private kad-DHT (protocol prefix /zw/<chain-id>)
	// used to find peers that are not in Bootstrap.
	EnableDHT bool
	// DirectPeers makes the bootstrap authorities GossipSub direct peers:
	// every message is always forwarded to them on top of the mesh. Off by
	// default: the reconnect loop already keeps authorities connected and
	// flood publishing reaches every connected peer, while direct peering
	// duplicates large proposals (1 MiB to 7 peers on loopback: p50 about
	// 55 ms without, 75 ms with).
	DirectPeers bool
	// MaxTxBatchBytes bounds one transaction gossip message (default 4 MiB).
	MaxTxBatchBytes int
	// MaxConsensusBytes bounds one consensus gossip message (default 16 MiB).
	MaxConsensusBytes int
	// Logger receives the host's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives libp2p's metrics and ours; nil disables metrics.
	Registerer prometheus.Registerer
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if err := chain.ValidateName(c.ChainID, chain.MaxChainIDLen); err != nil {
		return c, fmt.Errorf("%w: chain id: %w", ErrConfig, err)
	}
	if c.Key == nil {
		return c, fmt.Errorf("%w: missing key", ErrConfig)
	}
	if c.Key.Type() != crypto.Ed25519 {
		return c, fmt.Errorf("%w: key must be ed25519 (the department key), got %s", ErrConfig, c.Key.Type())
	}
	if len(c.ListenAddrs) == 0 {
		return c, fmt.Errorf("%w: no listen addresses", ErrConfig)
	}
	for _, list := range [][]string{c.ListenAddrs, c.AnnounceAddrs} {
		for _, s := range list {
			a, err := ma.NewMultiaddr(s)
			if err != nil {
				return c, fmt.Errorf("%w: address %q: %w", ErrConfig, s, err)
			}
			if len(c.PSK) > 0 && isQUIC(a) {
				return c, fmt.Errorf("address %q: %w", s, ErrPSKQUIC)
			}
		}
	}
	if len(c.PSK) != 0 && len(c.PSK) != 32 {
		return c, fmt.Errorf("%w: pre-shared key is %d bytes, want 32", ErrConfig, len(c.PSK))
	}
	if c.MaxTxBatchBytes == 0 {
		c.MaxTxBatchBytes = DefaultMaxTxBatchBytes
	}
	if c.MaxConsensusBytes == 0 {
		c.MaxConsensusBytes = DefaultMaxConsensusBytes
	}
	if c.MaxTxBatchBytes < 1024 || c.MaxConsensusBytes < 1024 {
		return c, fmt.Errorf("%w: message size bounds must be at least 1 KiB", ErrConfig)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func isQUIC(a ma.Multiaddr) bool {
	for _, c := range a {
		if strings.HasPrefix(c.Protocol().Name, "quic") || c.Protocol().Name == "webtransport" {
			return true
		}
	}
	return false
}

// PeerIDFromPublicKey returns the libp2p peer ID of an ed25519 chain key.
func PeerIDFromPublicKey(k chain.PublicKey) (peer.ID, error) {
	pub, err := crypto.UnmarshalEd25519PublicKey(k[:])
	if err != nil {
		return "", fmt.Errorf("public key %s: %w", k.Short(), err)
	}
	return peer.IDFromPublicKey(pub)
}

// PublicKeyFromPeerID returns the chain key named by an ed25519 peer ID.
func PublicKeyFromPeerID(id peer.ID) (chain.PublicKey, error) {
	var k chain.PublicKey
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return k, fmt.Errorf("peer %s: %w", id, err)
	}
	raw, err := pub.Raw()
	if err != nil || pub.Type() != crypto.Ed25519 || len(raw) != chain.PublicKeySize {
		return k, fmt.Errorf("peer %s: not an ed25519 key", id)
	}
	copy(k[:], raw)
	return k, nil
}

// KeyFromChain converts a chain private key into a libp2p identity key.
func KeyFromChain(k *chain.PrivateKey) (crypto.PrivKey, error) {
	return crypto.UnmarshalEd25519PrivateKey(k.Ed25519())
}
