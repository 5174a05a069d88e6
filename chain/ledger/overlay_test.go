package ledger

import (
	"fmt"
	mrand "math/rand/v2"
	"reflect"
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
