// Package node wires a department node together: consensus engine, p2p
// layer, mempool, ledger and store, plus the HTTP API.
//
// It is the only package that starts long-lived goroutines. One goroutine,
// the consensus loop, owns the engine and executes its outputs strictly in
// order: persist sign-state (synced) → send signed messages; commit a
// decided block (execute → one atomic synced batch) → tell the mempool, the
// network and API subscribers. Everything else (p2p intake, the API, the
// catch-up syncer, the tx gossip batcher) talks to that loop over channels.
// Every goroutine takes the Run context and is joined before Run returns. A
// storage error stops the node: it never carries on after a failed write.
package node
