// Package store keeps a node's finalized chain on a go-datastore: blocks,
// their commit certificates, the ledger state, the indexes the API needs and
// the consensus sign-state.
//
// # Atomicity and durability
//
// [Store.CommitBlock] writes a block, its certificate, its evidence, the
// ledger state changes it caused, its indexes, any authority-set change and
// the head pointer in one datastore batch, then makes it durable before
// returning. On Pebble (see [OpenPebble]) a batch is one atomic, fsynced WAL
// record, so after a crash a node restarts at the old head or the new head,
// never at a mix. Every storage failure is returned; a failed sync makes the
// store refuse further writes, because the node must stop rather than carry
// on with state it cannot trust to be on disk.
//
// # Key layout
//
// Heights are 16 lowercase hex digits of their big-endian form and sort
// numerically. Hashes, public keys and ledger keys are written raw (hex
// doubled what every block writes and Pebble compacts) and such keys end in
// a 0x00 byte: a datastore key may not end in '/', and the same final byte
// on every key keeps their byte order. Storage format 7 (recorded in
// /m/format); a store in any other format is refused with [ErrFormat].
//
//	/m/format                          storage format (uint32)
//	/m/chain-id                        chain id
//	/m/genesis                         genesis hash
//	/m/head                            height ‖ block hash ‖ state root
//	/m/sign-state                      consensus sign-state (opaque)
//	/b/<height>                        encoded block; at head+1, the valid
//	                                   block saved with the sign-state
//	                                   (pending.go), not served until committed
//	/c/<height>                        encoded certificate finalizing that block
//	/h/<block hash>\0                  height
//	/t/<tx hash>\0                     height ‖ uint32 index in block
//	/a/<account>/<height>\0            the account's txs in that block: per tx
//	                                   uint32 index ‖ tx hash, ascending index
//	/e/<evidence hash>\0               height ‖ uint32 index in block
//	/v/<height>                        authority set effective from that height
//	/s/<ledger key>\0                  ledger state value
//
// The store owns its datastore's whole key space; give it a datastore of its
// own (or a namespace.Wrap) if the node keeps other data in the same place.
package store
