package model

import "time"

// Unit economics inputs (PRODUCT.md §6–8; docs/economics.md). Months are
// calendar months written "YYYY-MM"; money is int64 minor units with a
// currency; rates and shares are fractions (0.8 = 80 %).

// Spend categories of the ledger. "programs" is programs and ads.
const (
	SpendPeople      = "people"
	SpendPrograms    = "programs"
	SpendTools       = "tools"
	SpendPartnerFees = "partner_fees"
	SpendOverhead    = "overhead"
)

// SpendCategories lists every spend category, in display order.
var SpendCategories = []string{SpendPeople, SpendPrograms, SpendTools, SpendPartnerFees, SpendOverhead}

// SpendChannels are suggested channel names; a channel is free text.
var SpendChannels = []string{"paid_search", "paid_social", "display", "events", "content", "seo", "email", "outbound", "partner", "referral", "other"}

// Attribution says how a spend entry reaches segments and motions.
const (
	AttributionExplicit = "explicit" // the entry names its segment and motion
	AttributionRule     = "rule"     // allocation rules share it out
)

// SpendEntry is one line of the spend ledger.
type SpendEntry struct {
	ID          int64     `json:"id"`
	Month       string    `json:"month"`
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	Category    string    `json:"category"`
	Channel     string    `json:"channel"`
	Segment     string    `json:"segment"`
	Motion      string    `json:"motion"`
	Attribution string    `json:"attribution"`
	Note        string    `json:"note"`
	ExternalID  string    `json:"external_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Share is one segment × motion's part of an allocation rule, in basis points
// (10000 = 100 %) so a rule's shares sum exactly.
type Share struct {
	Segment string `json:"segment"`
	Motion  string `json:"motion"`
	BP      int    `json:"bp"`
}

// AllocationRule shares spend of a category and channel ("" matches any) out to
// segments and motions.
type AllocationRule struct {
	ID       int64   `json:"id"`
	Category string  `json:"category"`
	Channel  string  `json:"channel"`
	Shares   []Share `json:"shares"`
}

// Cost profile roles: the membership roles that cost money plus an outsourced
// partner's reps.
var CostRoles = []string{RoleLDR, RoleAE, RoleCSM, RoleManager, "partner"}

// CostProfile is what one person of a role costs a year, in the multiplier form
// or the itemised form (never both), plus per-seat items and variable pay.
type CostProfile struct {
	ID               int64    `json:"id"`
	Name             string   `json:"name"`
	Role             string   `json:"role"`
	Currency         string   `json:"currency"`
	BaseSalary       int64    `json:"base_salary"`
	LoadedMultiplier *float64 `json:"loaded_multiplier"`
	EmployerTaxRate  *float64 `json:"employer_tax_rate"`
	BenefitsRate     *float64 `json:"benefits_rate"`
	TrainingRate     *float64 `json:"training_rate"`
	Office           int64    `json:"office"`
	Phone            int64    `json:"phone"`
	Internet         int64    `json:"internet"`
	Software         int64    `json:"software"`
	Recruiting       int64    `json:"recruiting"`
	VariablePay      int64    `json:"variable_pay"`
	// TimeSplit is the configured share of time per motion (sums to 1).
	TimeSplit map[string]float64 `json:"time_split"`
	// SplitFromActivities: use the role's logged activity durations by motion
	// for a month when there are enough, the configured split otherwise.
	SplitFromActivities bool      `json:"split_from_activities"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// Headcount is the people (FTE) of one profile in one month.
type Headcount struct {
	ProfileID int64   `json:"profile_id"`
	Month     string  `json:"month"`
	Headcount float64 `json:"headcount"`
}

// MarketSegment is one segment's market sizing inputs: a count of businesses
// and their annual spend, given per business or in total (one of the two).
type MarketSegment struct {
	Segment          string  `json:"segment"`
	Accounts         int64   `json:"accounts"`
	SpendPerAccount  *int64  `json:"annual_spend_per_account"`
	SpendTotal       *int64  `json:"annual_spend_total"`
	ServiceableShare float64 `json:"serviceable_share"`
	ObtainableShare  float64 `json:"obtainable_share"`
	Source           string  `json:"source"`
}

// MarketSizing is a workspace's saved market sizing.
type MarketSizing struct {
	Currency  string          `json:"currency"`
	Segments  []MarketSegment `json:"segments"`
	UpdatedAt *time.Time      `json:"updated_at,omitempty"`
}
