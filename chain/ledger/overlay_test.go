package ledger

import (
	"fmt"
	mrand "math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestOverlayScanMatchesReference drives a two-level overlay and a plain
// map with the same random operations and compares Get and Scan.
func TestOverlayScanMatchesReference(t *testing.T) {
	r := mrand.New(mrand.NewPCG(9, 9))
	for round := 0; round < 200; round++ {
		base := MapKV{}
		for i := 0; i < r.IntN(20); i++ {
			base[fmt.Sprintf("a/%02d", r.IntN(30))] = []byte{byte(i)}
		}
		ref := MapKV{}
		for k, v := range base {
			ref[k] = v
		}
		blk := newOverlay(base)
		tx := newOverlay(blk)
		for i := 0; i < r.IntN(30); i++ {
			key := fmt.Sprintf("a/%02d", r.IntN(30))
			target := blk
			if r.IntN(2) == 0 {
				target = tx
			}
			if r.IntN(3) == 0 {
				target.del([]byte(key))
			} else {
				target.set([]byte(key), []byte{byte(100 + i)})
			}
		}
		// Reference: base, then blk's pending, then tx's pending.
		for _, o := range []*overlay{blk, tx} {
			for k, v := range o.pending {
				if v == nil {
					delete(ref, k)
				} else {
					ref[k] = v
				}
			}
		}
		prefix := []byte("a/" + fmt.Sprint(r.IntN(3)))
		stopAfter := r.IntN(40)
		got, want := collect(tx, prefix, stopAfter), collect(ref, prefix, stopAfter)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d scan %s: got %v want %v", round, prefix, got, want)
		}
		for i := 0; i < 30; i++ {
			key := []byte(fmt.Sprintf("a/%02d", i))
			gv, gok, _ := tx.Get(key)
			wv, wok, _ := ref.Get(key)
			if gok != wok || string(gv) != string(wv) {
				t.Fatalf("round %d get %s: %v %v vs %v %v", round, key, gv, gok, wv, wok)
			}
		}
	}
}

func collect(kv ScanKV, prefix []byte, stopAfter int) []string {
	var out []string
	_ = kv.Scan(prefix, func(k, v []byte) bool {
		out = append(out, fmt.Sprintf("%s=%v", k, v))
		return len(out) < stopAfter
	})
	return out
}

// TestSortedKeysMatchesSort interleaves batches of inserts of every size
// (one by one and rebuilt paths) with prefix queries and compares them
// with a sorted reference.
func TestSortedKeysMatchesSort(t *testing.T) {
	r := mrand.New(mrand.NewPCG(31, 32))
	var s sortedKeys
	seen := map[string]bool{}
	var ref []string
	for round := 0; round < 60; round++ {
		batch := []int{1, 3, 20, 400, 2000}[r.IntN(5)]
		for i := 0; i < batch; i++ {
			k := fmt.Sprintf("%c/%05d", 'a'+rune(r.IntN(3)), r.IntN(100000))
			if !seen[k] {
				seen[k] = true
				ref = append(ref, k)
				s.insert(k)
			}
		}
		sort.Strings(ref)
		prefix := []string{"", "a/", "b/1", "c/99", "d"}[r.IntN(5)]
		var want []string
		for _, k := range ref {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		if got := s.withPrefix(prefix); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d prefix %q: %d keys, want %d", round, prefix, len(got), len(want))
		}
		for _, c := range s.chunks {
			if len(c) == 0 || len(c) > maxChunk {
				t.Fatalf("round %d: chunk of %d keys", round, len(c))
			}
		}
	}
}
