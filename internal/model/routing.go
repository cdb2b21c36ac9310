package model

import (
	"encoding/json"
	"time"
)

// Condition is one structured test of a rule: Field Op Value, e.g. employees gte
// 1000. Rules are evaluated in Go (internal/routing); nothing here becomes SQL.
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"`
}

// SegmentRule assigns Segment to an account that meets every condition. Rules are
// ordered by Position; the first match wins and the last rule is the catch-all.
type SegmentRule struct {
	ID         int64       `json:"id,omitempty"`
	Position   int         `json:"position"`
	Segment    string      `json:"segment"`
	Conditions []Condition `json:"conditions"`
	CatchAll   bool        `json:"catch_all"`
	CreatedAt  time.Time   `json:"created_at,omitzero"`
	UpdatedAt  time.Time   `json:"updated_at,omitzero"`
}

// RoutingRule maps a segment ("" for any) plus optional conditions to a motion,
// a pipeline, a team and an assignment policy. First match wins.
type RoutingRule struct {
	ID         int64       `json:"id,omitempty"`
	Position   int         `json:"position"`
	Segment    string      `json:"segment"`
	Conditions []Condition `json:"conditions"`
	Motion     string      `json:"motion"`
	Pipeline   string      `json:"pipeline"`
	Team       string      `json:"team"`
	Policy     string      `json:"assignment_policy"`
	CreatedAt  time.Time   `json:"created_at,omitzero"`
	UpdatedAt  time.Time   `json:"updated_at,omitzero"`
}

// RoutingDecision records why an account got its segment and motion: the rules
// that fired (nil ids for the built-in defaults and manual choices), the values
// they saw, and what the account had before.
type RoutingDecision struct {
	ID              int64           `json:"id"`
	AccountID       int64           `json:"account_id"`
	SegmentRuleID   *int64          `json:"segment_rule_id,omitempty"`
	RoutingRuleID   *int64          `json:"routing_rule_id,omitempty"`
	Segment         string          `json:"segment"`
	Motion          string          `json:"motion"`
	Pipeline        string          `json:"pipeline"`
	Team            string          `json:"team"`
	Policy          string          `json:"assignment_policy"`
	Manual          bool            `json:"manual"`
	Inputs          json.RawMessage `json:"inputs"`
	Reason          string          `json:"reason"`
	TriggeredBy     string          `json:"triggered_by,omitempty"`
	PreviousSegment string          `json:"previous_segment,omitempty"`
	PreviousMotion  string          `json:"previous_motion,omitempty"`
	CreatedAt       time.Time       `json:"created_at"`
}

// AssignmentPolicies are how a routed account's work is handed out: round-robin in
// the team's pool, by territory, or kept by the account owner.
var AssignmentPolicies = []string{"round_robin", "territory", "owner_keeps"}
