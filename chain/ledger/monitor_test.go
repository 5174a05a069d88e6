package ledger

import (
	"testing"

	"github.com/zwnode/zwnode/chain"
)

func withMonitoring(t *testing.T, m MonitoringRules) *env {
	a := ExampleAppState()
	a.Monitoring = m
	g := testGenesis(t)
	g.AppState, _ = jsonMarshal(a)
	l, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.l = l
	e.setup()
	return e
}

func TestAlertConfidentialReadsPerHour(t *testing.T) {
	e := withMonitoring(t, MonitoringRules{ReadSubjectsPerHour: 3})
	e.ok("hrss/admin", TxGrant, GrantTx{Schema: "hrss.contribution", Department: "tax"})
	var subjects []string
	var txs []chain.Tx
	for i := 0; i < 6; i++ {
		s := person(100 + i)
		subjects = append(subjects, s)
		txs = append(txs, e.tx("hrss/operator", TxRecordPut, RecordPut{Schema: "hrss.contribution", Subject: s, Envelope: sealFor("hrss.contribution", s, "x", "hrss", "tax")}))
	}
	e.mustOK(e.block(txs...))
	read := func(i int) chain.Tx {
		return e.tx("tax/operator", TxAccessLog, AccessLog{Subject: subjects[i], Schema: "hrss.contribution", Version: 1, Purpose: "arrears audit"})
	}
	// Three distinct subjects (one read twice) within the hour: no alert.
	res := e.block(read(0), read(1), read(1), read(2))
	e.mustOK(res)
	if len(res.Alerts) != 0 {
		t.Fatalf("alert at 3 subjects: %+v", res.Alerts)
	}
	// The fourth distinct subject raises one alert; the fifth none more.
	res = e.block(read(3), read(4))
	if len(res.Alerts) != 1 || res.Alerts[0].Rule != RuleConfidentialReads || res.Alerts[0].Department != "tax" {
		t.Fatalf("alerts = %+v", res.Alerts)
	}
	stored, _ := e.l.Alerts(e.st, 0, 0)
	if len(stored) != 1 || stored[0] != res.Alerts[0] {
		t.Fatalf("stored alerts = %+v", stored)
	}
	// Two hours later the window has emptied: reads of 2 subjects are fine.
	res = e.blockAt(e.time+2*hourMS, read(0), read(5))
	if len(res.Alerts) != 0 {
		t.Fatalf("alert after the window: %+v", res.Alerts)
	}
	// Public records do not count.
	e.ok("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"clear"}`))
	for i := 0; i < 5; i++ {
		r := e.block(e.tx("market/operator", TxAccessLog, AccessLog{Subject: alibaba, Schema: "tax.clearance", Version: 1, Purpose: "p"}))
		if len(r.Alerts) != 0 {
			t.Fatal("public read raised an alert")
		}
	}
}

func TestAlertRecordAmendedTooOften(t *testing.T) {
	e := withMonitoring(t, MonitoringRules{AmendmentsPerDay: 2})
	p := func(status string) chain.Tx {
		return e.tx("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"`+status+`"}`))
	}
	// Creation plus two amendments: fine. The third amendment alerts.
	res := e.block(p("clear"), p("arrears"), p("clear"))
	if len(res.Alerts) != 0 {
		t.Fatalf("alerts = %+v", res.Alerts)
	}
	res = e.block(p("arrears"))
	if len(res.Alerts) != 1 || res.Alerts[0].Rule != RuleRecordAmendments || res.Alerts[0].Key != "tax.clearance/"+alibaba {
		t.Fatalf("alerts = %+v", res.Alerts)
	}
	if res = e.block(p("clear")); len(res.Alerts) != 0 {
		t.Fatal("second alert within the same day")
	}
	// A day later the window is empty again.
	if res = e.blockAt(e.time+dayMS+1, p("arrears")); len(res.Alerts) != 0 {
		t.Fatalf("alert after a quiet day: %+v", res.Alerts)
	}
}

func TestAlertApplicationOverdue(t *testing.T) {
	e := withMonitoring(t, MonitoringRules{})
	id := e.submitApp(submit("", "鲁济名预核[2026]007", "c"))
	app, _ := e.l.ApplicationForDepartment(e.st, id)
	t0 := app.SubmittedTime
	// tax answers in time; market and hrss do not.
	e.blockAt(t0+hourMS, e.tx("tax/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "tax.no_arrears", Pass: true}))
	if res := e.blockAt(t0 + dayMS - 1); len(res.Alerts) != 0 {
		t.Fatalf("alert before the limit: %+v", res.Alerts)
	}
	res := e.blockAt(t0 + dayMS)
	if len(res.Alerts) != 2 {
		t.Fatalf("alerts at the limit = %+v", res.Alerts)
	}
	depts := map[string]bool{}
	for _, a := range res.Alerts {
		if a.Rule != RuleApplicationOverdue {
			t.Fatalf("alert %+v", a)
		}
		depts[a.Department] = true
	}
	if !depts["market"] || !depts["hrss"] {
		t.Fatalf("overdue departments %v", depts)
	}
	if res := e.block(); len(res.Alerts) != 0 {
		t.Fatal("overdue alert repeated")
	}
	all, _ := e.l.Alerts(e.st, 0, 0)
	if len(all) != 2 {
		t.Fatalf("stored alerts %d", len(all))
	}
	if later, _ := e.l.Alerts(e.st, e.height, 0); len(later) != 0 {
		t.Fatalf("alerts from height %d: %+v", e.height, later)
	}
}
