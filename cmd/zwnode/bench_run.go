package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/zwnode/zwnode/chain"
)

// benchRun is one invocation of the bench: cluster, tracker, accounts.
type benchRun struct {
	o       benchOptions
	c       *benchCluster
	out     io.Writer
	tr      *tracker
	ops     []*benchAccount
	serial  int    // next record subject serial
	outBase string // results path without extension, for profiles
}

// setupAccounts creates the operator accounts with the department admins'
// keys and waits until they are finalized.
func (b *benchRun) setupAccounts(ctx context.Context) error {
	admins, depts, err := loadAdmins(b.c.net)
	if err != nil {
		return err
	}
	api := b.c.net.Nodes[0].APIURL
	next, err := adminNonces(ctx, api, admins)
	if err != nil {
		return err
	}
	b.ops = newOperators(runSeed(), b.o.accounts, depts)
	adds, err := accountAddTxs(b.c.net.ChainID, admins, next, b.ops)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "bench: adding %d operator accounts (%v)\n", len(b.ops), depts)
	st := &submitStats{}
	s := &submitter{node: 0, url: api, load: adds, tr: b.tr, st: st, accounts: map[chain.PublicKey]*benchAccount{}}
	retry := adds.txs
	deadline := time.Now().Add(60 * time.Second)
	for len(retry) > 0 && time.Now().Before(deadline) {
		retry = s.post(ctx, retry)
	}
	if st.rejected.Load() > 0 || len(retry) > 0 {
		return fmt.Errorf("account.add refused: %s", st.firstErr)
	}
	hashes := make([]chain.Hash, len(adds.txs))
	for i := range adds.txs {
		hashes[i] = adds.txs[i].hash
	}
	if !b.tr.waitHashes(ctx, hashes, 90*time.Second) {
		return fmt.Errorf("account.add transactions not finalized within 90s")
	}
	return nil
}

// phases runs the measured phases the options ask for.
func (b *benchRun) phases(ctx context.Context, res *BenchResults) error {
	label := "max"
	if b.o.rate > 0 {
		label = "fixed"
	}
	for r := 1; r <= b.o.runs; r++ {
		// The first phase is profiled: the first max-rate one, or with
		// --rate the first fixed-rate one.
		p, err := b.phase(ctx, label, r, b.o.rate, b.o.profile && r == 1, b.running())
		if err != nil {
			return err
		}
		res.Phases = append(res.Phases, *p)
	}
	if b.o.rateFraction > 0 && label == "max" {
		maxTPS := median(res.Phases, "max", func(p *PhaseResult) float64 { return p.FinalizedTPS })
		rate := b.o.rateFraction * maxTPS
		fmt.Fprintf(b.out, "bench: fixed phase at %.2f × %.0f = %.0f tx/s\n", b.o.rateFraction, maxTPS, rate)
		for r := 1; r <= b.o.runs; r++ {
			p, err := b.phase(ctx, "fixed", r, rate, false, b.running())
			if err != nil {
				return err
			}
			res.Phases = append(res.Phases, *p)
		}
	}
	if b.o.catchup && len(b.c.net.Nodes) > 1 {
		for r := 1; r <= b.o.runs; r++ {
			cu, p, err := b.catchUp(ctx, r)
			if p != nil {
				res.Phases = append(res.Phases, *p)
			}
			if err != nil {
				return err
			}
			res.CatchUps = append(res.CatchUps, *cu)
		}
		res.CatchUp = medianCatchUp(res.CatchUps)
	}
	res.Summary = summarize(res.Phases)
	return nil
}

// running lists the nodes with a process (all of an existing devnet).
func (b *benchRun) running() []int {
	var out []int
	for i := range b.c.net.Nodes {
		if !b.c.owned || b.c.procs[i] != nil {
			out = append(out, i)
		}
	}
	return out
}

// autoTxsPerSecond sizes a max-rate phase's pre-signed load when --max-txs
// is 0: comfortably above what a local cluster finalizes, so the load does
// not run out inside the window (a fixed 150,000 capped 30 s windows at
// 5,000 tx/s once the cluster got faster than that).
const autoTxsPerSecond = 15_000

// maxPreSigned bounds one phase's pre-signed load, and so the bench's own
// memory: about 1.15 KB per transaction at its peak (the encoding, its entry,
// its submission record, and the collector's headroom over them), measured
// at 8.0 GB for 7 million. Ten minutes at 11,000 tx/s needs 6.6 million.
const maxPreSigned = 10_000_000

// phase runs one measurement window against targets at rate (0 = max).
func (b *benchRun) phase(ctx context.Context, label string, run int, rate float64, profile bool, targets []int) (*PhaseResult, error) {
	o := b.o
	total := o.maxTxs
	if total == 0 {
		total = min(maxPreSigned, int(autoTxsPerSecond*o.duration.Seconds()))
	}
	if rate > 0 {
		total = int(rate*o.duration.Seconds()*1.05) + o.batch
	}
	signStart := time.Now()
	stream, err := signLoad(b.c.net.ChainID, b.ops, total, b.serial)
	if err != nil {
		return nil, err
	}
	b.serial += total
	signTime := time.Since(signStart)
	split := splitByNode(stream.txs, len(b.ops), len(targets))
	accounts := make(map[chain.PublicKey]*benchAccount, len(b.ops))
	for _, a := range b.ops {
		accounts[a.key.Public()] = a
	}
	p := &PhaseResult{Label: label, Run: run, TargetRate: rate, Window: o.duration.Seconds(), SignSeconds: signTime.Seconds(), PreSigned: total}
	sample := stream.txs[:min(len(stream.txs), 1000)]
	for i := range sample {
		p.AvgTxBytes += float64(sample[i].size)
	}
	p.AvgTxBytes /= float64(len(sample))
	fmt.Fprintf(b.out, "bench: phase %s #%d: %d txs signed in %.1fs, offering %s for %s to %d nodes\n", label, run, total, signTime.Seconds(), rateName(rate), o.duration, len(targets))

	p.StartBacklog = b.waitIdle(ctx, targets, 90*time.Second)
	b.tr.reset()
	st := &submitStats{}
	before := b.c.stats()
	clientBefore, _ := readProcStats(os.Getpid())
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var profWG sync.WaitGroup
	if profile && b.c.pprof != "" {
		profWG.Add(1)
		go func() {
			defer profWG.Done()
			p.Profiles = b.captureProfiles(wctx, o.duration)
		}()
	}
	// The mempool admits at most 256 pending nonces per account; stay well
	// inside that so the window never turns into nonce_gap refusals.
	inflight := min(o.maxInflight, 200*len(b.ops))
	var wg sync.WaitGroup
	for k, node := range targets {
		s := &submitter{node: node, url: b.c.net.Nodes[node].APIURL, load: stream, txs: split[k], tr: b.tr, st: st,
			rate: rate / float64(len(targets)), batch: o.batch, inflight: inflight, accounts: accounts}
		wg.Add(1)
		go func() { defer wg.Done(); s.run(wctx, start, 10*time.Second) }()
	}
	<-wctx.Done()
	end := time.Now()
	after := b.c.stats()
	clientAfter, _ := readProcStats(os.Getpid())
	wg.Wait()
	profWG.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	drained := b.tr.waitDone(ctx, o.drain)
	for _, a := range b.ops {
		a.nonce = a.acked.Load()
	}
	b.fill(p, start, end, st, before, after)
	p.RoundChanges, p.MaxRound = b.blockRounds(start, end)
	p.ClientCPUSeconds = clientAfter.CPUSeconds - clientBefore.CPUSeconds
	p.Drained = drained
	p.StreamExhausted = st.accepted.Load()+st.rejected.Load() >= int64(total)
	fmt.Fprintf(b.out, "bench: phase %s #%d: %.0f tx/s finalized, p50 %.0f ms, p99 %.0f ms\n", label, run, p.FinalizedTPS, p.Latency.P50, p.Latency.P99)
	if rate == 0 && p.StreamExhausted {
		fmt.Fprintf(b.out, "bench: warning: all %d pre-signed transactions were sent before the window ended, so %.0f tx/s is a lower bound of the cluster's rate; raise --max-txs\n", total, p.FinalizedTPS)
	}
	return p, nil
}

// fill computes a phase's figures from the tracker and process stats.
func (b *benchRun) fill(p *PhaseResult, start, end time.Time, st *submitStats, before, after []procStats) {
	window := end.Sub(start).Seconds()
	p.Window = window
	p.Accepted = st.accepted.Load()
	p.Rejected = st.rejected.Load()
	p.MempoolFull = st.fullRetry.Load()
	p.Requests = st.requests.Load()
	p.FirstError = st.firstErr
	p.SubmittedTPS = float64(p.Accepted) / window
	b.tr.mu.Lock()
	var blocks, txs int
	for _, bs := range b.tr.blocks {
		if bs.at.Before(start) || bs.at.After(end) {
			continue
		}
		blocks++
		txs += bs.txs
		p.FinalizedTxs += bs.ours
	}
	lat := append([]time.Duration(nil), b.tr.latencies...)
	p.Unfinalized = b.tr.pending
	b.tr.mu.Unlock()
	p.Blocks = blocks
	p.BlocksPerS = float64(blocks) / window
	if blocks > 0 {
		p.TxPerBlock = float64(txs) / float64(blocks)
	}
	p.FinalizedTPS = float64(p.FinalizedTxs) / window
	p.Latency = latencyStats(lat)
	for i, n := range b.c.net.Nodes {
		nf := NodeFigures{Department: n.Department, RSSMB: after[i].RSSMB, PeakRSSMB: after[i].PeakRSSMB}
		nf.CPUSeconds = after[i].CPUSeconds - before[i].CPUSeconds
		nf.CPUPercent = 100 * nf.CPUSeconds / window
		p.Nodes = append(p.Nodes, nf)
	}
}

// latencyStats returns percentiles in milliseconds.
func latencyStats(lat []time.Duration) LatencyFigures {
	if len(lat) == 0 {
		return LatencyFigures{}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) float64 {
		i := int(f * float64(len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	return LatencyFigures{Count: len(lat), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: q(1)}
}

func rateName(rate float64) string {
	if rate == 0 {
		return "max rate"
	}
	return fmt.Sprintf("%.0f tx/s", rate)
}

// blockRounds counts the window's blocks decided after round 0 (each one
// cost at least one timeout_propose of dead time), from the rounds their
// block events carry.
func (b *benchRun) blockRounds(start, end time.Time) (changed int, maxRound uint32) {
	b.tr.mu.Lock()
	defer b.tr.mu.Unlock()
	for _, bs := range b.tr.blocks {
		if bs.at.Before(start) || bs.at.After(end) {
			continue
		}
		if bs.round > 0 {
			changed++
		}
		maxRound = max(maxRound, bs.round)
	}
	return changed, maxRound
}

// waitIdle waits until the targets' mempools are empty, so a phase does
// not inherit the previous one's backlog, and returns what is left.
func (b *benchRun) waitIdle(ctx context.Context, targets []int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		left := 0
		for _, i := range targets {
			if st, err := b.c.status(ctx, i); err == nil {
				left += st.MempoolTxs
			}
		}
		if left == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			if left > 0 {
				fmt.Fprintf(b.out, "bench: %d txs still pending from the previous phase\n", left)
			}
			return left
		}
		sleepCtxBench(ctx, 250*time.Millisecond)
	}
}

// reset starts a phase: earlier submissions no longer count.
func (t *tracker) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.subs = make(map[chain.Hash]submission)
	t.latencies = nil
	t.pending = 0
}
