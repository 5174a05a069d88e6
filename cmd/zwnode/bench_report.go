package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// BenchResults is the JSON file `zwnode bench` writes.
type BenchResults struct {
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Machine  MachineInfo    `json:"machine"`
	Config   BenchConfig    `json:"config"`
	Phases   []PhaseResult  `json:"phases"`
	Summary  []PhaseSummary `json:"summary"`
	// CatchUp is the catch-up run with the median tx/s, CatchUps every
	// run in order (one per --runs).
	CatchUp  *CatchUpResult  `json:"catch_up,omitempty"`
	CatchUps []CatchUpResult `json:"catch_ups,omitempty"`
}

// MachineInfo says where the figures were taken.
type MachineInfo struct {
	NProc      int     `json:"nproc"`
	MemTotalMB float64 `json:"mem_total_mb"`
	CPUModel   string  `json:"cpu_model,omitempty"`
	GoVersion  string  `json:"go_version"`
	OSArch     string  `json:"os_arch"`
	GitCommit  string  `json:"git_commit,omitempty"`
	// LoadAvg is /proc/loadavg at the start and the end: other processes
	// on a shared machine take CPU from the nodes.
	LoadAvgStart string `json:"loadavg_start,omitempty"`
	LoadAvgEnd   string `json:"loadavg_end,omitempty"`
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

// BenchConfig is the options the figures depend on.
type BenchConfig struct {
	Nodes           int     `json:"nodes"`
	ExistingDevnet  bool    `json:"existing_devnet"`
	Rate            float64 `json:"rate"`
	RateFraction    float64 `json:"rate_fraction,omitempty"`
	DurationS       float64 `json:"duration_s"`
	Accounts        int     `json:"accounts"`
	Batch           int     `json:"batch"`
	MaxInflight     int     `json:"max_inflight"`
	TimeoutCommitMS int64   `json:"timeout_commit_ms"`
	MaxBlockTxs     int     `json:"max_block_txs"`
}

// PhaseResult is one measurement window.
type PhaseResult struct {
	Label            string         `json:"label"` // max, fixed, catchup-load
	Run              int            `json:"run"`
	TargetRate       float64        `json:"target_rate"` // offered tx/s, 0 = max
	Window           float64        `json:"window_s"`
	StartBacklog     int            `json:"start_backlog"` // txs in the nodes' mempools when the window opened
	PreSigned        int            `json:"pre_signed"`
	SignSeconds      float64        `json:"sign_seconds"`
	AvgTxBytes       float64        `json:"avg_tx_bytes"`
	Accepted         int64          `json:"accepted"`
	Rejected         int64          `json:"rejected"`
	MempoolFull      int64          `json:"mempool_full_retries"`
	Requests         int64          `json:"requests"`
	FirstError       string         `json:"first_error,omitempty"`
	SubmittedTPS     float64        `json:"submitted_tps"`
	FinalizedTxs     int            `json:"finalized_txs"`
	FinalizedTPS     float64        `json:"finalized_tps"`
	Blocks           int            `json:"blocks"`
	BlocksPerS       float64        `json:"blocks_per_s"`
	TxPerBlock       float64        `json:"tx_per_block"`
	RoundChanges     int            `json:"blocks_after_round_0"` // blocks decided in round > 0
	MaxRound         uint32         `json:"max_round"`
	Latency          LatencyFigures `json:"latency_ms"`
	Unfinalized      int            `json:"unfinalized_after_drain"`
	Drained          bool           `json:"drained"`
	StreamExhausted  bool           `json:"stream_exhausted"`
	ClientCPUSeconds float64        `json:"client_cpu_seconds"`
	Nodes            []NodeFigures  `json:"nodes"`
	Profiles         []string       `json:"profiles,omitempty"`
}

// LatencyFigures are submission-to-finalization percentiles in ms.
type LatencyFigures struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// NodeFigures is one node process over a window.
type NodeFigures struct {
	Department string  `json:"department"`
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent"` // of one core
	RSSMB      float64 `json:"rss_mb"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
}

// PhaseSummary is the median over the runs of one phase label.
type PhaseSummary struct {
	Label        string  `json:"label"`
	Runs         int     `json:"runs"`
	TargetRate   float64 `json:"target_rate"`
	FinalizedTPS float64 `json:"finalized_tps_median"`
	P50          float64 `json:"latency_p50_ms_median"`
	P90          float64 `json:"latency_p90_ms_median"`
	P99          float64 `json:"latency_p99_ms_median"`
	BlocksPerS   float64 `json:"blocks_per_s_median"`
	TxPerBlock   float64 `json:"tx_per_block_median"`
	PeakRSSMB    float64 `json:"peak_rss_mb_max"`
	CPUPercent   float64 `json:"node_cpu_percent_median"` // mean over nodes
}

func (o *benchOptions) summary(nodes int) BenchConfig {
	return BenchConfig{Nodes: nodes, ExistingDevnet: o.devnet != "", Rate: o.rate, RateFraction: o.rateFraction,
		DurationS: o.duration.Seconds(), Accounts: o.accounts, Batch: o.batch, MaxInflight: o.maxInflight,
		TimeoutCommitMS: o.params.TimeoutCommitMS, MaxBlockTxs: o.params.MaxBlockTxs}
}

// median of f over the phases labelled label.
func median(ps []PhaseResult, label string, f func(*PhaseResult) float64) float64 {
	var v []float64
	for i := range ps {
		if ps[i].Label == label {
			v = append(v, f(&ps[i]))
		}
	}
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func summarize(ps []PhaseResult) []PhaseSummary {
	var out []PhaseSummary
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Label] {
			continue
		}
		seen[p.Label] = true
		s := PhaseSummary{Label: p.Label, TargetRate: p.TargetRate}
		for i := range ps {
			if ps[i].Label != p.Label {
				continue
			}
			s.Runs++
			for _, n := range ps[i].Nodes {
				s.PeakRSSMB = max(s.PeakRSSMB, n.PeakRSSMB)
			}
		}
		m := func(f func(*PhaseResult) float64) float64 { return median(ps, p.Label, f) }
		s.FinalizedTPS = m(func(p *PhaseResult) float64 { return p.FinalizedTPS })
		s.P50 = m(func(p *PhaseResult) float64 { return p.Latency.P50 })
		s.P90 = m(func(p *PhaseResult) float64 { return p.Latency.P90 })
		s.P99 = m(func(p *PhaseResult) float64 { return p.Latency.P99 })
		s.BlocksPerS = m(func(p *PhaseResult) float64 { return p.BlocksPerS })
		s.TxPerBlock = m(func(p *PhaseResult) float64 { return p.TxPerBlock })
		s.CPUPercent = m(func(p *PhaseResult) float64 {
			sum, n := 0.0, 0
			for _, nf := range p.Nodes {
				if nf.CPUSeconds > 0 {
					sum += nf.CPUPercent
					n++
				}
			}
			return sum / float64(max(n, 1))
		})
		out = append(out, s)
	}
	return out
}

// benchMachine describes this machine.
func benchMachine() MachineInfo {
	m := MachineInfo{NProc: runtime.NumCPU(), GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH, LoadAvgStart: loadAvg()}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					m.MemTotalMB = kb / 1024
				}
			}
		}
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		m.GitCommit = strings.TrimSpace(string(out))
	} else if bi, ok := debug.ReadBuildInfo(); ok {
		// Outside the repository: the commit the binary was built from.
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				m.GitCommit = s.Value
			}
		}
	}
	return m
}

// benchOutPath is the results file: --out, or bench-results/<timestamp>.json.
func benchOutPath(out string, started time.Time) string {
	if out != "" {
		return out
	}
	return filepath.Join("bench-results", started.Format("20060102T150405Z")+".json")
}

func writeBenchJSON(path string, res *BenchResults) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// writeBenchTable prints the figures for a human.
func writeBenchTable(out io.Writer, res *BenchResults) {
	m := res.Machine
	fmt.Fprintf(out, "\nmachine: %d cpus, %.0f MB, %s, %s, commit %s, load avg %s → %s\n", m.NProc, m.MemTotalMB, m.CPUModel, m.GoVersion, short(m.GitCommit), m.LoadAvgStart, m.LoadAvgEnd)
	fmt.Fprintf(out, "config: %d nodes, window %.0fs, %d accounts, batch %d, timeout_commit %d ms\n\n",
		res.Config.Nodes, res.Config.DurationS, res.Config.Accounts, res.Config.Batch, res.Config.TimeoutCommitMS)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\trun\toffered\tsubmitted/s\tfinalized/s\tp50 ms\tp90 ms\tp99 ms\tblocks/s\ttx/block\tround>0\tnode cpu%\tpeak rss MB\tclient cpu s\t")
	for _, p := range res.Phases {
		cpu, rss := 0.0, 0.0
		for _, n := range p.Nodes {
			cpu += n.CPUPercent
			rss = max(rss, n.PeakRSSMB)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.0f\t%d\t%.0f\t%.0f\t%.1f\t\n",
			p.Label, p.Run, rateName(p.TargetRate), p.SubmittedTPS, p.FinalizedTPS, p.Latency.P50, p.Latency.P90, p.Latency.P99,
			p.BlocksPerS, p.TxPerBlock, p.RoundChanges, cpu/float64(max(1, len(p.Nodes))), rss, p.ClientCPUSeconds)
	}
	tw.Flush()
	fmt.Fprintln(out, "\nper node (last phase): department, cpu s, cpu % of one core, rss MB, peak rss MB")
	if len(res.Phases) > 0 {
		p := res.Phases[len(res.Phases)-1]
		for _, n := range p.Nodes {
			fmt.Fprintf(out, "  %-8s %7.1f %6.0f%% %7.0f %7.0f\n", n.Department, n.CPUSeconds, n.CPUPercent, n.RSSMB, n.PeakRSSMB)
		}
		if p.FirstError != "" {
			fmt.Fprintf(out, "first refusal: %s\n", p.FirstError)
		}
	}
	for _, p := range res.Phases {
		for _, f := range p.Profiles {
			fmt.Fprintf(out, "profile: %s   (go tool pprof -top %s)\n", f, f)
		}
	}
	if len(res.Summary) > 0 {
		fmt.Fprintln(out, "\nmedians:")
		for _, s := range res.Summary {
			fmt.Fprintf(out, "  %-12s runs %d  finalized %.0f tx/s  p50 %.0f ms  p99 %.0f ms  peak rss %.0f MB\n", s.Label, s.Runs, s.FinalizedTPS, s.P50, s.P99, s.PeakRSSMB)
		}
	}
	if len(res.CatchUps) > 0 {
		fmt.Fprintln(out)
	}
	for i := range res.CatchUps {
		cu := &res.CatchUps[i]
		fmt.Fprintf(out, "catch-up: %s from %d to %d: %d txs in %.1fs syncing (%.1fs from start): %.0f tx/s, %.1f blocks/s, peak rss %.0f MB\n",
			cu.Department, cu.FromHeight, cu.ToHeight, cu.Txs, cu.SyncSeconds, cu.TotalSeconds, cu.TxPerS, cu.BlocksPerS, cu.PeakRSSMB)
		if cu.OthersCPUSeconds > 0 {
			fmt.Fprintf(out, "  meanwhile the other nodes used %.1f CPU s (%.0f %% of one core)\n", cu.OthersCPUSeconds, 100*cu.OthersCPUSeconds/cu.TotalSeconds)
		}
		if cu.Profile != "" {
			fmt.Fprintf(out, "profile: %s   (go tool pprof -top %s)\n", cu.Profile, cu.Profile)
		}
	}
	if cu := res.CatchUp; cu != nil && len(res.CatchUps) > 1 {
		fmt.Fprintf(out, "catch-up median of %d: %.0f tx/s\n", len(res.CatchUps), cu.TxPerS)
	}
}

// medianCatchUp returns the run with the median tx/s (of an even count,
// the lower middle one: a run that happened, not an average of two).
func medianCatchUp(runs []CatchUpResult) *CatchUpResult {
	if len(runs) == 0 {
		return nil
	}
	idx := make([]int, len(runs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return runs[idx[a]].TxPerS < runs[idx[b]].TxPerS })
	cu := runs[idx[(len(runs)-1)/2]]
	return &cu
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
