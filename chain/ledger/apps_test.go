package ledger

import (
	"crypto/sha256"
	"testing"

	"github.com/zwnode/zwnode/chain"
)

func submit(subject, nameRes, code string) ApplicationSubmit {
	return ApplicationSubmit{AppType: "enterprise.establishment", Applicant: person(1), Subject: subject, NameReservation: nameRes,
		FormDigest: chain.HashBytes([]byte("form")), AccessCodeHash: sha256.Sum256([]byte(code))}
}

// submitApp submits and returns the application id.
func (e *env) submitApp(p ApplicationSubmit) string {
	e.t.Helper()
	tx := e.tx("market/operator", TxApplicationSubmit, p)
	e.mustOK(e.block(tx))
	return ApplicationID(tx.Hash())
}

func TestApplicationAutoApproved(t *testing.T) {
	e := newEnv(t)
	e.setup()
	sub := "e:" + uscc(t, "91370100MA3C4B2T0")
	e.mustOK(e.block(
		e.tx("market/operator", TxRecordPut, put("market.name_check", sub, `{"name":"济南泉城科技有限公司","result":"approved"}`)),
		e.tx("tax/operator", TxRecordPut, put("tax.clearance", sub, `{"status":"clear"}`)),
		e.tx("hrss/operator", TxRecordPut, put("hrss.registration", sub, `{"status":"registered","employees":12}`)),
	))
	id := e.submitApp(submit(sub, "", "123456"))
	app, err := e.l.Application(e.st, id, "123456")
	if err != nil {
		t.Fatal(err)
	}
	if app.Status != AppApproved || len(app.Steps) != 3 || app.Steps[2].Status != AppApproved || app.Steps[2].Height != e.height {
		t.Fatalf("application = %+v", app)
	}
	for _, c := range app.Checks {
		if !c.Auto || c.Status != CheckPassed {
			t.Fatalf("check %+v", c)
		}
	}
	if _, err := e.l.Application(e.st, id, "654321"); !isErr(err, ErrAccessDenied) {
		t.Fatalf("wrong access code: %v", err)
	}
	if _, err := e.l.Application(e.st, "00000000000000000000000000000000", "123456"); !isErr(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestApplicationAutoRejectedByArrears(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.ok("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"arrears","arrears_fen":990000}`))
	id := e.submitApp(submit(alibaba, "", "c"))
	app, _ := e.l.ApplicationForDepartment(e.st, id)
	if app.Status != AppRejected {
		t.Fatalf("status %s", app.Status)
	}
	tax := app.check("tax.no_arrears")
	if tax.Status != CheckFailed || !containsStr(tax.Reason, `status="arrears"`) {
		t.Fatalf("tax check %+v", tax)
	}
	if app.check("hrss.registration").Status != CheckCancelled {
		t.Fatalf("pending checks not cancelled: %+v", app.Checks)
	}
	if q, _ := e.l.PendingChecks(e.st, "hrss", 0); len(q) != 0 {
		t.Fatalf("hrss queue after rejection: %v", q)
	}
	e.fails("hrss/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "hrss.registration", Pass: true}, CodeClosed, "rejected")
}

func TestApplicationAttestationFlowAndStats(t *testing.T) {
	e := newEnv(t)
	e.setup()
	id := e.submitApp(submit("", "鲁济名预核内字[2026]第001号", "c"))
	app, _ := e.l.ApplicationForDepartment(e.st, id)
	if app.Status != AppVerifying {
		t.Fatalf("status %s", app.Status)
	}
	if q, _ := e.l.PendingChecks(e.st, "tax", 0); len(q) != 1 || q[0] != id+"/tax.no_arrears" {
		t.Fatalf("tax queue %v", q)
	}
	// Refusals.
	e.fails("tax/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "hrss.registration", Pass: true}, CodeUnauthorized, "it belongs to hrss")
	e.fails("tax/auditor", TxApplicationAttest, ApplicationAttest{Application: id, Check: "tax.no_arrears", Pass: true}, CodeUnauthorized, "auditor")
	e.fails("tax/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "tax.nothing", Pass: true}, CodeNotFound, "no check")
	e.fails("tax/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "tax.no_arrears", Pass: false}, CodeInvalid, "needs a reason")
	e.fails("tax/operator", TxApplicationAttest, ApplicationAttest{Application: "ffffffffffffffffffffffffffffffff", Check: "tax.no_arrears", Pass: true}, CodeNotFound, "")

	t0 := app.SubmittedTime
	e.blockAt(t0+10*minuteMS, e.tx("tax/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "tax.no_arrears", Pass: true}))
	e.fails("tax/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "tax.no_arrears", Pass: true}, CodeClosed, "already passed")
	e.blockAt(t0+20*minuteMS, e.tx("market/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "market.name", Pass: true}))
	e.blockAt(t0+30*minuteMS, e.tx("hrss/operator", TxApplicationAttest, ApplicationAttest{Application: id, Check: "hrss.registration", Pass: true, Reason: "登记号 3701"}))
	app, _ = e.l.ApplicationForDepartment(e.st, id)
	if app.Status != AppApproved || app.DecidedTime != t0+30*minuteMS {
		t.Fatalf("application = %+v", app)
	}

	// A second application decided faster gives a median and p90.
	id2 := e.submitApp(submit(alibaba, "", "d"))
	app2, _ := e.l.ApplicationForDepartment(e.st, id2)
	e.blockAt(app2.SubmittedTime+5*minuteMS,
		e.tx("tax/operator", TxApplicationAttest, ApplicationAttest{Application: id2, Check: "tax.no_arrears", Pass: false, Reason: "unfiled returns"}))
	stats, err := e.l.ApplicationStats(e.st)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats.ByType) != 1 || stats.ByType[0].Count != 2 || stats.ByType[0].MedianMS != 5*minuteMS || stats.ByType[0].P90MS != 30*minuteMS {
		t.Fatalf("by type = %+v", stats.ByType)
	}
	want := map[string]DurationStats{
		"hrss":   {Key: "hrss", Count: 1, MedianMS: 30 * minuteMS, P90MS: 30 * minuteMS},
		"market": {Key: "market", Count: 1, MedianMS: 20 * minuteMS, P90MS: 20 * minuteMS},
		"tax":    {Key: "tax", Count: 2, MedianMS: 5 * minuteMS, P90MS: 10 * minuteMS},
	}
	if len(stats.ByDepartment) != 3 {
		t.Fatalf("by dept = %+v", stats.ByDepartment)
	}
	for _, s := range stats.ByDepartment {
		if s != want[s.Key] {
			t.Fatalf("by dept %s = %+v, want %+v", s.Key, s, want[s.Key])
		}
	}
}

func TestApplicationSubmitRefusals(t *testing.T) {
	e := newEnv(t)
	e.setup()
	bad := submit(alibaba, "", "c")
	bad.AppType = "enterprise.dissolution"
	e.fails("market/operator", TxApplicationSubmit, bad, CodeNotFound, "enterprise.dissolution")
	bad = submit("e:91330100799655058A", "", "c")
	e.fails("market/operator", TxApplicationSubmit, bad, CodeInvalid, "check character")
	bad = submit(alibaba, "name", "c")
	e.fails("market/operator", TxApplicationSubmit, bad, CodeInvalid, "exactly one")
	bad = submit(person(2), "", "c")
	e.fails("market/operator", TxApplicationSubmit, bad, CodeInvalid, "enterprise")
	bad = submit(alibaba, "", "c")
	bad.AccessCodeHash = chain.Hash{}
	e.fails("market/operator", TxApplicationSubmit, bad, CodeInvalid, "access_code_hash")
	e.fails("market/auditor", TxApplicationSubmit, submit(alibaba, "", "c"), CodeUnauthorized, "auditor")
}

func TestPercentileNearestRank(t *testing.T) {
	d := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if rank(d, 50) != 5 || rank(d, 90) != 9 || rank(d[:1], 90) != 1 || rank(d[:3], 50) != 2 {
		t.Fatal("nearest rank wrong")
	}
}

func TestRejectedAtSubmitWritesNoDeletesOfUnknownKeys(t *testing.T) {
	e := newEnv(t)
	e.setup()
	e.ok("tax/operator", TxRecordPut, put("tax.clearance", alibaba, `{"status":"arrears"}`))
	res := e.block(e.tx("market/operator", TxApplicationSubmit, submit(alibaba, "", "c")))
	e.mustOK(res)
	for _, w := range res.Writes {
		if w.Value == nil {
			t.Fatalf("delete of %s, which never existed", w.Key)
		}
	}
}
