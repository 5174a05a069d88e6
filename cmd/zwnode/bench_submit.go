package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zwnode/zwnode/chain"
)

// submitStats counts what the submitters did.
type submitStats struct {
	accepted  atomic.Int64
	rejected  atomic.Int64
	fullRetry atomic.Int64 // mempool_full and nonce_too_high answers (retried)
	requests  atomic.Int64
	errMu     sync.Mutex
	firstErr  string
}

func (s *submitStats) noteErr(msg string) {
	s.errMu.Lock()
	if s.firstErr == "" {
		s.firstErr = msg
	}
	s.errMu.Unlock()
}

// submitter feeds one node its share of the stream in order.
type submitter struct {
	node     int
	url      string
	load     *benchLoad // holds the encodings of txs
	txs      []benchTx
	tr       *tracker
	st       *submitStats
	rate     float64 // tx/s for this node; 0 = as fast as admitted
	batch    int     // most txs per request
	inflight int     // most unfinalized txs over all nodes, for rate 0
	sent     int     // next index into txs
	accounts map[chain.PublicKey]*benchAccount
}

// batchResult is the part of the POST /v1/txs/batch answer the bench reads.
type batchResult struct {
	Results []struct {
		Hash  chain.Hash `json:"hash"`
		Error string     `json:"error"`
		Code  string     `json:"code"`
	} `json:"results"`
}

// run submits until ctx ends or the stream is used up, then spends up to
// grace re-sending what was refused as mempool_full or nonce_too_high, so
// no account is left with a nonce gap for the next phase.
func (s *submitter) run(ctx context.Context, start time.Time, grace time.Duration) {
	retry := s.loop(ctx, start)
	gctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for len(retry) > 0 && gctx.Err() == nil {
		retry = s.post(gctx, retry)
		if len(retry) > 0 {
			sleepCtxBench(gctx, 100*time.Millisecond)
		}
	}
}

func (s *submitter) loop(ctx context.Context, start time.Time) []benchTx {
	tick := 20 * time.Millisecond
	var retry []benchTx
	for ctx.Err() == nil {
		var todo []benchTx
		if len(retry) > 0 {
			todo, retry = retry, nil
		}
		want := s.batch - len(todo)
		if s.rate > 0 {
			due := int(time.Since(start).Seconds()*s.rate) - s.sent
			want = min(want, max(0, due))
		} else if room := s.inflight - s.tr.inflight(); room < want {
			want = max(0, room)
		}
		want = min(want, len(s.txs)-s.sent)
		todo = append(todo, s.txs[s.sent:s.sent+want]...)
		s.sent += want
		if len(todo) == 0 {
			if s.sent == len(s.txs) {
				return nil
			}
			sleepCtxBench(ctx, tick)
			continue
		}
		full := s.post(ctx, todo)
		if len(full) > 0 {
			retry = full
			sleepCtxBench(ctx, 50*time.Millisecond)
		} else if s.rate > 0 {
			sleepCtxBench(ctx, tick)
		}
	}
	return retry
}

// post sends one batch and returns the txs refused with mempool_full or
// nonce_too_high, to be retried first (in order, so nonces stay
// contiguous).
func (s *submitter) post(ctx context.Context, todo []benchTx) []benchTx {
	hashes := make([]chain.Hash, len(todo))
	for i := range todo {
		hashes[i] = todo[i].hash
	}
	body := s.load.batchBody(todo)
	s.tr.submitted(s.node, time.Now(), hashes)
	s.st.requests.Add(1)
	// The request outlives the window: cancelling it half-way would leave
	// the bench unsure which nonces the node took.
	res, err := postBatch(context.WithoutCancel(ctx), s.url, body)
	if err != nil {
		if ctx.Err() == nil {
			s.st.noteErr(err.Error())
		}
		s.tr.forget(hashes)
		s.st.rejected.Add(int64(len(todo)))
		return nil
	}
	var full []benchTx
	var refused []chain.Hash
	for i, r := range res.Results {
		if i >= len(todo) {
			break
		}
		switch r.Code {
		case "", "duplicate", "nonce_too_low":
			// duplicate / nonce_too_low: a retried tx the node already
			// holds or has committed.
			s.st.accepted.Add(1)
			s.ack(&todo[i])
		case "mempool_full", "nonce_too_high":
			// Back-pressure: the pool, or the account's nonce window
			// (256 pending), is full while the cluster is behind an
			// open-loop rate. Refusing the tx for good would leave its
			// account with a gap that strands every later tx.
			s.st.fullRetry.Add(1)
			full = append(full, todo[i])
		default:
			s.st.rejected.Add(1)
			s.st.noteErr(fmt.Sprintf("node %d refused tx: %s: %s", s.node, r.Code, r.Error))
			refused = append(refused, todo[i].hash)
		}
	}
	s.tr.forget(refused)
	return full
}

// ack records that tx's nonce is taken, so a later phase continues after it.
func (s *submitter) ack(tx *benchTx) {
	a := s.accounts[tx.account]
	if a == nil {
		return
	}
	for {
		cur := a.acked.Load()
		if tx.nonce <= cur || a.acked.CompareAndSwap(cur, tx.nonce) {
			return
		}
	}
}

func postBatch(ctx context.Context, url string, body []byte) (*batchResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/txs/batch", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := benchHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST %s/v1/txs/batch: HTTP %d: %s", url, resp.StatusCode, bytes.TrimSpace(data))
	}
	var res batchResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func sleepCtxBench(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
