package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/zwnode/zwnode/chain"
)

// submission is when and where one transaction was handed to the API:
// at is the time since the tracker's epoch, so that (like benchTx) it
// holds no pointer for the collector to follow, in a map that reaches
// millions of entries.
type submission struct {
	at   time.Duration
	node int32
	done bool
}

// blockSeen is a finalized block as first seen on any node's event stream.
type blockSeen struct {
	height uint64
	at     time.Time
	txs    int
	ours   int
	round  uint32 // consensus round it was decided in
}

// tracker follows every node's GET /v1/events stream and matches block
// tx_hashes against submissions: latency is submission to the block event
// on the node that received the transaction.
type tracker struct {
	mu        sync.Mutex
	epoch     time.Time
	subs      map[chain.Hash]submission
	latencies []time.Duration // of finalized submissions, in finalization order
	blocks    map[uint64]*blockSeen
	pending   int // submitted, not yet finalized
	changed   chan struct{}
	heights   []uint64 // head height per node from its stream
}

func newTracker(nodes int) *tracker {
	return &tracker{epoch: time.Now(), subs: make(map[chain.Hash]submission), blocks: make(map[uint64]*blockSeen), changed: make(chan struct{}, 1), heights: make([]uint64, nodes)}
}

// submitted records hashes handed to node at t. A hash seen before keeps its
// first submission (a retry after mempool_full does not reset its clock).
func (t *tracker) submitted(node int, at time.Time, hashes []chain.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		if _, ok := t.subs[h]; ok {
			continue
		}
		t.subs[h] = submission{at: at.Sub(t.epoch), node: int32(node)}
		t.pending++
	}
}

// forget drops submissions the node refused for good.
func (t *tracker) forget(hashes []chain.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		if s, ok := t.subs[h]; ok && !s.done {
			delete(t.subs, h)
			t.pending--
		}
	}
}

// inflight is the number of submitted, not yet finalized transactions.
func (t *tracker) inflight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// benchEvent is the part of a /v1/events block event the bench reads.
type benchEvent struct {
	Kind     string       `json:"kind"`
	Height   uint64       `json:"height"`
	TxCount  int          `json:"tx_count"`
	Round    uint32       `json:"round"`
	TxHashes []chain.Hash `json:"tx_hashes"`
}

func (t *tracker) onBlock(node int, at time.Time, ev *benchEvent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ev.Height > t.heights[node] {
		t.heights[node] = ev.Height
	}
	b := t.blocks[ev.Height]
	first := b == nil
	if first {
		b = &blockSeen{height: ev.Height, at: at, txs: ev.TxCount, round: ev.Round}
		t.blocks[ev.Height] = b
	}
	for _, h := range ev.TxHashes {
		s, ok := t.subs[h]
		if !ok {
			continue
		}
		if first {
			b.ours++
		}
		if int(s.node) == node && !s.done {
			s.done = true
			t.subs[h] = s
			t.pending--
			t.latencies = append(t.latencies, at.Sub(t.epoch)-s.at)
		}
	}
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// follow reads node's event stream until ctx ends, reconnecting after
// errors (a node restarted by the catch-up phase).
func (t *tracker) follow(ctx context.Context, node int, url string) {
	for ctx.Err() == nil {
		t.stream(ctx, node, url)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (t *tracker) stream(ctx context.Context, node int, url string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/events", nil)
	if err != nil {
		return
	}
	// The stream lives as long as ctx: no client timeout.
	resp, err := (&http.Client{Transport: benchHTTP.Transport}).Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var kind string
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("event: ")):
			kind = string(line[len("event: "):])
		case bytes.HasPrefix(line, []byte("data: ")) && kind == "block":
			at := time.Now()
			var ev benchEvent
			if json.Unmarshal(line[len("data: "):], &ev) == nil {
				t.onBlock(node, at, &ev)
			}
		}
	}
}

// waitDone waits until every submission is finalized or timeout passes.
func (t *tracker) waitDone(ctx context.Context, timeout time.Duration) bool {
	return t.waitFor(ctx, timeout, func() bool { return t.inflight() == 0 })
}

// waitHashes waits until every hash is finalized (seen by its node).
func (t *tracker) waitHashes(ctx context.Context, hashes []chain.Hash, timeout time.Duration) bool {
	return t.waitFor(ctx, timeout, func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, h := range hashes {
			if s, ok := t.subs[h]; ok && !s.done {
				return false
			}
		}
		return true
	})
}

// waitFor re-checks cond whenever the tracker changes (and at least every
// 500 ms) until it holds, ctx ends or timeout passes.
func (t *tracker) waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-t.changed:
		case <-time.After(500 * time.Millisecond):
		}
	}
	return true
}
