package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/store"
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
	// compactProposals counts compact proposals received, by how they were
	// rebuilt (mempool, fetched, failed, stale); compactTxs the transactions
	// of rebuilt ones by where they came from (mempool, fetched).
	compactProposals *prometheus.CounterVec
	compactTxs       *prometheus.CounterVec
	// timeouts counts consensus timeouts that moved the engine on, by the
	// step that timed out (see loop.timeout).
	timeouts *prometheus.CounterVec
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
		storeCollector{n.store},
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
		compactProposals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zwnode_compact_proposals_total",
			Help: "Compact proposals received, by outcome: rebuilt from the mempool alone, rebuilt with fetched transactions, failed (not rebuilt), stale (height already decided) or dropped (queue full).",
		}, []string{"outcome"}),
		compactTxs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zwnode_compact_proposal_txs_total",
			Help: "Transactions of rebuilt compact proposals, by source: the mempool or fetched from a peer.",
		}, []string{"source"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zwnode_consensus_timeouts_total",
			Help: "Consensus timeouts that moved this node on, by step: propose (no valid proposal in time: prevoted nil), prevote (no quorum of prevotes for one block in time: precommitted nil), precommit (no decision in time: next round).",
		}, []string{"step"}),
	}
	reg.MustRegister(m.height, m.round, m.blockInterval, m.blockTxs, m.txsFinalized, m.txRejected, m.consensusRejected, m.consensusDropped,
		m.compactProposals, m.compactTxs, m.timeouts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeBlock(b *chain.Block, prevTime int64) {
	m.blockInterval.Observe(float64(b.Header.Time-prevTime) / float64(time.Second/time.Millisecond))
	m.blockTxs.Observe(float64(len(b.Txs)))
	m.txsFinalized.Add(float64(len(b.Txs)))
}

// storeCollector exports the Pebble figures of store.StorageStats, read
// once per scrape: the block cache and memtables are C memory outside the
// Go heap (a node's RSS less its go_memstats series), and L0 files and the
// compaction debt show whether compaction keeps up.
type storeCollector struct{ s *store.Store }

var storeDescs = struct{ cache, hits, misses, memtables, l0Files, l0Sublevels, debt, disk *prometheus.Desc }{
	cache:       prometheus.NewDesc("zwnode_pebble_block_cache_bytes", "Bytes held by Pebble's block cache (C memory).", nil, nil),
	hits:        prometheus.NewDesc("zwnode_pebble_block_cache_hits_total", "Pebble block cache hits since the node started.", nil, nil),
	misses:      prometheus.NewDesc("zwnode_pebble_block_cache_misses_total", "Pebble block cache misses since the node started.", nil, nil),
	memtables:   prometheus.NewDesc("zwnode_pebble_memtable_bytes", "Bytes of Pebble memtables, including those waiting to flush (C memory).", nil, nil),
	l0Files:     prometheus.NewDesc("zwnode_pebble_l0_files", "Sstables in Pebble's level 0.", nil, nil),
	l0Sublevels: prometheus.NewDesc("zwnode_pebble_l0_sublevels", "Sublevels of Pebble's level 0 (compaction starts at 16, writes stop at 64).", nil, nil),
	debt:        prometheus.NewDesc("zwnode_pebble_compaction_debt_bytes", "Pebble's estimate of the bytes compactions owe.", nil, nil),
	disk:        prometheus.NewDesc("zwnode_pebble_disk_bytes", "Disk space of the Pebble database.", nil, nil),
}

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	d := storeDescs
	for _, x := range []*prometheus.Desc{d.cache, d.hits, d.misses, d.memtables, d.l0Files, d.l0Sublevels, d.debt, d.disk} {
		ch <- x
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s == nil {
		return
	}
	st, ok := c.s.StorageStats()
	if !ok {
		return
	}
	d := storeDescs
	const counter, gauge = prometheus.CounterValue, prometheus.GaugeValue
	for _, m := range []struct {
		d *prometheus.Desc
		t prometheus.ValueType
		v float64
	}{
		{d.hits, counter, float64(st.BlockCacheHits)}, {d.misses, counter, float64(st.BlockCacheMisses)},
		{d.cache, gauge, float64(st.BlockCacheBytes)}, {d.memtables, gauge, float64(st.MemTableBytes)},
		{d.l0Files, gauge, float64(st.L0Files)}, {d.l0Sublevels, gauge, float64(st.L0Sublevels)},
		{d.debt, gauge, float64(st.CompactionDebtBytes)}, {d.disk, gauge, float64(st.DiskBytes)},
	} {
		ch <- prometheus.MustNewConstMetric(m.d, m.t, m.v)
	}
}
