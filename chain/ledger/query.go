package ledger

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/zwnode/zwnode/chain"
	"github.com/zwnode/zwnode/chain/ledger/sharing"
)

// DefaultLimit bounds list queries when the caller passes limit <= 0.
const DefaultLimit = 1000

func lim(n int) int {
	if n <= 0 || n > DefaultLimit {
		return DefaultLimit
	}
	return n
}

func scanAll[T any](kv ScanKV, prefix string, limit int) ([]T, error) {
	var out []T
	err := scanJSON(kv, []byte(prefix), limit, func(_, v []byte) error {
		var x T
		if err := jsonUnmarshal(v, &x); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// Departments lists every department in id order.
func (l *Ledger) Departments(st ScanKV) ([]Department, error) {
	return scanAll[Department](st, pfxDept, 0)
}

// Department returns one department.
func (l *Ledger) Department(st KV, id string) (*Department, error) { return loadDept(st, id) }

// Recipients returns the departments and keys a new confidential record of
// schema must be sealed to: the owner and every current grantee, each with
// its current X25519 key. A client passes them to sharing.Seal.
func (l *Ledger) Recipients(st ScanKV, schema string) ([]sharing.RecipientKey, error) {
	s, err := loadSchema(st, schema)
	if err != nil {
		return nil, err
	}
	depts := []string{s.Owner}
	grants, err := activeGrants(st, s.Name)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		depts = append(depts, g.Department)
	}
	sortStrings(depts)
	out := make([]sharing.RecipientKey, 0, len(depts))
	for _, id := range depts {
		d, err := loadDept(st, id)
		if err != nil {
			return nil, err
		}
		if len(d.EncKey) == 0 {
			return nil, fmt.Errorf("%w: department %s has no encryption key (dept.set_key)", ErrEnvelope, id)
		}
		out = append(out, sharing.RecipientKey{Department: id, Key: d.EncKey})
	}
	return out, nil
}

// Accounts lists accounts, of one department when dept is not "".
func (l *Ledger) Accounts(st ScanKV, dept string) ([]Account, error) {
	var all []Account
	err := scanJSON(st, []byte(pfxAccount), 0, func(_, v []byte) error {
		var a Account
		if err := decodeAccount(v, &a); err != nil {
			return err
		}
		all = append(all, a)
		return nil
	})
	if err != nil || dept == "" {
		return all, err
	}
	var out []Account
	for _, a := range all {
		if a.Department == dept {
			out = append(out, a)
		}
	}
	return out, nil
}

// Account returns one account.
func (l *Ledger) Account(st KV, pk chain.PublicKey) (*Account, error) { return loadAccount(st, pk) }

// Schemas lists registered schemas by name.
func (l *Ledger) Schemas(st ScanKV) ([]Schema, error) { return scanAll[Schema](st, pfxSchema, 0) }

// Schema returns one schema.
func (l *Ledger) Schema(st KV, name string) (*Schema, error) { return loadSchema(st, name) }

// Record returns the latest version of (schema, subject).
func (l *Ledger) Record(st KV, schema, subject string) (*RecordVersion, error) {
	v, ok, err := latestVersion(st, schema, subject)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no %s record for %s", ErrNotFound, schema, subject)
	}
	return v, nil
}

// RecordHistory returns every version of (schema, subject), oldest first:
// the superseded ones under their version keys, then the latest from the
// head.
func (l *Ledger) RecordHistory(st ScanKV, schema, subject string) ([]RecordVersion, error) {
	latest, err := l.Record(st, schema, subject)
	if err != nil {
		return nil, err
	}
	out := make([]RecordVersion, 0, min(latest.Version, 64))
	err = scanJSON(st, []byte(pfxRecVersion+schema+"/"+subject+"/"), 0, func(_, v []byte) error {
		var rv RecordVersion
		if err := decodeVersion(v, schema, subject, &rv); err != nil {
			return err
		}
		out = append(out, rv)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if uint64(len(out)) != latest.Version-1 {
		return nil, fatal{fmt.Errorf("%w: %s/%s is at version %d, but %d earlier versions are stored", ErrState, schema, subject, latest.Version, len(out))}
	}
	return append(out, *latest), nil
}

// RecordsBySubject returns the latest version of each schema's record for
// subject, by schema name.
func (l *Ledger) RecordsBySubject(st ScanKV, subject string) ([]RecordVersion, error) {
	if err := ValidateSubject(subject); err != nil {
		return nil, err
	}
	prefix := pfxRecord + subject + "/"
	keys, err := scanKeys(st, []byte(prefix), 0)
	if err != nil {
		return nil, err
	}
	var out []RecordVersion
	for _, key := range keys {
		schema := key[len(prefix):]
		v, err := l.Record(st, schema, subject)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// Grants lists the grants (active and revoked) on a schema.
func (l *Ledger) Grants(st ScanKV, schema string) ([]Grant, error) {
	return scanAll[Grant](st, pfxGrant+schema+"/", 0)
}

func (l *Ledger) accessVia(st ScanKV, prefix string, limit int) ([]AccessEntry, error) {
	keys, err := scanKeys(st, []byte(prefix), lim(limit))
	if err != nil {
		return nil, err
	}
	out := make([]AccessEntry, 0, len(keys))
	for _, key := range keys {
		var e AccessEntry
		if _, err := getJSON(st, []byte(pfxAccess+key[len(prefix):]), &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// AccessBySubject answers "who looked at my data": every logged read of
// the subject's records, oldest first.
func (l *Ledger) AccessBySubject(st ScanKV, subject string, limit int) ([]AccessEntry, error) {
	if err := ValidateSubject(subject); err != nil {
		return nil, err
	}
	return l.accessVia(st, pfxIxAccSubj+subject+"/", limit)
}

// AccessByDepartment lists a department's logged reads, oldest first.
func (l *Ledger) AccessByDepartment(st ScanKV, dept string, limit int) ([]AccessEntry, error) {
	return l.accessVia(st, pfxIxAccDept+dept+"/", limit)
}

// Application returns an application to its applicant, who proves it
// with the access code (compared by SHA-256 in constant time).
func (l *Ledger) Application(st KV, id, accessCode string) (*Application, error) {
	app, err := l.ApplicationForDepartment(st, id)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(accessCode))
	if subtle.ConstantTimeCompare(h[:], app.AccessCodeHash[:]) != 1 {
		return nil, fmt.Errorf("%w: access code does not match application %s", ErrAccessDenied, id)
	}
	return app, nil
}

// ApplicationForDepartment returns an application without the access code,
// for authenticated department staff.
func (l *Ledger) ApplicationForDepartment(st KV, id string) (*Application, error) {
	var app Application
	ok, err := getJSON(st, appKey(id), &app)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: application %s", ErrNotFound, id)
	}
	return &app, nil
}

// PendingChecks lists a department's work queue as "<application>/<check>".
func (l *Ledger) PendingChecks(st ScanKV, dept string, limit int) ([]string, error) {
	p := pfxIxPending + dept + "/"
	keys, err := scanKeys(st, []byte(p), lim(limit))
	for i := range keys {
		keys[i] = keys[i][len(p):]
	}
	return keys, err
}

// DurationStats summarizes submission→decision times in milliseconds.
// Median and P90 use the nearest-rank method on integers.
type DurationStats struct {
	Key      string `json:"key"`
	Count    int    `json:"count"`
	MedianMS int64  `json:"median_ms"`
	P90MS    int64  `json:"p90_ms"`
}

// AppStats holds statistics per application type (submission → final
// decision) and per department (submission → that department's check).
type AppStats struct {
	ByType       []DurationStats `json:"by_type"`
	ByDepartment []DurationStats `json:"by_department"`
}

// ApplicationStats computes statistics over all decided applications.
func (l *Ledger) ApplicationStats(st ScanKV) (*AppStats, error) {
	byType, err := durationStats(st, pfxStatType)
	if err != nil {
		return nil, err
	}
	byDept, err := durationStats(st, pfxStatDept)
	if err != nil {
		return nil, err
	}
	return &AppStats{ByType: byType, ByDepartment: byDept}, nil
}

// durationStats groups keys "<prefix><group>/<duration>/..." by group; the
// durations arrive sorted within a group because they are fixed width.
func durationStats(st ScanKV, prefix string) ([]DurationStats, error) {
	var out []DurationStats
	var cur string
	var ds []int64
	flush := func() {
		if len(ds) > 0 {
			out = append(out, DurationStats{Key: cur, Count: len(ds), MedianMS: rank(ds, 50), P90MS: rank(ds, 90)})
		}
		ds = ds[:0]
	}
	err := st.Scan([]byte(prefix), func(key, _ []byte) bool {
		parts := strings.SplitN(string(key[len(prefix):]), "/", 3)
		if len(parts) < 2 {
			return true
		}
		if parts[0] != cur {
			flush()
			cur = parts[0]
		}
		ds = append(ds, int64(atoi64(parts[1])))
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", prefix, err)
	}
	flush()
	return out, nil
}

// rank is the nearest-rank percentile of sorted values: the value at
// position ⌈p/100·n⌉ (1-based).
func rank(sorted []int64, p int) int64 {
	n := len(sorted)
	i := (p*n + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

func atoi64(s string) uint64 {
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n
}

// SIAccountView returns a person's derived social-insurance account.
func (l *Ledger) SIAccountView(st KV, subject string) (*SIAccount, error) {
	var a SIAccount
	ok, err := getJSON(st, siAccountKey(subject), &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no social-insurance account for %s", ErrNotFound, subject)
	}
	return &a, nil
}

// SIContributions lists a person's bookings by period and insurance type.
func (l *Ledger) SIContributions(st ScanKV, subject string) ([]Contribution, error) {
	return scanAll[Contribution](st, pfxSIContrib+subject+"/", 0)
}

// CreditView is a subject's score with its events.
type CreditView struct {
	CreditScore
	History []CreditEvent `json:"history"`
}

// Credit returns a subject's score, level and events. A subject without
// events has the base score.
func (l *Ledger) Credit(st ScanKV, subject string) (*CreditView, error) {
	if err := ValidateSubject(subject); err != nil {
		return nil, err
	}
	r := &l.app.Credit
	v := &CreditView{CreditScore: CreditScore{Subject: subject, Raw: r.Base}}
	if _, err := getJSON(st, creditKey(subject), &v.CreditScore); err != nil {
		return nil, err
	}
	v.Score, v.Level = r.Score(v.Raw)
	evs, err := scanAll[CreditEvent](st, pfxCreditEvent+subject+"/", 0)
	v.History = evs
	return v, err
}

// Blacklist lists subjects whose score is below the threshold (失信名单).
func (l *Ledger) Blacklist(st ScanKV, limit int) ([]CreditScore, error) {
	keys, err := scanKeys(st, []byte(pfxBlacklist), lim(limit))
	if err != nil {
		return nil, err
	}
	out := make([]CreditScore, 0, len(keys))
	for _, key := range keys {
		var s CreditScore
		if _, err := getJSON(st, creditKey(key[len(pfxBlacklist):]), &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Alerts lists alerts raised at heights >= fromHeight, oldest first.
func (l *Ledger) Alerts(st ScanKV, fromHeight uint64, limit int) ([]Alert, error) {
	var out []Alert
	start := num(fromHeight)
	err := scanJSON(st, []byte(pfxAlert), 0, func(key, v []byte) error {
		if len(key) < len(pfxAlert)+20 || string(key[len(pfxAlert):len(pfxAlert)+20]) < start {
			return nil
		}
		var a Alert
		if err := jsonUnmarshal(v, &a); err != nil {
			return err
		}
		if len(out) < lim(limit) {
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// Proposals lists governance proposals by id.
func (l *Ledger) Proposals(st ScanKV) ([]Proposal, error) {
	return scanAll[Proposal](st, pfxProposal, 0)
}

// GetProposal returns one proposal.
func (l *Ledger) GetProposal(st KV, id string) (*Proposal, error) {
	var p Proposal
	ok, err := getJSON(st, proposalKey(id), &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: proposal %s", ErrNotFound, id)
	}
	return &p, nil
}
