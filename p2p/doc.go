// Package p2p is zwnode's permissioned network layer: a libp2p host that
// admits only the current authorities and configured observers, finds them
// through static bootstrap addresses, mDNS and a private kad-DHT, gossips
// transactions, consensus messages and evidence over GossipSub with
// validating topic validators, and serves catch-up sync over a
// request/response stream protocol.
//
// The package uses chain types but knows nothing of what a transaction means:
// it checks encodings, chain ids, signatures and membership, and hands what
// passed to a [Handler].
//
// # Admission
//
// A connection gater refuses every peer that is neither a current authority
// nor an observer, on both the dialing and the accepting side, at the first
// hook that knows the authenticated peer ID. A refused peer may see its
// Connect return nil for a moment (the remote side drops it after the
// handshake), so admission is about what a peer can do, never about Connect.
//
// # Private networks
//
// With a pre-shared key the host runs a libp2p private network. libp2p's QUIC
// transport cannot do that, so PSK mode is TCP only and a QUIC listen or
// announce address is a configuration error.
package p2p
