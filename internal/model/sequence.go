package model

import "time"

// Sequence statuses, step kinds, enrollment statuses and exit reasons of nurture
// sequences (docs/sequences.md).
var (
	SequenceStatuses   = []string{"draft", "active", "paused"}
	SequenceTriggers   = []string{"manual", "lifecycle_stage", "segment", "form"}
	StepKinds          = []string{"send_email", "wait", "branch", "create_task", "set_field"}
	EnrollmentStatuses = []string{"active", "paused", "held", "exited", "completed"}
	ExitReasons        = []string{"replied", "trial_or_contact_request", "meeting_booked", "became_customer", "unsubscribed", "bounced", "manual"}
	ConditionKinds     = []string{"opened", "clicked", "visited", "score", "field"}
)

// Sequence is a nurture sequence with its steps in order.
type Sequence struct {
	ID               int64           `json:"id"`
	Name             string          `json:"name"`
	Status           string          `json:"status"`
	Trigger          SequenceTrigger `json:"trigger"`
	ExitRules        []string        `json:"exit_rules"`
	SendWindow       *SendWindow     `json:"send_window,omitempty"`
	StalenessMinutes int             `json:"staleness_minutes"`
	Steps            []SequenceStep  `json:"steps"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
}

// SequenceTrigger says what enrols a contact besides manual and API enrolment:
// entering a lifecycle stage (Ref = stage), its account being routed into a
// segment (Ref = segment) or submitting a form (Ref = form key).
type SequenceTrigger struct {
	Kind string `json:"kind"`
	Ref  string `json:"ref,omitempty"`
}

// SendWindow is a weekly window in the contact's time zone: hours [StartHour,
// EndHour) on Days ("mon".."sun"; empty means every day).
type SendWindow struct {
	StartHour int      `json:"start_hour"`
	EndHour   int      `json:"end_hour"`
	Days      []string `json:"days,omitempty"`
}

// SequenceStep is one step; which fields matter depends on Kind.
type SequenceStep struct {
	ID   int64  `json:"id,omitempty"`
	Kind string `json:"kind"`
	// send_email: template sources, rendered by the mail layer.
	Subject string `json:"subject,omitempty"`
	HTML    string `json:"html,omitempty"`
	Text    string `json:"text,omitempty"`
	// wait: a duration ("3d", "12h", "1d6h30m"; days are calendar days in the
	// contact's time zone) and/or until a send window opens.
	Duration    string      `json:"duration,omitempty"`
	UntilWindow *SendWindow `json:"until_window,omitempty"`
	// branch: go to Then when If holds, else to Else (step indexes; nil = next
	// step; len(steps) = end).
	If   *StepCondition `json:"if,omitempty"`
	Then *int           `json:"then,omitempty"`
	Else *int           `json:"else,omitempty"`
	// create_task: an LDR task for the contact's owner, or through the LDR pool
	// when the contact has none.
	TaskSubject string `json:"task_subject,omitempty"`
	// set_field: a contact field (or lifecycle_stage, or custom.<key>) and its value.
	Field string `json:"field,omitempty"`
	Value any    `json:"value,omitempty"`
}

// StepCondition is a branch test. opened/clicked look at Step (a send_email step's
// index; nil = the last email this enrollment sent); visited at URL since
// enrolment; score at the contact's current score >= Score; field compares a
// contact field (account.<field> for its account) with Op and Value.
type StepCondition struct {
	Kind  string  `json:"kind"`
	Step  *int    `json:"step,omitempty"`
	URL   string  `json:"url,omitempty"`
	Score float64 `json:"score,omitempty"`
	Field string  `json:"field,omitempty"`
	Op    string  `json:"op,omitempty"`
	Value any     `json:"value,omitempty"`
}

// Enrollment walks one contact through a sequence. Position is the index of the
// step that runs at NextDueAt.
type Enrollment struct {
	ID             int64      `json:"id"`
	WorkspaceID    int64      `json:"-"`
	SequenceID     int64      `json:"sequence_id"`
	ContactID      int64      `json:"contact_id"`
	Status         string     `json:"status"`
	PausedBy       string     `json:"paused_by,omitempty"`
	Position       int        `json:"position"`
	NextDueAt      *time.Time `json:"next_due_at,omitempty"`
	HoldReason     string     `json:"hold_reason,omitempty"`
	ExitReason     string     `json:"exit_reason,omitempty"`
	Source         string     `json:"source"`
	LastSendStepID *int64     `json:"last_send_step_id,omitempty"`
	EnrolledAt     time.Time  `json:"enrolled_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	EndedAt        *time.Time `json:"ended_at,omitempty"`
}

// StepLog is one thing that happened to an enrollment at a step; per-step stats
// are counted from these.
type StepLog struct {
	EnrollmentID int64     `json:"enrollment_id"`
	SequenceID   int64     `json:"sequence_id"`
	StepID       *int64    `json:"step_id,omitempty"`
	Position     int       `json:"position"`
	Outcome      string    `json:"outcome"`
	Detail       string    `json:"detail,omitempty"`
	At           time.Time `json:"at"`
}
