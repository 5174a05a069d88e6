package chain

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestKeysAreDeterministic(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	a, b := PrivateKeyFromSeed(seed), PrivateKeyFromSeed(seed)
	if a.Public() != b.Public() || a.Sign([]byte("m")) != b.Sign([]byte("m")) {
		t.Fatalf("same seed, different key or signature")
	}
	pub := a.Public()
	if !bytes.Equal(a.Ed25519().Public().(ed25519.PublicKey), pub[:]) {
		t.Errorf("cached public key differs from the ed25519 key's")
	}
	if _, err := NewPrivateKey(make([]byte, 31)); err == nil {
		t.Errorf("short private key accepted")
	}
	if !a.Public().Verify([]byte("m"), a.Sign([]byte("m"))) || a.Public().Verify([]byte("n"), a.Sign([]byte("m"))) {
		t.Errorf("Verify does not check the message")
	}
}

func TestTextEncodings(t *testing.T) {
	k := testKey(4).Public()
	for name, s := range map[string]string{
		"std":     base64.StdEncoding.EncodeToString(k[:]),
		"raw std": base64.RawStdEncoding.EncodeToString(k[:]),
		"url":     base64.URLEncoding.EncodeToString(k[:]),
		"raw url": base64.RawURLEncoding.EncodeToString(k[:]),
		"hex":     hex.EncodeToString(k[:]),
	} {
		got, err := ParsePublicKey(s)
		if err != nil || got != k {
			t.Errorf("ParsePublicKey(%s form): %v", name, err)
		}
	}
	for _, bad := range []string{"", "AAAA", strings.Repeat("0", 62), "***"} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
	h := fixedHash(0xab)
	if got, err := ParseHash(h.String()); err != nil || got != h {
		t.Errorf("ParseHash(String()) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "ab", strings.Repeat("g", 64), strings.Repeat("a", 66)} {
		if _, err := ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) accepted", bad)
		}
	}
	if h.Short() != "abababab" || len(k.Short()) != 8 {
		t.Errorf("Short forms: %q %q", h.Short(), k.Short())
	}

	// JSON of a transaction round-trips through the text forms.
	tx := fixedTx()
	data, err := json.Marshal(&tx)
	if err != nil {
		t.Fatal(err)
	}
	var back Tx
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, tx) {
		t.Errorf("tx JSON round trip changed it:\n%s", data)
	}
	var sig Signature
	if err := sig.UnmarshalText([]byte("AAAA")); err == nil {
		t.Errorf("short signature accepted")
	}
	var hh Hash
	if err := json.Unmarshal([]byte(`"zz"`), &hh); err == nil {
		t.Errorf("bad hash JSON accepted")
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "0", "tax", "jinan-1", "a.b_c-d", strings.Repeat("z", 64)} {
		if err := ValidateName(ok, 64); err != nil {
			t.Errorf("ValidateName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", ".a", "_a", "A", "a b", "a/b", "é", strings.Repeat("z", 65)} {
		if err := ValidateName(bad, 64); err == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
}
