package consensus_test

import (
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// TestQuorumTable states q = ⌊2n/3⌋+1 and f = ⌊(n−1)/3⌋ for n = 1..21 and
// the two facts the engine relies on: two quorums share more than f
// authorities (2q−n ≥ f+1, safety), and the n−f correct ones form a quorum
// (q ≤ n−f, liveness). Note q ≠ 2f+1 whenever n ≠ 3f+1.
func TestQuorumTable(t *testing.T) {
	table := []struct{ n, q, f int }{
		{1, 1, 0}, {2, 2, 0}, {3, 3, 0}, {4, 3, 1}, {5, 4, 1}, {6, 5, 1}, {7, 5, 2},
		{8, 6, 2}, {9, 7, 2}, {10, 7, 3}, {11, 8, 3}, {12, 9, 3}, {13, 9, 4}, {14, 10, 4},
		{15, 11, 4}, {16, 11, 5}, {17, 12, 5}, {18, 13, 5}, {19, 13, 6}, {20, 14, 6}, {21, 15, 6},
	}
	for _, tc := range table {
		if q, f := chain.Quorum(tc.n), chain.MaxFaulty(tc.n); q != tc.q || f != tc.f {
			t.Errorf("n=%d: quorum %d, max faulty %d; want %d, %d", tc.n, q, f, tc.q, tc.f)
		}
		if 2*tc.q-tc.n < tc.f+1 {
			t.Errorf("n=%d: two quorums of %d share only %d authorities, f=%d", tc.n, tc.q, 2*tc.q-tc.n, tc.f)
		}
		if tc.q > tc.n-tc.f {
			t.Errorf("n=%d: the %d correct authorities are no quorum of %d", tc.n, tc.n-tc.f, tc.q)
		}
		names := make([]string, tc.n)
		for i := range names {
			names[i] = string(rune('A' + i))
		}
		set := testSet(t, names...)
		if set.Quorum() != tc.q || set.MaxFaulty() != tc.f {
			t.Errorf("n=%d: AuthoritySet says q=%d f=%d", tc.n, set.Quorum(), set.MaxFaulty())
		}
	}
}
