package chain

import (
	"fmt"
)

// MaxAuthorities bounds the authority set (and so certificate sizes).
const MaxAuthorities = 256

// Authority is a department that runs a consensus node.
type Authority struct {
	Department string    `json:"department"`
	Name       string    `json:"name"`
	PubKey     PublicKey `json:"pub_key"`
}

// AuthoritySet is the ordered list of authorities at some height. Order is
// the round-robin order. Sets are immutable once built: changes make a new set.
type AuthoritySet struct {
	list  []Authority
	index map[PublicKey]int
	hash  Hash
}

// NewAuthoritySet builds a set, refusing empty sets, duplicates and bad names.
func NewAuthoritySet(auths []Authority) (*AuthoritySet, error) {
	if len(auths) == 0 {
		return nil, fmt.Errorf("authority set: %w: empty", ErrInvalid)
	}
	if len(auths) > MaxAuthorities {
		return nil, fmt.Errorf("authority set: %w: %d authorities, limit %d", ErrInvalid, len(auths), MaxAuthorities)
	}
	s := &AuthoritySet{list: make([]Authority, len(auths)), index: make(map[PublicKey]int, len(auths))}
	copy(s.list, auths)
	depts := make(map[string]bool, len(auths))
	for i, a := range s.list {
		if err := validateName(a.Department, 64); err != nil {
			return nil, fmt.Errorf("authority %d: department: %w", i, err)
		}
		if a.PubKey.IsZero() {
			return nil, fmt.Errorf("authority %q: %w: missing public key", a.Department, ErrInvalid)
		}
		if depts[a.Department] {
			return nil, fmt.Errorf("authority %q: %w: department listed twice", a.Department, ErrInvalid)
		}
		if _, dup := s.index[a.PubKey]; dup {
			return nil, fmt.Errorf("authority %q: %w: public key listed twice", a.Department, ErrInvalid)
		}
		depts[a.Department] = true
		s.index[a.PubKey] = i
	}
	e := NewEncoder(len(auths) * 80)
	e.Uint32(uint32(len(s.list)))
	for _, a := range s.list {
		e.String(a.Department)
		e.Raw(a.PubKey[:])
	}
	s.hash = HashBytes(e.Bytes())
	return s, nil
}

// Size is n, the number of authorities.
func (s *AuthoritySet) Size() int { return len(s.list) }

// Quorum is ⌊2n/3⌋+1: any two quorums share at least one honest authority
// when at most MaxFaulty are faulty.
func (s *AuthoritySet) Quorum() int { return Quorum(len(s.list)) }

// MaxFaulty is f = ⌊(n−1)/3⌋.
func (s *AuthoritySet) MaxFaulty() int { return MaxFaulty(len(s.list)) }

// Quorum returns ⌊2n/3⌋+1.
func Quorum(n int) int { return 2*n/3 + 1 }

// MaxFaulty returns ⌊(n−1)/3⌋, the number of faulty authorities tolerated.
func MaxFaulty(n int) int {
	if n <= 0 {
		return 0
	}
	return (n - 1) / 3
}

// Proposer returns the authority that proposes at height h, round r:
// authorities[(h + r) mod n].
func (s *AuthoritySet) Proposer(h uint64, r uint32) Authority {
	n := uint64(len(s.list))
	return s.list[(h%n+uint64(r)%n)%n]
}

// Index returns k's position in the set.
func (s *AuthoritySet) Index(k PublicKey) (int, bool) {
	i, ok := s.index[k]
	return i, ok
}

// Contains reports whether k is an authority.
func (s *AuthoritySet) Contains(k PublicKey) bool {
	_, ok := s.index[k]
	return ok
}

// At returns the i-th authority.
func (s *AuthoritySet) At(i int) Authority { return s.list[i] }

// List returns a copy of the authorities in order.
func (s *AuthoritySet) List() []Authority {
	out := make([]Authority, len(s.list))
	copy(out, s.list)
	return out
}

// Hash commits to the ordered departments and keys.
func (s *AuthoritySet) Hash() Hash { return s.hash }

// ByDepartment finds an authority by department id.
func (s *AuthoritySet) ByDepartment(dept string) (Authority, bool) {
	for _, a := range s.list {
		if a.Department == dept {
			return a, true
		}
	}
	return Authority{}, false
}
