package ledger

import (
	"testing"

	"github.com/zwnode/zwnode/chain"
)

func contrib(subject, period, ins string, unit, personal int64, status string) SIContribution {
	return SIContribution{Subject: subject, Employer: alibaba, Period: period, Insurance: ins, BaseFen: 800000, UnitFen: unit, PersonalFen: personal, Status: status}
}

func TestSocialInsurance(t *testing.T) {
	e := newEnv(t)
	e.setup()
	p := person(5)
	e.mustOK(e.block(
		e.tx("hrss/operator", TxSIContribution, contrib(p, "202601", "pension", 128000, 64000, SIPaid)),
		e.tx("hrss/operator", TxSIContribution, contrib(p, "202601", "medical", 64000, 16000, SIPaid)),
		e.tx("hrss/operator", TxSIContribution, contrib(p, "202602", "pension", 128000, 64000, SIArrears)),
	))
	a, err := e.l.SIAccountView(e.st, p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Months != 2 || a.Totals["pension"].UnitFen != 256000 || a.Totals["pension"].Months != 2 || a.Totals["medical"].PersonalFen != 16000 ||
		a.LatestPeriod != "202602" || a.LatestStatus != SIArrears || len(a.ArrearsPeriods) != 1 {
		t.Fatalf("account = %+v", a)
	}
	// A correction replaces the booking; totals stay consistent.
	e.ok("hrss/operator", TxSIContribution, contrib(p, "202602", "pension", 130000, 65000, SIPaid))
	a, _ = e.l.SIAccountView(e.st, p)
	if a.Months != 2 || a.Totals["pension"].UnitFen != 258000 || a.Totals["pension"].PersonalFen != 129000 || a.Totals["pension"].Months != 2 ||
		a.LatestStatus != SIPaid || len(a.ArrearsPeriods) != 0 {
		t.Fatalf("after correction = %+v", a)
	}
	// An older period does not change the latest status.
	e.ok("hrss/operator", TxSIContribution, contrib(p, "202512", "pension", 1, 1, SIArrears))
	a, _ = e.l.SIAccountView(e.st, p)
	if a.LatestPeriod != "202602" || a.Months != 3 || a.Periods[0] != "202512" {
		t.Fatalf("after older period = %+v", a)
	}
	if cs, _ := e.l.SIContributions(e.st, p); len(cs) != 4 {
		t.Fatalf("%d contributions", len(cs))
	}

	e.fails("tax/operator", TxSIContribution, contrib(p, "202603", "pension", 1, 1, SIPaid), CodeUnauthorized, "only hrss does")
	e.fails("hrss/auditor", TxSIContribution, contrib(p, "202603", "pension", 1, 1, SIPaid), CodeUnauthorized, "auditor")
	e.fails("hrss/operator", TxSIContribution, contrib(alibaba, "202603", "pension", 1, 1, SIPaid), CodeInvalid, "belong to a person")
	e.fails("hrss/operator", TxSIContribution, contrib(p, "202613", "pension", 1, 1, SIPaid), CodeInvalid, "out of range")
	e.fails("hrss/operator", TxSIContribution, contrib(p, "2026-1", "pension", 1, 1, SIPaid), CodeInvalid, "YYYYMM")
	e.fails("hrss/operator", TxSIContribution, contrib(p, "202603", "housing", 1, 1, SIPaid), CodeInvalid, "housing")
	e.fails("hrss/operator", TxSIContribution, contrib(p, "202603", "pension", -1, 1, SIPaid), CodeInvalid, "unit_fen")
	e.fails("hrss/operator", TxSIContribution, contrib(p, "202603", "pension", 1, 1, "late"), CodeInvalid, "status")
	r := e.block(e.rawTx("hrss/operator", TxSIContribution, []byte(`{"subject":"`+p+`","period":"202603","insurance":"pension","base_fen":1.5,"unit_fen":1,"personal_fen":1,"status":"paid"}`))).TxResults[0]
	if r.Code != CodeBadPayload {
		t.Fatalf("float amount: %+v", r)
	}
}

func creditEv(subject, cat string, positive bool, sev int) CreditEventTx {
	return CreditEventTx{Subject: subject, Category: cat, Positive: positive, Severity: sev, EvidenceDigest: chain.HashBytes([]byte(cat))}
}

func TestCreditScoreLevelsAndBlacklist(t *testing.T) {
	e := newEnv(t)
	e.setup()
	v, _ := e.l.Credit(e.st, alibaba)
	if v.Score != 100 || v.Level != "B" || len(v.History) != 0 {
		t.Fatalf("fresh subject = %+v", v)
	}
	// tax weight 150%: severity 4 negative = -(20*150/100) = -30 → 70 (C).
	e.ok("tax/operator", TxCreditEvent, creditEv(alibaba, "tax", false, 4))
	v, _ = e.l.Credit(e.st, alibaba)
	if v.Score != 70 || v.Level != "C" || v.Blacklisted || len(v.History) != 1 || v.History[0].Department != "tax" || v.History[0].Delta != -30 {
		t.Fatalf("after tax event = %+v", v)
	}
	// social_insurance 120%: severity 3 negative = -12 → 58: blacklisted.
	e.ok("hrss/operator", TxCreditEvent, creditEv(alibaba, "social_insurance", false, 3))
	bl, _ := e.l.Blacklist(e.st, 0)
	if len(bl) != 1 || bl[0].Subject != alibaba || bl[0].Score != 58 {
		t.Fatalf("blacklist = %+v", bl)
	}
	// Positive event lifts it back above 60.
	e.ok("credit/operator", TxCreditEvent, creditEv(alibaba, "commendation", true, 5))
	if bl, _ := e.l.Blacklist(e.st, 0); len(bl) != 0 {
		t.Fatalf("blacklist after commendation = %+v", bl)
	}
	v, _ = e.l.Credit(e.st, alibaba)
	if v.Score != 68 || v.History[2].Height != e.height || v.History[2].TxHash.IsZero() {
		t.Fatalf("after commendation = %+v", v)
	}
	// Clamping at Min keeps the raw sum exact.
	for i := 0; i < 3; i++ {
		e.ok("tax/operator", TxCreditEvent, creditEv(alibaba, "tax", false, 5))
	}
	v, _ = e.l.Credit(e.st, alibaba)
	if v.Score != 0 || v.Raw != 68-180 || v.Level != "D" {
		t.Fatalf("clamped = %+v", v)
	}

	e.fails("tax/operator", TxCreditEvent, creditEv(alibaba, "gossip", false, 1), CodeInvalid, "category")
	e.fails("tax/operator", TxCreditEvent, creditEv(alibaba, "tax", false, 6), CodeInvalid, "severity")
	e.fails("tax/operator", TxCreditEvent, creditEv("e:123", "tax", false, 1), CodeInvalid, "")
	e.fails("tax/auditor", TxCreditEvent, creditEv(alibaba, "tax", false, 1), CodeUnauthorized, "auditor")
	noEv := creditEv(alibaba, "tax", false, 1)
	noEv.EvidenceDigest = chain.Hash{}
	e.fails("tax/operator", TxCreditEvent, noEv, CodeInvalid, "evidence_digest")
}

func TestCreditReportersOnly(t *testing.T) {
	a := ExampleAppState()
	a.Credit.Reporters = []string{"credit"}
	g := testGenesis(t)
	g.AppState, _ = jsonMarshal(a)
	l, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.l = l
	e.setup()
	e.fails("tax/operator", TxCreditEvent, creditEv(alibaba, "tax", false, 1), CodeUnauthorized, "reporters are [credit]")
}
