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
	keyFormat    = ds.RawKey("/m/format")
)

// storeFormat is the layout version of the keys and values below, recorded
// by Init. 2: raw (not hex) hashes, accounts and ledger keys in keys, each
// ending in keyEnd. 3: the ledger's record heads under rec/<subject>/<schema>
// and no ix/subj index (ledger/keys.go). 4: the account index has one key
// per account and block (accountBlockKey). 5: blocks and sign-states above
// 64 KiB are stored in chunks (chunked.go). 6: the ledger's by-time index
// has one key per schema and block (ledger/timeindex.go), not one per
// record version. 7: a record's latest version is stored in its head, not
// under a version key of its own (ledger/tx_records.go, RecordHead). A
// directory in any other format is refused: formats 3 to 6 hold ledger
// state this zwnode would misread, and their chains' blocks would not
// re-execute to the state roots they carry.
const storeFormat = 7

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

// Keys that embed binary data (hashes, public keys, ledger keys) hold it raw
// — hex doubled the bytes every block writes and Pebble compacts — and end
// in keyEnd. A datastore key may not end in '/', which a raw byte can be;
// appending the same byte to every key keeps their byte order (a key that
// is a prefix of another still sorts first), so prefix scans still work.
const keyEnd = 0x00

// rawKey is prefix + "/" + the parts + keyEnd.
func rawKey(prefix string, parts ...[]byte) ds.Key {
	n := len(prefix) + 2
	for _, p := range parts {
		n += len(p)
	}
	return ds.RawKey(string(appendRawKey(make([]byte, 0, n), prefix, parts...)))
}

// appendRawKey appends rawKey(prefix, parts...)'s bytes to dst.
func appendRawKey(dst []byte, prefix string, parts ...[]byte) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, '/')
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return append(dst, keyEnd)
}

func hashKey(h chain.Hash) ds.Key { return rawKey(prefixHash, h[:]) }
func txKey(h chain.Hash) ds.Key   { return rawKey(prefixTx, h[:]) }
func evidKey(h chain.Hash) ds.Key { return rawKey(prefixEvid, h[:]) }

// accountPrefix is the datastore query prefix of an account's index (no
// trailing slash); the account's index keys start with it plus "/".
func accountPrefix(acct chain.PublicKey) string {
	return prefixAccount + "/" + string(acct[:])
}

// The account index has one key per account and block, accountBlockKey(acct,
// h), whose value lists the account's transactions in that block (see
// appendAccountEntry).

// accountPageBound is the exclusive upper bound (a datastore key string)
// of a page of an account's history before transaction i of block h: it
// sorts after h's block key (which is its prefix up to the final 0x00) and
// before h+1's.
func accountPageBound(acct chain.PublicKey, h uint64, i uint32) string {
	var b [13]byte
	b[0] = '/'
	binary.BigEndian.PutUint64(b[1:9], h)
	binary.BigEndian.PutUint32(b[9:], i)
	return string(appendRawKey(nil, prefixAccount, acct[:], b[:]))
}

// appendAccountBlockKey appends the key of acct's transactions in block h.
func appendAccountBlockKey(dst []byte, acct chain.PublicKey, h uint64) []byte {
	var b [9]byte
	b[0] = '/'
	binary.BigEndian.PutUint64(b[1:], h)
	return appendRawKey(dst, prefixAccount, acct[:], b[:])
}

// accountBlockKeyLen is the length of an account index key.
const accountBlockKeyLen = len(prefixAccount) + 1 + chain.PublicKeySize + 9 + 1

// accountEntryLen is one transaction in an account block value: its uint32
// index in the block, then its hash. Entries are in ascending index order.
const accountEntryLen = 4 + chain.HashSize

// parseAccountIndex decodes one account index entry into its transactions,
// in ascending index order.
func parseAccountIndex(k string, v []byte) ([]TxRef, error) {
	n := len(k)
	if n != accountBlockKeyLen || k[n-1] != keyEnd || k[n-10] != '/' {
		return nil, fmt.Errorf("%w: account index key %x", ErrCorrupt, k)
	}
	if len(v) == 0 || len(v)%accountEntryLen != 0 {
		return nil, fmt.Errorf("%w: account index %x: value of %d bytes", ErrCorrupt, k, len(v))
	}
	h := binary.BigEndian.Uint64([]byte(k[n-9 : n-1]))
	refs := make([]TxRef, len(v)/accountEntryLen)
	for j := range refs {
		e := v[j*accountEntryLen:]
		refs[j] = TxRef{Height: h, Index: binary.BigEndian.Uint32(e)}
		copy(refs[j].Hash[:], e[4:accountEntryLen])
		if j > 0 && refs[j].Index <= refs[j-1].Index {
			return nil, fmt.Errorf("%w: account index %x: indexes not ascending", ErrCorrupt, k)
		}
	}
	return refs, nil
}

// statePrefixString is the datastore key string every state key under the
// ledger prefix p starts with (p raw, no terminator).
func statePrefixString(p []byte) string { return prefixState + "/" + string(p) }

func stateKey(key []byte) ds.Key { return rawKey(prefixState, key) }

// parseStateKey recovers the ledger key from a datastore key string.
func parseStateKey(k string) ([]byte, error) {
	const p = prefixState + "/"
	if len(k) < len(p)+2 || k[:len(p)] != p || k[len(k)-1] != keyEnd {
		return nil, fmt.Errorf("%w: key %q is not a state key", ErrCorrupt, k)
	}
	return []byte(k[len(p) : len(k)-1]), nil
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
	return fmt.Errorf("%w: key %q: %v", ErrCorrupt, key.String(), err)
}

// decodeFormat reads the recorded storage format; stores from before the
// marker existed are format 1.
func encodeFormat(f uint32) []byte { return binary.BigEndian.AppendUint32(nil, f) }

func decodeFormat(v []byte, ok bool) uint32 {
	if !ok || len(v) != 4 {
		return 1
	}
	return binary.BigEndian.Uint32(v)
}
