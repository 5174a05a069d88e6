package ledger

import (
	"encoding/json"
	"fmt"
)

const (
	minuteMS = int64(60_000)
	dayLimit = dayMS
)

// ExampleAppState is the app_state of the example network of four
// departments: tax (tax bureau), market (market regulation), hrss (human
// resources and social security) and credit (the city credit office).
func ExampleAppState() AppState {
	return AppState{
		Schemas: []Schema{
			{Name: "market.business_license", Owner: "market", Title: "营业执照 business licence", Fields: []Field{
				{Name: "name", Type: FieldString, Required: true},
				{Name: "legal_representative", Type: FieldString},
				{Name: "registered_capital_fen", Type: FieldInt},
				{Name: "status", Type: FieldString, Required: true},
				{Name: "issued", Type: FieldString},
			}},
			{Name: "market.name_check", Owner: "market", Title: "名称核准 name check", Fields: []Field{
				{Name: "name", Type: FieldString, Required: true},
				{Name: "result", Type: FieldString, Required: true},
			}},
			{Name: "tax.clearance", Owner: "tax", Title: "完税证明 tax clearance", Fields: []Field{
				{Name: "status", Type: FieldString, Required: true},
				{Name: "period", Type: FieldString},
				{Name: "arrears_fen", Type: FieldInt},
			}},
			{Name: "tax.filing", Owner: "tax", Title: "纳税申报 tax filing (confidential)", Confidential: true},
			{Name: "hrss.registration", Owner: "hrss", Title: "社保登记 social-insurance registration", Fields: []Field{
				{Name: "status", Type: FieldString, Required: true},
				{Name: "employees", Type: FieldInt},
				{Name: "registered", Type: FieldString},
			}},
			{Name: "hrss.contribution", Owner: "hrss", Title: "缴费明细 contribution detail (confidential)", Confidential: true},
			{Name: "credit.rating", Owner: "credit", Title: "信用评价 published credit rating", Fields: []Field{
				{Name: "level", Type: FieldString, Required: true},
				{Name: "score", Type: FieldInt, Required: true},
			}},
		},
		AppTypes: []AppType{
			{ID: "enterprise.establishment", Name: "企业设立登记 enterprise establishment", Checks: []Check{
				{ID: "market.name", Department: "market", Title: "名称/执照核验", TimeLimitMS: dayLimit,
					Auto: &AutoRule{Schema: "market.name_check", Field: "result", Equals: "approved"}},
				{ID: "tax.no_arrears", Department: "tax", Title: "无欠税", TimeLimitMS: dayLimit,
					Auto: &AutoRule{Schema: "tax.clearance", Field: "status", Equals: "clear"}},
				{ID: "hrss.registration", Department: "hrss", Title: "社保登记", TimeLimitMS: dayLimit,
					Auto: &AutoRule{Schema: "hrss.registration", Field: "status", Equals: "registered"}},
			}},
			{ID: "enterprise.change", Name: "企业变更登记 enterprise change", Checks: []Check{
				{ID: "market.license", Department: "market", Title: "执照有效", TimeLimitMS: 3 * dayLimit,
					Auto: &AutoRule{Schema: "market.business_license", Field: "status", Equals: "active"}},
				{ID: "tax.no_arrears", Department: "tax", Title: "无欠税", TimeLimitMS: 3 * dayLimit,
					Auto: &AutoRule{Schema: "tax.clearance", Field: "status", Equals: "clear"}},
			}},
		},
		Credit: CreditRules{
			Base: 100, Min: 0, Max: 150,
			Reporters: []string{"credit", "hrss", "market", "tax"},
			Categories: []CreditCategory{
				{Name: "tax", WeightPct: 150},
				{Name: "social_insurance", WeightPct: 120},
				{Name: "market", WeightPct: 100},
				{Name: "contract", WeightPct: 100},
				{Name: "commendation", WeightPct: 100},
			},
			PositivePoints: [5]int64{1, 2, 4, 6, 10},
			NegativePoints: [5]int64{2, 5, 10, 20, 40},
			Levels:         []CreditLevel{{"A", 110}, {"B", 90}, {"C", 60}, {"D", 0}},
			BlacklistBelow: 60,
		},
		Monitoring:      MonitoringRules{ReadSubjectsPerHour: 50, AmendmentsPerDay: 5},
		SocialInsurance: SIConfig{Department: "hrss"},
	}
}

// ExampleGenesisAppState is ExampleAppState as JSON for genesis.app_state.
func ExampleGenesisAppState() json.RawMessage {
	b, err := json.MarshalIndent(ExampleAppState(), "", "  ")
	if err != nil {
		panic(fmt.Sprintf("marshal example app state: %v", err)) // static data
	}
	return b
}
