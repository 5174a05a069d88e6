package node

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// A node on Pebble exports the store's figures with the registry it
// serves on /metrics; a node on a map datastore (tests) exports none.
func TestMetricsExportPebbleFigures(t *testing.T) {
	f := newBenchFixture(4)
	gather := func(n *Node) map[string]*dto.MetricFamily {
		t.Helper()
		mfs, err := n.registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := make(map[string]*dto.MetricFamily)
		for _, mf := range mfs {
			out[mf.GetName()] = mf
		}
		return out
	}
	got := gather(f.node(t, 0))
	for _, name := range []string{"zwnode_pebble_block_cache_bytes", "zwnode_pebble_block_cache_hits_total", "zwnode_pebble_block_cache_misses_total", "zwnode_pebble_memtable_bytes", "zwnode_pebble_l0_files",
		"zwnode_pebble_l0_sublevels", "zwnode_pebble_compaction_debt_bytes", "zwnode_pebble_disk_bytes"} {
		if got[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	if mf := got["zwnode_pebble_disk_bytes"]; mf != nil && mf.GetMetric()[0].GetGauge().GetValue() <= 0 {
		t.Errorf("zwnode_pebble_disk_bytes = %v, want > 0 for an initialized store", mf.GetMetric()[0].GetGauge().GetValue())
	}
	m, _ := f.mapNode(t, 1)
	if mf := gather(m)["zwnode_pebble_disk_bytes"]; mf != nil {
		t.Error("node on a map datastore exports Pebble figures")
	}
}
