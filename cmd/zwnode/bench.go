package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
)

// benchOptions are the flags of `zwnode bench`.
type benchOptions struct {
	nodes        int
	devnet       string
	rate         float64
	rateFraction float64
	duration     time.Duration
	accounts     int
	batch        int
	maxInflight  int
	maxTxs       int
	runs         int
	drain        time.Duration
	out          string
	profile      bool
	catchup      bool
	keep         bool
	params       chain.Params
}

func newBenchCmd() *cobra.Command {
	o := benchOptions{params: chain.DefaultParams()}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure finalized throughput and latency of a local devnet",
		Long: `Start a fresh N-node devnet in a temporary directory (or use a running one
given by --devnet), create operator accounts, pre-sign record.put transactions
of about 300 bytes and submit them through POST /v1/txs/batch spread over the
nodes, at a fixed --rate or as fast as the cluster admits them (--rate 0).
Finalization is read from every node's GET /v1/events stream.

Reports finalized tx/s, submission-to-finalization latency (p50/p90/p99),
blocks/s, tx/block, CPU seconds and peak RSS per node, and writes the figures
as JSON to --out. See docs/BENCHMARK.md.`,
		Example: `  zwnode bench                              # 4 nodes, max rate, 30 s
  zwnode bench --rate 1000 --runs 3         # latency at a fixed offered load
  zwnode bench --rate-fraction 0.5          # max, then half of the measured max
  zwnode bench --nodes 7 --profile --catchup`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBench(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.nodes, "nodes", 4, "nodes of a fresh devnet (1-32)")
	f.StringVar(&o.devnet, "devnet", "", "use the running devnet described by this devnet.json instead of starting one")
	f.Float64Var(&o.rate, "rate", 0, "offered load in tx/s over all nodes; 0 = as fast as the cluster admits")
	f.Float64Var(&o.rateFraction, "rate-fraction", 0, "after a max-rate phase, run a fixed-rate phase at this fraction of the measured max")
	f.DurationVar(&o.duration, "duration", 30*time.Second, "measurement window per phase")
	f.IntVar(&o.accounts, "accounts", 256, "operator accounts sending the load")
	f.IntVar(&o.batch, "batch", 500, "most transactions per POST /v1/txs/batch")
	f.IntVar(&o.maxInflight, "max-inflight", 10_000, "at max rate: most submitted, not yet finalized transactions (the closed-loop window)")
	f.IntVar(&o.maxTxs, "max-txs", 0, "at max rate: transactions pre-signed per phase (bounds the load); 0 = 15,000 per second of window")
	f.IntVar(&o.runs, "runs", 1, "repeat the measured phase this many times and report the median")
	f.DurationVar(&o.drain, "drain", 30*time.Second, "after the window, wait this long for submitted transactions to finalize")
	f.StringVar(&o.out, "out", "", "JSON results file (default bench-results/<timestamp>.json)")
	f.BoolVar(&o.profile, "profile", false, "capture CPU and allocation profiles of the first node during the first phase (max rate, or the first fixed-rate one with --rate) (with --devnet: its config needs api.pprof = true)")
	f.BoolVar(&o.catchup, "catchup", false, "stop the last node before a load phase and measure its catch-up after it; --runs times, reporting the median")
	f.BoolVar(&o.keep, "keep", false, "keep the fresh devnet's directory")
	f.Int64Var(&o.params.TimeoutCommitMS, "timeout-commit-ms", o.params.TimeoutCommitMS, "genesis timeout_commit_ms of a fresh devnet")
	f.Int64Var(&o.params.TimeoutProposeMS, "timeout-propose-ms", o.params.TimeoutProposeMS, "genesis timeout_propose_ms of a fresh devnet")
	f.IntVar(&o.params.MaxBlockTxs, "max-block-txs", o.params.MaxBlockTxs, "genesis max_block_txs of a fresh devnet")
	return cmd
}

func (o *benchOptions) validate() error {
	switch {
	case o.nodes < 1 || o.nodes > 32:
		return fmt.Errorf("--nodes %d: 1 to 32", o.nodes)
	case o.rate < 0 || o.rateFraction < 0 || o.rateFraction > 1:
		return errors.New("--rate must be ≥ 0 and --rate-fraction in [0, 1]")
	case o.duration < time.Second || o.duration > time.Hour:
		return fmt.Errorf("--duration %s: 1s to 1h", o.duration)
	case o.accounts < 1 || o.accounts > 10_000:
		return fmt.Errorf("--accounts %d: 1 to 10000", o.accounts)
	case o.batch < 1 || o.batch > 20_000:
		return fmt.Errorf("--batch %d: 1 to 20000", o.batch)
	case o.maxTxs < 0 || o.maxTxs > maxPreSigned:
		return fmt.Errorf("--max-txs %d: 0 (automatic) to %d", o.maxTxs, maxPreSigned)
	case o.runs < 1 || o.runs > 20:
		return fmt.Errorf("--runs %d: 1 to 20", o.runs)
	case o.catchup && o.devnet != "":
		return errors.New("--catchup needs a fresh devnet (it stops and restarts a node)")
	}
	return nil
}

func runBench(ctx context.Context, o benchOptions, out io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	started := time.Now().UTC()
	c, cleanup, err := benchSetupCluster(ctx, &o, out)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		return err
	}
	path := benchOutPath(o.out, started)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b := &benchRun{o: o, c: c, out: out, tr: newTracker(len(c.net.Nodes)), outBase: strings.TrimSuffix(path, ".json")}
	tctx, tcancel := context.WithCancel(ctx)
	defer tcancel()
	for i, n := range c.net.Nodes {
		go b.tr.follow(tctx, i, n.APIURL)
	}
	if err := c.waitRunning(ctx, 60*time.Second); err != nil {
		return err
	}
	if err := b.setupAccounts(ctx); err != nil {
		return err
	}
	res := &BenchResults{Started: started, Machine: benchMachine(), Config: o.summary(len(c.net.Nodes))}
	if err := b.phases(ctx, res); err != nil {
		return err
	}
	res.Finished = time.Now().UTC()
	res.Machine.LoadAvgEnd = loadAvg()
	writeBenchTable(out, res)
	if err := writeBenchJSON(path, res); err != nil {
		return err
	}
	fmt.Fprintf(out, "results: %s\n", path)
	return nil
}

// benchSetupCluster starts a fresh devnet or attaches to --devnet.
func benchSetupCluster(ctx context.Context, o *benchOptions, out io.Writer) (*benchCluster, func(), error) {
	if o.devnet != "" {
		net, err := readDevnet(o.devnet)
		if err != nil {
			return nil, nil, err
		}
		c := &benchCluster{net: net, dir: filepath.Dir(o.devnet), procs: make([]*benchProc, len(net.Nodes))}
		c.findPids()
		if o.profile && len(net.Nodes) > 0 {
			// Profiles come from the first node's API, which serves them
			// only if its config has api.pprof on; the phase says so if not.
			c.pprof = strings.TrimPrefix(net.Nodes[0].APIURL, "http://")
		}
		return c, nil, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "zwnode-bench-")
	if err != nil {
		return nil, nil, err
	}
	if err := o.params.Validate(); err != nil {
		return nil, nil, err
	}
	net, err := createDevnet(dir, o.nodes, "zw-bench", o.params, o.profile)
	if err != nil {
		return nil, nil, err
	}
	c := &benchCluster{net: net, dir: dir, owned: true, bin: self, procs: make([]*benchProc, len(net.Nodes))}
	cleanup := func() {
		c.stopAll()
		if o.keep {
			fmt.Fprintf(out, "devnet kept in %s\n", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}
	fmt.Fprintf(out, "bench: fresh %d-node devnet in %s\n", o.nodes, dir)
	if o.profile {
		// The devnet was made with api.pprof on: profiles come from the
		// first node's API listener.
		c.pprof = strings.TrimPrefix(net.Nodes[0].APIURL, "http://")
	}
	for i := range net.Nodes {
		if err := c.startNode(i); err != nil {
			return c, cleanup, err
		}
	}
	return c, cleanup, ctx.Err()
}
