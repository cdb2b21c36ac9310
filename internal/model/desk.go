package model

import "time"

// BANT are the qualification answers an LDR records: budget, authority, need
// and timeline, each in the rep's words.
type BANT struct {
	Budget    string `json:"budget"`
	Authority string `json:"authority"`
	Need      string `json:"need"`
	Timeline  string `json:"timeline"`
}

// Handoff passes a qualified contact and its new deal from one rep to the next
// (ldr_to_ae), with the LDR's answers and note, and the AE's decision on it.
type Handoff struct {
	ID         int64     `json:"id"`
	ContactID  int64     `json:"contact_id"`
	DealID     *int64    `json:"deal_id,omitempty"`
	FromUserID *int64    `json:"from_user_id,omitempty"`
	ToUserID   *int64    `json:"to_user_id,omitempty"`
	Kind       string    `json:"kind"`
	Note       string    `json:"note"`
	BANT       BANT      `json:"bant"`
	CreatedAt  time.Time `json:"created_at"`
	// Decision is the receiving AE's: pending, accepted (the SQL counts as
	// delivered, and a partner's is billable) or rejected, with who and when.
	Decision     string     `json:"decision"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	DecidedBy    *int64     `json:"decided_by,omitempty"`
	DecisionNote string     `json:"decision_note,omitempty"`
}

// DisqualifyReasons are the reasons an LDR may give for disqualifying a contact.
var DisqualifyReasons = []string{"no_budget", "no_authority", "no_need", "bad_timing", "competitor", "unreachable", "not_a_fit", "other"}
