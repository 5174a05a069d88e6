package ledger

import (
	"crypto/ecdh"
	"crypto/sha256"
	"io"
	mrand "math/rand/v2"
)

// encKey is a department's deterministic X25519 key for tests.
func encKey(dept string) *ecdh.PrivateKey {
	s := sha256.Sum256([]byte("enc " + dept))
	k, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		panic(err)
	}
	return k
}

// detRand is a seeded byte stream so envelopes are reproducible in tests.
func detRand(seed uint64) io.Reader {
	return &chachaReader{r: mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})}
}

type chachaReader struct{ r *mrand.ChaCha8 }

func (c *chachaReader) Read(p []byte) (int, error) { return c.r.Read(p) }
