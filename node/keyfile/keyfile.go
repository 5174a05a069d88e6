// Package keyfile reads and writes a department node's secret files: the
// ed25519 node key, which is both the consensus signing key and the libp2p
// identity (so a peer ID names a department), and small shared secrets such
// as the resident-ID pseudonym key.
//
// # Node key file format
//
// A node key file is a small JSON document, so an operator can tell what it is
// and which peer it belongs to without tools:
//
//	{
//	  "kind": "zwnode/node-key/v1",
//	  "peer_id": "12D3KooW…",
//	  "public_key": "<32-byte ed25519 public key, standard base64>",
//	  "private_key": "<libp2p crypto.MarshalPrivateKey protobuf, standard base64>"
//	}
//
// The private key is the libp2p protobuf encoding, the same bytes other libp2p
// tools use. peer_id and public_key are redundant copies that Load checks
// against the private key, which catches a file edited by hand or mixed up
// with another department's. The file must have mode 0600: Load refuses keys
// readable by group or others.
package keyfile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
	pb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

// Kind is the "kind" value of a node key file.
const Kind = "zwnode/node-key/v1"

// maxFileSize bounds what Load reads: a key file is a few hundred bytes.
const maxFileSize = 64 << 10

// Sentinel errors, wrapped with the file path and a hint.
var (
	// ErrExists means Generate or Save would overwrite an existing file.
	ErrExists = errors.New("keyfile: file already exists")
	// ErrPermissions means a secret file is readable or writable by group or others.
	ErrPermissions = errors.New("keyfile: file permissions are too open")
	// ErrCorrupt means the file does not have the expected format or its
	// redundant fields do not match the private key.
	ErrCorrupt = errors.New("keyfile: file is corrupt")
	// ErrNotEd25519 means a key or peer ID is not ed25519.
	ErrNotEd25519 = errors.New("keyfile: not an ed25519 key")
)

// Key is a department node's ed25519 key in the forms the chain and libp2p need.
type Key struct {
	chain  *chain.PrivateKey
	libp2p crypto.PrivKey
	id     peer.ID
}

// FromChain wraps an existing chain key, e.g. one derived from a fixed seed
// for a devnet or a test.
func FromChain(k *chain.PrivateKey) (*Key, error) {
	if k == nil {
		return nil, fmt.Errorf("keyfile: nil key")
	}
	lk, err := crypto.UnmarshalEd25519PrivateKey(k.Ed25519())
	if err != nil {
		return nil, fmt.Errorf("keyfile: convert key: %w", err)
	}
	id, err := peer.IDFromPrivateKey(lk)
	if err != nil {
		return nil, fmt.Errorf("keyfile: derive peer id: %w", err)
	}
	return &Key{chain: k, libp2p: lk, id: id}, nil
}

// New creates a fresh random key (not yet saved).
func New() (*Key, error) {
	return newFrom(rand.Reader)
}

func newFrom(r io.Reader) (*Key, error) {
	_, priv, err := ed25519.GenerateKey(r)
	if err != nil {
		return nil, fmt.Errorf("keyfile: generate key: %w", err)
	}
	ck, err := chain.NewPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keyfile: generate key: %w", err)
	}
	return FromChain(ck)
}

// Chain returns the consensus signing key.
func (k *Key) Chain() *chain.PrivateKey { return k.chain }

// Libp2p returns the libp2p identity key.
func (k *Key) Libp2p() crypto.PrivKey { return k.libp2p }

// PeerID returns the libp2p peer ID derived from the key.
func (k *Key) PeerID() peer.ID { return k.id }

// PublicKey returns the ed25519 public key as the chain names it.
func (k *Key) PublicKey() chain.PublicKey { return k.chain.Public() }

// fileJSON is the on-disk shape of a node key file.
type fileJSON struct {
	Kind       string `json:"kind"`
	PeerID     string `json:"peer_id"`
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key"`
}

// Generate creates a new random key and writes it to path with mode 0600,
// creating the parent directory (mode 0700) if needed. It refuses to
// overwrite an existing file.
func Generate(path string) (*Key, error) {
	k, err := New()
	if err != nil {
		return nil, err
	}
	if err := Save(path, k); err != nil {
		return nil, err
	}
	return k, nil
}

// Save writes k to path with mode 0600. It never overwrites an existing file:
// the key is written to a temporary file, synced, then hard-linked into place,
// so path either does not exist or holds the complete key.
func Save(path string, k *Key) error {
	raw, err := crypto.MarshalPrivateKey(k.libp2p)
	if err != nil {
		return fmt.Errorf("keyfile: marshal key: %w", err)
	}
	doc := fileJSON{
		Kind:       Kind,
		PeerID:     k.id.String(),
		PublicKey:  k.PublicKey().String(),
		PrivateKey: base64.StdEncoding.EncodeToString(raw),
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("keyfile: encode key: %w", err)
	}
	return writeSecret(path, append(data, '\n'))
}

// Load reads a node key file, checking its permissions and format.
func Load(path string) (*Key, error) {
	data, err := readSecret(path)
	if err != nil {
		return nil, err
	}
	k, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func parse(data []byte) (*Key, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc fileJSON
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: not a node key file (JSON): %v", ErrCorrupt, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrCorrupt)
	}
	if doc.Kind != Kind {
		return nil, fmt.Errorf("%w: kind is %q, want %q", ErrCorrupt, doc.Kind, Kind)
	}
	raw, err := base64.StdEncoding.DecodeString(doc.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("%w: private_key is not base64: %v", ErrCorrupt, err)
	}
	lk, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: private_key: %v", ErrCorrupt, err)
	}
	if lk.Type() != pb.KeyType_Ed25519 {
		return nil, fmt.Errorf("%w: private_key is a %s key", ErrNotEd25519, lk.Type())
	}
	seedAndPub, err := lk.Raw()
	if err != nil {
		return nil, fmt.Errorf("%w: private_key: %v", ErrCorrupt, err)
	}
	ck, err := chain.NewPrivateKey(ed25519.PrivateKey(seedAndPub))
	if err != nil {
		return nil, fmt.Errorf("%w: private_key: %v", ErrCorrupt, err)
	}
	// The libp2p encoding carries the public half too; a flipped bit there
	// would give a key whose signatures nobody can verify.
	if !bytes.Equal(ed25519.NewKeyFromSeed(seedAndPub[:ed25519.SeedSize]), seedAndPub) {
		return nil, fmt.Errorf("%w: private_key: public half does not match the seed", ErrCorrupt)
	}
	k, err := FromChain(ck)
	if err != nil {
		return nil, err
	}
	if doc.PublicKey != k.PublicKey().String() {
		return nil, fmt.Errorf("%w: public_key %q does not match the private key (%s)", ErrCorrupt, doc.PublicKey, k.PublicKey())
	}
	if doc.PeerID != k.id.String() {
		return nil, fmt.Errorf("%w: peer_id %q does not match the private key (%s)", ErrCorrupt, doc.PeerID, k.id)
	}
	return k, nil
}

// checkMode refuses a secret file that group or others may access.
func checkMode(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w: not a regular file", path, ErrCorrupt)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s: %w: mode %04o lets group or others access it; run `chmod 600 %s`",
			path, ErrPermissions, perm, path)
	}
	return nil
}

// readSecret reads a small secret file after checking its permissions.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	if err := checkMode(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyfile: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, ErrCorrupt, maxFileSize)
	}
	return data, nil
}

// writeSecret writes data to path with mode 0600 without ever overwriting an
// existing file or leaving a partial one behind.
func writeSecret(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s: %w; refusing to overwrite it (move it away first if you really mean to replace it)", path, ErrExists)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keyfile: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("keyfile: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("keyfile: sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	// Link, unlike rename, fails if path appeared in the meantime.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: %w; refusing to overwrite it", path, ErrExists)
		}
		return fmt.Errorf("keyfile: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("keyfile: sync %s: %w", dir, err)
	}
	return nil
}
