package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/zwnode/zwnode/chain"
)

// metrics are the node's own Prometheus series; libp2p and the p2p layer
// register theirs on the same registry.
type metrics struct {
	height            prometheus.Gauge
	round             prometheus.Gauge
	blockInterval     prometheus.Histogram
	blockTxs          prometheus.Histogram
	txsFinalized      prometheus.Counter
	txRejected        prometheus.Counter
	consensusRejected prometheus.Counter
	consensusDropped  prometheus.Counter
}

// registerGauges adds series read on scrape from live components.
func (n *Node) registerGauges() {
	n.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zwnode_mempool_txs", Help: "Transactions waiting in the mempool."}, func() float64 {
			c, _ := n.mempool.Size()
			return float64(c)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zwnode_mempool_bytes", Help: "Bytes of transactions waiting in the mempool."}, func() float64 {
			_, b := n.mempool.Size()
			return float64(b)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zwnode_peers_connected", Help: "Connected admitted peers."}, func() float64 {
			if n.host == nil {
				return 0
			}
			c := 0
			for _, p := range n.host.Peers() {
				if p.Connected {
					c++
				}
			}
			return float64(c)
		}),
	)
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		height: prometheus.NewGauge(prometheus.GaugeOpts{Name: "zwnode_height", Help: "Height of the last finalized block."}),
		round:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "zwnode_consensus_round", Help: "Current consensus round at the current height."}),
		blockInterval: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "zwnode_block_interval_seconds", Help: "Block time minus the previous block's time.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
		}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "zwnode_block_txs", Help: "Transactions per finalized block.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		txsFinalized:      prometheus.NewCounter(prometheus.CounterOpts{Name: "zwnode_txs_finalized_total", Help: "Transactions in finalized blocks."}),
		txRejected:        prometheus.NewCounter(prometheus.CounterOpts{Name: "zwnode_txs_rejected_total", Help: "Transactions refused by the mempool."}),
		consensusRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "zwnode_consensus_msgs_refused_total", Help: "Consensus messages the engine refused."}),
		consensusDropped:  prometheus.NewCounter(prometheus.CounterOpts{Name: "zwnode_consensus_msgs_dropped_total", Help: "Consensus messages dropped because the consensus loop was busy."}),
	}
	reg.MustRegister(m.height, m.round, m.blockInterval, m.blockTxs, m.txsFinalized, m.txRejected, m.consensusRejected, m.consensusDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeBlock(b *chain.Block, prevTime int64) {
	m.blockInterval.Observe(float64(b.Header.Time-prevTime) / float64(time.Second/time.Millisecond))
	m.blockTxs.Observe(float64(len(b.Txs)))
	m.txsFinalized.Add(float64(len(b.Txs)))
}
