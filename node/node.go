package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger"
	"github.com/zwnode/zwnode/chain/store"
	"github.com/zwnode/zwnode/node/mempool"
	"github.com/zwnode/zwnode/p2p"
)

// Options is everything a node needs; the CLI builds it from node.toml, the
// key file and the genesis file.
type Options struct {
	Genesis *chain.Genesis
	// Key is the department's ed25519 key: consensus signer and libp2p
	// identity. A key that is not an authority makes an observer.
	Key     *chain.PrivateKey
	P2PKey  crypto.PrivKey
	DataDir string
	// Datastore, when set, replaces Pebble under DataDir (unit tests only).
	Datastore ds.Batching

	Listen    []string
	Announce  []string
	Bootstrap []string
	Observers []peer.ID
	PSK       []byte
	MDNS      bool
	DHT       bool

	// APIListen is host:port for the HTTP API; empty disables it.
	APIListen string
	// Pprof serves net/http/pprof under /debug/pprof/ on the API.
	Pprof bool

	MempoolMaxTxs   int
	MempoolMaxBytes int

	// StorageMemory sizes Pebble's cache and memtables (zero fields take
	// store's defaults).
	StorageMemory store.PebbleMemory

	// PseudonymKey is the network secret used to turn resident ID numbers
	// into pseudonyms at the API edge.
	PseudonymKey []byte

	Logger *slog.Logger
}

// Node is a running department node.
type Node struct {
	opts    Options
	log     *slog.Logger
	chainID string
	genesis *chain.Genesis
	genHash chain.Hash

	closeStore func() error
	store      *store.Store
	ledger     *ledger.Ledger
	mempool    *mempool.Mempool
	host       *p2p.Host
	metrics    *metrics
	registry   *prometheus.Registry

	// channels into the consensus loop
	inbound chan inboundMsg
	fired   chan timerFired
	synced  chan syncBatch

	txOut chan []chain.Tx // to the gossip batcher

	// compact proposals to rebuild, and the whole blocks of the current
	// height's proposals (proposals.go)
	assemble  chan assembleJob
	proposals proposalCache

	// state published by the loop for readers (API, syncer)
	cs        atomic.Pointer[chainState]
	evidence  evidencePool
	status    atomic.Pointer[Status]
	syncState atomic.Pointer[syncInfo]
	current   atomic.Pointer[[]*chain.Message]
	events    *broker
	listener  net.Listener
	apiURL    atomic.Pointer[string]

	readyOnce sync.Once
	ready     chan struct{}
}

// New opens storage and builds every component, but starts nothing.
func New(opts Options) (*Node, error) {
	if opts.Genesis == nil || opts.Key == nil {
		return nil, errors.New("node: genesis and key are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	n := &Node{
		opts:     opts,
		log:      opts.Logger,
		chainID:  opts.Genesis.ChainID,
		genesis:  opts.Genesis,
		genHash:  opts.Genesis.Hash(),
		inbound:  make(chan inboundMsg, 4096),
		fired:    make(chan timerFired, 64),
		synced:   make(chan syncBatch, 4),
		txOut:    make(chan []chain.Tx, 1024),
		assemble: make(chan assembleJob, assembleQueue),
		events:   newBroker(),
		registry: prometheus.NewRegistry(),
		ready:    make(chan struct{}),
	}
	n.metrics = newMetrics(n.registry)
	led, err := ledger.New(opts.Genesis)
	if err != nil {
		return nil, fmt.Errorf("node: ledger: %w", err)
	}
	n.ledger = led
	if err := n.openStore(); err != nil {
		return nil, err
	}
	if err := n.initState(); err != nil {
		n.closeStore()
		return nil, err
	}
	n.mempool = mempool.New(mempool.Config{
		MaxTxs:     opts.MempoolMaxTxs,
		MaxBytes:   opts.MempoolMaxBytes,
		MaxTxBytes: opts.Genesis.Params.MaxTxBytes,
		ChainID:    n.chainID,
	}, &mempoolState{n: n})
	n.registerGauges()
	return n, nil
}

func (n *Node) openStore() error {
	d := n.opts.Datastore
	if d == nil {
		pd, err := store.OpenPebbleSized(n.opts.DataDir, n.opts.StorageMemory)
		if err != nil {
			return fmt.Errorf("node: open store in %s: %w", n.opts.DataDir, err)
		}
		d = pd
	}
	st, err := store.Open(context.Background(), d)
	if err != nil {
		d.Close()
		return fmt.Errorf("node: data directory %s: %w", n.opts.DataDir, err)
	}
	n.store = st
	n.closeStore = st.Close
	return nil
}

// Run starts the node and blocks until ctx is cancelled or a component
// fails. It returns nil on a clean shutdown.
func (n *Node) Run(ctx context.Context) error {
	defer n.closeStore()
	g, ctx := errgroup.WithContext(ctx)

	host, err := p2p.New(ctx, p2p.Config{
		ChainID:       n.chainID,
		Key:           n.opts.P2PKey,
		ListenAddrs:   n.opts.Listen,
		AnnounceAddrs: n.opts.Announce,
		Bootstrap:     n.opts.Bootstrap,
		Authorities:   authorityKeys(n.authorities()),
		Observers:     n.opts.Observers,
		PSK:           n.opts.PSK,
		EnableMDNS:    n.opts.MDNS,
		EnableDHT:     n.opts.DHT,
		Logger:        n.log.With("component", "p2p"),
		Registerer:    n.registry,
	}, &p2pHandler{n: n}, &syncSource{n: n})
	if err != nil {
		return fmt.Errorf("node: start p2p: %w", err)
	}
	n.host = host
	defer host.Close()
	n.log.Info("node started", "department", n.department(), "peer", host.ID().String(), "height", n.chainState().height)
	for _, a := range host.Addrs() {
		n.log.Info("listening", "addr", a.String())
	}

	if n.opts.APIListen != "" {
		srv, err := n.startAPI()
		if err != nil {
			return err
		}
		g.Go(func() error { return n.serveAPI(ctx, srv) })
	}
	lp, err := n.newLoop()
	if err != nil {
		return err
	}
	g.Go(func() error { return lp.run(ctx) })
	g.Go(func() error { return n.runSyncer(ctx) })
	g.Go(func() error { return n.runGossipBatcher(ctx) })
	g.Go(func() error { return n.runAssembler(ctx) })
	err = g.Wait()
	n.log.Info("node stopped", "height", n.chainState().height)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// APIURL returns the API base URL once the listener is bound.
func (n *Node) APIURL() string {
	if p := n.apiURL.Load(); p != nil {
		return *p
	}
	return ""
}

func (n *Node) department() string {
	set := n.authorities()
	if i, ok := set.Index(n.opts.Key.Public()); ok {
		return set.At(i).Department
	}
	return "observer"
}

func authorityKeys(set *chain.AuthoritySet) []chain.PublicKey {
	keys := make([]chain.PublicKey, set.Size())
	for i := range keys {
		keys[i] = set.At(i).PubKey
	}
	return keys
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
