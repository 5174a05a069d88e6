package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// CatchUpResult is how fast a node that missed a load phase catches up.
type CatchUpResult struct {
	Department   string  `json:"department"`
	FromHeight   uint64  `json:"from_height"`
	ToHeight     uint64  `json:"to_height"`
	Txs          int     `json:"txs"`
	TotalSeconds float64 `json:"total_seconds"` // process start to reaching to_height
	SyncSeconds  float64 `json:"sync_seconds"`  // first height gained to reaching to_height
	TxPerS       float64 `json:"tx_per_s"`      // txs / sync_seconds
	BlocksPerS   float64 `json:"blocks_per_s"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	// OthersCPUSeconds is what the other running nodes of an owned
	// cluster spent from the restart to the end (on one machine they
	// share its cores: serving blocks, and the load phase's compactions).
	OthersCPUSeconds float64 `json:"others_cpu_seconds,omitempty"`
	Profile          string  `json:"profile,omitempty"` // CPU profile of the first 10 s after restart
}

// catchUp stops the last node, runs a max-rate load phase on the others,
// restarts it and times how long it takes to reach the others' head. run
// numbers the load phase; only the first run is profiled.
func (b *benchRun) catchUp(ctx context.Context, run int) (*CatchUpResult, *PhaseResult, error) {
	k := len(b.c.net.Nodes) - 1
	st, err := b.c.status(ctx, k)
	if err != nil {
		return nil, nil, err
	}
	b.c.stopNode(k)
	// The cluster is idle here, so the height read just before the stop
	// is the stopped node's head (give or take an empty block).
	from := st.Height
	fmt.Fprintf(b.out, "bench: catch-up: stopped %s at height %d\n", b.c.net.Nodes[k].Department, from)
	p, err := b.phase(ctx, "catchup-load", run, 0, false, b.running())
	if err != nil {
		return nil, nil, err
	}
	head, err := b.c.status(ctx, 0)
	if err != nil {
		return nil, p, err
	}
	cu := &CatchUpResult{Department: b.c.net.Nodes[k].Department, FromHeight: from, ToHeight: head.Height}
	b.tr.mu.Lock()
	for h := from + 1; h <= head.Height; h++ {
		if bs, ok := b.tr.blocks[h]; ok {
			cu.Txs += bs.txs
		}
	}
	b.tr.mu.Unlock()
	var profDone chan struct{}
	if b.o.profile && b.c.owned && run == 1 {
		url := b.c.net.Nodes[k].APIURL + "/debug/pprof/profile?seconds=10"
		profDone = make(chan struct{})
		go func() {
			defer close(profDone)
			// The API (and its pprof) comes up as the node starts
			// syncing.
			for i := 0; i < 100; i++ {
				if _, err := b.c.status(ctx, k); err == nil {
					break
				}
				sleepCtxBench(ctx, 20*time.Millisecond)
			}
			path := b.outBase + "-catchup-cpu.pprof"
			if _, err := fetchProfile(url, path); err == nil {
				cu.Profile = path
			} else {
				fmt.Fprintf(b.out, "bench: catch-up cpu profile: %v\n", err)
			}
		}()
	}
	othersBefore := b.c.othersCPU(k)
	start := time.Now()
	if err := b.c.startNode(k); err != nil {
		return nil, p, err
	}
	if profDone != nil {
		defer func() { <-profDone }()
	}
	var firstGain time.Time
	deadline := start.Add(5 * time.Minute)
	for {
		s, err := b.c.status(ctx, k)
		now := time.Now()
		if err == nil && s.Height > from && firstGain.IsZero() {
			firstGain = now
		}
		if err == nil && s.Height >= head.Height {
			cu.TotalSeconds = now.Sub(start).Seconds()
			cu.SyncSeconds = now.Sub(firstGain).Seconds()
			break
		}
		if now.After(deadline) {
			return cu, p, fmt.Errorf("catch-up: %s at height %d after 5 min, target %d", cu.Department, s.Height, head.Height)
		}
		sleepCtxBench(ctx, 50*time.Millisecond)
		if ctx.Err() != nil {
			return cu, p, ctx.Err()
		}
	}
	if cu.SyncSeconds > 0 {
		cu.TxPerS = float64(cu.Txs) / cu.SyncSeconds
		cu.BlocksPerS = float64(head.Height-from) / cu.SyncSeconds
	}
	if ps, err := readProcStats(b.c.procs[k].pid); err == nil {
		cu.PeakRSSMB, cu.CPUSeconds = ps.PeakRSSMB, ps.CPUSeconds
	}
	cu.OthersCPUSeconds = b.c.othersCPU(k) - othersBefore
	fmt.Fprintf(b.out, "bench: catch-up: %d blocks, %d txs in %.1fs (%.0f tx/s)\n", head.Height-from, cu.Txs, cu.SyncSeconds, cu.TxPerS)
	return cu, p, nil
}

// captureProfiles fetches a CPU profile of node 0 over most of the window
// and its allocation profile at the end, into files beside the results.
func (b *benchRun) captureProfiles(ctx context.Context, window time.Duration) []string {
	sleepCtxBench(ctx, 2*time.Second)
	secs := max(1, min(30, int(window.Seconds())-4))
	var files []string
	base := "http://" + b.c.pprof + "/debug/pprof/"
	if f, err := fetchProfile(base+fmt.Sprintf("profile?seconds=%d", secs), b.outBase+"-cpu.pprof"); err == nil {
		files = append(files, f)
	} else {
		fmt.Fprintf(b.out, "bench: cpu profile: %v\n", err)
	}
	if f, err := fetchProfile(base+"allocs", b.outBase+"-allocs.pprof"); err == nil {
		files = append(files, f)
	} else {
		fmt.Fprintf(b.out, "bench: allocs profile: %v\n", err)
	}
	return files
}

func fetchProfile(url, path string) (string, error) {
	resp, err := (&http.Client{Timeout: 90 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", fmt.Errorf("GET %s: HTTP 404: the node serves profiles only with api.pprof = true in its config", url)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
