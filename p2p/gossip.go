package p2p

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

// Queue sizes, sized for ~8,000 tx/s in batches plus consensus traffic.
const (
	validateQueueSize  = 4096
	peerOutboundQueue  = 1024
	seenMessagesTTL    = 2 * time.Minute
	scoreInspectPeriod = time.Second
	// historyLength and historyGossip: the message cache keeps every
	// message (transaction batches and whole proposals) for historyLength
	// heartbeats (1 s each) so it can answer IWANT; IHAVE advertises the
	// last historyGossip. Live protobuf message bytes per node at ~7,000
	// tx/s (heap profiles after GC, single samples): ~9 MiB with the
	// library's 5 and 3, ~7.7 MiB with 3 and 2; the rest sits in the
	// validation and subscription queues. Peers here are few and
	// directly connected with flood publishing, and a node that misses a
	// block fetches it by sync, so 3 s of history is enough to repair a
	// lost message on a live link.
	historyLength = 3
	historyGossip = 2
)

var subBufferSize = [numKinds]int{kindTxs: 4096, kindConsensus: 1024, kindEvidence: 256}

// gossip owns the pubsub instance and the three topics.
type gossip struct {
	n      *Host
	ps     *pubsub.PubSub
	names  [numKinds]string
	topics [numKinds]*pubsub.Topic
	subs   [numKinds]*pubsub.Subscription
	// verifySlots bounds the goroutines verifying transaction signatures
	// beyond the validator goroutines themselves.
	verifySlots chan struct{}
}

// TopicName returns the GossipSub topic for a kind ("txs", "consensus",
// "evidence") on a chain. Version 2: messages are unsigned on the gossip
// layer (see gossipSignaturePolicy); version-1 peers signed them, and each
// side would reject the other's messages. Version 3: proposals are gossiped
// compact (chain.MsgCompactProposal), which a version-2 node cannot decode
// and would penalise its peer for; the new names keep the two apart.
func TopicName(chainID, kind string) string { return "/zw/" + chainID + "/" + kind + "/3" }

// gossipSignaturePolicy leaves gossip messages unsigned, with no author
// or sequence number. Everything gossiped is signed inside by whoever
// made it: a transaction by its account, a proposal or vote by its
// authority, evidence holds the two conflicting signed votes. The
// validators check those signatures and that a consensus message's signer
// is a current authority, which is what matters; who first put the bytes
// on the gossip layer does not (relaying an authority's signed vote is
// what gossip is for). Peer scores and penalties go to the peer that
// forwarded a message, which the transport authenticates. A gossip-layer
// signature cost each publisher two SHA-512 passes over the message and
// each receiver one, plus a copy of it: about 5 % of a node's CPU at
// max load, where a proposal carries a whole block of several MB, and 4 %
// of the bytes it allocated.
const gossipSignaturePolicy = pubsub.StrictNoSign

func newGossip(n *Host, m *members) (*gossip, error) {
	g := &gossip{n: n, verifySlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	for k := range numKinds {
		g.names[k] = TopicName(n.cfg.ChainID, kindNames[k])
	}
	params, thresholds := g.scoreParams()
	gsParams := pubsub.DefaultGossipSubParams()
	gsParams.HistoryLength, gsParams.HistoryGossip = historyLength, historyGossip
	opts := []pubsub.Option{
		pubsub.WithGossipSubParams(gsParams),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithMessageSignaturePolicy(gossipSignaturePolicy),
		pubsub.WithMaxMessageSize(max(n.cfg.MaxTxBatchBytes, n.cfg.MaxConsensusBytes) + pubsubFrameOverhead),
		pubsub.WithPeerExchange(false),
		pubsub.WithFloodPublish(true),
		pubsub.WithValidateQueueSize(validateQueueSize),
		pubsub.WithPeerOutboundQueueSize(peerOutboundQueue),
		pubsub.WithSeenMessagesTTL(seenMessagesTTL),
		pubsub.WithSubscriptionFilter(pubsub.NewAllowlistSubscriptionFilter(g.names[:]...)),
		pubsub.WithPeerFilter(func(p peer.ID, _ string) bool { return n.adm.load().role(p) != RoleNone }),
		pubsub.WithPeerScore(params, thresholds),
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(func(s map[peer.ID]float64) { n.scores.Store(&s) }), scoreInspectPeriod),
		pubsub.WithRawTracer(&tracer{c: n.ctrs, kindOf: g.kindOf}),
		pubsub.WithLogger(n.log),
	}
	if n.cfg.DirectPeers {
		opts = append(opts, pubsub.WithDirectPeers(directPeers(n.bootstrap, m)))
	}
	ps, err := pubsub.NewGossipSub(n.ctx, n.h, opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	g.ps = ps
	validators := [numKinds]func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult{
		kindTxs: g.validateTxs, kindConsensus: g.validateConsensus, kindEvidence: g.validateEvidence,
	}
	for k := range numKinds {
		if err := ps.RegisterTopicValidator(g.names[k], validators[k]); err != nil {
			return nil, fmt.Errorf("p2p: register validator for %s: %w", g.names[k], err)
		}
		t, err := ps.Join(g.names[k])
		if err != nil {
			return nil, fmt.Errorf("p2p: join %s: %w", g.names[k], err)
		}
		g.topics[k] = t
		if g.subs[k], err = t.Subscribe(pubsub.WithBufferSize(subBufferSize[k])); err != nil {
			return nil, fmt.Errorf("p2p: subscribe %s: %w", g.names[k], err)
		}
	}
	return g, nil
}

// messageID is the SHA-256 of the payload, so one message relayed by
// several peers (or re-published by another author) is seen once.
func messageID(m *pb.Message) string {
	h := sha256.Sum256(m.Data)
	return string(h[:])
}

// directPeers are the bootstrap authorities: gossipsub always forwards to
// them and reconnects to them on its own.
func directPeers(bootstrap []peer.AddrInfo, m *members) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, ai := range bootstrap {
		if m.role(ai.ID) == RoleAuthority {
			out = append(out, ai)
		}
	}
	return out
}

func (g *gossip) kindOf(topic string) int {
	for k, name := range g.names {
		if name == topic {
			return k
		}
	}
	return -1
}

// scoreParams penalise invalid messages heavily (the squared counter makes
// a handful of them graylist a peer) and add the sync penalties as the
// application-specific score. IP colocation is off: departments may share a
// data centre, and tests share 127.0.0.1.
func (g *gossip) scoreParams() (*pubsub.PeerScoreParams, *pubsub.PeerScoreThresholds) {
	topic := func(weight float64) *pubsub.TopicScoreParams {
		return &pubsub.TopicScoreParams{
			TopicWeight:                    weight,
			TimeInMeshWeight:               0.01,
			TimeInMeshQuantum:              time.Second,
			TimeInMeshCap:                  100,
			FirstMessageDeliveriesWeight:   1,
			FirstMessageDeliveriesDecay:    0.5,
			FirstMessageDeliveriesCap:      10,
			InvalidMessageDeliveriesWeight: -100,
			InvalidMessageDeliveriesDecay:  0.9,
		}
	}
	params := &pubsub.PeerScoreParams{
		Topics: map[string]*pubsub.TopicScoreParams{
			g.names[kindTxs]:       topic(0.5),
			g.names[kindConsensus]: topic(1),
			g.names[kindEvidence]:  topic(1),
		},
		TopicScoreCap:             50,
		AppSpecificScore:          g.n.penalties.score,
		AppSpecificWeight:         1,
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     0.9,
		DecayInterval:             time.Second,
		DecayToZero:               0.01,
		RetainScore:               10 * time.Minute,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:             -500,
		PublishThreshold:            -1000,
		GraylistThreshold:           -2500,
		AcceptPXThreshold:           100,
		OpportunisticGraftThreshold: 5,
	}
	return params, thresholds
}

// readLoop hands validated messages of one topic to the Handler. Our own
// messages come back on our subscription and are skipped.
func (g *gossip) readLoop(ctx context.Context, kind int) {
	sub := g.subs[kind]
	defer sub.Cancel()
	self := g.n.h.ID()
	for {
		msg, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if msg.ReceivedFrom == self {
			continue
		}
		g.n.ctrs.count(kind, "in")
		switch v := msg.ValidatorData.(type) {
		case *txBatch:
			g.n.ctrs.txsIn.Add(uint64(len(v.txs)))
			if th, ok := g.n.handler.(TxHandler); ok {
				th.HandleHashedTxs(msg.ReceivedFrom, v.txs, v.hashes)
			} else {
				g.n.handler.HandleTxs(msg.ReceivedFrom, v.txs)
			}
		case *chain.Message:
			g.n.handler.HandleConsensus(msg.ReceivedFrom, v)
		case *chain.Evidence:
			g.n.handler.HandleEvidence(msg.ReceivedFrom, v)
		}
	}
}

func (g *gossip) publish(ctx context.Context, kind int, data []byte) error {
	if err := g.topics[kind].Publish(ctx, data); err != nil {
		return fmt.Errorf("publish on %s: %w", kindNames[kind], err)
	}
	g.n.ctrs.count(kind, "out")
	return nil
}

// TxHandler is an optional extension of Handler that saves work per
// transaction: the gossip validator skips the signature check of txs the
// node reports as known, and hands over each tx's hash with the batch.
type TxHandler interface {
	// KnownTx reports whether a tx with this hash (chain.Tx.Hash, which
	// covers the signature) already passed a signature check on this node.
	KnownTx(h chain.Hash) bool
	// HandleHashedTxs is HandleTxs with hashes[i] = txs[i].Hash(). It is
	// called instead of HandleTxs.
	HandleHashedTxs(from peer.ID, txs []chain.Tx, hashes []chain.Hash)
}

// VerifyTxs checks every signature of a batch with the same bounded
// parallel verifier the gossip validator uses; the API can call it on
// ingress before PublishTxs.
func (n *Host) VerifyTxs(txs []chain.Tx) error {
	ptrs := make([]*chain.Tx, len(txs))
	for i := range txs {
		ptrs[i] = &txs[i]
	}
	return n.gossip.verifyTxs(ptrs)
}

// PublishTxs gossips one batch as one message. The caller must already have
// verified the signatures (for instance with VerifyTxs on API ingress); the
// encoding, basic checks, chain id and size are checked here. Receivers
// verify every signature again.
func (n *Host) PublishTxs(ctx context.Context, txs []chain.Tx) error {
	if n.closed.Load() {
		return ErrClosed
	}
	if len(txs) == 0 || len(txs) > maxTxsPerBatch {
		return fmt.Errorf("%w: batch of %d transactions", ErrInvalidMessage, len(txs))
	}
	for i := range txs {
		if err := n.checkTx(&txs[i]); err != nil {
			return fmt.Errorf("%w: tx %d: %w", ErrInvalidMessage, i, err)
		}
	}
	data := chain.EncodeTxs(txs)
	if len(data) > n.cfg.MaxTxBatchBytes {
		return fmt.Errorf("%w: tx batch of %d bytes, limit %d", ErrTooLarge, len(data), n.cfg.MaxTxBatchBytes)
	}
	return n.gossip.publish(ctx, kindTxs, data)
}

// PublishConsensus gossips a proposal (with its block) or a vote after
// checking it as receivers will (a signer that is not a current authority is
// refused here already).
func (n *Host) PublishConsensus(ctx context.Context, m *chain.Message) error {
	if n.closed.Load() {
		return ErrClosed
	}
	if m == nil {
		return fmt.Errorf("%w: nil consensus message", ErrInvalidMessage)
	}
	if err := m.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if err := n.checkConsensusSigned(m); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	data := m.Encode()
	if len(data) > n.cfg.MaxConsensusBytes {
		return fmt.Errorf("%w: consensus message of %d bytes, limit %d", ErrTooLarge, len(data), n.cfg.MaxConsensusBytes)
	}
	return n.gossip.publish(ctx, kindConsensus, data)
}

// PublishEvidence gossips evidence after checking both signatures.
func (n *Host) PublishEvidence(ctx context.Context, ev *chain.Evidence) error {
	if n.closed.Load() {
		return ErrClosed
	}
	if ev == nil {
		return fmt.Errorf("%w: nil evidence", ErrInvalidMessage)
	}
	if err := checkEvidence(n.cfg.ChainID, ev); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return n.gossip.publish(ctx, kindEvidence, ev.Encode())
}

func (n *Host) checkTx(tx *chain.Tx) error {
	if err := tx.ValidateBasic(); err != nil {
		return err
	}
	if tx.ChainID != n.cfg.ChainID {
		return fmt.Errorf("%w: %q", chain.ErrWrongChain, tx.ChainID)
	}
	return nil
}

// penalties are application-level score deductions (a peer served blocks
// that failed verification). They halve every penaltyHalfLife so a peer that
// was wrong once can recover.
type penalties struct {
	mu sync.Mutex
	m  map[peer.ID]penalty
}

type penalty struct {
	value float64
	at    time.Time
}

const (
	syncPenalty     = 1000
	penaltyHalfLife = 5 * time.Minute
)

func (p *penalties) add(id peer.ID, v float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[peer.ID]penalty)
	}
	cur := p.decayed(p.m[id])
	p.m[id] = penalty{value: cur + v, at: time.Now()}
}

func (p *penalties) decayed(e penalty) float64 {
	if e.value == 0 {
		return 0
	}
	return e.value * math.Exp2(-float64(time.Since(e.at))/float64(penaltyHalfLife))
}

// score is the AppSpecificScore: minus the decayed penalty.
func (p *penalties) score(id peer.ID) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return -p.decayed(p.m[id])
}
