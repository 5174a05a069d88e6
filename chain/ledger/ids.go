package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// usccCharset is the GB 32100-2015 alphabet: digits and capitals without
// I, O, Z, S and V. A character's value is its index.
const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^(i−1) mod 31 for positions 1..17.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheckChar computes the 18th character for the first 17 of a unified
// social credit code: C18 = 31 − (Σ value(Ci)·Wi mod 31), with 31 mapped to 0.
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: need 17 characters, got %d", ErrInvalidUSCC, len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccCharset, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("%w: %q: character %d %q is not in 0-9 A-Z without I O Z S V", ErrInvalidUSCC, first17, i+1, first17[i])
		}
		sum += v * usccWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return usccCharset[c], nil
}

// ValidateUSCC checks a unified social credit code (统一社会信用代码,
// GB 32100-2015): 18 characters of the code alphabet, positions 3–8 an
// administrative division code (digits), and the check character.
func ValidateUSCC(code string) error {
	if len(code) != 18 {
		return fmt.Errorf("%w: %q has %d characters, want 18", ErrInvalidUSCC, code, len(code))
	}
	for i := 2; i < 8; i++ {
		if code[i] < '0' || code[i] > '9' {
			return fmt.Errorf("%w: %q: positions 3-8 must be the administrative division code (digits)", ErrInvalidUSCC, code)
		}
	}
	want, err := USCCCheckChar(code[:17])
	if err != nil {
		return err
	}
	if strings.IndexByte(usccCharset, code[17]) < 0 {
		return fmt.Errorf("%w: %q: check character %q is not in the code alphabet", ErrInvalidUSCC, code, code[17])
	}
	if code[17] != want {
		return fmt.Errorf("%w: %q: check character is %q, want %q", ErrInvalidUSCC, code, code[17], want)
	}
	return nil
}

var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const residentCheck = "10X98765432"

// ResidentIDCheckChar computes the ISO 7064 MOD 11-2 check character of the
// first 17 digits of a resident ID number.
func ResidentIDCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: need 17 digits, got %d", ErrInvalidResidentID, len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: position %d is not a digit", ErrInvalidResidentID, i+1)
		}
		sum += int(c-'0') * residentWeights[i]
	}
	return residentCheck[sum%11], nil
}

// ValidateResidentID checks an 18-character resident identity number
// (GB 11643-1999): 6-digit region, a real birth date YYYYMMDD, 3-digit
// sequence and the MOD 11-2 check character (digit or X; x is accepted).
// Error messages never echo the number, which is personal data.
func ValidateResidentID(id string) error {
	if len(id) != 18 {
		return fmt.Errorf("%w: %d characters, want 18", ErrInvalidResidentID, len(id))
	}
	want, err := ResidentIDCheckChar(id[:17])
	if err != nil {
		return err
	}
	y, m, d := atoi(id[6:10]), atoi(id[10:12]), atoi(id[12:14])
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1900 || t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return fmt.Errorf("%w: birth date is not a real date", ErrInvalidResidentID)
	}
	got := id[17]
	if got == 'x' {
		got = 'X'
	}
	if got != want {
		return fmt.Errorf("%w: check character does not match", ErrInvalidResidentID)
	}
	return nil
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// Pseudonym derives a person's subject from a resident ID number with the
// network's pseudonym key: "p:" + hex(HMAC-SHA256(key, ID)). It runs at the
// API edge; the ID number itself never enters a transaction or the state.
// The number is validated and a trailing x upper-cased first, so both
// spellings name one person.
func Pseudonym(key []byte, residentID string) (string, error) {
	if len(key) < 16 {
		return "", fmt.Errorf("%w: pseudonym key must be at least 16 bytes", ErrInvalid)
	}
	if err := ValidateResidentID(residentID); err != nil {
		return "", err
	}
	id := strings.ToUpper(residentID)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	return "p:" + hex.EncodeToString(mac.Sum(nil)), nil
}

// EnterpriseSubject returns "e:"+code after validating the code.
func EnterpriseSubject(uscc string) (string, error) {
	if err := ValidateUSCC(uscc); err != nil {
		return "", err
	}
	return "e:" + uscc, nil
}

// ValidateSubject accepts "e:<valid USCC>" and "p:<64 lowercase hex>".
func ValidateSubject(s string) error {
	switch {
	case strings.HasPrefix(s, "e:"):
		if err := ValidateUSCC(s[2:]); err != nil {
			return fmt.Errorf("%w: %q: %w", ErrInvalidSubject, s, err)
		}
		return nil
	case strings.HasPrefix(s, "p:"):
		h := s[2:]
		if len(h) != 64 || strings.ToLower(h) != h {
			return fmt.Errorf("%w: %q: a person is p: and 64 lowercase hex digits (a keyed pseudonym, never an ID number)", ErrInvalidSubject, s)
		}
		if _, err := hex.DecodeString(h); err != nil {
			return fmt.Errorf("%w: %q: not hex", ErrInvalidSubject, s)
		}
		return nil
	default:
		return fmt.Errorf("%w: %q: must start with e: (enterprise USCC) or p: (person pseudonym)", ErrInvalidSubject, truncate(s, 40))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
