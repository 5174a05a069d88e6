package chain

import (
	"errors"
	"strings"
	"testing"
)

// TestQuorumTable states the BFT thresholds explicitly rather than
// recomputing the formula: n = 3f+1 tolerates f faults; a quorum is
// ⌊2n/3⌋+1 so that two quorums always overlap in more than f authorities.
func TestQuorumTable(t *testing.T) {
	table := []struct{ n, quorum, faulty int }{
		{1, 1, 0}, {2, 2, 0}, {3, 3, 0}, {4, 3, 1}, {5, 4, 1}, {6, 5, 1}, {7, 5, 2},
		{8, 6, 2}, {9, 7, 2}, {10, 7, 3}, {11, 8, 3}, {12, 9, 3}, {13, 9, 4}, {14, 10, 4},
		{15, 11, 4}, {16, 11, 5}, {17, 12, 5}, {18, 13, 5}, {19, 13, 6}, {20, 14, 6}, {21, 15, 6},
	}
	for _, tc := range table {
		if got := Quorum(tc.n); got != tc.quorum {
			t.Errorf("Quorum(%d) = %d, want %d", tc.n, got, tc.quorum)
		}
		if got := MaxFaulty(tc.n); got != tc.faulty {
			t.Errorf("MaxFaulty(%d) = %d, want %d", tc.n, got, tc.faulty)
		}
		// The safety argument the table must satisfy: two quorums intersect
		// in more than f members, and the honest members alone form a quorum.
		if 2*tc.quorum-tc.n <= tc.faulty {
			t.Errorf("n=%d: two quorums of %d overlap in only %d ≤ f=%d", tc.n, tc.quorum, 2*tc.quorum-tc.n, tc.faulty)
		}
		if tc.n-tc.faulty < tc.quorum {
			t.Errorf("n=%d: %d honest authorities cannot reach quorum %d", tc.n, tc.n-tc.faulty, tc.quorum)
		}
		set, _ := testSet(t, tc.n)
		if set.Quorum() != tc.quorum || set.MaxFaulty() != tc.faulty || set.Size() != tc.n {
			t.Errorf("set of %d: size %d quorum %d faulty %d", tc.n, set.Size(), set.Quorum(), set.MaxFaulty())
		}
	}
	if MaxFaulty(0) != 0 || MaxFaulty(-3) != 0 {
		t.Errorf("MaxFaulty of an empty set must be 0")
	}
}

func TestProposerRotation(t *testing.T) {
	set, keys := testSet(t, 4)
	// authorities[(h + r) mod n]
	table := []struct {
		h    uint64
		r    uint32
		want int
	}{
		{1, 0, 1}, {2, 0, 2}, {3, 0, 3}, {4, 0, 0}, {5, 0, 1},
		{1, 1, 2}, {1, 3, 0}, {1, 4, 1}, {7, 2, 1},
		{1<<64 - 1, 0, 3}, {1<<64 - 1, 1, 0}, {1<<64 - 1, 1<<32 - 1, 2},
	}
	for _, tc := range table {
		got := set.Proposer(tc.h, tc.r)
		if got.PubKey != keys[tc.want].Public() {
			t.Errorf("Proposer(%d, %d) = %s, want %s", tc.h, tc.r, got.Department, testDepartments[tc.want])
		}
	}
	// Every authority proposes exactly once in n consecutive rounds.
	for h := uint64(1); h <= 5; h++ {
		seen := map[PublicKey]int{}
		for r := uint32(0); r < 4; r++ {
			seen[set.Proposer(h, r).PubKey]++
		}
		if len(seen) != 4 {
			t.Errorf("height %d: rounds 0..3 have %d distinct proposers, want 4", h, len(seen))
		}
	}
}

func TestAuthoritySetRejects(t *testing.T) {
	keys := testKeys(3)
	good := testAuthorities(keys)
	mod := func(f func(a []Authority) []Authority) []Authority {
		return f(append([]Authority(nil), good...))
	}
	table := []struct {
		name  string
		auths []Authority
		want  string
	}{
		{"empty", nil, "empty"},
		{"duplicate department", mod(func(a []Authority) []Authority { a[2].Department = a[0].Department; return a }), "department listed twice"},
		{"duplicate key", mod(func(a []Authority) []Authority { a[2].PubKey = a[1].PubKey; return a }), "public key listed twice"},
		{"missing key", mod(func(a []Authority) []Authority { a[1].PubKey = PublicKey{}; return a }), "missing public key"},
		{"bad department", mod(func(a []Authority) []Authority { a[1].Department = "Tax Office"; return a }), "department"},
		{"empty department", mod(func(a []Authority) []Authority { a[1].Department = ""; return a }), "department"},
		{"too many", make([]Authority, MaxAuthorities+1), "limit"},
	}
	for _, tc := range table {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAuthoritySet(tc.auths)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestAuthoritySetHashAndLookup(t *testing.T) {
	keys := testKeys(4)
	auths := testAuthorities(keys)
	a, err := NewAuthoritySet(auths)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := NewAuthoritySet(testAuthorities(keys))
	if a.Hash() != same.Hash() {
		t.Errorf("equal sets hash differently")
	}
	swapped := append([]Authority(nil), auths...)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	b, err := NewAuthoritySet(swapped)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash() == b.Hash() {
		t.Errorf("hash does not depend on order, yet order decides the proposer")
	}
	renamed := append([]Authority(nil), auths...)
	renamed[2].Department = "other"
	if c, _ := NewAuthoritySet(renamed); c.Hash() == a.Hash() {
		t.Errorf("hash does not depend on department ids")
	}
	rekeyed := append([]Authority(nil), auths...)
	rekeyed[2].PubKey = testKey(99).Public()
	if c, _ := NewAuthoritySet(rekeyed); c.Hash() == a.Hash() {
		t.Errorf("hash does not depend on keys")
	}
	fewer, _ := NewAuthoritySet(auths[:3])
	if fewer.Hash() == a.Hash() {
		t.Errorf("hash does not depend on size")
	}

	// The set copies its input: mutating the caller's slice changes nothing.
	auths[0].PubKey = testKey(98).Public()
	if a.At(0).PubKey != keys[0].Public() || a.Hash() != same.Hash() {
		t.Errorf("set aliases the caller's slice")
	}
	list := a.List()
	list[1].Department = "mutated"
	if a.At(1).Department != testDepartments[1] {
		t.Errorf("List returns the internal slice")
	}
	for i, k := range keys {
		if idx, ok := a.Index(k.Public()); !ok || idx != i || !a.Contains(k.Public()) {
			t.Errorf("Index(key %d) = %d, %v", i, idx, ok)
		}
	}
	if a.Contains(testKey(99).Public()) {
		t.Errorf("Contains a stranger")
	}
	if got, ok := a.ByDepartment("hrss"); !ok || got.PubKey != keys[2].Public() {
		t.Errorf("ByDepartment(hrss) = %v, %v", got, ok)
	}
	if _, ok := a.ByDepartment("nope"); ok {
		t.Errorf("ByDepartment found an unknown department")
	}
}
