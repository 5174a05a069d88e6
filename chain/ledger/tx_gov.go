package ledger

import (
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// Governance actions.
const (
	GovAdd    = "add"
	GovRemove = "remove"
)

// Proposal statuses.
const (
	ProposalOpen     = "open"
	ProposalPassed   = "passed"
	ProposalRejected = "rejected"
)

// ProposalTTLMS is how long a proposal accepts votes (block time): a
// proposal forgotten for weeks must not pass by surprise.
const ProposalTTLMS = 7 * dayMS

// GovPropose (gov.propose, admin of an authority department): proposes to
// add or remove one authority. The proposer's department votes yes.
//
// Safety rule. A proposal changes exactly one member and is bound to the
// authority set it was made against (BaseSetHash): once any change passes,
// older proposals are stale and can no longer be voted on, so consecutive
// sets always differ by one member. A proposal passes when yes votes reach
// the quorum of the current set AND the yes-voting departments that remain
// in the new set reach the quorum of the new set: those departments have
// just shown they are live, so the new set can finalize blocks at once.
// The new set is never empty and never repeats a department or key. When
// so many departments voted no that the quorum can no longer be reached,
// the proposal is rejected.
type GovPropose struct {
	Action     string          `json:"action"`
	Department string          `json:"department"`
	Name       string          `json:"name,omitempty"`
	PubKey     chain.PublicKey `json:"pub_key"`
	// AdminPubKey, when adding a department that has no accounts yet,
	// becomes its first admin account once the proposal passes.
	AdminPubKey chain.PublicKey `json:"admin_pub_key"`
}

// GovVote (gov.vote, admin of an authority department): one vote per
// department per proposal.
type GovVote struct {
	Proposal string `json:"proposal"`
	Yes      bool   `json:"yes"`
}

// Vote is a department's recorded vote.
type Vote struct {
	Department string          `json:"department"`
	Account    chain.PublicKey `json:"account"`
	Yes        bool            `json:"yes"`
	Height     uint64          `json:"height"`
}

// Proposal is a governance proposal and its tally.
type Proposal struct {
	ID            string          `json:"id"`
	Action        string          `json:"action"`
	Authority     chain.Authority `json:"authority"`
	AdminPubKey   chain.PublicKey `json:"admin_pub_key"`
	BaseSetHash   chain.Hash      `json:"base_set_hash"`
	Proposer      string          `json:"proposer"`
	Height        uint64          `json:"height"`
	Time          int64           `json:"time"`
	Votes         []Vote          `json:"votes"`
	Status        string          `json:"status"`
	DecidedHeight uint64          `json:"decided_height,omitempty"`
	Note          string          `json:"note,omitempty"`
}

func (p *GovPropose) validate() error {
	if p.Action != GovAdd && p.Action != GovRemove {
		return invalid("action %q is not %q or %q", p.Action, GovAdd, GovRemove)
	}
	if err := chain.ValidateName(p.Department, 64); err != nil {
		return invalid("department: %v", err)
	}
	if p.Action == GovAdd && p.PubKey.IsZero() {
		return invalid("adding an authority needs its pub_key (ed25519, its node's libp2p identity)")
	}
	if len(p.Name) > 100 {
		return invalid("name longer than 100 bytes")
	}
	return nil
}

func (p *GovPropose) apply(c *txCtx) error {
	cur, err := c.l.Authorities(c.st)
	if err != nil {
		return err
	}
	if !isAuthority(cur, c.dept()) {
		return unauthorized("%s may not propose: %s is not an authority", c.who(), c.dept())
	}
	if _, err := changedSet(cur, p.Action, chain.Authority{Department: p.Department, Name: p.Name, PubKey: p.PubKey}); err != nil {
		return err
	}
	base, err := chain.NewAuthoritySet(cur)
	if err != nil {
		return fatal{fmt.Errorf("%w: stored authority set: %v", ErrState, err)}
	}
	auth := chain.Authority{Department: p.Department, Name: p.Name, PubKey: p.PubKey}
	if !p.AdminPubKey.IsZero() {
		if p.Action != GovAdd {
			return invalid("admin_pub_key only goes with action add")
		}
		if ok, err := has(c.st, acctKey(p.AdminPubKey)); err != nil || ok {
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: account %s", ErrExists, p.AdminPubKey.Short())
		}
	}
	if p.Action == GovRemove {
		for _, a := range cur {
			if a.Department == p.Department {
				auth = a
			}
		}
	}
	prop := &Proposal{ID: ApplicationID(c.hash), Action: p.Action, Authority: auth, AdminPubKey: p.AdminPubKey, BaseSetHash: base.Hash(),
		Proposer: c.dept(), Height: c.height(), Time: c.time(), Status: ProposalOpen,
		Votes: []Vote{{Department: c.dept(), Account: c.acct.PubKey, Yes: true, Height: c.height()}}}
	c.event(TxGovPropose, prop.ID, p.Action+" "+p.Department)
	return c.tally(prop, cur)
}

// changedSet returns cur with one authority added (at the end of the
// round-robin order) or removed, refusing empty sets and duplicates.
func changedSet(cur []chain.Authority, action string, a chain.Authority) ([]chain.Authority, error) {
	var next []chain.Authority
	switch action {
	case GovAdd:
		for _, x := range cur {
			if x.Department == a.Department {
				return nil, fmt.Errorf("%w: %s is already an authority", ErrExists, a.Department)
			}
			if x.PubKey == a.PubKey {
				return nil, fmt.Errorf("%w: key %s already belongs to authority %s", ErrExists, a.PubKey.Short(), x.Department)
			}
		}
		next = append(append(next, cur...), a)
	case GovRemove:
		for _, x := range cur {
			if x.Department != a.Department {
				next = append(next, x)
			}
		}
		if len(next) == len(cur) {
			return nil, fmt.Errorf("%w: %s is not an authority", ErrNotFound, a.Department)
		}
		if len(next) == 0 {
			return nil, invalid("removing %s would leave no authority", a.Department)
		}
	}
	if _, err := chain.NewAuthoritySet(next); err != nil {
		return nil, invalid("resulting authority set: %v", err)
	}
	return next, nil
}

func isAuthority(set []chain.Authority, dept string) bool {
	for _, a := range set {
		if a.Department == dept {
			return true
		}
	}
	return false
}

func (p *GovVote) validate() error {
	if len(p.Proposal) != 32 {
		return invalid("proposal id must be 32 hex digits")
	}
	return nil
}

func (p *GovVote) apply(c *txCtx) error {
	var prop Proposal
	ok, err := getJSON(c.st, proposalKey(p.Proposal), &prop)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: proposal %s", ErrNotFound, p.Proposal)
	}
	cur, err := c.l.Authorities(c.st)
	if err != nil {
		return err
	}
	if !isAuthority(cur, c.dept()) {
		return unauthorized("%s may not vote: %s is not an authority", c.who(), c.dept())
	}
	if prop.Status != ProposalOpen {
		return fmt.Errorf("%w: proposal %s is %s", ErrClosed, prop.ID, prop.Status)
	}
	set, err := chain.NewAuthoritySet(cur)
	if err != nil {
		return fatal{fmt.Errorf("%w: stored authority set: %v", ErrState, err)}
	}
	if c.time() > prop.Time+ProposalTTLMS {
		return fmt.Errorf("%w: proposal %s expired (open for at most %s of block time); propose again", ErrClosed, prop.ID, fmtDuration(ProposalTTLMS))
	}
	if set.Hash() != prop.BaseSetHash {
		return fmt.Errorf("%w: proposal %s was made against an earlier authority set; propose again", ErrClosed, prop.ID)
	}
	for _, v := range prop.Votes {
		if v.Department == c.dept() {
			return fmt.Errorf("%w: %s already voted on proposal %s", ErrExists, c.dept(), prop.ID)
		}
	}
	prop.Votes = append(prop.Votes, Vote{Department: c.dept(), Account: c.acct.PubKey, Yes: p.Yes, Height: c.height()})
	c.event(TxGovVote, prop.ID, fmt.Sprintf("%s yes=%t", c.dept(), p.Yes))
	return c.tally(&prop, cur)
}

// tally decides the proposal if it can and stores it.
func (c *txCtx) tally(prop *Proposal, cur []chain.Authority) error {
	next, err := changedSet(cur, prop.Action, prop.Authority)
	if err != nil {
		return err
	}
	yes, no, liveInNext := 0, 0, 0
	for _, v := range prop.Votes {
		if !isAuthority(cur, v.Department) {
			continue
		}
		if v.Yes {
			yes++
			if isAuthority(next, v.Department) {
				liveInNext++
			}
		} else {
			no++
		}
	}
	q := chain.Quorum(len(cur))
	switch {
	case yes >= q && liveInNext >= chain.Quorum(len(next)):
		prop.Status, prop.DecidedHeight = ProposalPassed, c.height()
		if err := c.applyAuthorityChange(prop, next); err != nil {
			return err
		}
	case yes >= q:
		prop.Note = fmt.Sprintf("quorum reached, but only %d yes-voters remain in the new set of %d (need %d)", liveInNext, len(next), chain.Quorum(len(next)))
		if yes+no == len(cur) {
			prop.Status, prop.DecidedHeight = ProposalRejected, c.height()
		}
	case no > len(cur)-q:
		prop.Status, prop.DecidedHeight = ProposalRejected, c.height()
		prop.Note = fmt.Sprintf("%d of %d voted no; quorum %d is out of reach", no, len(cur), q)
	}
	return putJSON(c.st, proposalKey(prop.ID), prop)
}

func (c *txCtx) applyAuthorityChange(prop *Proposal, next []chain.Authority) error {
	if err := putJSON(c.st, []byte(keyAuthorities), next); err != nil {
		return err
	}
	var d Department
	ok, err := getJSON(c.st, deptKey(prop.Authority.Department), &d)
	if err != nil {
		return err
	}
	if !ok {
		d = Department{ID: prop.Authority.Department, Name: prop.Authority.Name}
	}
	d.Authority = prop.Action == GovAdd
	if d.Authority {
		d.NodeKey = prop.Authority.PubKey
		if prop.Authority.Name != "" {
			d.Name = prop.Authority.Name
		}
	}
	if !prop.AdminPubKey.IsZero() && d.Authority {
		exists, err := has(c.st, acctKey(prop.AdminPubKey))
		if err != nil {
			return err
		}
		if !exists {
			a := Account{PubKey: prop.AdminPubKey, Department: d.ID, Role: RoleAdmin, Name: "first admin", Active: true, AddedHeight: c.height()}
			putAccount(c.st, &a)
		}
	}
	c.next = next
	c.event("gov.passed", prop.ID, prop.Action+" "+prop.Authority.Department)
	return putJSON(c.st, deptKey(d.ID), d)
}
