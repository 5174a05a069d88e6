package keyfile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/pnet"
)

// A PSK file is libp2p's private-network key format, so it is interchangeable
// with other libp2p tools:
//
//	/key/swarm/psk/1.0.0/
//	/base16/
//	<64 hex digits>

// GeneratePSK writes a new random private-network key to path (mode 0600),
// refusing to overwrite an existing file.
func GeneratePSK(path string) (pnet.PSK, error) {
	return generatePSKFrom(path, rand.Reader)
}

func generatePSKFrom(path string, r io.Reader) (pnet.PSK, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, fmt.Errorf("keyfile: generate psk: %w", err)
	}
	data := "/key/swarm/psk/1.0.0/\n/base16/\n" + hex.EncodeToString(key) + "\n"
	if err := writeSecret(path, []byte(data)); err != nil {
		return nil, err
	}
	return pnet.PSK(key), nil
}

// LoadPSK reads a private-network key file, checking permissions and format.
func LoadPSK(path string) (pnet.PSK, error) {
	data, err := readSecret(path)
	if err != nil {
		return nil, err
	}
	psk, err := pnet.DecodeV1PSK(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: not a libp2p PSK file (/key/swarm/psk/1.0.0/): %v", path, ErrCorrupt, err)
	}
	if len(psk) != 32 {
		return nil, fmt.Errorf("%s: %w: PSK is %d bytes, want 32", path, ErrCorrupt, len(psk))
	}
	return psk, nil
}
