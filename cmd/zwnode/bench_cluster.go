package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchProc is one zwnode node process the bench started (cmd != nil) or
// found running (pid only, for an existing devnet).
type benchProc struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
}

// benchCluster is the devnet under test: its description and the node
// processes the bench watches, and for a fresh devnet owns.
type benchCluster struct {
	net   *Devnet
	dir   string
	owned bool // the bench started the nodes and must stop them
	bin   string
	pprof string // host:port of node 0's /debug/pprof/, if profiling
	procs []*benchProc
}

// startNode launches node i as `zwnode run`, logging to <home>/node.log.
func (c *benchCluster) startNode(i int) error {
	if c.procs[i] != nil {
		return fmt.Errorf("node %d already running", i)
	}
	home := c.net.Nodes[i].Home
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.bin, "run", "--home", home)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", c.net.Nodes[i].Department, err)
	}
	p := &benchProc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	c.procs[i] = p
	return nil
}

// stopNode sends SIGTERM to a node the bench started and waits for it
// (SIGKILL after 15 s).
func (c *benchCluster) stopNode(i int) {
	p := c.procs[i]
	if p == nil || p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	c.procs[i] = nil
}

// stopAll stops every node the bench started.
func (c *benchCluster) stopAll() {
	if !c.owned {
		return
	}
	for i := range c.procs {
		c.stopNode(i)
	}
}

// othersCPU sums the CPU seconds of the running nodes other than node k.
func (c *benchCluster) othersCPU(k int) float64 {
	sum := 0.0
	for i, p := range c.procs {
		if i == k || p == nil {
			continue
		}
		if ps, err := readProcStats(p.pid); err == nil {
			sum += ps.CPUSeconds
		}
	}
	return sum
}

// findPids locates the processes of an existing devnet by their command
// line (`run --home <home>`), so CPU and RSS can still be read.
func (c *benchCluster) findPids() {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(raw), "\x00")
		for i, n := range c.net.Nodes {
			for j := 0; j+1 < len(args); j++ {
				if args[j] == "--home" && filepath.Clean(args[j+1]) == filepath.Clean(n.Home) && c.procs[i] == nil {
					c.procs[i] = &benchProc{pid: pid}
				}
			}
		}
	}
}

// procStats is a node process's cumulative CPU time and memory.
type procStats struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	RSSMB      float64 `json:"rss_mb"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
}

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

// readProcStats reads utime+stime from /proc/<pid>/stat and VmRSS/VmHWM
// from /proc/<pid>/status.
func readProcStats(pid int) (procStats, error) {
	var st procStats
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// The command name (field 2) may hold spaces; fields after it are
	// space separated: state is field 3, utime 14, stime 15.
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return st, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(raw[end+1:]))
	if len(f) < 13 {
		return st, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	st.CPUSeconds = (ut + stime) / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		kb, _ := strconv.ParseFloat(fs[0], 64)
		switch k {
		case "VmRSS":
			st.RSSMB = kb / 1024
		case "VmHWM":
			st.PeakRSSMB = kb / 1024
		}
	}
	return st, nil
}

// stats returns each node's process stats (zero for a node not running).
func (c *benchCluster) stats() []procStats {
	out := make([]procStats, len(c.procs))
	for i, p := range c.procs {
		if p != nil {
			out[i], _ = readProcStats(p.pid)
		}
	}
	return out
}

// benchHTTP is the bench's API client: generous timeout for big batches,
// enough idle connections for one submitter per node.
var benchHTTP = &http.Client{
	Timeout:   60 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true},
}

// benchGetJSON fetches url into v.
func benchGetJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := benchHTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, bytes.TrimSpace(body))
	}
	return json.Unmarshal(body, v)
}

// benchStatus is the part of GET /v1/status the bench reads.
type benchStatus struct {
	Height     uint64 `json:"height"`
	Peers      int    `json:"peers"`
	Syncing    bool   `json:"syncing"`
	MempoolTxs int    `json:"mempool_txs"`
}

func (c *benchCluster) status(ctx context.Context, i int) (benchStatus, error) {
	var st benchStatus
	err := benchGetJSON(ctx, c.net.Nodes[i].APIURL+"/v1/status", &st)
	return st, err
}

// waitHeight waits until node i reports at least height h.
func (c *benchCluster) waitHeight(ctx context.Context, i int, h uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st, err := c.status(ctx, i)
		if err == nil && st.Height >= h {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s did not reach height %d within %s (last: %d, %v)", c.net.Nodes[i].Department, h, timeout, st.Height, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitRunning waits until every running node finalizes blocks.
func (c *benchCluster) waitRunning(ctx context.Context, timeout time.Duration) error {
	for i := range c.net.Nodes {
		if c.procs[i] == nil && c.owned {
			continue
		}
		if err := c.waitHeight(ctx, i, 2, timeout); err != nil {
			return err
		}
	}
	return nil
}
