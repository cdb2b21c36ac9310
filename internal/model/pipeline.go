package model

import (
	"fmt"
	"strings"
	"time"
)

// ForecastCategories a stage can count under (PRODUCT.md §4).
var ForecastCategories = []string{"pipeline", "best_case", "commit", "closed", "omitted"}

// CommitteeRoles are the roles a contact can hold on a deal's buying committee.
var CommitteeRoles = []string{"economic_buyer", "executive_sponsor", "champion", "technical_decision_maker", "technical_evaluator", "business_evaluator", "legal", "procurement", "finance", "influencer", "end_user"}

// SignoffStates of a committee member.
var SignoffStates = []string{"pending", "approved", "rejected"}

// PipelineDef is one workspace pipeline: its stages in order. Key is what deals
// carry in their pipeline field; the motions' pipelines are high_touch and digital.
type PipelineDef struct {
	Key    string     `json:"key"`
	Name   string     `json:"name"`
	Stages []StageDef `json:"stages"`
}

// StageDef is one stage with what it takes to leave it.
type StageDef struct {
	Key              string       `json:"key"`
	Name             string       `json:"name"`
	Probability      int          `json:"probability"` // percent, 0–100
	ForecastCategory string       `json:"forecast_category"`
	StaleDays        int          `json:"stale_days"` // 0: never stale
	Exit             ExitCriteria `json:"exit"`
}

// ExitCriteria are the checks the server runs before a deal leaves a stage forward.
type ExitCriteria struct {
	// RequiredFields are deal fields that must be set: amount, expected_close_date,
	// owner_id, account_id, or custom.<key>.
	RequiredFields []string `json:"required_fields"`
	// Activities are activity kinds the deal needs at least one of, each.
	Activities []string `json:"activities"`
	// Committee, when set, is the sign-off coverage the deal needs.
	Committee *CommitteeRule `json:"committee,omitempty"`
	// Documents are deal custom fields (text) that must hold an http(s) URL: the
	// linked proposal, contract or order form.
	Documents []string `json:"documents"`
}

// CommitteeRule: at least MinApproved members approved, including every role in Roles.
type CommitteeRule struct {
	MinApproved int      `json:"min_approved"`
	Roles       []string `json:"roles"`
}

// StageKeys lists the keys of p's stages in order.
func (p PipelineDef) StageKeys() []string {
	out := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		out[i] = s.Key
	}
	return out
}

// Index is the position of stage key in p, or -1.
func (p PipelineDef) Index(key string) int {
	for i, s := range p.Stages {
		if s.Key == key {
			return i
		}
	}
	return -1
}

// CommitteeMember is a contact's role and sign-off on one deal.
type CommitteeMember struct {
	DealID     int64      `json:"deal_id"`
	ContactID  int64      `json:"contact_id"`
	Name       string     `json:"name"`
	Email      string     `json:"email,omitempty"`
	Role       string     `json:"role"`
	Signoff    string     `json:"signoff"`
	SignoffAt  *time.Time `json:"signoff_at,omitempty"`
	RecordedBy string     `json:"recorded_by,omitempty"`
	Note       string     `json:"note,omitempty"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// StageStay is one stay of a deal in a stage; LeftAt is nil for the current one.
type StageStay struct {
	Pipeline  string     `json:"pipeline"`
	Stage     string     `json:"stage"`
	EnteredAt time.Time  `json:"entered_at"`
	EnteredBy string     `json:"entered_by,omitempty"`
	LeftAt    *time.Time `json:"left_at,omitempty"`
	LeftBy    string     `json:"left_by,omitempty"`
	Override  string     `json:"override,omitempty"` // the admin's reason when gates were overridden
}

// Unmet is one exit criterion a deal does not meet, for machines (Code and the
// fields it names) and people (Message).
type Unmet struct {
	Stage   string `json:"stage"`
	Code    string `json:"code"` // required_field, activity, committee_approved, committee_role, document
	Field   string `json:"field,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Role    string `json:"role,omitempty"`
	Need    int    `json:"need"` // how many are needed (1 for a field, an activity kind, a role or a document)
	Have    int    `json:"have"` // how many the deal has
	Message string `json:"message"`
}

// GateError refuses a stage move: the deal does not meet the exit criteria of a
// stage it would leave. The HTTP layers answer it with 422 gate_unmet.
type GateError struct {
	DealID int64   `json:"deal_id"`
	From   string  `json:"from"`
	To     string  `json:"to"`
	Unmet  []Unmet `json:"unmet"`
}

func (e *GateError) Error() string {
	msgs := make([]string, len(e.Unmet))
	for i, u := range e.Unmet {
		msgs[i] = u.Message
	}
	return fmt.Sprintf("cannot move to %s: %s", e.To, strings.Join(msgs, "; "))
}
