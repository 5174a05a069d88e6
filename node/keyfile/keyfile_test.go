package keyfile

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/zwnode/zwnode/chain"
)

func seededKey(t *testing.T, seed int64) *Key {
	t.Helper()
	k, err := newFrom(rand.New(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerateLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "node_key")
	k, err := Generate(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Fatalf("mode = %04o, want 0600", got)
	}
	dfi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := dfi.Mode().Perm(); got != 0o700 {
		t.Fatalf("directory mode = %04o, want 0700", got)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.PeerID() != k.PeerID() || l.PublicKey() != k.PublicKey() {
		t.Fatalf("loaded %s/%s, generated %s/%s", l.PeerID(), l.PublicKey(), k.PeerID(), k.PublicKey())
	}
	// The chain key and the libp2p key are the same key: a signature made by
	// one verifies with the other's public half.
	msg := []byte("proposal bytes")
	sig := l.Chain().Sign(msg)
	ok, err := l.Libp2p().GetPublic().Verify(msg, sig[:])
	if err != nil || !ok {
		t.Fatalf("libp2p key does not verify chain signature: %v %v", ok, err)
	}
	lsig, err := l.Libp2p().Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	var s chain.Signature
	copy(s[:], lsig)
	if !l.PublicKey().Verify(msg, s) {
		t.Fatal("chain public key does not verify libp2p signature")
	}
	if !l.PeerID().MatchesPrivateKey(l.Libp2p()) {
		t.Fatal("peer id does not match libp2p key")
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the key", len(entries))
	}
}

func TestGenerateRefusesOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node_key")
	k1, err := Generate(path)
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(path); !errors.Is(err, ErrExists) {
		t.Fatalf("second Generate: err = %v, want ErrExists", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("refused Generate changed the file")
	}
	l, err := Load(path)
	if err != nil || l.PeerID() != k1.PeerID() {
		t.Fatalf("key changed after refused overwrite: %v", err)
	}
}

func TestLoadRefusesOpenPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node_key")
	if _, err := Generate(path); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if !errors.Is(err, ErrPermissions) {
			t.Fatalf("mode %04o: err = %v, want ErrPermissions", mode, err)
		}
		if !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Fatalf("mode %04o: error lacks the fix hint: %v", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("mode 0400 (owner read only) should load: %v", err)
	}
}

func TestLoadCorrupt(t *testing.T) {
	good := seededKey(t, 1)
	other := seededKey(t, 2)
	raw, err := crypto.MarshalPrivateKey(good.Libp2p())
	if err != nil {
		t.Fatal(err)
	}
	valid := fileJSON{Kind: Kind, PeerID: good.PeerID().String(), PublicKey: good.PublicKey().String(),
		PrivateKey: b64(raw)}
	secp, _, err := crypto.GenerateSecp256k1Key(rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	secpRaw, err := crypto.MarshalPrivateKey(secp)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a bit in the embedded public half of the ed25519 key.
	badPub := append([]byte(nil), raw...)
	badPub[len(badPub)-1] ^= 1

	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"not json", []byte("hello"), ErrCorrupt},
		{"truncated", mustJSON(t, valid)[:40], ErrCorrupt},
		{"trailing data", append(mustJSON(t, valid), []byte("{}")...), ErrCorrupt},
		{"wrong kind", mustJSON(t, with(valid, func(f *fileJSON) { f.Kind = "other" })), ErrCorrupt},
		{"private key not base64", mustJSON(t, with(valid, func(f *fileJSON) { f.PrivateKey = "!!" })), ErrCorrupt},
		{"private key garbage", mustJSON(t, with(valid, func(f *fileJSON) { f.PrivateKey = b64([]byte{1, 2, 3}) })), ErrCorrupt},
		{"public half flipped", mustJSON(t, with(valid, func(f *fileJSON) { f.PrivateKey = b64(badPub) })), ErrCorrupt},
		{"wrong public key", mustJSON(t, with(valid, func(f *fileJSON) { f.PublicKey = other.PublicKey().String() })), ErrCorrupt},
		{"wrong peer id", mustJSON(t, with(valid, func(f *fileJSON) { f.PeerID = other.PeerID().String() })), ErrCorrupt},
		{"secp256k1", mustJSON(t, with(valid, func(f *fileJSON) { f.PrivateKey = b64(secpRaw) })), ErrNotEd25519},
		{"unknown field", []byte(`{"kind":"zwnode/node-key/v1","extra":1}`), ErrCorrupt},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "key"+string(rune('a'+i)))
			if err := os.WriteFile(path, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := Load(path)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if k != nil {
				t.Fatal("returned a key with an error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
		})
	}
	// The valid document itself loads, so the cases above fail for their own reason.
	path := filepath.Join(dir, "valid")
	if err := os.WriteFile(path, mustJSON(t, valid), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("valid file: %v", err)
	}
}

func TestLoadMissingAndDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want ErrNotExist", err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(sub); err == nil {
		t.Fatal("loading a directory succeeded")
	}
}

func TestFromChainMatchesSeed(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	ck := chain.PrivateKeyFromSeed(seed)
	k, err := FromChain(ck)
	if err != nil {
		t.Fatal(err)
	}
	if k.PublicKey() != ck.Public() {
		t.Fatal("public key differs from chain key")
	}
	path := filepath.Join(t.TempDir(), "k")
	if err := Save(path, k); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l.Chain().Ed25519(), ck.Ed25519()) {
		t.Fatal("saved key differs after reload")
	}
	if _, err := FromChain(nil); err == nil {
		t.Fatal("FromChain(nil) succeeded")
	}
}

func TestPeerIDConversions(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		k := seededKey(t, seed)
		id, err := PeerIDFromPublicKey(k.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		if id != k.PeerID() {
			t.Fatalf("seed %d: PeerIDFromPublicKey = %s, want %s", seed, id, k.PeerID())
		}
		pk, err := PublicKeyFromPeerID(id)
		if err != nil {
			t.Fatal(err)
		}
		if pk != k.PublicKey() {
			t.Fatalf("seed %d: round trip lost the key", seed)
		}
		for _, s := range []string{id.String(), k.PublicKey().String(), hexOf(k.PublicKey()), " " + id.String() + "\n"} {
			got, err := ParsePublicKeyOrPeerID(s)
			if err != nil {
				t.Fatalf("parse %q: %v", s, err)
			}
			if got != k.PublicKey() {
				t.Fatalf("parse %q gave another key", s)
			}
		}
	}
}

func TestConversionErrors(t *testing.T) {
	if _, err := PeerIDFromPublicKey(chain.PublicKey{}); err == nil {
		t.Fatal("zero public key converted")
	}
	secp, _, err := crypto.GenerateSecp256k1Key(rand.New(rand.NewSource(9)))
	if err != nil {
		t.Fatal(err)
	}
	sid, err := peer.IDFromPrivateKey(secp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PublicKeyFromPeerID(sid); !errors.Is(err, ErrNotEd25519) {
		t.Fatalf("secp256k1 peer id: err = %v, want ErrNotEd25519", err)
	}
	// An RSA-style hashed peer id (sha256 multihash) embeds no key.
	hashed, err := peer.Decode("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PublicKeyFromPeerID(hashed); !errors.Is(err, ErrNotEd25519) {
		t.Fatalf("hashed peer id: err = %v, want ErrNotEd25519", err)
	}
	for _, s := range []string{"", "abc", "12D3KooWnotapeerid", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", sid.String()} {
		if _, err := ParsePublicKeyOrPeerID(s); err == nil {
			t.Fatalf("ParsePublicKeyOrPeerID(%q) succeeded", s)
		}
	}
}

func TestSecretRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pseudonym.key")
	s, err := generateSecretFrom(path, rand.New(rand.NewSource(4)))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %04o", fi.Mode().Perm())
	}
	got, err := LoadSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != s || got == (Secret{}) {
		t.Fatal("secret round trip failed")
	}
	if _, err := GenerateSecret(path); !errors.Is(err, ErrExists) {
		t.Fatalf("overwrite: err = %v", err)
	}
	if again, _ := LoadSecret(path); again != s {
		t.Fatal("refused overwrite changed the secret")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecret(path); !errors.Is(err, ErrPermissions) {
		t.Fatalf("open mode: err = %v", err)
	}
	for name, content := range map[string]string{"short": "abcd\n", "nothex": strings.Repeat("zz", 32), "long": strings.Repeat("ab", 33)} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSecret(p); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func hexOf(k chain.PublicKey) string { return hex.EncodeToString(k[:]) }

func with(f fileJSON, mod func(*fileJSON)) fileJSON {
	mod(&f)
	return f
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPSKRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swarm.key")
	psk, err := generatePSKFrom(path, rand.New(rand.NewSource(5)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadPSK(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, psk) || len(got) != 32 {
		t.Fatalf("psk round trip: got %x want %x", got, psk)
	}
	if _, err := GeneratePSK(path); !errors.Is(err, ErrExists) {
		t.Fatalf("overwrite: err = %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("/key/swarm/psk/1.0.0/\n/base16/\nzz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPSK(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad psk: err = %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPSK(path); !errors.Is(err, ErrPermissions) {
		t.Fatalf("open psk: err = %v", err)
	}
}

// FuzzParse checks that no key file content makes the parser panic and that
// whatever it accepts is internally consistent.
func FuzzParse(f *testing.F) {
	k, err := newFrom(rand.New(rand.NewSource(11)))
	if err != nil {
		f.Fatal(err)
	}
	raw, err := crypto.MarshalPrivateKey(k.Libp2p())
	if err != nil {
		f.Fatal(err)
	}
	valid, err := json.Marshal(fileJSON{Kind: Kind, PeerID: k.PeerID().String(), PublicKey: k.PublicKey().String(), PrivateKey: b64(raw)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(`{"kind":"zwnode/node-key/v1"}`))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parse(data)
		if err != nil {
			return
		}
		if !got.PeerID().MatchesPrivateKey(got.Libp2p()) {
			t.Fatal("accepted a key whose peer id does not match")
		}
		id, err := PeerIDFromPublicKey(got.PublicKey())
		if err != nil || id != got.PeerID() {
			t.Fatal("accepted a key whose public key does not match its peer id")
		}
	})
}

func FuzzParsePublicKeyOrPeerID(f *testing.F) {
	k, err := newFrom(rand.New(rand.NewSource(12)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(k.PeerID().String())
	f.Add(k.PublicKey().String())
	f.Add("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")
	f.Fuzz(func(t *testing.T, s string) {
		pk, err := ParsePublicKeyOrPeerID(s)
		if err != nil {
			return
		}
		if pk.IsZero() {
			t.Fatal("accepted the zero key")
		}
		if _, err := PeerIDFromPublicKey(pk); err != nil {
			t.Fatalf("accepted key has no peer id: %v", err)
		}
	})
}
