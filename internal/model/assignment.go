package model

import "time"

// Pool is a set of reps of one role and team that new items are handed to in
// turn. Capacity caps each rep's items over a rolling 30 days; Regions and
// Industries are the pool's territory for high_touch work (empty matches all).
type Pool struct {
	ID           int64     `json:"id,omitempty"`
	Name         string    `json:"name"`
	Role         string    `json:"role"` // ldr, ae or csm
	Team         string    `json:"team"`
	Regions      []string  `json:"regions"`
	Industries   []string  `json:"industries"`
	Capacity     int       `json:"capacity"`
	CursorUserID *int64    `json:"cursor_user_id,omitempty"` // last rep assigned
	CreatedAt    time.Time `json:"created_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// PoolMember is a rep in a pool. OutOfOfficeUntil skips the rep until then;
// Regions and Industries narrow the rep's own territory (empty matches all).
// OpenItems is filled by reads that count the rep's load.
type PoolMember struct {
	PoolID           int64      `json:"pool_id"`
	UserID           int64      `json:"user_id"`
	Active           bool       `json:"active"`
	OutOfOfficeUntil *time.Time `json:"out_of_office_until,omitempty"`
	Regions          []string   `json:"regions"`
	Industries       []string   `json:"industries"`
	OpenItems        int        `json:"open_items"`
}

// Assignment hands one contact, account or deal to a rep, with the speed-to-lead
// clock: SLADueAt is when the first touch is due; Breached records a late touch.
type Assignment struct {
	ID           int64      `json:"id,omitempty"`
	PoolID       int64      `json:"pool_id"`
	UserID       int64      `json:"user_id"`
	ObjectType   string     `json:"object_type"` // contact, account or deal
	ObjectID     int64      `json:"object_id"`
	Motion       string     `json:"motion"`
	Reason       string     `json:"reason"`
	AssignedAt   time.Time  `json:"assigned_at"`
	SLADueAt     time.Time  `json:"sla_due_at"`
	FirstTouchAt *time.Time `json:"first_touch_at,omitempty"`
	Breached     bool       `json:"breached"`
}

// AssignmentSettings are a workspace's business-hours timezone (IANA name, ""
// for UTC) and speed-to-lead SLA per motion in business minutes (a missing
// motion uses the default).
type AssignmentSettings struct {
	Timezone   string         `json:"timezone"`
	SLAMinutes map[string]int `json:"sla_minutes"`
}

// BreachCount is one pool/rep's SLA record: Breached items were first touched
// after their due time; Overdue items are untouched and past due now.
type BreachCount struct {
	PoolID   int64 `json:"pool_id"`
	UserID   int64 `json:"user_id"`
	Breached int64 `json:"breached"`
	Overdue  int64 `json:"overdue"`
}
