package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/store"
)

const (
	maxTxBody    = 1 << 20
	maxBatchBody = 32 << 20
	maxBatchTxs  = 20_000
)

// APIError is the JSON body of every error response.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, field, format string, args ...any) {
	writeJSON(w, status, APIError{Code: code, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (n *Node) startAPI() (*http.Server, error) {
	ln, err := net.Listen("tcp", n.opts.APIListen)
	if err != nil {
		return nil, fmt.Errorf("node: api listen on %s: %w", n.opts.APIListen, err)
	}
	n.listener = ln
	url := "http://" + ln.Addr().String()
	n.apiURL.Store(&url)
	n.log.Info("api listening", "addr", url)
	return &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second}, nil
}

func (n *Node) serveAPI(ctx context.Context, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(n.listener) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc
		return ctx.Err()
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("node: api: %w", err)
	}
}

// Handler returns the HTTP API.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", n.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, n.Status())
	})
	mux.HandleFunc("GET /v1/peers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, n.Peers())
	})
	mux.HandleFunc("GET /v1/blocks/latest", func(w http.ResponseWriter, r *http.Request) {
		n.writeBlock(w, r, n.chainState().height)
	})
	mux.HandleFunc("GET /v1/blocks/{height}", func(w http.ResponseWriter, r *http.Request) {
		h, err := strconv.ParseUint(r.PathValue("height"), 10, 64)
		if err != nil || h == 0 {
			writeError(w, http.StatusBadRequest, "bad_height", "height", "height %q is not a positive integer", r.PathValue("height"))
			return
		}
		n.writeBlock(w, r, h)
	})
	mux.HandleFunc("POST /v1/txs", n.handleSubmitTx)
	mux.HandleFunc("POST /v1/txs/batch", n.handleSubmitBatch)
	mux.HandleFunc("GET /v1/txs/{hash}", n.handleTxStatus)
	mux.HandleFunc("GET /v1/events", n.handleEvents)
	n.registerLedgerRoutes(mux)
	if n.opts.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pebble", n.handlePebbleReport)
	}
	return mux
}

// handlePebbleReport writes Pebble's per-level table of the node's store.
func (n *Node) handlePebbleReport(w http.ResponseWriter, _ *http.Request) {
	report, ok := n.store.StorageReport()
	if !ok {
		writeError(w, http.StatusNotFound, "no_pebble", "", "the node's store is not on Pebble")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, report)
}

func (n *Node) handleReady(w http.ResponseWriter, r *http.Request) {
	select {
	case <-n.ready:
		st := n.Status()
		if st.Syncing {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "syncing", "height": st.Height, "best_peer_height": st.BestPeer})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "height": st.Height})
	default:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "starting"})
	}
}

// BlockResponse is a block with the certificate that finalized it.
type BlockResponse struct {
	Hash chain.Hash `json:"hash"`
	// TxCount is the number of transactions in the block, also when
	// ?txs=false leaves them out of Block.
	TxCount int           `json:"tx_count"`
	Block   *chain.Block  `json:"block"`
	Commit  *chain.Commit `json:"commit"`
}

// writeBlock answers GET /v1/blocks/{height}: the block and its
// certificate; with ?txs=false the block's transactions are left out (the
// header, certificate and tx_count are what most callers read, and a full
// block is megabytes of JSON).
func (n *Node) writeBlock(w http.ResponseWriter, r *http.Request, h uint64) {
	withTxs := true
	switch v := r.URL.Query().Get("txs"); v {
	case "", "true":
	case "false":
		withTxs = false
	default:
		writeError(w, http.StatusBadRequest, "bad_param", "txs", "txs=%q: use true or false", v)
		return
	}
	if h == 0 {
		writeError(w, http.StatusNotFound, "not_found", "height", "no block has been finalized yet")
		return
	}
	b, err := n.store.Block(r.Context(), h)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "height", "no block at height %d (head is %d)", h, n.chainState().height)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "", "%v", err)
		return
	}
	c, err := n.store.Commit(r.Context(), h)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store", "", "%v", err)
		return
	}
	resp := BlockResponse{Hash: b.Hash(), TxCount: len(b.Txs), Block: b, Commit: c}
	if !withTxs {
		hdr := *b
		hdr.Txs = []chain.Tx{}
		resp.Block = &hdr
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleSubmitTx takes one transaction as JSON (see docs/API.md) or in its
// canonical binary encoding (Content-Type: application/octet-stream).
func (n *Node) handleSubmitTx(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "", "request body over %d bytes", maxTxBody)
		return
	}
	var tx *chain.Tx
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		tx, err = chain.DecodeTx(body)
	} else {
		tx = new(chain.Tx)
		err = decodeStrict(body, tx)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed_tx", "", "%v", err)
		return
	}
	res := n.SubmitTxs(r.Context(), []chain.Tx{*tx})[0]
	if res.Error != "" {
		status := http.StatusBadRequest
		if res.Code == "mempool_full" {
			status = http.StatusServiceUnavailable
		}
		writeError(w, status, res.Code, "", "%s", res.Error)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"hash": res.Hash, "status": "pending"})
}

// handleSubmitBatch takes many transactions in one request: a JSON array or
// the canonical binary list encoding (application/octet-stream). Each gets
// its own result.
func (n *Node) handleSubmitBatch(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBatchBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "", "request body over %d bytes", maxBatchBody)
		return
	}
	var txs []chain.Tx
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		txs, err = chain.DecodeTxs(body, maxBatchTxs)
	} else {
		err = decodeStrict(body, &txs)
		if err == nil && len(txs) > maxBatchTxs {
			err = fmt.Errorf("%d txs in one batch, limit %d", len(txs), maxBatchTxs)
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed_batch", "", "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": n.SubmitTxs(r.Context(), txs)})
}

// TxStatus says where a transaction is.
type TxStatus struct {
	Hash   chain.Hash `json:"hash"`
	Status string     `json:"status"` // pending, finalized, unknown
	Height uint64     `json:"height,omitempty"`
	Index  uint32     `json:"index,omitempty"`
	Result any        `json:"result,omitempty"`
}

func (n *Node) handleTxStatus(w http.ResponseWriter, r *http.Request) {
	h, err := chain.ParseHash(r.PathValue("hash"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_hash", "hash", "%v", err)
		return
	}
	height, index, err := n.store.TxLocation(r.Context(), h)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, TxStatus{Hash: h, Status: "finalized", Height: height, Index: index, Result: n.txResult(h)})
	case !errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusInternalServerError, "store", "", "%v", err)
	case n.mempool.Has(h):
		writeJSON(w, http.StatusOK, TxStatus{Hash: h, Status: "pending"})
	default:
		writeJSON(w, http.StatusNotFound, TxStatus{Hash: h, Status: "unknown"})
	}
}

// handleEvents streams finalized blocks and alerts as server-sent events.
func (n *Node) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "no_streaming", "", "streaming unsupported")
		return
	}
	ch, cancel := n.events.subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case evs := <-ch:
			for _, ev := range evs {
				data, _ := json.Marshal(ev)
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Kind, data)
			}
			fl.Flush()
		}
	}
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
