package main

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node/keyfile"
)

// DevnetNode is one entry of devnet.json.
type DevnetNode struct {
	Department string `json:"department"`
	Name       string `json:"name"`
	// Home is the node's home directory. In the file it is relative to the
	// file's directory, so a devnet directory can be moved or copied;
	// [readDevnet] makes it absolute. (Files written before held absolute
	// homes, which are still read as they are.)
	Home    string `json:"home"`
	PeerID  string `json:"peer_id"`
	PubKey  string `json:"pub_key"`
	P2PAddr string `json:"p2p_addr"`
	APIURL  string `json:"api_url"`
}

// Devnet is the devnet.json file: everything a tester needs to reach the
// cluster.
type Devnet struct {
	ChainID     string       `json:"chain_id"`
	GenesisHash string       `json:"genesis_hash"`
	Nodes       []DevnetNode `json:"nodes"`
}

var devnetDepartments = []struct{ id, name string }{
	{"tax", "Jinan Municipal Tax Bureau (税务局)"},
	{"market", "Market Supervision Administration (市场监督管理局)"},
	{"hrss", "Human Resources and Social Security Bureau (人力资源和社会保障局)"},
	{"credit", "City Credit Office (信用办)"},
	{"justice", "Justice Bureau (司法局)"},
	{"housing", "Housing and Urban-Rural Development Bureau (住建局)"},
	{"health", "Health Commission (卫健委)"},
}

func devnetDept(i int) (string, string) {
	if i < len(devnetDepartments) {
		return devnetDepartments[i].id, devnetDepartments[i].name
	}
	return "dept" + strconv.Itoa(i+1), "Department " + strconv.Itoa(i+1)
}

func newDevnetCmd() *cobra.Command {
	var (
		nodes        int
		dir, chainID string
		generateOnly bool
		quiet        bool
		params       = chain.DefaultParams()
		pprof        bool
	)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a local cluster of department nodes on loopback",
		Long: `Generate keys, a genesis and configs for N department nodes on free loopback
ports, start each as a separate 'zwnode run' process on embedded Pebble, and
stream their logs. DIR/devnet.json lists each node's department, home
(relative to DIR), peer ID, p2p multiaddr and API URL. Ctrl-C stops every
node. Running it again on the same DIR, or on a copy of it, resumes the same
chain.`,
		Example: `  zwnode devnet --nodes 4 --dir .devnet
  zwnode devnet --nodes 7 --dir /tmp/zw7 --generate-only   # write files, start nothing`,
		RunE: func(cmd *cobra.Command, args []string) error {
			net, err := loadOrCreateDevnet(dir, nodes, chainID, params, pprof)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "devnet %s: %d nodes, genesis %s\n", net.ChainID, len(net.Nodes), net.GenesisHash)
			for _, n := range net.Nodes {
				fmt.Fprintf(out, "  %-8s api %s  p2p %s\n", n.Department, n.APIURL, n.P2PAddr)
			}
			fmt.Fprintf(out, "details: %s\n", filepath.Join(dir, "devnet.json"))
			if generateOnly {
				return nil
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(out, "status: zwnode status --api %s    stop: Ctrl-C\n", net.Nodes[0].APIURL)
			return runDevnet(ctx, net, out, quiet)
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 4, "number of department nodes (1-32)")
	cmd.Flags().StringVar(&dir, "dir", ".devnet", "directory for the devnet's homes and devnet.json")
	cmd.Flags().StringVar(&chainID, "chain-id", "zw-devnet", "chain id for a new devnet")
	cmd.Flags().BoolVar(&generateOnly, "generate-only", false, "write keys, genesis and configs, then exit")
	cmd.Flags().BoolVar(&quiet, "quiet", false, "do not stream node logs")
	cmd.Flags().BoolVar(&pprof, "pprof", false, "serve /debug/pprof/ on every node's API (new devnets)")
	cmd.Flags().Int64Var(&params.TimeoutProposeMS, "timeout-propose-ms", params.TimeoutProposeMS, "genesis timeout_propose_ms for a new devnet")
	cmd.Flags().Int64Var(&params.TimeoutCommitMS, "timeout-commit-ms", params.TimeoutCommitMS, "genesis timeout_commit_ms for a new devnet (pause between blocks)")
	cmd.Flags().IntVar(&params.MaxBlockTxs, "max-block-txs", params.MaxBlockTxs, "genesis max_block_txs for a new devnet")
	return cmd
}

func loadOrCreateDevnet(dir string, nodes int, chainID string, params chain.Params, pprof bool) (*Devnet, error) {
	path := filepath.Join(dir, "devnet.json")
	if net, err := readDevnet(path); err == nil {
		if len(net.Nodes) != nodes {
			return nil, fmt.Errorf("%s holds a %d-node devnet, not %d: use that --nodes value, another --dir, or remove the directory", path, len(net.Nodes), nodes)
		}
		return net, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if nodes < 1 || nodes > 32 {
		return nil, fmt.Errorf("--nodes %d: a devnet has 1 to 32 nodes", nodes)
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	return createDevnet(dir, nodes, chainID, params, pprof)
}

func createDevnet(dir string, nodes int, chainID string, params chain.Params, pprof bool) (*Devnet, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var secret keyfile.Secret
	if _, err := crand.Read(secret[:]); err != nil {
		return nil, err
	}
	g := &chain.Genesis{ChainID: chainID, GenesisTime: time.Now().UTC().Truncate(time.Second), Params: params, AppState: ledger.ExampleGenesisAppState()}
	net := &Devnet{ChainID: chainID}
	ports := make([]int, 0, 2*nodes)
	for len(ports) < 2*nodes {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	keys := make([]*keyfile.Key, nodes)
	for i := range keys {
		dept, name := devnetDept(i)
		if keys[i], err = keyfile.New(); err != nil {
			return nil, err
		}
		k := keys[i]
		g.Authorities = append(g.Authorities, chain.Authority{Department: dept, Name: name, PubKey: k.PublicKey()})
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Department: dept, Role: "admin", Name: dept + " admin (node key)", PubKey: k.PublicKey()})
		net.Nodes = append(net.Nodes, DevnetNode{
			Department: dept, Name: name, Home: filepath.Join(abs, dept), PeerID: k.PeerID().String(), PubKey: k.PublicKey().String(),
			P2PAddr: fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", ports[2*i], k.PeerID()),
			APIURL:  fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
		})
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("devnet genesis: %w", err)
	}
	net.GenesisHash = g.Hash().String()
	for i, n := range net.Nodes {
		cfg := configs.Default()
		cfg.Node.Department = n.Department
		cfg.P2P.Listen = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", ports[2*i]), fmt.Sprintf("/ip4/127.0.0.1/udp/%d/quic-v1", ports[2*i])}
		cfg.P2P.Bootstrap = nil
		for j, m := range net.Nodes {
			if j != i {
				cfg.P2P.Bootstrap = append(cfg.P2P.Bootstrap, m.P2PAddr)
			}
		}
		cfg.API.Listen = fmt.Sprintf("127.0.0.1:%d", ports[2*i+1])
		cfg.API.Pprof = pprof
		if _, err := configs.InitHome(n.Home, cfg, configs.InitOptions{Key: keys[i], PseudonymKey: &secret, Genesis: g}); err != nil {
			return nil, fmt.Errorf("devnet node %s: %w", n.Department, err)
		}
	}
	gdata, err := g.Marshal()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(abs, "genesis.json"), gdata, 0o644); err != nil {
		return nil, err
	}
	// The file names each home relative to itself.
	file := *net
	file.Nodes = slices.Clone(net.Nodes)
	for i := range file.Nodes {
		file.Nodes[i].Home = file.Nodes[i].Department
	}
	data, _ := json.MarshalIndent(&file, "", "  ")
	if err := os.WriteFile(filepath.Join(abs, "devnet.json"), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	return net, nil
}

// readDevnet reads a devnet.json and makes each node's home absolute,
// resolving a relative home against the file's directory. A missing file's
// error wraps os.ErrNotExist.
func readDevnet(path string) (*Devnet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var net Devnet
	if err := json.Unmarshal(data, &net); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	for i, n := range net.Nodes {
		if n.Home == "" {
			return nil, fmt.Errorf("%s: node %d (%s) has no home", path, i, n.Department)
		}
		if !filepath.IsAbs(n.Home) {
			net.Nodes[i].Home = filepath.Join(dir, n.Home)
		}
	}
	return &net, nil
}

// freePort finds a loopback port free for both TCP and UDP (QUIC). It
// picks below Linux's ephemeral range (32768–60999 by default), because a
// port taken from that range can be handed to some outgoing connection as
// its source port before the node binds it.
func freePort() (int, error) {
	for attempt := 0; attempt < 200; attempt++ {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, errors.New("no free loopback port found in 20000-31999")
}

// runDevnet starts one process per node and streams their logs until ctx
// ends, then stops them all.
func runDevnet(ctx context.Context, net *Devnet, out io.Writer, quiet bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	procs := make([]*exec.Cmd, 0, len(net.Nodes))
	exited := make(chan string, len(net.Nodes))
	for _, n := range net.Nodes {
		c := exec.Command(self, "run", "--home", n.Home)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		pr, pw := io.Pipe()
		c.Stdout, c.Stderr = pw, pw
		if err := c.Start(); err != nil {
			signalAll(procs, syscall.SIGKILL)
			return fmt.Errorf("start %s: %w", n.Department, err)
		}
		procs = append(procs, c)
		wg.Add(1)
		go func(dept string) {
			defer wg.Done()
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				if quiet {
					continue
				}
				mu.Lock()
				fmt.Fprintf(out, "%-8s| %s\n", dept, compactLogLine(sc.Text()))
				mu.Unlock()
			}
		}(n.Department)
		go func(dept string, c *exec.Cmd, pw *io.PipeWriter) {
			err := c.Wait()
			pw.Close()
			if err != nil {
				exited <- fmt.Sprintf("%s exited: %v", dept, err)
			} else {
				exited <- dept + " exited"
			}
		}(n.Department, c, pw)
	}
	alive := len(procs)
	for alive > 0 {
		select {
		case msg := <-exited:
			alive--
			mu.Lock()
			fmt.Fprintln(out, "devnet:", msg)
			mu.Unlock()
		case <-ctx.Done():
			fmt.Fprintln(out, "devnet: stopping all nodes")
			signalAll(procs, syscall.SIGTERM)
			deadline := time.After(10 * time.Second)
			for alive > 0 {
				select {
				case <-exited:
					alive--
				case <-deadline:
					fmt.Fprintln(out, "devnet: nodes still running after 10s; killing them")
					signalAll(procs, syscall.SIGKILL)
				}
			}
		}
	}
	wg.Wait()
	return nil
}

// signalAll sends sig to every started node process.
func signalAll(procs []*exec.Cmd, sig syscall.Signal) {
	for _, c := range procs {
		_ = c.Process.Signal(sig)
	}
}

// compactLogLine shortens a node's slog text line for the devnet stream:
// "time=2026-11-24T12:04:27.123Z level=INFO msg=\"node started\" k=v" becomes
// "12:04:27 INFO node started k=v". Other lines pass unchanged.
func compactLogLine(line string) string {
	rest, ok := strings.CutPrefix(line, "time=")
	if !ok {
		return line
	}
	ts, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return line
	}
	if t := strings.IndexByte(ts, 'T'); t >= 0 && len(ts) >= t+9 {
		ts = ts[t+1 : t+9]
	}
	level, rest, ok := strings.Cut(strings.TrimPrefix(rest, "level="), " ")
	if !ok {
		return line
	}
	msg, ok := strings.CutPrefix(rest, "msg=")
	if !ok {
		return line
	}
	if strings.HasPrefix(msg, `"`) {
		if end := strings.Index(msg[1:], `"`); end >= 0 {
			msg = msg[1:end+1] + msg[end+2:]
		}
	}
	return ts + " " + level + " " + msg
}
