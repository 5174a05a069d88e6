package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain/store"
	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node"
)

func newRunCmd() *cobra.Command {
	var home, apiListen string
	var listen, bootstrap []string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run this department's node",
		Long: `Run the node whose configuration lives in --home (created by 'zwnode init').

The node joins the network named by its genesis file, catches up from its peers,
takes part in consensus if its key is an authority, and serves the HTTP API.
SIGINT or SIGTERM stops it cleanly.`,
		Example: `  zwnode run --home /var/lib/zwnode
  zwnode run --home ./tax --api-listen 127.0.0.1:7481 --bootstrap /ip4/10.0.0.2/tcp/7400/p2p/12D3Koo...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := configs.LoadNode(home)
			if err != nil {
				return err
			}
			cfg := &files.Config
			if cmd.Flags().Changed("api-listen") {
				cfg.API.Listen = apiListen
			}
			if cmd.Flags().Changed("listen") {
				cfg.P2P.Listen = listen
			}
			if cmd.Flags().Changed("bootstrap") {
				cfg.P2P.Bootstrap = bootstrap
			}
			if ps := cfg.Validate(); ps.HasErrors() {
				return fmt.Errorf("flags: %w", ps.Errors())
			}
			opts, err := nodeOptions(files)
			if err != nil {
				return err
			}
			for _, w := range files.Warnings {
				opts.Logger.Warn("config", "err", w.Error())
			}
			applyMemoryLimit(cfg.Runtime, opts.Logger)
			applyMallocTuning(os.Getenv("GLIBC_TUNABLES"), opts.Logger)
			n, err := node.New(opts)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go trimMallocArenas(ctx, mallocTrimInterval)
			return n.Run(ctx)
		},
	}
	addHomeFlag(cmd, &home)
	cmd.Flags().StringVar(&apiListen, "api-listen", "", "override api.listen (host:port)")
	cmd.Flags().StringSliceVar(&listen, "listen", nil, "override p2p.listen multiaddrs")
	cmd.Flags().StringSliceVar(&bootstrap, "bootstrap", nil, "override p2p.bootstrap multiaddrs")
	return cmd
}

// nodeOptions turns the files of a node home into node options.
func nodeOptions(files *configs.NodeFiles) (node.Options, error) {
	cfg := files.Config
	observers, err := cfg.P2P.ObserverIDs()
	if err != nil {
		return node.Options{}, err
	}
	opts := node.Options{
		Genesis:         files.Genesis,
		Key:             files.Key.Chain(),
		P2PKey:          files.Key.Libp2p(),
		DataDir:         cfg.Node.DataDir,
		Listen:          cfg.P2P.Listen,
		Announce:        cfg.P2P.Announce,
		Bootstrap:       cfg.P2P.Bootstrap,
		Observers:       observers,
		PSK:             files.PSK,
		MDNS:            cfg.P2P.MDNS,
		DHT:             cfg.P2P.DHT,
		MempoolMaxTxs:   cfg.Mempool.MaxTxs,
		MempoolMaxBytes: int(cfg.Mempool.MaxBytes),
		StorageMemory: store.PebbleMemory{
			CacheBytes:    int64(cfg.Storage.CacheMB) << 20,
			MemTableBytes: int64(cfg.Storage.MemTableMB) << 20,
		},
		PseudonymKey: files.Pseudonym[:],
		Logger:       cfg.Log.NewLogger(os.Stderr),
	}
	if cfg.API.Enabled {
		opts.APIListen = cfg.API.Listen
		opts.Pprof = cfg.API.Pprof
	}
	return opts, nil
}

// mallocMmapThreshold is the C allocation size from which glibc maps
// memory separately (see setMallocMmapThreshold).
const mallocMmapThreshold = 4 << 20

// applyMallocTuning fixes glibc's mmap threshold before Pebble allocates,
// unless the operator set one in GLIBC_TUNABLES (tunables is its value).
// It reports whether it set the threshold.
func applyMallocTuning(tunables string, log *slog.Logger) bool {
	if strings.Contains(tunables, "mmap_threshold") || !setMallocMmapThreshold(mallocMmapThreshold) {
		return false
	}
	log.Debug("malloc mmap threshold", "bytes", mallocMmapThreshold)
	return true
}

// mallocTrimInterval is how often a node on glibc hands the free pages in
// malloc's arenas back to the system (trimMallocArenas).
const mallocTrimInterval = 10 * time.Second

// trimMallocArenas calls mallocTrim every interval until ctx ends, on
// glibc only. Pebble allocates its cache blocks with C malloc (below the
// mmap threshold, so inside the arenas); an evicted block leaves a free
// chunk there, and glibc keeps such chunks resident unless they border the
// top of an arena. Over ten minutes at max rate that grew to 12–17 MB per
// node beyond what the cache and memtables held (docs/BENCHMARK.md,
// sixteenth round). A trim walks the arenas' free lists; its own cost was
// not measured apart, but ten-minute max-rate runs with it were no slower
// than without.
func trimMallocArenas(ctx context.Context, every time.Duration) {
	if !mallocIsGlibc() {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			mallocTrim()
		}
	}
}

// applyMemoryLimit sets the Go runtime's soft memory limit from
// runtime.memory_limit_mb; 0 leaves the default (or GOMEMLIMIT) in force.
func applyMemoryLimit(rc configs.RuntimeConfig, log *slog.Logger) {
	if rc.MemoryLimitMB <= 0 {
		return
	}
	debug.SetMemoryLimit(int64(rc.MemoryLimitMB) << 20)
	log.Info("go memory limit", "mib", rc.MemoryLimitMB)
}
