package node

import (
	"net/http"
	"net/http/httptest"
	"strings"
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

// GET /debug/pebble serves Pebble's per-level table only with pprof on,
// and says so when the store is not on Pebble.
func TestDebugPebbleReport(t *testing.T) {
	f := newBenchFixture(4)
	get := func(n *Node) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		n.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pebble", nil))
		return rec
	}
	n := f.node(t, 0)
	if rec := get(n); rec.Code != http.StatusNotFound {
		t.Fatalf("pprof off: HTTP %d, want 404", rec.Code)
	}
	n.opts.Pprof = true
	if rec := get(n); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "WAL:") || !strings.Contains(rec.Body.String(), "level") {
		t.Fatalf("pprof on: HTTP %d\n%s", rec.Code, rec.Body)
	}
	m, _ := f.mapNode(t, 1)
	m.opts.Pprof = true
	if rec := get(m); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no_pebble") {
		t.Fatalf("map datastore: HTTP %d %s, want 404 no_pebble", rec.Code, rec.Body)
	}
}
