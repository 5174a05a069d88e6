package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/configs"
	"github.com/zwnode/zwnode/node"
	"github.com/zwnode/zwnode/node/keyfile"
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
			cfg, err := configs.Load(filepath.Join(home, "config", "node.toml"))
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("api-listen") {
				cfg.API.Listen = apiListen
			}
			if cmd.Flags().Changed("listen") {
				cfg.P2P.Listen = listen
			}
			if cmd.Flags().Changed("bootstrap") {
				cfg.P2P.Bootstrap = bootstrap
			}
			if errs := cfg.Validate(); len(errs) > 0 {
				return fmt.Errorf("node.toml: %w", errs[0])
			}
			cfg = cfg.Resolve(home)
			opts, err := nodeOptions(cfg)
			if err != nil {
				return err
			}
			n, err := node.New(opts)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return n.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&home, "home", ".", "node home directory (config/ and data/ live here)")
	cmd.Flags().StringVar(&apiListen, "api-listen", "", "override api.listen (host:port)")
	cmd.Flags().StringSliceVar(&listen, "listen", nil, "override p2p.listen multiaddrs")
	cmd.Flags().StringSliceVar(&bootstrap, "bootstrap", nil, "override p2p.bootstrap multiaddrs")
	return cmd
}

// nodeOptions turns a resolved config into node options, reading the key,
// genesis and secrets it names.
func nodeOptions(cfg configs.Config) (node.Options, error) {
	var opts node.Options
	key, err := keyfile.Load(cfg.Node.KeyFile)
	if err != nil {
		return opts, err
	}
	g, err := chain.LoadGenesis(cfg.Node.GenesisFile)
	if err != nil {
		return opts, err
	}
	var observers []peer.ID
	for _, s := range cfg.P2P.Observers {
		id, err := peer.Decode(s)
		if err != nil {
			return opts, fmt.Errorf("node.toml: p2p.observers: %q: %w", s, err)
		}
		observers = append(observers, id)
	}
	var psk []byte
	if cfg.P2P.PSKFile != "" {
		if psk, err = os.ReadFile(cfg.P2P.PSKFile); err != nil {
			return opts, fmt.Errorf("p2p.psk_file: %w", err)
		}
	}
	var pseudo []byte
	if cfg.Ledger.PseudonymKeyFile != "" {
		if pseudo, err = os.ReadFile(cfg.Ledger.PseudonymKeyFile); err != nil {
			return opts, fmt.Errorf("ledger.pseudonym_key_file: %w", err)
		}
	}
	opts = node.Options{
		Genesis:         g,
		Key:             key.Chain(),
		P2PKey:          key.Libp2p(),
		DataDir:         cfg.Node.DataDir,
		Listen:          cfg.P2P.Listen,
		Announce:        cfg.P2P.Announce,
		Bootstrap:       cfg.P2P.Bootstrap,
		Observers:       observers,
		PSK:             psk,
		MDNS:            cfg.P2P.MDNS,
		DHT:             cfg.P2P.DHT,
		MempoolMaxTxs:   cfg.Mempool.MaxTxs,
		MempoolMaxBytes: int(cfg.Mempool.MaxBytes),
		PseudonymKey:    pseudo,
		Logger:          newLogger(cfg.Log.Level, cfg.Log.Format),
	}
	if cfg.API.Enabled {
		opts.APIListen = cfg.API.Listen
	}
	return opts, nil
}

func newLogger(level, format string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	hopts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, hopts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, hopts))
}
