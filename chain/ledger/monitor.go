package ledger

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Alert rules.
const (
	RuleConfidentialReads  = "confidential_reads"
	RuleRecordAmendments   = "record_amendments"
	RuleApplicationOverdue = "application_overdue"
)

// Alert is raised by a monitoring rule and stored on the ledger, so every
// department and auditor sees the same alerts.
type Alert struct {
	ID         string `json:"id"` // "<height>/<seq>"
	Rule       string `json:"rule"`
	Department string `json:"department,omitempty"`
	Subject    string `json:"subject,omitempty"`
	Key        string `json:"key,omitempty"`
	Message    string `json:"message"`
	Height     uint64 `json:"height"`
	Time       int64  `json:"time"`
}

// readWindow tracks one department's confidential reads in the last hour:
// per subject the latest read time.
type readWindow struct {
	Subjects     []readMark `json:"subjects,omitempty"`
	AlertedUntil int64      `json:"alerted_until,omitempty"`
}

type readMark struct {
	Subject string `json:"subject"`
	Time    int64  `json:"time"`
}

// storeAlert writes a into st under al/<height>/<seq>.
func storeAlert(st *overlay, a *Alert, seq int) error {
	a.ID = num(a.Height) + "/" + fmt.Sprintf("%06d", seq)
	return putJSON(st, []byte(pfxAlert+a.ID), a)
}

func (c *txCtx) raise(a Alert) error {
	a.Height, a.Time = c.height(), c.time()
	if err := storeAlert(c.st, &a, len(c.b.alerts)+len(c.alerts)); err != nil {
		return err
	}
	c.alerts = append(c.alerts, a)
	return nil
}

// noteConfidentialRead applies rule 1: a department reading confidential
// records of more than N distinct subjects within an hour of block time.
// One alert per department per hour at most.
func (c *txCtx) noteConfidentialRead(subject string) error {
	limit := c.l.app.Monitoring.ReadSubjectsPerHour
	if limit <= 0 {
		return nil
	}
	key := []byte(pfxMonRead + c.dept())
	var w readWindow
	if _, err := getJSON(c.st, key, &w); err != nil {
		return err
	}
	now := c.time()
	kept := w.Subjects[:0]
	found := false
	for _, m := range w.Subjects {
		if m.Subject == subject {
			m.Time, found = now, true
		}
		if m.Time > now-hourMS {
			kept = append(kept, m)
		}
	}
	if !found {
		kept = append(kept, readMark{Subject: subject, Time: now})
		sort.Slice(kept, func(i, j int) bool { return kept[i].Subject < kept[j].Subject })
	}
	w.Subjects = kept
	if len(kept) > limit && now >= w.AlertedUntil {
		w.AlertedUntil = now + hourMS
		err := c.raise(Alert{Rule: RuleConfidentialReads, Department: c.dept(),
			Message: fmt.Sprintf("department %s read confidential records of %d distinct subjects within one hour (limit %d)", c.dept(), len(kept), limit)})
		if err != nil {
			return err
		}
	}
	return putJSON(c.st, key, w)
}

// checkAmendments applies rule 2: a record amended more than K times within
// 24 hours of block time (the first version is not an amendment). One alert
// per record per day at most.
func (c *txCtx) checkAmendments(h *RecordHead, v *RecordVersion) error {
	limit := c.l.app.Monitoring.AmendmentsPerDay
	amend := len(h.Recent)
	if h.Version == uint64(len(h.Recent)) {
		amend-- // the window still holds the record's creation
	}
	if limit <= 0 || amend <= limit || c.time() < h.AlertedUntil {
		return nil
	}
	h.AlertedUntil = c.time() + dayMS
	return c.raise(Alert{Rule: RuleRecordAmendments, Department: v.Department, Subject: v.Subject,
		Key:     v.Schema + "/" + v.Subject,
		Message: fmt.Sprintf("record %s/%s amended %d times within 24 hours (limit %d)", v.Schema, v.Subject, amend, limit)})
}

// runBlockMonitors applies rule 3 after the block's transactions: every
// pending application check whose deadline has passed raises one alert.
func (l *Ledger) runBlockMonitors(blk *overlay, b *blockCtx) error {
	type due struct{ key, app, check string }
	var list []due
	cutoff := tnum(b.h.Time)
	err := blk.Scan([]byte(pfxDeadline), func(k, _ []byte) bool {
		rest := strings.TrimPrefix(string(k), pfxDeadline)
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) != 3 || parts[0] > cutoff {
			return false
		}
		list = append(list, due{string(k), parts[1], parts[2]})
		return true
	})
	if err != nil {
		return fatal{fmt.Errorf("scan deadlines: %w", err)}
	}
	for _, d := range list {
		blk.del([]byte(d.key))
		var app Application
		ok, err := getJSON(blk, appKey(d.app), &app)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		ck := app.check(d.check)
		if ck == nil || ck.Status != CheckPending {
			continue
		}
		waited := b.h.Time - app.SubmittedTime
		a := Alert{Rule: RuleApplicationOverdue, Department: ck.Department, Subject: app.Subject, Key: d.app + "/" + d.check,
			Height: b.h.Height, Time: b.h.Time,
			Message: fmt.Sprintf("application %s has waited %s on %s check %s (limit %s)", d.app, fmtDuration(waited), ck.Department, d.check, fmtDuration(ck.TimeLimitMS))}
		if err := storeAlert(blk, &a, len(b.alerts)); err != nil {
			return err
		}
		b.alerts = append(b.alerts, a)
	}
	return nil
}

// fmtDuration renders milliseconds as e.g. "26h0m0s" without floats.
func fmtDuration(ms int64) string {
	s := ms / 1000
	return strconv.FormatInt(s/3600, 10) + "h" + strconv.FormatInt(s%3600/60, 10) + "m" + strconv.FormatInt(s%60, 10) + "s"
}
