package model

import "time"

// PartnerTerms are what an outsourced (sales-as-a-service) partner charges, in
// minor units of its currency: the staffing planner's partner terms (retainer,
// per meeting, per SQL, setup fee, internal management overhead) plus an
// optional fee per won deal.
type PartnerTerms struct {
	RetainerMonthly int64 `json:"retainer_monthly"`
	FeePerMeeting   int64 `json:"fee_per_meeting"`
	FeePerSQL       int64 `json:"fee_per_sql"`
	FeePerWon       int64 `json:"fee_per_won"`
	SetupFee        int64 `json:"setup_fee"`
	// ManagementMonthly is the client's own time managing the partner: part
	// of what the partner costs, not of what it is owed.
	ManagementMonthly int64 `json:"management_monthly"`
}

// Partner is an outsourced sales team working inside the workspace: its terms,
// its contract months and the users (members with role partner) who work for it.
type Partner struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	PartnerTerms
	StartMonth string    `json:"start_month"`
	EndMonth   string    `json:"end_month"` // "" while the contract runs
	Note       string    `json:"note"`
	UserIDs    []int64   `json:"user_ids"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Handoff decisions: the receiving AE accepts or rejects an SQL.
const (
	HandoffPending  = "pending"
	HandoffAccepted = "accepted"
	HandoffRejected = "rejected"
)
