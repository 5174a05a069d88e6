package store

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	ds "github.com/ipfs/go-datastore"

	"github.com/zwnode/zwnode/chain"
)

// Fixed keys.
var (
	keyChainID   = ds.RawKey("/m/chain-id")
	keyGenesis   = ds.RawKey("/m/genesis")
	keyHead      = ds.RawKey("/m/head")
	keySignState = ds.RawKey("/m/sign-state")
)

// Key prefixes (datastore query prefixes carry no trailing slash).
const (
	prefixBlock   = "/b"
	prefixCommit  = "/c"
	prefixHash    = "/h"
	prefixTx      = "/t"
	prefixAccount = "/a"
	prefixEvid    = "/e"
	prefixAuth    = "/v"
	prefixState   = "/s"
)

func hexHeight(h uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h)
	return hex.EncodeToString(b[:])
}

func parseHexHeight(s string) (uint64, bool) {
	var b [8]byte
	if len(s) != 16 {
		return 0, false
	}
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[:]), true
}

func blockKey(h uint64) ds.Key  { return ds.RawKey(prefixBlock + "/" + hexHeight(h)) }
func commitKey(h uint64) ds.Key { return ds.RawKey(prefixCommit + "/" + hexHeight(h)) }
func authKey(h uint64) ds.Key   { return ds.RawKey(prefixAuth + "/" + hexHeight(h)) }

func hashKey(h chain.Hash) ds.Key { return ds.RawKey(prefixHash + "/" + h.String()) }
func txKey(h chain.Hash) ds.Key   { return ds.RawKey(prefixTx + "/" + h.String()) }
func evidKey(h chain.Hash) ds.Key { return ds.RawKey(prefixEvid + "/" + h.String()) }

func accountPrefix(acct chain.PublicKey) string {
	return prefixAccount + "/" + hex.EncodeToString(acct[:])
}

// accountTxKey sorts an account's transactions by (height, index).
func accountTxKey(acct chain.PublicKey, h uint64, i uint32) ds.Key {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], h)
	binary.BigEndian.PutUint32(b[8:], i)
	return ds.RawKey(accountPrefix(acct) + "/" + hex.EncodeToString(b[:]))
}

// parseAccountTxKey returns the (height, index) suffix of an account key.
func parseAccountTxKey(k string) (uint64, uint32, bool) {
	const n = 24
	if len(k) < n+1 || k[len(k)-n-1] != '/' {
		return 0, 0, false
	}
	var b [12]byte
	if _, err := hex.Decode(b[:], []byte(k[len(k)-n:])); err != nil {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint32(b[8:]), true
}

// stateKeyString is the datastore key string of a ledger key. Hex keeps the
// byte order, so a byte prefix of ledger keys is a string prefix here.
func stateKeyString(key []byte) string {
	buf := make([]byte, 0, len(prefixState)+1+2*len(key))
	buf = append(buf, prefixState...)
	buf = append(buf, '/')
	buf = hex.AppendEncode(buf, key)
	return string(buf)
}

func stateKey(key []byte) ds.Key { return ds.RawKey(stateKeyString(key)) }

// parseStateKey recovers the ledger key from a datastore key string.
func parseStateKey(k string) ([]byte, error) {
	const p = prefixState + "/"
	if len(k) <= len(p) || k[:len(p)] != p {
		return nil, fmt.Errorf("%w: key %s is not a state key", ErrCorrupt, k)
	}
	out, err := hex.DecodeString(k[len(p):])
	if err != nil {
		return nil, fmt.Errorf("%w: key %s: %v", ErrCorrupt, k, err)
	}
	return out, nil
}

// location is the (height, index) value of the tx and evidence indexes.
func encodeLocation(h uint64, i uint32) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint64(b[:8], h)
	binary.BigEndian.PutUint32(b[8:], i)
	return b
}

func decodeLocation(key ds.Key, v []byte) (uint64, uint32, error) {
	if len(v) != 12 {
		return 0, 0, corrupt(key, fmt.Errorf("location of %d bytes, want 12", len(v)))
	}
	return binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint32(v[8:]), nil
}

func encodeHeight(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

func decodeHeight(key ds.Key, v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, corrupt(key, fmt.Errorf("height of %d bytes, want 8", len(v)))
	}
	return binary.BigEndian.Uint64(v), nil
}

// head is the head pointer: the last committed block and the state root
// after it. Before block 1 it holds height 0, the genesis hash and the
// genesis state root.
type head struct {
	height uint64
	hash   chain.Hash
	root   chain.Hash
}

const headLen = 8 + 2*chain.HashSize

func (h head) encode() []byte {
	b := make([]byte, 0, headLen)
	b = binary.BigEndian.AppendUint64(b, h.height)
	b = append(b, h.hash[:]...)
	return append(b, h.root[:]...)
}

func decodeHead(v []byte) (head, error) {
	var h head
	if len(v) != headLen {
		return h, corrupt(keyHead, fmt.Errorf("head of %d bytes, want %d", len(v), headLen))
	}
	h.height = binary.BigEndian.Uint64(v[:8])
	copy(h.hash[:], v[8:8+chain.HashSize])
	copy(h.root[:], v[8+chain.HashSize:])
	return h, nil
}

func decodeHash(key ds.Key, v []byte) (chain.Hash, error) {
	var h chain.Hash
	if len(v) != chain.HashSize {
		return h, corrupt(key, fmt.Errorf("hash of %d bytes, want %d", len(v), chain.HashSize))
	}
	copy(h[:], v)
	return h, nil
}

// corrupt wraps a decoding failure of stored data with the key it came from.
func corrupt(key ds.Key, err error) error {
	return fmt.Errorf("%w: key %s: %v", ErrCorrupt, key, err)
}
