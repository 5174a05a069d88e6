package store

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestOverlayMatchesModel applies seeded random sets and deletes to an
// overlay on a committed state and compares reads, scans and the resulting
// writes with a plain map.
func TestOverlayMatchesModel(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			s, _ := newMapStore(t)
			keyOf := func() string { return fmt.Sprintf("%c/%d", "abc"[rng.IntN(3)], rng.IntN(20)) }
			model := map[string]string{}
			var base []Write
			for range 30 {
				k := keyOf()
				model[k] = "base-" + k
				base = append(base, Write{Key: []byte(k), Value: []byte(model[k])})
			}
			commitNext(t, s, nil, base)

			o := NewOverlay(s.StateKV(ctx))
			child := NewOverlay(o)
			for range 40 {
				k := keyOf()
				if rng.IntN(3) == 0 {
					child.Delete([]byte(k))
					delete(model, k)
				} else {
					v := fmt.Sprint("v", rng.IntN(1000))
					child.Set([]byte(k), []byte(v))
					model[k] = v
				}
			}
			o.Apply(child.Writes())

			for _, prefix := range []string{"", "a/", "b/1", "c/19", "d"} {
				var got []string
				err := o.Iterate([]byte(prefix), func(k, v []byte) error {
					got = append(got, string(k)+"="+string(v))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, k := range slices.Sorted(maps.Keys(model)) {
					if strings.HasPrefix(k, prefix) {
						want = append(want, k+"="+model[k])
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("prefix %q:\n got %v\nwant %v", prefix, got, want)
				}
			}
			// Committing the overlay's writes gives the model.
			commitNext(t, s, nil, o.Writes())
			var committed []string
			if err := s.StateIter(ctx, nil, func(k, v []byte) error {
				committed = append(committed, string(k)+"="+string(v))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(committed) != len(model) {
				t.Fatalf("committed %d keys, model has %d", len(committed), len(model))
			}
			for _, kv := range committed {
				k, v, _ := strings.Cut(kv, "=")
				if model[k] != v {
					t.Fatalf("committed %s=%s, model says %q", k, v, model[k])
				}
			}
		})
	}
}

func TestOverlayStopAndGet(t *testing.T) {
	ctx := context.Background()
	s, _ := newMapStore(t)
	commitNext(t, s, nil, []Write{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("c"), Value: []byte("3")}})
	o := NewOverlay(s.StateKV(ctx))
	o.Set([]byte("b"), nil)
	o.Delete([]byte("c"))
	if v, ok, err := o.Get([]byte("b")); err != nil || !ok || v == nil || len(v) != 0 {
		t.Fatalf("set with nil value: %q %v %v, want present and empty", v, ok, err)
	}
	if _, ok, _ := o.Get([]byte("c")); ok {
		t.Fatal("deleted key visible")
	}
	if v, ok, _ := o.Get([]byte("a")); !ok || string(v) != "1" {
		t.Fatal("base key not visible")
	}
	n := 0
	if err := o.Iterate(nil, func(k, v []byte) error { n++; return ErrStop }); err != nil || n != 1 {
		t.Fatalf("ErrStop: n=%d err=%v", n, err)
	}
	// Stop on the pending tail (after the base is exhausted).
	o.Set([]byte("z"), []byte("26"))
	var seen []string
	err := o.Iterate(nil, func(k, v []byte) error {
		seen = append(seen, string(k))
		if string(k) == "z" {
			return ErrStop
		}
		return nil
	})
	if err != nil || fmt.Sprint(seen) != "[a b z]" {
		t.Fatalf("seen %v err %v", seen, err)
	}
	w := o.Writes()
	if len(w) != 3 || string(w[0].Key) != "b" || w[0].Value == nil || w[1].Value != nil || string(w[2].Key) != "z" {
		t.Fatalf("writes = %+v", w)
	}
}
