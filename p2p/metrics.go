package p2p

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
)

// Topic kinds, also the "topic" label of our metrics.
const (
	kindTxs = iota
	kindConsensus
	kindEvidence
	numKinds
)

var kindNames = [numKinds]string{"txs", "consensus", "evidence"}

// TopicStats counts one topic's messages.
type TopicStats struct {
	// In counts messages delivered to the Handler.
	In uint64
	// Out counts messages this node published.
	Out uint64
	// Rejected counts messages that failed validation (sender penalised).
	Rejected uint64
	// Ignored counts messages dropped without penalty (stale heights).
	Ignored uint64
	// Dropped counts messages lost to full queues: validation queue or
	// throttle, or a subscriber too slow to keep up.
	Dropped uint64
	// Duplicate counts copies of messages already seen (relayed by more
	// than one peer), dropped before validation. Each still cost a read,
	// a decode and a message id.
	Duplicate uint64
}

// Stats is a snapshot of the host's counters.
type Stats struct {
	Txs       TopicStats
	Consensus TopicStats
	Evidence  TopicStats
	// TxsIn counts transactions (not batches) delivered to the Handler.
	TxsIn uint64
	// SyncServed counts sync requests answered; SyncRefused those turned
	// away by rate bounds.
	SyncServed  uint64
	SyncRefused uint64
	// GaterRefused counts connection attempts refused by admission.
	GaterRefused uint64
}

type topicCounters struct {
	in, out, rejected, ignored, dropped, duplicate atomic.Uint64
}

// counters are updated from pubsub's event loop, so they are atomics only.
type counters struct {
	topics      [numKinds]topicCounters
	txsIn       atomic.Uint64
	syncServed  atomic.Uint64
	syncRefused atomic.Uint64
	prom        *promMetrics
}

type promMetrics struct {
	msgs *prometheus.CounterVec
	sync *prometheus.CounterVec
}

func newPromMetrics(reg prometheus.Registerer) (*promMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &promMetrics{
		msgs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zwnode", Subsystem: "p2p", Name: "gossip_messages_total",
			Help: "Gossip messages by topic and result (in, out, rejected, ignored, dropped, duplicate).",
		}, []string{"topic", "result"}),
		sync: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "zwnode", Subsystem: "p2p", Name: "sync_requests_total",
			Help: "Sync requests served or refused, by request kind.",
		}, []string{"request", "result"}),
	}
	for _, c := range []prometheus.Collector{m.msgs, m.sync} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("register p2p metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (c *counters) count(kind int, result string) {
	if kind < 0 || kind >= numKinds {
		return
	}
	t := &c.topics[kind]
	switch result {
	case "in":
		t.in.Add(1)
	case "out":
		t.out.Add(1)
	case "rejected":
		t.rejected.Add(1)
	case "ignored":
		t.ignored.Add(1)
	case "dropped":
		t.dropped.Add(1)
	case "duplicate":
		t.duplicate.Add(1)
	}
	if c.prom != nil {
		c.prom.msgs.WithLabelValues(kindNames[kind], result).Inc()
	}
}

func (c *counters) countSync(req, result string) {
	if result == "served" {
		c.syncServed.Add(1)
	} else {
		c.syncRefused.Add(1)
	}
	if c.prom != nil {
		c.prom.sync.WithLabelValues(req, result).Inc()
	}
}

func (c *counters) snapshot() Stats {
	get := func(k int) TopicStats {
		t := &c.topics[k]
		return TopicStats{In: t.in.Load(), Out: t.out.Load(), Rejected: t.rejected.Load(), Ignored: t.ignored.Load(),
			Dropped: t.dropped.Load(), Duplicate: t.duplicate.Load()}
	}
	return Stats{
		Txs: get(kindTxs), Consensus: get(kindConsensus), Evidence: get(kindEvidence),
		TxsIn: c.txsIn.Load(), SyncServed: c.syncServed.Load(), SyncRefused: c.syncRefused.Load(),
	}
}

// tracer turns pubsub's raw events into counters. Every method runs on
// pubsub's event loop and must stay cheap.
type tracer struct {
	c      *counters
	kindOf func(topic string) int
}

var _ pubsub.RawTracer = (*tracer)(nil)

func (t *tracer) RejectMessage(msg *pubsub.Message, reason string) {
	k := t.kindOf(msg.GetTopic())
	switch reason {
	case pubsub.RejectValidationIgnored:
		t.c.count(k, "ignored")
	case pubsub.RejectValidationQueueFull, pubsub.RejectValidationThrottled:
		t.c.count(k, "dropped")
	case pubsub.RejectSelfOrigin:
		// Our own message echoed back: not a rejection.
	default:
		t.c.count(k, "rejected")
	}
}

func (t *tracer) DuplicateMessage(msg *pubsub.Message) {
	t.c.count(t.kindOf(msg.GetTopic()), "duplicate")
}

// DropRPC is an outgoing RPC dropped because the peer's send queue was
// full: each message in it is lost for that peer (it may still reach it
// through another peer).
func (t *tracer) DropRPC(rpc *pubsub.RPC, _ peer.ID) {
	for _, m := range rpc.GetPublish() {
		t.c.count(t.kindOf(m.GetTopic()), "dropped")
	}
}

func (t *tracer) UndeliverableMessage(msg *pubsub.Message) {
	t.c.count(t.kindOf(msg.GetTopic()), "dropped")
}

func (t *tracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t *tracer) OnClosedOutboundStream(peer.ID)                       {}
func (t *tracer) Join(string)                                          {}
func (t *tracer) Leave(string)                                         {}
func (t *tracer) Graft(peer.ID, string)                                {}
func (t *tracer) Prune(peer.ID, string)                                {}
func (t *tracer) ValidateMessage(*pubsub.Message)                      {}
func (t *tracer) DeliverMessage(*pubsub.Message)                       {}
func (t *tracer) ThrottlePeer(peer.ID)                                 {}
func (t *tracer) RecvRPC(*pubsub.RPC)                                  {}
func (t *tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
