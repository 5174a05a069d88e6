package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the zwnode binary under test: $ZWNODE_BIN, or built once into
// a temporary directory.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func zwnodeBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("ZWNODE_BIN"); p != "" {
			binPath = p
			return
		}
		dir, err := os.MkdirTemp("", "zwnode-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "zwnode")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/zwnode")
		cmd.Dir = filepath.Dir(filepath.Dir(file))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type devnetNode struct {
	Department string `json:"department"`
	Home       string `json:"home"`
	PeerID     string `json:"peer_id"`
	PubKey     string `json:"pub_key"`
	P2PAddr    string `json:"p2p_addr"`
	APIURL     string `json:"api_url"`
}

type devnetFile struct {
	ChainID     string       `json:"chain_id"`
	GenesisHash string       `json:"genesis_hash"`
	Nodes       []devnetNode `json:"nodes"`
}

// proc is one running zwnode process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// cluster is a devnet of real zwnode processes that a test starts, stops,
// kills and pauses, seeing them only through the CLI and the HTTP API.
type cluster struct {
	t     *testing.T
	bin   string
	dir   string
	net   devnetFile
	procs []*proc
}

// newCluster generates an n-node devnet in a temp dir with fast blocks.
func newCluster(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, bin: zwnodeBin(t), dir: t.TempDir()}
	args := append([]string{"devnet", "--generate-only", "--nodes", strconv.Itoa(n), "--dir", c.dir, "--chain-id", "zw-e2e", "--timeout-propose-ms", "300"}, extra...)
	if out, err := exec.Command(c.bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("zwnode devnet: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "devnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &c.net); err != nil {
		t.Fatal(err)
	}
	// devnet.json names homes relative to its own directory.
	for i := range c.net.Nodes {
		c.net.Nodes[i].Home = filepath.Join(c.dir, c.net.Nodes[i].Home)
	}
	c.procs = make([]*proc, n)
	t.Cleanup(c.stopAll)
	return c
}

func (c *cluster) startAll() {
	for i := range c.procs {
		c.start(i)
	}
}

// start launches node i; its log goes to <home>/node.log (shown on failure).
func (c *cluster) start(i int) {
	c.t.Helper()
	if c.procs[i] != nil {
		c.t.Fatalf("node %d already running", i)
	}
	home := c.net.Nodes[i].Home
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "run", "--home", home)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	c.procs[i] = p
}

// stop sends SIGTERM and waits for a clean exit.
func (c *cluster) stop(i int) {
	c.t.Helper()
	p := c.procs[i]
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		c.t.Errorf("node %d did not stop within 20s of SIGTERM", i)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		c.t.Errorf("node %d exited with status %d after SIGTERM; log:\n%s", i, code, c.logTail(i))
	}
	c.procs[i] = nil
}

// kill sends SIGKILL: no chance to clean up.
func (c *cluster) kill(i int) {
	p := c.procs[i]
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	c.procs[i] = nil
}

func (c *cluster) signal(i int, sig syscall.Signal) {
	if p := c.procs[i]; p != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

func (c *cluster) stopAll() {
	for i, p := range c.procs {
		if p != nil {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			_ = p.cmd.Process.Kill()
			<-p.done
			c.procs[i] = nil
		}
	}
	if c.t.Failed() {
		for i := range c.net.Nodes {
			c.t.Logf("--- node %d (%s) log tail:\n%s", i, c.net.Nodes[i].Department, c.logTail(i))
		}
	}
}

func (c *cluster) logTail(i int) string {
	data, _ := os.ReadFile(filepath.Join(c.net.Nodes[i].Home, "node.log"))
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

var client = &http.Client{Timeout: 5 * time.Second}

type status struct {
	Height   uint64 `json:"height"`
	HeadHash string `json:"head_hash"`
	Round    uint32 `json:"round"`
	Syncing  bool   `json:"syncing"`
	Peers    int    `json:"peers"`
}

func (c *cluster) get(i int, path string, v any) (int, error) {
	resp, err := client.Get(c.net.Nodes[i].APIURL + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(body, v); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: %w", path, err)
		}
	}
	return resp.StatusCode, nil
}

// metric reads one series from node i's /metrics (0 when absent).
func (c *cluster) metric(i int, series string) float64 {
	c.t.Helper()
	resp, err := client.Get(c.net.Nodes[i].APIURL + "/metrics")
	if err != nil {
		c.t.Fatalf("node %d: /metrics: %v", i, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("node %d: /metrics: status %d, %v", i, resp.StatusCode, err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				c.t.Fatalf("node %d: %s: %v", i, line, err)
			}
			return f
		}
	}
	return 0
}

func (c *cluster) post(i int, path, contentType string, body []byte, v any) (int, error) {
	resp, err := client.Post(c.net.Nodes[i].APIURL+path, contentType, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: %w: %s", path, err, data)
		}
	}
	return resp.StatusCode, nil
}

func (c *cluster) status(i int) (status, error) {
	var st status
	code, err := c.get(i, "/v1/status", &st)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("status: HTTP %d", code)
	}
	return st, err
}

func (c *cluster) height(i int) uint64 {
	st, err := c.status(i)
	if err != nil {
		return 0
	}
	return st.Height
}

// waitFor polls cond until it holds or the deadline passes. Polling a
// readiness condition is the synchronisation; nothing depends on how long
// it takes within the deadline.
func (c *cluster) waitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitHeight waits until every listed node has finalized height h.
func (c *cluster) waitHeight(h uint64, timeout time.Duration, nodes ...int) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("nodes %v to reach height %d", nodes, h), timeout, func() bool {
		for _, i := range nodes {
			if c.height(i) < h {
				return false
			}
		}
		return true
	})
}

func (c *cluster) blockHash(i int, h uint64) string {
	c.t.Helper()
	var b struct {
		Hash string `json:"hash"`
	}
	code, err := c.get(i, fmt.Sprintf("/v1/blocks/%d", h), &b)
	if err != nil || code != http.StatusOK {
		c.t.Fatalf("node %d block %d: HTTP %d %v", i, h, code, err)
	}
	return b.Hash
}

// checkSameChain asserts that the listed nodes report identical block
// hashes at every height from 1 to the lowest head among them.
func (c *cluster) checkSameChain(nodes ...int) uint64 {
	c.t.Helper()
	low := ^uint64(0)
	for _, i := range nodes {
		low = min(low, c.height(i))
	}
	for h := uint64(1); h <= low; h++ {
		want := c.blockHash(nodes[0], h)
		for _, i := range nodes[1:] {
			if got := c.blockHash(i, h); got != want {
				c.t.Fatalf("fork at height %d: node %d has %s, node %d has %s", h, nodes[0], want, i, got)
			}
		}
	}
	return low
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
