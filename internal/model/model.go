// Package model holds the records Rightsize keeps and the rules that are true of a
// record on its own (normalisation, allowed values). It has no I/O: the store reads
// and writes these types, capability packages decide what to do with them.
package model

import (
	"encoding/json"
	"time"
)

// Roles a member can hold in a workspace. Order matters only for display.
const (
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleLDR     = "ldr"
	RoleAE      = "ae"
	RoleCSM     = "csm"
	RolePartner = "partner"
)

// Roles lists every valid membership role.
var Roles = []string{RoleAdmin, RoleManager, RoleLDR, RoleAE, RoleCSM, RolePartner}

// Lifecycle stages of a contact (PRODUCT.md §3).
var LifecycleStages = []string{"visitor", "subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "disqualified", "nurture"}

// Motions an account can be sold through.
var Motions = []string{"digital", "high_touch"}

// Segments are the default size classes; routing rules (later) may add more.
var Segments = []string{"smb", "mid_market", "enterprise"}

// Deal outcomes; an open deal has none.
var Outcomes = []string{"won", "lost", "no_decision"}

// Pipelines and their default stages. The pipeline issue makes them editable.
var Pipelines = map[string][]string{
	"high_touch": {"suspect", "prospect", "approach", "negotiation", "close", "order"},
	"digital":    {"qualified", "trial", "proposal", "won"},
}

// ActivityKinds are the kinds of recorded work.
var ActivityKinds = []string{"call", "meeting", "demo", "email", "note", "contract_discussion", "task"}

// CustomFieldTypes are the types a custom field may have.
var CustomFieldTypes = []string{"text", "number", "date", "bool", "enum"}

// ObjectTypes that carry custom fields and can be imported.
var ObjectTypes = []string{"account", "contact", "deal", "activity"}

// Contains reports whether v is one of set.
func Contains(set []string, v string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// Custom holds custom field values by key; values are string, float64, bool or a
// YYYY-MM-DD string for dates, as validated against the field's definition.
type Custom map[string]any

// Workspace is a tenant. Every other record belongs to exactly one.
type Workspace struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a person who can log in; memberships give access to workspaces.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
}

// Membership grants a user a role in a workspace.
type Membership struct {
	WorkspaceID   int64  `json:"workspace_id"`
	WorkspaceName string `json:"workspace_name"`
	UserID        int64  `json:"user_id"`
	UserEmail     string `json:"user_email,omitempty"`
	Role          string `json:"role"`
}

// APIKey is a workspace-scoped credential; only its hash is stored.
type APIKey struct {
	ID          int64      `json:"id"`
	WorkspaceID int64      `json:"workspace_id"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Prefix      string     `json:"prefix"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	// UserID is the member the key acts for, its owner (docs/security.md;
	// stored in api_keys.created_by_user_id): by default whoever made it, or
	// the owner of the key that made it. The key stops working while they are
	// disabled, once they leave the workspace or when their role no longer
	// covers the key's, and a partner key sees only their records. Nil: a
	// workspace key made from the CLI (or before owners were recorded), bound
	// to no one; a partner key is never one.
	UserID *int64 `json:"user_id,omitempty"`
	// MemberRole is that member's role in the workspace now (read with the
	// key when it authenticates; never shown).
	MemberRole string `json:"-"`
}

// Account is a company we sell to.
type Account struct {
	ID            int64     `json:"id"`
	ExternalID    string    `json:"external_id,omitempty"`
	Name          string    `json:"name"`
	Domain        string    `json:"domain,omitempty"`
	Employees     *int64    `json:"employees,omitempty"`
	AnnualRevenue *int64    `json:"annual_revenue,omitempty"` // minor units of Currency
	Budget        *int64    `json:"budget,omitempty"`         // minor units of Currency
	Currency      string    `json:"currency"`
	Industry      string    `json:"industry,omitempty"`
	Region        string    `json:"region,omitempty"`
	OwnerID       *int64    `json:"owner_id,omitempty"`
	Segment       string    `json:"segment,omitempty"`
	Motion        string    `json:"motion,omitempty"`
	Custom        Custom    `json:"custom"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Contact is a known person, usually at an account.
type Contact struct {
	ID             int64      `json:"id"`
	ExternalID     string     `json:"external_id,omitempty"`
	Email          string     `json:"email"`
	FirstName      string     `json:"first_name,omitempty"`
	LastName       string     `json:"last_name,omitempty"`
	Title          string     `json:"title,omitempty"`
	Phone          string     `json:"phone,omitempty"`
	AccountID      *int64     `json:"account_id,omitempty"`
	LifecycleStage string     `json:"lifecycle_stage"`
	OwnerID        *int64     `json:"owner_id,omitempty"`
	Source         string     `json:"source,omitempty"`
	UTMSource      string     `json:"utm_source,omitempty"`
	UTMMedium      string     `json:"utm_medium,omitempty"`
	UTMCampaign    string     `json:"utm_campaign,omitempty"`
	ConsentBasis   string     `json:"consent_basis,omitempty"`
	ConsentSource  string     `json:"consent_source,omitempty"`
	ConsentAt      *time.Time `json:"consent_at,omitempty"`
	Custom         Custom     `json:"custom"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Deal is an opportunity to sell to an account. Amount is in minor units.
// NeedsReview is set when its account is re-routed while the deal is open: the deal
// stays in its pipeline until someone decides, and ReviewReason says why.
type Deal struct {
	ID                int64      `json:"id"`
	ExternalID        string     `json:"external_id,omitempty"`
	AccountID         *int64     `json:"account_id,omitempty"`
	Name              string     `json:"name"`
	Amount            int64      `json:"amount"`
	Currency          string     `json:"currency"`
	Pipeline          string     `json:"pipeline"`
	Stage             string     `json:"stage"`
	OwnerID           *int64     `json:"owner_id,omitempty"`
	ExpectedCloseDate string     `json:"expected_close_date,omitempty"` // YYYY-MM-DD
	Outcome           string     `json:"outcome,omitempty"`
	LossReason        string     `json:"loss_reason,omitempty"`
	ClosedAt          *time.Time `json:"closed_at,omitempty"`
	NeedsReview       bool       `json:"needs_review,omitempty"`
	ReviewReason      string     `json:"review_reason,omitempty"`
	Custom            Custom     `json:"custom"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// Activity is a piece of sales work: a call, meeting, demo and so on.
type Activity struct {
	ID              int64     `json:"id"`
	ExternalID      string    `json:"external_id,omitempty"`
	Kind            string    `json:"kind"`
	Subject         string    `json:"subject"`
	Body            string    `json:"body,omitempty"`
	OccurredAt      time.Time `json:"occurred_at"`
	DurationMinutes int64     `json:"duration_minutes"`
	OwnerID         *int64    `json:"owner_id,omitempty"`
	ContactID       *int64    `json:"contact_id,omitempty"`
	AccountID       *int64    `json:"account_id,omitempty"`
	DealID          *int64    `json:"deal_id,omitempty"`
	Participants    []string  `json:"participants"`
	Custom          Custom    `json:"custom"`
	CreatedAt       time.Time `json:"created_at"`
}

// CustomField defines one custom field of an object type.
type CustomField struct {
	ID         int64     `json:"id"`
	ObjectType string    `json:"object_type"`
	Key        string    `json:"key"`
	Label      string    `json:"label"`
	Type       string    `json:"type"`
	Options    []string  `json:"options,omitempty"` // for enum
	CreatedAt  time.Time `json:"created_at"`
}

// AuditEntry records a security-relevant action.
type AuditEntry struct {
	ID          int64           `json:"id"`
	WorkspaceID *int64          `json:"workspace_id,omitempty"`
	UserID      *int64          `json:"user_id,omitempty"`
	APIKeyID    *int64          `json:"api_key_id,omitempty"`
	Action      string          `json:"action"`
	TargetType  string          `json:"target_type,omitempty"`
	TargetID    *int64          `json:"target_id,omitempty"`
	Detail      json.RawMessage `json:"detail,omitempty"`
	IP          string          `json:"ip,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
}

// HistoryEntry is one change to a record, kept across merges.
type HistoryEntry struct {
	ID         int64           `json:"id"`
	ObjectType string          `json:"object_type"`
	ObjectID   int64           `json:"object_id"`
	Action     string          `json:"action"`
	Detail     json.RawMessage `json:"detail,omitempty"`
	Actor      string          `json:"actor,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

// Import is one file being (or having been) imported, with its reconciliation.
type Import struct {
	ID         int64           `json:"id"`
	ObjectType string          `json:"object_type"`
	Filename   string          `json:"filename"`
	Status     string          `json:"status"` // queued, running, done, failed
	Options    json.RawMessage `json:"options,omitempty"`
	Bytes      int64           `json:"bytes"`
	Rows       int64           `json:"rows"`
	Accepted   int64           `json:"accepted"`
	Rejected   int64           `json:"rejected"`
	Merged     int64           `json:"merged"`
	Error      string          `json:"error,omitempty"`
	Summary    json.RawMessage `json:"summary,omitempty"`
	CreatedBy  string          `json:"created_by,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
}

// Reconciles reports whether every row is accounted for.
func (i *Import) Reconciles() bool { return i.Rows == i.Accepted+i.Rejected+i.Merged }

// ImportError is one rejected row, with where and why.
type ImportError struct {
	Line   int64  `json:"line"`
	Col    int64  `json:"column"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	Raw    string `json:"raw,omitempty"`
}

// Actor is who did something: a user through a session, or an API key. It is what
// audit entries and record history name.
type Actor struct {
	UserID    *int64
	APIKeyID  *int64
	Label     string // "user:ann@x.io" or "key:rs_ab12"
	IP        string
	Role      string
	Workspace int64
}
