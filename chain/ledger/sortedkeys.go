package ledger

import (
	"sort"
	"strings"
)

// sortedKeys is an insert-only ordered set of strings kept as a list of
// sorted chunks, so inserts cost O(chunk) instead of O(n) and a prefix scan
// starts with two binary searches. The block overlay holds tens of
// thousands of keys and is scanned by many transactions; a sorted slice or
// sorting the map per scan would make a block quadratic.
type sortedKeys struct {
	chunks [][]string
}

const maxChunk = 256

func (s *sortedKeys) insert(k string) {
	if len(s.chunks) == 0 {
		s.chunks = [][]string{{k}}
		return
	}
	i := sort.Search(len(s.chunks), func(i int) bool {
		c := s.chunks[i]
		return c[len(c)-1] >= k
	})
	if i == len(s.chunks) {
		i--
	}
	c := s.chunks[i]
	j := sort.SearchStrings(c, k)
	if j < len(c) && c[j] == k {
		return
	}
	c = append(c, "")
	copy(c[j+1:], c[j:])
	c[j] = k
	if len(c) <= maxChunk {
		s.chunks[i] = c
		return
	}
	half := len(c) / 2
	left := append([]string(nil), c[:half]...)
	right := append([]string(nil), c[half:]...)
	s.chunks = append(s.chunks, nil)
	copy(s.chunks[i+2:], s.chunks[i+1:])
	s.chunks[i], s.chunks[i+1] = left, right
}

// withPrefix returns the keys starting with prefix, in order.
func (s *sortedKeys) withPrefix(prefix string) []string {
	i := sort.Search(len(s.chunks), func(i int) bool {
		c := s.chunks[i]
		return c[len(c)-1] >= prefix
	})
	var out []string
	for ; i < len(s.chunks); i++ {
		c := s.chunks[i]
		for _, k := range c[sort.SearchStrings(c, prefix):] {
			if !strings.HasPrefix(k, prefix) {
				return out
			}
			out = append(out, k)
		}
	}
	return out
}
