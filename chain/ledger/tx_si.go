package ledger

import (
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// Insurance types of the five social insurances (五险).
var insuranceTypes = []string{"injury", "maternity", "medical", "pension", "unemployment"}

// Contribution payment statuses.
const (
	SIPaid    = "paid"
	SIArrears = "arrears"
)

// maxFen bounds amounts: 10^13 fen (10^11 yuan) keeps every total far from
// int64 overflow.
const maxFen = int64(1e13)

// SIContribution (si.contribution, admin/operator of the social-insurance
// department): books one person's contribution for one month and one
// insurance type. Booking the same (person, period, type) again replaces
// the earlier booking (a correction); the account view is kept consistent.
type SIContribution struct {
	Subject   string `json:"subject"`
	Employer  string `json:"employer,omitempty"`
	Period    string `json:"period"`
	Insurance string `json:"insurance"`
	// Amounts in integer fen (1/100 yuan).
	BaseFen     int64  `json:"base_fen"`
	UnitFen     int64  `json:"unit_fen"`
	PersonalFen int64  `json:"personal_fen"`
	Status      string `json:"status"`
}

// Contribution is a stored booking with its provenance.
type Contribution struct {
	SIContribution
	Department string          `json:"department"`
	Writer     chain.PublicKey `json:"writer"`
	Height     uint64          `json:"height"`
	Time       int64           `json:"time"`
	TxHash     chain.Hash      `json:"tx_hash"`
}

// SITotals sums one insurance type.
type SITotals struct {
	UnitFen     int64 `json:"unit_fen"`
	PersonalFen int64 `json:"personal_fen"`
	Months      int   `json:"months"`
}

// SIAccount is the derived social-insurance account of a person.
type SIAccount struct {
	Subject string `json:"subject"`
	// Months counts distinct periods with any booking.
	Months  int                 `json:"months"`
	Periods []string            `json:"periods"`
	Totals  map[string]SITotals `json:"totals"`
	// Latest is the booking with the greatest period (ties: latest booked).
	LatestPeriod   string `json:"latest_period"`
	LatestEmployer string `json:"latest_employer,omitempty"`
	LatestStatus   string `json:"latest_status"`
	// ArrearsMonths counts periods with any booking in arrears.
	ArrearsPeriods []string `json:"arrears_periods,omitempty"`
	UpdatedHeight  uint64   `json:"updated_height"`
}

func (p *SIContribution) validate() error {
	if len(p.Subject) < 2 || p.Subject[:2] != "p:" {
		return fmt.Errorf("%w: %q: contributions belong to a person (p:<pseudonym>)", ErrInvalidSubject, truncate(p.Subject, 40))
	}
	if err := ValidateSubject(p.Subject); err != nil {
		return err
	}
	if p.Employer != "" {
		if err := ValidateSubject(p.Employer); err != nil || p.Employer[:2] != "e:" {
			return fmt.Errorf("employer: %w: must be e:<USCC>", ErrInvalidSubject)
		}
	}
	if err := validatePeriod(p.Period); err != nil {
		return err
	}
	if !contains(insuranceTypes, p.Insurance) {
		return invalid("insurance %q is not one of %v", p.Insurance, insuranceTypes)
	}
	for _, a := range []struct {
		name string
		v    int64
	}{{"base_fen", p.BaseFen}, {"unit_fen", p.UnitFen}, {"personal_fen", p.PersonalFen}} {
		if a.v < 0 || a.v > maxFen {
			return invalid("%s %d outside 0..%d (integer fen)", a.name, a.v, maxFen)
		}
	}
	if p.Status != SIPaid && p.Status != SIArrears {
		return invalid("status %q is not %q or %q", p.Status, SIPaid, SIArrears)
	}
	return nil
}

// validatePeriod accepts YYYYMM with 1900 <= YYYY <= 2999.
func validatePeriod(s string) error {
	if len(s) != 6 {
		return invalid("period %q is not YYYYMM", truncate(s, 20))
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return invalid("period %q is not YYYYMM", s)
		}
	}
	y, m := atoi(s[:4]), atoi(s[4:])
	if y < 1900 || y > 2999 || m < 1 || m > 12 {
		return invalid("period %q: year or month out of range", s)
	}
	return nil
}

func (p *SIContribution) apply(c *txCtx) error {
	if d := c.l.app.SocialInsurance.Department; d != c.dept() {
		return unauthorized("%s may not book social-insurance contributions: only %s does", c.who(), orNone(d))
	}
	key := siContribKey(p.Subject, p.Period, p.Insurance)
	var old Contribution
	replaced, err := getJSON(c.st, key, &old)
	if err != nil {
		return err
	}
	acct := SIAccount{Subject: p.Subject, Totals: map[string]SITotals{}}
	if _, err := getJSON(c.st, siAccountKey(p.Subject), &acct); err != nil {
		return err
	}
	if acct.Totals == nil {
		acct.Totals = map[string]SITotals{}
	}
	t := acct.Totals[p.Insurance]
	if replaced {
		t.UnitFen -= old.UnitFen
		t.PersonalFen -= old.PersonalFen
		t.Months--
	}
	t.UnitFen += p.UnitFen
	t.PersonalFen += p.PersonalFen
	t.Months++
	acct.Totals[p.Insurance] = t
	acct.Periods = insertSorted(acct.Periods, p.Period)
	acct.Months = len(acct.Periods)
	if p.Period >= acct.LatestPeriod {
		acct.LatestPeriod, acct.LatestEmployer, acct.LatestStatus = p.Period, p.Employer, p.Status
	}
	newC := Contribution{SIContribution: *p, Department: c.dept(), Writer: c.acct.PubKey, Height: c.height(), Time: c.time(), TxHash: c.hash}
	if err := putJSON(c.st, key, newC); err != nil {
		return err
	}
	arrears, err := periodInArrears(c.st, p.Subject, p.Period)
	if err != nil {
		return err
	}
	acct.ArrearsPeriods = removeString(acct.ArrearsPeriods, p.Period)
	if arrears {
		acct.ArrearsPeriods = insertSorted(acct.ArrearsPeriods, p.Period)
	}
	acct.UpdatedHeight = c.height()
	c.event(TxSIContribution, string(key), p.Status)
	return putJSON(c.st, siAccountKey(p.Subject), acct)
}

// periodInArrears reports whether any booking of the period is in arrears.
func periodInArrears(kv ScanKV, subject, period string) (bool, error) {
	found := false
	err := scanJSON(kv, []byte(pfxSIContrib+subject+"/"+period+"/"), 0, func(_, v []byte) error {
		var c Contribution
		if err := jsonUnmarshal(v, &c); err != nil {
			return err
		}
		found = found || c.Status == SIArrears
		return nil
	})
	return found, err
}

func insertSorted(ss []string, s string) []string {
	i := 0
	for i < len(ss) && ss[i] < s {
		i++
	}
	if i < len(ss) && ss[i] == s {
		return ss
	}
	ss = append(ss, "")
	copy(ss[i+1:], ss[i:])
	ss[i] = s
	return ss
}

func removeString(ss []string, s string) []string {
	out := ss[:0]
	for _, x := range ss {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "no department (social_insurance.department is not configured)"
	}
	return s
}
