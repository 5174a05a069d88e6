package ledger

import (
	"strings"
	"testing"
)

func TestValidateUSCC(t *testing.T) {
	// Published codes of well-known enterprises validate, as do codes whose
	// check character we compute for Jinan (370100) stems.
	good := []string{
		"91330100799655058B", // Alibaba (China) Co., Ltd.
		"9144030071526726XG", // Shenzhen Tencent Computer Systems Co., Ltd.
		"91110108551385082Q", // Beijing Xiaomi Technology Co., Ltd.
		uscc(t, "91370100MA3C4B2T0"),
		uscc(t, "12370100004608110"),
	}
	for _, c := range good {
		if err := ValidateUSCC(c); err != nil {
			t.Errorf("ValidateUSCC(%q) = %v, want nil", c, err)
		}
	}
	bad := map[string]string{
		"91330100799655058A":  "check character",
		"9133010079965505":    "want 18",
		"91330100799655058BB": "want 18",
		"9133A100799655058B":  "administrative division",
		"91330100I99655058B":  "is not in",
		"91330100799655O58B":  "is not in",
		"91330100799655058I":  "not in the code alphabet",
		"91330100799655058b":  "not in the code alphabet",
	}
	for c, want := range bad {
		err := ValidateUSCC(c)
		if !isErr(err, ErrInvalidUSCC) || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateUSCC(%q) = %v, want ErrInvalidUSCC mentioning %q", c, err, want)
		}
	}
}

func TestUSCCCheckCharIsExhaustivelyDetecting(t *testing.T) {
	// Any single-character substitution of a valid code must be caught:
	// 31 is prime and every weight is non-zero mod 31.
	code := "91330100799655058B"
	for i := 0; i < 17; i++ {
		for _, c := range usccCharset {
			if byte(c) == code[i] || (i >= 2 && i < 8 && (c < '0' || c > '9')) {
				continue
			}
			mut := code[:i] + string(c) + code[i+1:]
			if ValidateUSCC(mut) == nil {
				t.Fatalf("substitution %q at %d not detected", mut, i)
			}
		}
	}
}

func TestValidateResidentID(t *testing.T) {
	good := []string{
		"11010519491231002X", // the example in GB 11643-1999
		"11010519491231002x",
		residentID(1), residentID(7),
	}
	for _, id := range good {
		if err := ValidateResidentID(id); err != nil {
			t.Errorf("ValidateResidentID(%q) = %v", id, err)
		}
	}
	bad := map[string]string{
		"110105194912310021": "check character",
		"11010519491231002":  "want 18",
		"11010519490231002X": "birth date", // 31 Feb does not exist
		"11010518991231002X": "birth date",
		"1101051949123100AX": "not a digit",
		"110105194913010028": "birth date",
	}
	for id, want := range bad {
		err := ValidateResidentID(id)
		if !isErr(err, ErrInvalidResidentID) || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateResidentID(%q) = %v, want mention of %q", id, err, want)
		}
		if err != nil && strings.Contains(err.Error(), id[:14]) {
			t.Errorf("error for %q echoes the ID number: %v", id, err)
		}
	}
}

func TestPseudonym(t *testing.T) {
	key := []byte("city pseudonym key, 32 bytes....")
	a, err := Pseudonym(key, "11010519491231002X")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Pseudonym(key, "11010519491231002x")
	if a != b {
		t.Fatalf("x and X spellings give different pseudonyms: %s %s", a, b)
	}
	if err := ValidateSubject(a); err != nil {
		t.Fatalf("pseudonym %s is not a valid subject: %v", a, err)
	}
	c, _ := Pseudonym([]byte("another key of at least 16 bytes"), "11010519491231002X")
	if c == a {
		t.Fatal("pseudonym does not depend on the key")
	}
	if strings.Contains(a, "19491231") {
		t.Fatal("pseudonym leaks the ID number")
	}
	if _, err := Pseudonym(key, "110105194912310021"); !isErr(err, ErrInvalidResidentID) {
		t.Fatalf("pseudonym of a bad ID: %v", err)
	}
	if _, err := Pseudonym([]byte("short"), "11010519491231002X"); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestValidateSubject(t *testing.T) {
	for _, s := range []string{"e:91330100799655058B", person(3)} {
		if err := ValidateSubject(s); err != nil {
			t.Errorf("ValidateSubject(%q) = %v", s, err)
		}
	}
	for _, s := range []string{
		"", "91330100799655058B", "e:91330100799655058A", "p:11010519491231002X",
		"p:" + strings.Repeat("A", 64), "p:" + strings.Repeat("g", 64), "x:abc",
	} {
		if err := ValidateSubject(s); !isErr(err, ErrInvalidSubject) {
			t.Errorf("ValidateSubject(%q) = %v, want ErrInvalidSubject", s, err)
		}
	}
}
