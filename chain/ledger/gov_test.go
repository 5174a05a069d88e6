package ledger

import (
	"testing"

	"github.com/zwnode/zwnode/chain"
)

// propose submits a proposal from dept's admin and returns its id.
func (e *env) propose(dept string, p GovPropose) (string, *Result) {
	e.t.Helper()
	tx := e.tx(dept+"/admin", TxGovPropose, p)
	res := e.block(tx)
	e.mustOK(res)
	return ApplicationID(tx.Hash()), res
}

func TestGovernanceAddAuthority(t *testing.T) {
	e := newEnv(t)
	e.setup()
	police := seedKey("police/node").Public()
	id, res := e.propose("tax", GovPropose{Action: GovAdd, Department: "police", Name: "公安局", PubKey: police, AdminPubKey: seedKey("police/admin").Public()})
	if res.NextAuthorities != nil {
		t.Fatal("decided with one vote of four")
	}
	e.fails("tax/admin", TxGovVote, GovVote{Proposal: id, Yes: true}, CodeExists, "already voted")
	e.fails("tax/operator", TxGovVote, GovVote{Proposal: id, Yes: true}, CodeUnauthorized, "operator")
	if res := e.block(e.tx("market/admin", TxGovVote, GovVote{Proposal: id, Yes: true})); res.NextAuthorities != nil {
		t.Fatal("decided with two of four (quorum 3)")
	}
	// Three of four is the old quorum, but the new set of five needs four
	// live yes-voters (the newcomer has not shown it is live): not yet.
	if res := e.block(e.tx("hrss/admin", TxGovVote, GovVote{Proposal: id, Yes: true})); res.NextAuthorities != nil {
		t.Fatal("4→5 passed with only three live yes-voters")
	}
	if p, _ := e.l.GetProposal(e.st, id); p.Status != ProposalOpen || !containsStr(p.Note, "only 3 yes-voters") {
		t.Fatalf("proposal = %+v", p)
	}
	res = e.block(e.tx("credit/admin", TxGovVote, GovVote{Proposal: id, Yes: true}))
	e.mustOK(res)
	if len(res.NextAuthorities) != 5 || res.NextAuthorities[4].Department != "police" || res.NextAuthorities[4].PubKey != police {
		t.Fatalf("next authorities = %+v", res.NextAuthorities)
	}
	auths, _ := e.l.Authorities(e.st)
	if len(auths) != 5 {
		t.Fatalf("stored authorities = %d", len(auths))
	}
	d, _ := e.l.Department(e.st, "police")
	if !d.Authority || d.NodeKey != police {
		t.Fatalf("police department = %+v", d)
	}
	// The new department's first admin exists and can act.
	e.ok("police/admin", TxDeptSetKey, DeptSetKey{EncKey: encKey("police").PublicKey().Bytes()})
	p, _ := e.l.GetProposal(e.st, id)
	if p.Status != ProposalPassed {
		t.Fatalf("proposal = %+v", p)
	}
	e.fails("police/admin", TxGovVote, GovVote{Proposal: id, Yes: true}, CodeClosed, "passed")
}

func TestGovernanceRefusals(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.fails("tax/admin", TxGovPropose, GovPropose{Action: GovAdd, Department: "market", PubKey: seedKey("m2").Public()}, CodeExists, "already an authority")
	e.fails("tax/admin", TxGovPropose, GovPropose{Action: GovAdd, Department: "police", PubKey: seedKey("market/node").Public()}, CodeExists, "already belongs to authority market")
	e.fails("tax/admin", TxGovPropose, GovPropose{Action: GovRemove, Department: "police"}, CodeNotFound, "not an authority")
	e.fails("tax/admin", TxGovPropose, GovPropose{Action: "rename", Department: "tax"}, CodeInvalid, "action")
	e.fails("tax/admin", TxGovPropose, GovPropose{Action: GovAdd, Department: "police"}, CodeInvalid, "pub_key")
	e.fails("tax/operator", TxGovPropose, GovPropose{Action: GovRemove, Department: "credit"}, CodeUnauthorized, "operator")
	e.fails("tax/admin", TxGovVote, GovVote{Proposal: "0123456789abcdef0123456789abcdef", Yes: true}, CodeNotFound, "proposal")
}

func TestGovernanceRejectAndStale(t *testing.T) {
	e := newEnv(t)
	e.setup()
	rm, _ := e.propose("tax", GovPropose{Action: GovRemove, Department: "credit"})
	add, _ := e.propose("market", GovPropose{Action: GovAdd, Department: "police", PubKey: seedKey("police/node").Public()})
	// n=4, q=3: two no votes make quorum unreachable.
	e.ok("credit/admin", TxGovVote, GovVote{Proposal: rm, Yes: false})
	e.ok("hrss/admin", TxGovVote, GovVote{Proposal: rm, Yes: false})
	if p, _ := e.l.GetProposal(e.st, rm); p.Status != ProposalRejected {
		t.Fatalf("proposal = %+v", p)
	}
	// Pass a different change; the add proposal made against the old set goes stale.
	rm2, _ := e.propose("tax", GovPropose{Action: GovRemove, Department: "credit"})
	e.ok("market/admin", TxGovVote, GovVote{Proposal: rm2, Yes: true})
	res := e.block(e.tx("hrss/admin", TxGovVote, GovVote{Proposal: rm2, Yes: true}))
	e.mustOK(res)
	if len(res.NextAuthorities) != 3 {
		t.Fatalf("after removal: %+v", res.NextAuthorities)
	}
	e.fails("tax/admin", TxGovVote, GovVote{Proposal: add, Yes: true}, CodeClosed, "earlier authority set")
	// credit is no longer an authority: it may not vote or propose.
	e.fails("credit/admin", TxGovPropose, GovPropose{Action: GovRemove, Department: "tax"}, CodeUnauthorized, "not an authority")
}

func TestGovernanceLivenessRule(t *testing.T) {
	// With 3 authorities (quorum 3) removing one needs all three yes votes;
	// with 2 (quorum 2) removing one leaves a set of 1 whose quorum is met
	// by the remaining yes voter. Removing the last one is refused.
	g := testGenesis(t)
	g.Authorities = g.Authorities[:2]
	a := ExampleAppState()
	a.Departments = []DepartmentSpec{{ID: "hrss", Name: "人社局"}, {ID: "credit", Name: "信用办"}}
	g.AppState, _ = jsonMarshal(a)
	l, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.l = l
	e.st = MapKV{}
	ws, _ := l.GenesisWrites()
	e.st.Apply(ws)
	id, _ := e.propose("tax", GovPropose{Action: GovRemove, Department: "market"})
	res := e.block(e.tx("market/admin", TxGovVote, GovVote{Proposal: id, Yes: true}))
	if len(res.NextAuthorities) != 1 || res.NextAuthorities[0].Department != "tax" {
		t.Fatalf("next = %+v", res.NextAuthorities)
	}
	e.fails("tax/admin", TxGovPropose, GovPropose{Action: GovRemove, Department: "tax"}, CodeInvalid, "no authority")
	e.fails("hrss/admin", TxGovPropose, GovPropose{Action: GovRemove, Department: "tax"}, CodeUnauthorized, "hrss is not an authority")
	// Single authority adding a second: the new set's quorum (2) needs the
	// new member, which has not shown it is live, so the change waits.
	id2, res := e.propose("tax", GovPropose{Action: GovAdd, Department: "police", PubKey: seedKey("police/node").Public()})
	if res.NextAuthorities != nil {
		t.Fatal("1→2 passed without the new member")
	}
	p, _ := e.l.GetProposal(e.st, id2)
	if p.Status != ProposalRejected || !containsStr(p.Note, "remain in the new set") {
		t.Fatalf("proposal = %+v", p)
	}
}

func TestChangedSetNeverEmptyOrDuplicate(t *testing.T) {
	one := []chain.Authority{{Department: "tax", PubKey: seedKey("a").Public()}}
	if _, err := changedSet(one, GovRemove, one[0]); !isErr(err, ErrInvalid) {
		t.Fatalf("empty set: %v", err)
	}
	if _, err := changedSet(one, GovAdd, chain.Authority{Department: "x", PubKey: seedKey("a").Public()}); !isErr(err, ErrExists) {
		t.Fatalf("duplicate key: %v", err)
	}
}

func TestGovernanceProposalExpires(t *testing.T) {
	e := newEnv(t)
	e.setup()
	id, _ := e.propose("tax", GovPropose{Action: GovRemove, Department: "credit"})
	e.blockAt(e.time + ProposalTTLMS + 1)
	e.fails("market/admin", TxGovVote, GovVote{Proposal: id, Yes: true}, CodeClosed, "expired")
}
