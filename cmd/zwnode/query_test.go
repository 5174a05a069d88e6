package main

import (
	"strings"
	"testing"
)

func TestParseTimeFlag(t *testing.T) {
	for in, want := range map[string]int64{
		"1764547200000":             1764547200000,
		"2025-12-01T00:00:00Z":      1764547200000,
		"2025-12-01T08:00:00+08:00": 1764547200000,
		"0":                         0,
	} {
		if got, err := parseTimeFlag(in); err != nil || got != want {
			t.Errorf("parseTimeFlag(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-5", "2025-12-01"} {
		if _, err := parseTimeFlag(in); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("parseTimeFlag(%q): err %v, want one naming the accepted forms", in, err)
		}
	}
}
