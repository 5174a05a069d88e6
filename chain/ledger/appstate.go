package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zwnode/zwnode/chain"
)

// AppState is the ledger's part of the genesis file (genesis.app_state).
type AppState struct {
	// Departments lists departments that take part without running a
	// consensus node. Authorities are departments automatically.
	Departments []DepartmentSpec `json:"departments,omitempty"`
	// Schemas registered at genesis.
	Schemas []Schema `json:"schemas,omitempty"`
	// AppTypes are the one-stop application types and their checks.
	AppTypes []AppType `json:"application_types,omitempty"`
	// Credit holds the scoring rules.
	Credit CreditRules `json:"credit"`
	// Monitoring holds the thresholds of the per-block alert rules.
	Monitoring MonitoringRules `json:"monitoring"`
	// SocialInsurance names the department that books contributions.
	SocialInsurance SIConfig `json:"social_insurance"`
}

// DepartmentSpec names a non-authority department.
type DepartmentSpec struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// FieldType is the type of a record field.
type FieldType string

// Field types a schema may use. Amounts are integers (fen), never floats.
const (
	FieldString FieldType = "string"
	FieldInt    FieldType = "int"
	FieldBool   FieldType = "bool"
)

// Field is one field of a schema.
type Field struct {
	Name     string    `json:"name"`
	Type     FieldType `json:"type"`
	Required bool      `json:"required,omitempty"`
}

// Schema describes one kind of record a department publishes.
type Schema struct {
	// Name is "<owner>.<kind>", e.g. tax.clearance.
	Name  string `json:"name"`
	Owner string `json:"owner"`
	Title string `json:"title,omitempty"`
	// Fields apply to public records; confidential records are opaque
	// ciphertext to the ledger and carry no field list check.
	Fields       []Field `json:"fields,omitempty"`
	Confidential bool    `json:"confidential,omitempty"`
}

// AutoRule lets the ledger answer a check from a record already on chain:
// the latest record of Schema for the applicant whose Field equals Equals
// passes the check, any other value fails it. Without a record the
// department attests.
type AutoRule struct {
	Schema string `json:"schema"`
	Field  string `json:"field"`
	Equals string `json:"equals"`
}

// Check is one department's verification step for an application type.
type Check struct {
	ID         string `json:"id"`
	Department string `json:"department"`
	Title      string `json:"title,omitempty"`
	// TimeLimitMS is how long the department may take (block time) before
	// the monitoring rule raises an alert. 0 means no limit.
	TimeLimitMS int64     `json:"time_limit_ms,omitempty"`
	Auto        *AutoRule `json:"auto,omitempty"`
}

// AppType is a kind of one-stop application (e.g. enterprise establishment).
type AppType struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Checks []Check `json:"checks"`
}

// CreditCategory weights events of one category, in percent.
type CreditCategory struct {
	Name      string `json:"name"`
	WeightPct int64  `json:"weight_pct"`
}

// CreditLevel is reached by scores at or above MinScore.
type CreditLevel struct {
	Level    string `json:"level"`
	MinScore int64  `json:"min_score"`
}

// CreditRules define the integer credit score:
// score = clamp(Base + Σ sign·Points[severity−1]·WeightPct/100, Min, Max),
// each term truncated toward zero. Levels are ordered by descending
// MinScore; the first one reached applies. Subjects scoring below
// BlacklistBelow are on the 失信名单.
type CreditRules struct {
	Base           int64            `json:"base"`
	Min            int64            `json:"min"`
	Max            int64            `json:"max"`
	Reporters      []string         `json:"reporters"`
	Categories     []CreditCategory `json:"categories"`
	PositivePoints [5]int64         `json:"positive_points"`
	NegativePoints [5]int64         `json:"negative_points"`
	Levels         []CreditLevel    `json:"levels"`
	BlacklistBelow int64            `json:"blacklist_below"`
}

// MonitoringRules are the thresholds of the alert rules; 0 disables a rule.
type MonitoringRules struct {
	// ReadSubjectsPerHour: alert when one department logs reads of
	// confidential records of more than this many distinct subjects within
	// one hour of block time.
	ReadSubjectsPerHour int `json:"read_subjects_per_hour"`
	// AmendmentsPerDay: alert when one record gets more than this many new
	// versions within 24 hours of block time.
	AmendmentsPerDay int `json:"amendments_per_day"`
}

// SIConfig configures social insurance.
type SIConfig struct {
	Department string `json:"department"`
}

// ParseAppState decodes app_state strictly. An empty app_state is valid and
// yields an empty configuration with default credit rules.
func ParseAppState(raw json.RawMessage) (*AppState, error) {
	var a AppState
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		a.Credit = defaultCreditRules()
		return &a, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGenesis, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after app_state", ErrGenesis)
	}
	return &a, nil
}

func defaultCreditRules() CreditRules {
	return CreditRules{
		Base: 100, Min: 0, Max: 200,
		Categories:     []CreditCategory{{Name: "general", WeightPct: 100}},
		PositivePoints: [5]int64{1, 2, 4, 8, 16},
		NegativePoints: [5]int64{2, 5, 10, 20, 40},
		Levels:         []CreditLevel{{"A", 110}, {"B", 90}, {"C", 60}, {"D", -1 << 62}},
		BlacklistBelow: 60,
	}
}

// validateGenesis cross-checks app_state against the genesis authorities
// and accounts.
func (l *Ledger) validateGenesis() error {
	depts := make(map[string]bool)
	for _, d := range l.genesisDepartments() {
		depts[d.ID] = true
	}
	for i, d := range l.app.Departments {
		if err := chain.ValidateName(d.ID, 64); err != nil {
			return fmt.Errorf("%w: departments[%d]: %v", ErrGenesis, i, err)
		}
	}
	for i, a := range l.accounts {
		if !depts[a.Department] {
			return fmt.Errorf("%w: accounts[%d]: department %q is neither an authority nor in app_state.departments", ErrGenesis, i, a.Department)
		}
		if !Role(a.Role).valid() {
			return fmt.Errorf("%w: accounts[%d]: role %q is not admin, operator or auditor", ErrGenesis, i, a.Role)
		}
	}
	schemas := make(map[string]*Schema)
	for i := range l.app.Schemas {
		s := &l.app.Schemas[i]
		if err := validateSchema(s, depts); err != nil {
			return fmt.Errorf("%w: schemas[%d]: %v", ErrGenesis, i, err)
		}
		if schemas[s.Name] != nil {
			return fmt.Errorf("%w: schema %q listed twice", ErrGenesis, s.Name)
		}
		schemas[s.Name] = s
	}
	seenType := make(map[string]bool)
	for i := range l.app.AppTypes {
		t := &l.app.AppTypes[i]
		if err := validateAppType(t, depts, schemas); err != nil {
			return fmt.Errorf("%w: application_types[%d]: %v", ErrGenesis, i, err)
		}
		if seenType[t.ID] {
			return fmt.Errorf("%w: application type %q listed twice", ErrGenesis, t.ID)
		}
		seenType[t.ID] = true
	}
	if err := validateCredit(&l.app.Credit, depts); err != nil {
		return fmt.Errorf("%w: credit: %v", ErrGenesis, err)
	}
	if m := l.app.Monitoring; m.ReadSubjectsPerHour < 0 || m.AmendmentsPerDay < 0 {
		return fmt.Errorf("%w: monitoring: thresholds must not be negative", ErrGenesis)
	}
	if d := l.app.SocialInsurance.Department; d != "" && !depts[d] {
		return fmt.Errorf("%w: social_insurance.department %q is not a department", ErrGenesis, d)
	}
	return nil
}

func validateSchema(s *Schema, depts map[string]bool) error {
	if err := chain.ValidateName(s.Name, 64); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if !depts[s.Owner] {
		return fmt.Errorf("schema %q: owner %q is not a department", s.Name, s.Owner)
	}
	if !strings.HasPrefix(s.Name, s.Owner+".") || len(s.Name) == len(s.Owner)+1 {
		return fmt.Errorf("schema %q: name must be \"%s.<kind>\" (the owner's id, a dot, a kind)", s.Name, s.Owner)
	}
	if len(s.Title) > 200 {
		return fmt.Errorf("schema %q: title longer than 200 bytes", s.Name)
	}
	if s.Confidential && len(s.Fields) > 0 {
		return fmt.Errorf("schema %q: confidential schemas carry ciphertext; declare no fields", s.Name)
	}
	if len(s.Fields) > 64 {
		return fmt.Errorf("schema %q: %d fields, limit 64", s.Name, len(s.Fields))
	}
	seen := make(map[string]bool)
	for _, f := range s.Fields {
		if err := chain.ValidateName(f.Name, 64); err != nil {
			return fmt.Errorf("schema %q: field name: %w", s.Name, err)
		}
		if seen[f.Name] {
			return fmt.Errorf("schema %q: field %q listed twice", s.Name, f.Name)
		}
		seen[f.Name] = true
		switch f.Type {
		case FieldString, FieldInt, FieldBool:
		default:
			return fmt.Errorf("schema %q: field %q: type %q is not string, int or bool", s.Name, f.Name, f.Type)
		}
	}
	return nil
}

func validateAppType(t *AppType, depts map[string]bool, schemas map[string]*Schema) error {
	if err := chain.ValidateName(t.ID, 64); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	if len(t.Checks) == 0 || len(t.Checks) > 16 {
		return fmt.Errorf("type %q: needs 1..16 checks", t.ID)
	}
	seen := make(map[string]bool)
	for _, c := range t.Checks {
		if err := chain.ValidateName(c.ID, 64); err != nil {
			return fmt.Errorf("type %q: check id: %w", t.ID, err)
		}
		if seen[c.ID] {
			return fmt.Errorf("type %q: check %q listed twice", t.ID, c.ID)
		}
		seen[c.ID] = true
		if !depts[c.Department] {
			return fmt.Errorf("type %q: check %q: department %q unknown", t.ID, c.ID, c.Department)
		}
		if c.TimeLimitMS < 0 {
			return fmt.Errorf("type %q: check %q: negative time limit", t.ID, c.ID)
		}
		if c.Auto == nil {
			continue
		}
		s := schemas[c.Auto.Schema]
		if s == nil {
			return fmt.Errorf("type %q: check %q: auto schema %q is not a genesis schema", t.ID, c.ID, c.Auto.Schema)
		}
		if s.Owner != c.Department {
			return fmt.Errorf("type %q: check %q: auto schema %q is owned by %q, not by the checking department %q", t.ID, c.ID, s.Name, s.Owner, c.Department)
		}
		if s.Confidential {
			return fmt.Errorf("type %q: check %q: auto schema %q is confidential; the ledger cannot read it", t.ID, c.ID, s.Name)
		}
		if s.field(c.Auto.Field) == nil {
			return fmt.Errorf("type %q: check %q: schema %q has no field %q", t.ID, c.ID, s.Name, c.Auto.Field)
		}
	}
	return nil
}

func validateCredit(c *CreditRules, depts map[string]bool) error {
	if c.Min > c.Max || c.Base < c.Min || c.Base > c.Max {
		return fmt.Errorf("need min <= base <= max (got %d, %d, %d)", c.Min, c.Base, c.Max)
	}
	for _, r := range c.Reporters {
		if !depts[r] {
			return fmt.Errorf("reporter %q is not a department", r)
		}
	}
	if len(c.Categories) == 0 {
		return fmt.Errorf("no categories")
	}
	seen := make(map[string]bool)
	for _, cat := range c.Categories {
		if err := chain.ValidateName(cat.Name, 64); err != nil {
			return fmt.Errorf("category: %w", err)
		}
		if seen[cat.Name] {
			return fmt.Errorf("category %q listed twice", cat.Name)
		}
		seen[cat.Name] = true
		if cat.WeightPct < 0 || cat.WeightPct > 1000 {
			return fmt.Errorf("category %q: weight_pct %d outside 0..1000", cat.Name, cat.WeightPct)
		}
	}
	for i := 0; i < 5; i++ {
		if c.PositivePoints[i] < 0 || c.NegativePoints[i] < 0 || c.PositivePoints[i] > 1e6 || c.NegativePoints[i] > 1e6 {
			return fmt.Errorf("points must be within 0..1000000")
		}
	}
	if len(c.Levels) == 0 {
		return fmt.Errorf("no levels")
	}
	for i := 1; i < len(c.Levels); i++ {
		if c.Levels[i].MinScore >= c.Levels[i-1].MinScore {
			return fmt.Errorf("levels must be ordered by strictly descending min_score")
		}
	}
	return nil
}

func (s *Schema) field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// fieldBytes is field for a name still in a byte slice (no conversion).
func (s *Schema) fieldBytes(name []byte) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == string(name) {
			return &s.Fields[i]
		}
	}
	return nil
}

func (c *CreditRules) category(name string) *CreditCategory {
	for i := range c.Categories {
		if c.Categories[i].Name == name {
			return &c.Categories[i]
		}
	}
	return nil
}

func (c *CreditRules) isReporter(dept string) bool {
	for _, r := range c.Reporters {
		if r == dept {
			return true
		}
	}
	return false
}
