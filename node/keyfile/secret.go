package keyfile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
)

// SecretSize is the size of a shared network secret such as the resident-ID
// pseudonym key.
const SecretSize = 32

// Secret is a shared network secret. Every department of a network holds the
// same one, so they derive the same pseudonym for the same resident.
type Secret [SecretSize]byte

// A secret file holds the secret as 64 lowercase hex digits and a newline:
// text, so it survives being copied between operators, and fixed-size, so a
// truncated copy is detected.

// GenerateSecret writes a new random secret to path (mode 0600), refusing to
// overwrite an existing file.
func GenerateSecret(path string) (Secret, error) {
	return generateSecretFrom(path, rand.Reader)
}

func generateSecretFrom(path string, r io.Reader) (Secret, error) {
	var s Secret
	if _, err := io.ReadFull(r, s[:]); err != nil {
		return s, fmt.Errorf("keyfile: generate secret: %w", err)
	}
	if err := SaveSecret(path, s); err != nil {
		return Secret{}, err
	}
	return s, nil
}

// SaveSecret writes s to path (mode 0600), refusing to overwrite.
func SaveSecret(path string, s Secret) error {
	return writeSecret(path, []byte(hex.EncodeToString(s[:])+"\n"))
}

// LoadSecret reads a secret file, checking permissions and format.
func LoadSecret(path string) (Secret, error) {
	var s Secret
	data, err := readSecret(path)
	if err != nil {
		return s, err
	}
	text := bytes.TrimSpace(data)
	if len(text) != 2*SecretSize {
		return s, fmt.Errorf("%s: %w: want %d hex digits, found %d characters", path, ErrCorrupt, 2*SecretSize, len(text))
	}
	if _, err := hex.Decode(s[:], text); err != nil {
		return Secret{}, fmt.Errorf("%s: %w: not hex: %v", path, ErrCorrupt, err)
	}
	return s, nil
}
