package ledger

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/zwnode/zwnode/chain"
)

// Application statuses (办件进度).
const (
	AppSubmitted = "submitted"
	AppVerifying = "verifying"
	AppApproved  = "approved"
	AppRejected  = "rejected"
)

// Check statuses.
const (
	CheckPending = "pending"
	CheckPassed  = "passed"
	CheckFailed  = "failed"
	// CheckCancelled marks checks still pending when another check failed.
	CheckCancelled = "cancelled"
)

// pfxIxPending indexes each department's pending checks: its work queue.
const pfxIxPending = "ix/pend/"

// AppCheck is one department's verification of an application.
type AppCheck struct {
	ID          string          `json:"id"`
	Department  string          `json:"department"`
	Status      string          `json:"status"`
	Reason      string          `json:"reason,omitempty"`
	Auto        bool            `json:"auto,omitempty"`
	TimeLimitMS int64           `json:"time_limit_ms,omitempty"`
	By          chain.PublicKey `json:"by"`
	Height      uint64          `json:"height,omitempty"`
	Time        int64           `json:"time,omitempty"`
	TxHash      chain.Hash      `json:"tx_hash"`
}

// AppStep is one status change, timestamped by block time.
type AppStep struct {
	Status string `json:"status"`
	Height uint64 `json:"height"`
	Time   int64  `json:"time"`
	Note   string `json:"note,omitempty"`
}

// Application is a one-stop application and its progress.
type Application struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Applicant       string          `json:"applicant"`
	Subject         string          `json:"subject,omitempty"`
	NameReservation string          `json:"name_reservation,omitempty"`
	FormDigest      chain.Hash      `json:"form_digest"`
	AccessCodeHash  chain.Hash      `json:"access_code_hash"`
	Status          string          `json:"status"`
	SubmittedBy     chain.PublicKey `json:"submitted_by"`
	SubmittedDept   string          `json:"submitted_department"`
	SubmittedHeight uint64          `json:"submitted_height"`
	SubmittedTime   int64           `json:"submitted_time"`
	DecidedTime     int64           `json:"decided_time,omitempty"`
	Checks          []AppCheck      `json:"checks"`
	Steps           []AppStep       `json:"steps"`
}

func (a *Application) check(id string) *AppCheck {
	for i := range a.Checks {
		if a.Checks[i].ID == id {
			return &a.Checks[i]
		}
	}
	return nil
}

// ApplicationID derives an application's id from the submitting tx's hash.
func ApplicationID(txHash chain.Hash) string { return hex.EncodeToString(txHash[:16]) }

// ApplicationSubmit (application.submit, admin/operator of any
// department — usually the service hall's 一窗受理): opens an application.
// Subject is the enterprise's "e:<USCC>" when it has one; a new enterprise
// gives its name reservation number instead. The applicant is a person
// pseudonym. The access code itself stays with the applicant; only its
// SHA-256 is stored.
type ApplicationSubmit struct {
	AppType         string     `json:"app_type"`
	Applicant       string     `json:"applicant"`
	Subject         string     `json:"subject,omitempty"`
	NameReservation string     `json:"name_reservation,omitempty"`
	FormDigest      chain.Hash `json:"form_digest"`
	AccessCodeHash  chain.Hash `json:"access_code_hash"`
}

func (p *ApplicationSubmit) validate() error {
	if err := chain.ValidateName(p.AppType, 64); err != nil {
		return invalid("app_type: %v", err)
	}
	if err := ValidateSubject(p.Applicant); err != nil {
		return fmt.Errorf("applicant: %w", err)
	}
	if (p.Subject == "") == (p.NameReservation == "") {
		return invalid("exactly one of subject (e:<USCC>) and name_reservation is required")
	}
	if p.Subject != "" {
		if len(p.Subject) < 2 || p.Subject[:2] != "e:" {
			return fmt.Errorf("%w: %q: the application subject is an enterprise (e:<USCC>)", ErrInvalidSubject, truncate(p.Subject, 40))
		}
		if err := ValidateSubject(p.Subject); err != nil {
			return err
		}
	}
	if len(p.NameReservation) > 64 || !utf8.ValidString(p.NameReservation) {
		return invalid("name_reservation longer than 64 bytes or not UTF-8")
	}
	if p.FormDigest.IsZero() || p.AccessCodeHash.IsZero() {
		return invalid("form_digest and access_code_hash are required (SHA-256, hex)")
	}
	return nil
}

func (p *ApplicationSubmit) apply(c *txCtx) error {
	t := c.l.appTypes[p.AppType]
	if t == nil {
		return fmt.Errorf("%w: application type %q", ErrNotFound, p.AppType)
	}
	id := ApplicationID(c.hash)
	app := &Application{ID: id, Type: t.ID, Applicant: p.Applicant, Subject: p.Subject, NameReservation: p.NameReservation,
		FormDigest: p.FormDigest, AccessCodeHash: p.AccessCodeHash, Status: AppVerifying,
		SubmittedBy: c.acct.PubKey, SubmittedDept: c.dept(), SubmittedHeight: c.height(), SubmittedTime: c.time(),
		Steps: []AppStep{{Status: AppSubmitted, Height: c.height(), Time: c.time()}, {Status: AppVerifying, Height: c.height(), Time: c.time()}}}
	for _, chk := range t.Checks {
		ac := AppCheck{ID: chk.ID, Department: chk.Department, Status: CheckPending, TimeLimitMS: chk.TimeLimitMS}
		if err := c.autoCheck(app, &chk, &ac); err != nil {
			return err
		}
		app.Checks = append(app.Checks, ac)
		if ac.Status == CheckPending {
			c.st.mark(pfxIxPending + chk.Department + "/" + id + "/" + chk.ID)
			if chk.TimeLimitMS > 0 {
				c.st.mark(k(pfxDeadline+tnum(c.time()+chk.TimeLimitMS), id, chk.ID))
			}
		} else if err := c.recordCheckStat(app, &ac); err != nil {
			return err
		}
	}
	c.event(TxApplicationSubmit, id, t.ID)
	return c.settle(app)
}

// autoCheck answers a check from the latest public record of the rule's
// schema for the subject, if there is one.
func (c *txCtx) autoCheck(app *Application, chk *Check, ac *AppCheck) error {
	if chk.Auto == nil || app.Subject == "" {
		return nil
	}
	latest, ok, err := latestVersion(c.st, chk.Auto.Schema, app.Subject)
	if err != nil || !ok || latest.Fields == nil {
		return err
	}
	got := fieldString(latest.Fields, chk.Auto.Field)
	ac.Auto, ac.Height, ac.Time, ac.TxHash = true, c.height(), c.time(), c.hash
	ref := fmt.Sprintf("%s version %d (height %d): %s=%q", chk.Auto.Schema, latest.Version, latest.Height, chk.Auto.Field, got)
	if got == chk.Auto.Equals {
		ac.Status, ac.Reason = CheckPassed, ref
	} else {
		ac.Status, ac.Reason = CheckFailed, ref+", want "+fmt.Sprintf("%q", chk.Auto.Equals)
	}
	return nil
}

// fieldString renders a stored field for comparison: strings as is,
// numbers and booleans in their JSON spelling; "" when absent.
func fieldString(fields json.RawMessage, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(fields, &m) != nil {
		return ""
	}
	raw, ok := m[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}

// settle moves an application to approved when every check passed and to
// rejected when one failed, then stores it.
func (c *txCtx) settle(app *Application) error {
	status := AppApproved
	for _, ck := range app.Checks {
		if ck.Status == CheckFailed {
			status = AppRejected
			break
		}
		if ck.Status == CheckPending {
			status = ""
		}
	}
	if status != "" {
		app.Status, app.DecidedTime = status, c.time()
		app.Steps = append(app.Steps, AppStep{Status: status, Height: c.height(), Time: c.time()})
		// A rejection ends the other departments' pending work too.
		for i := range app.Checks {
			ck := &app.Checks[i]
			if ck.Status == CheckPending {
				ck.Status = CheckCancelled
				c.st.del([]byte(pfxIxPending + ck.Department + "/" + app.ID + "/" + ck.ID))
				if ck.TimeLimitMS > 0 {
					c.st.del([]byte(k(pfxDeadline+tnum(app.SubmittedTime+ck.TimeLimitMS), app.ID, ck.ID)))
				}
			}
		}
		c.st.mark(k(pfxStatType+app.Type, tnum(c.time()-app.SubmittedTime), app.ID))
		c.event("application."+status, app.ID, app.Type)
	}
	return putJSON(c.st, appKey(app.ID), app)
}

func (c *txCtx) recordCheckStat(app *Application, ck *AppCheck) error {
	c.st.mark(k(pfxStatDept+ck.Department, tnum(ck.Time-app.SubmittedTime), app.ID, ck.ID))
	return nil
}

// ApplicationAttest (application.attest, admin/operator of the checking
// department): passes or fails a pending check. A failure needs a reason.
type ApplicationAttest struct {
	Application string `json:"application"`
	Check       string `json:"check"`
	Pass        bool   `json:"pass"`
	Reason      string `json:"reason,omitempty"`
}

func (p *ApplicationAttest) validate() error {
	if len(p.Application) != 32 {
		return invalid("application id must be 32 hex digits")
	}
	if _, err := hex.DecodeString(p.Application); err != nil {
		return invalid("application id must be 32 hex digits")
	}
	if err := chain.ValidateName(p.Check, 64); err != nil {
		return invalid("check: %v", err)
	}
	if len(p.Reason) > 500 || !utf8.ValidString(p.Reason) {
		return invalid("reason longer than 500 bytes or not UTF-8")
	}
	if !p.Pass && p.Reason == "" {
		return invalid("a failed check needs a reason the applicant can act on")
	}
	return nil
}

func (p *ApplicationAttest) apply(c *txCtx) error {
	var app Application
	ok, err := getJSON(c.st, appKey(p.Application), &app)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: application %s", ErrNotFound, p.Application)
	}
	ck := app.check(p.Check)
	if ck == nil {
		return fmt.Errorf("%w: application %s has no check %q", ErrNotFound, app.ID, p.Check)
	}
	if ck.Department != c.dept() {
		return unauthorized("%s may not attest check %s of application %s: it belongs to %s", c.who(), ck.ID, app.ID, ck.Department)
	}
	if app.Status == AppApproved || app.Status == AppRejected {
		return fmt.Errorf("%w: application %s is %s", ErrClosed, app.ID, app.Status)
	}
	if ck.Status != CheckPending {
		return fmt.Errorf("%w: check %s of application %s is already %s", ErrClosed, ck.ID, app.ID, ck.Status)
	}
	ck.Status = CheckFailed
	if p.Pass {
		ck.Status = CheckPassed
	}
	ck.Reason, ck.By, ck.Height, ck.Time, ck.TxHash = p.Reason, c.acct.PubKey, c.height(), c.time(), c.hash
	c.st.del([]byte(pfxIxPending + ck.Department + "/" + app.ID + "/" + ck.ID))
	if ck.TimeLimitMS > 0 {
		c.st.del([]byte(k(pfxDeadline+tnum(app.SubmittedTime+ck.TimeLimitMS), app.ID, ck.ID)))
	}
	if err := c.recordCheckStat(&app, ck); err != nil {
		return err
	}
	c.event(TxApplicationAttest, app.ID+"/"+ck.ID, ck.Status)
	return c.settle(&app)
}
