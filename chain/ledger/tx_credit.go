package ledger

import (
	"fmt"

	"github.com/zwnode/zwnode/chain"
)

// CreditEventTx (credit.event, admin/operator of a reporting department):
// records a positive or negative credit event about a subject.
type CreditEventTx struct {
	Subject        string     `json:"subject"`
	Category       string     `json:"category"`
	Positive       bool       `json:"positive"`
	Severity       int        `json:"severity"`
	EvidenceDigest chain.Hash `json:"evidence_digest"`
	Note           string     `json:"note,omitempty"`
}

// CreditEvent is a stored event, traceable to its department, height and tx.
type CreditEvent struct {
	CreditEventTx
	Delta      int64           `json:"delta"`
	Department string          `json:"department"`
	Reporter   chain.PublicKey `json:"reporter"`
	Height     uint64          `json:"height"`
	Time       int64           `json:"time"`
	TxHash     chain.Hash      `json:"tx_hash"`
}

// CreditScore is a subject's current score and level.
type CreditScore struct {
	Subject string `json:"subject"`
	// Raw is Base plus all deltas, unclamped, so later events are exact.
	Raw         int64  `json:"raw"`
	Score       int64  `json:"score"`
	Level       string `json:"level"`
	Events      int    `json:"events"`
	Blacklisted bool   `json:"blacklisted"`
	Height      uint64 `json:"height"`
}

func (p *CreditEventTx) validate() error {
	if err := ValidateSubject(p.Subject); err != nil {
		return err
	}
	if err := chain.ValidateName(p.Category, 64); err != nil {
		return invalid("category: %v", err)
	}
	if p.Severity < 1 || p.Severity > 5 {
		return invalid("severity %d outside 1..5", p.Severity)
	}
	if p.EvidenceDigest.IsZero() {
		return invalid("evidence_digest (SHA-256 of the evidence, hex) is required")
	}
	if len(p.Note) > 500 {
		return invalid("note longer than 500 bytes")
	}
	return nil
}

// Delta is the score change of one event under the rules.
func (r *CreditRules) Delta(category string, positive bool, severity int) (int64, error) {
	cat := r.category(category)
	if cat == nil {
		return 0, invalid("category %q is not in the credit rules", category)
	}
	if severity < 1 || severity > 5 {
		return 0, invalid("severity %d outside 1..5", severity)
	}
	if positive {
		return r.PositivePoints[severity-1] * cat.WeightPct / 100, nil
	}
	return -(r.NegativePoints[severity-1] * cat.WeightPct / 100), nil
}

// Score clamps raw into [Min, Max] and finds the level.
func (r *CreditRules) Score(raw int64) (int64, string) {
	s := max(r.Min, min(r.Max, raw))
	level := r.Levels[len(r.Levels)-1].Level
	for _, l := range r.Levels {
		if s >= l.MinScore {
			level = l.Level
			break
		}
	}
	return s, level
}

func (p *CreditEventTx) apply(c *txCtx) error {
	rules := &c.l.app.Credit
	if !rules.isReporter(c.dept()) {
		return unauthorized("%s may not report credit events: reporters are %v", c.who(), rules.Reporters)
	}
	delta, err := rules.Delta(p.Category, p.Positive, p.Severity)
	if err != nil {
		return err
	}
	sc := CreditScore{Subject: p.Subject, Raw: rules.Base}
	if _, err := getJSON(c.st, creditKey(p.Subject), &sc); err != nil {
		return err
	}
	sc.Raw += delta
	sc.Events++
	sc.Height = c.height()
	sc.Score, sc.Level = rules.Score(sc.Raw)
	sc.Blacklisted = sc.Score < rules.BlacklistBelow
	ev := CreditEvent{CreditEventTx: *p, Delta: delta, Department: c.dept(), Reporter: c.acct.PubKey,
		Height: c.height(), Time: c.time(), TxHash: c.hash}
	if err := putJSON(c.st, []byte(pfxCreditEvent+p.Subject+"/"+txPos(c.height(), c.index)), ev); err != nil {
		return err
	}
	if sc.Blacklisted {
		c.st.mark(pfxBlacklist + p.Subject)
	} else if listed, err := has(c.st, []byte(pfxBlacklist+p.Subject)); err != nil {
		return err
	} else if listed {
		c.st.del([]byte(pfxBlacklist + p.Subject))
	}
	c.event(TxCreditEvent, p.Subject, fmt.Sprintf("delta %d score %d level %s", delta, sc.Score, sc.Level))
	return putJSON(c.st, creditKey(p.Subject), sc)
}
