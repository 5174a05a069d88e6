package sharing

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"errors"
	"io"
	mrand "math/rand/v2"
	"testing"
)

func key(name string) *ecdh.PrivateKey {
	s := sha256.Sum256([]byte(name))
	k, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		panic(err)
	}
	return k
}

func rnd(seed byte) io.Reader { return mrand.NewChaCha8([32]byte{seed}) }

func seal(t *testing.T, depts ...string) *Envelope {
	t.Helper()
	var rs []RecipientKey
	for _, d := range depts {
		rs = append(rs, RecipientKey{Department: d, Key: key(d).PublicKey().Bytes()})
	}
	env, err := Seal(rnd(1), []byte(`{"revenue_fen":123456}`), RecordAAD("tax.filing", "e:x"), rs)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestGranteeOpensNonGranteeCannot(t *testing.T) {
	env := seal(t, "tax", "market")
	aad := RecordAAD("tax.filing", "e:x")
	for _, d := range []string{"tax", "market"} {
		pt, err := Open(env, d, key(d), aad)
		if err != nil || string(pt) != `{"revenue_fen":123456}` {
			t.Fatalf("%s: open = %q, %v", d, pt, err)
		}
	}
	// hrss holds no sealed key.
	if _, err := Open(env, "hrss", key("hrss"), aad); !errors.Is(err, ErrNotRecipient) {
		t.Fatalf("non-grantee open: %v, want ErrNotRecipient", err)
	}
	// hrss pretends to be market with its own key: the key does not match.
	if _, err := Open(env, "market", key("hrss"), aad); !errors.Is(err, ErrNotRecipient) {
		t.Fatalf("wrong key: %v", err)
	}
	// hrss copies market's recipient entry but substitutes its own public
	// key: unsealing needs market's private key, so it fails.
	forged := *env
	forged.Recipients = append([]Recipient(nil), env.Recipients...)
	for i := range forged.Recipients {
		if forged.Recipients[i].Department == "market" {
			forged.Recipients[i].Key = key("hrss").PublicKey().Bytes()
		}
	}
	if _, err := Open(&forged, "market", key("hrss"), aad); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("forged recipient: %v, want ErrDecrypt", err)
	}
}

func TestTamperAndWrongRecordFail(t *testing.T) {
	env := seal(t, "tax")
	if _, err := Open(env, "tax", key("tax"), RecordAAD("tax.filing", "e:y")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("moved to another subject: %v", err)
	}
	env.Ciphertext[0] ^= 1
	if _, err := Open(env, "tax", key("tax"), RecordAAD("tax.filing", "e:x")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("tampered body: %v", err)
	}
}

func TestFreshDataKeyPerRecord(t *testing.T) {
	a := seal(t, "tax")
	var rs = []RecipientKey{{Department: "tax", Key: key("tax").PublicKey().Bytes()}}
	b, err := Seal(rnd(2), []byte(`{"revenue_fen":123456}`), RecordAAD("tax.filing", "e:x"), rs)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Ciphertext, b.Ciphertext) || bytes.Equal(a.Recipients[0].SealedKey, b.Recipients[0].SealedKey) {
		t.Fatal("two envelopes of the same plaintext share ciphertext or sealed key")
	}
}

func TestValidateBasic(t *testing.T) {
	good := seal(t, "market", "tax")
	if err := good.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	if good.Recipients[0].Department != "market" {
		t.Fatal("recipients not sorted")
	}
	cases := map[string]func(e *Envelope){
		"alg":       func(e *Envelope) { e.Alg = "aes" },
		"ephemeral": func(e *Envelope) { e.Ephemeral = e.Ephemeral[:31] },
		"nonce":     func(e *Envelope) { e.Nonce = nil },
		"ct":        func(e *Envelope) { e.Ciphertext = e.Ciphertext[:3] },
		"none":      func(e *Envelope) { e.Recipients = nil },
		"order":     func(e *Envelope) { e.Recipients[0], e.Recipients[1] = e.Recipients[1], e.Recipients[0] },
		"dup":       func(e *Envelope) { e.Recipients[1] = e.Recipients[0] },
		"sealed":    func(e *Envelope) { e.Recipients[0].SealedKey = e.Recipients[0].SealedKey[1:] },
		"key":       func(e *Envelope) { e.Recipients[0].Key = nil },
	}
	for name, mut := range cases {
		e := seal(t, "market", "tax")
		mut(e)
		if err := e.ValidateBasic(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := Seal(rnd(3), nil, nil, []RecipientKey{{"a", key("a").PublicKey().Bytes()}, {"a", key("a").PublicKey().Bytes()}}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("repeated recipient: %v", err)
	}
}
