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
//
// Inserts are buffered unsorted until the next withPrefix: a block of
// record.puts adds ten thousand keys and scans the overlay rarely, so one
// sort of a large batch replaces thousands of shifts inside chunks.
type sortedKeys struct {
	chunks [][]string
	// unsorted holds keys inserted since the last withPrefix.
	unsorted []string
	n        int // keys in chunks
}

const maxChunk = 256

// insert adds k, which must not be in the set yet (the overlay inserts a
// key when it first enters its pending map).
func (s *sortedKeys) insert(k string) { s.unsorted = append(s.unsorted, k) }

// flush moves the unsorted keys into the chunks: one by one when they are
// few, else by rebuilding the chunks from one sorted merge.
func (s *sortedKeys) flush() {
	if len(s.unsorted) == 0 {
		return
	}
	if len(s.unsorted) < 16 || len(s.unsorted) < s.n/8 {
		for _, k := range s.unsorted {
			s.insertOne(k)
		}
		s.unsorted = s.unsorted[:0]
		return
	}
	sort.Strings(s.unsorted)
	all := make([]string, 0, s.n+len(s.unsorted))
	i := 0
	for _, c := range s.chunks {
		for _, k := range c {
			for i < len(s.unsorted) && s.unsorted[i] < k {
				all = append(all, s.unsorted[i])
				i++
			}
			all = append(all, k)
		}
	}
	all = append(all, s.unsorted[i:]...)
	// Chunks start half full so later inserts rarely split them.
	s.chunks = s.chunks[:0]
	for len(all) > 0 {
		n := min(len(all), maxChunk/2)
		s.chunks = append(s.chunks, all[:n:n])
		all = all[n:]
	}
	s.n += len(s.unsorted)
	s.unsorted = s.unsorted[:0]
}

func (s *sortedKeys) insertOne(k string) {
	s.n++
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
		s.n--
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
	s.flush()
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
